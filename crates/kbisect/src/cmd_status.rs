//! `kbisect status WORKDIR`: where the bisection in a work dir stands, read
//! from its journal, lock, log and result (never changes anything).

use std::collections::BTreeSet;
use std::path::PathBuf;

use kbisect_core::RunOutcome;
use kbisect_runner::session::{Entry, JOURNAL_FILE, holder, read};

use crate::exit::{CliError, Exit, fail};
use crate::output::line;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The work dir of a `kbisect run`.
    pub workdir: PathBuf,
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    let dir = &args.workdir;
    let journal = dir.join(JOURNAL_FILE);
    if !journal.is_file() {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!("no bisection in {} (no {JOURNAL_FILE})", dir.display()),
        ));
    }
    let c = read(&journal)?;
    let Some(h) = &c.header else {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!("{}: empty journal", journal.display()),
        ));
    };
    let id = &h.identity;
    let get = |k: &str| id.get(k).map(String::as_str).unwrap_or("?");
    line(&format!("work dir:   {}", dir.display()))?;
    line(&format!("repository: {}", get("repo")))?;
    line(&format!(
        "{} bisection starting from {}{}",
        if get("fix") == "true" { "fix" } else { "cause" },
        get("start"),
        h.start_commit
            .as_ref()
            .filter(|c| c.as_str() != get("start"))
            .map(|c| format!(" (pinned to {c})"))
            .unwrap_or_default()
    ))?;
    line(&format!("strategy:   {}", get("strategy")))?;
    match holder(dir) {
        Some(pid) => line(&format!("state:      running (pid {pid})"))?,
        None if dir.join("result.json").is_file() => line("state:      finished")?,
        None => line("state:      stopped (run the same `kbisect run` again to resume)")?,
    }
    let (mut builds, mut failed, mut runs, mut crashed, mut transient) = (0, 0, 0, 0, 0);
    let mut commits = BTreeSet::new();
    for e in &c.entries {
        match e {
            Entry::Build {
                commit, outcome, ..
            } => {
                builds += 1;
                commits.insert(commit.clone());
                if matches!(outcome, kbisect_core::BuildOutcome::Failed(_)) {
                    failed += 1;
                }
            }
            Entry::Run { result, .. } => {
                runs += 1;
                if matches!(result.outcome, RunOutcome::Crashed(_)) {
                    crashed += 1;
                }
            }
            Entry::Transient { .. } => transient += 1,
        }
    }
    line(&format!(
        "journal:    {} entries{}",
        c.entries.len(),
        if c.torn {
            " (+ a torn last line, ignored)"
        } else {
            ""
        }
    ))?;
    line(&format!(
        "builds:     {builds} ({failed} failed), {} revisions",
        commits.len()
    ))?;
    line(&format!("runs:       {runs} ({crashed} crashed)"))?;
    if transient > 0 {
        line(&format!(
            "transient:  {transient} build(s)/run(s) failed for environment reasons (retried on resume)"
        ))?;
    }
    let log = std::fs::read_to_string(dir.join("bisect.log")).unwrap_or_default();
    let last = |prefix: &str| {
        log.lines()
            .rev()
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
    };
    if let Some(l) = last("Bisecting:") {
        line(&format!(
            "bisecting:  {}",
            l.trim_start_matches("Bisecting:").trim()
        ))?;
    }
    if let Some(l) = last("testing commit") {
        line(&format!("last:       {l}"))?;
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("result.json"))
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
    {
        let kind = v["kind"].as_str().unwrap_or("?");
        let culprits: Vec<String> = v["culprits"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| {
                        format!(
                            "{} {}",
                            c["commit"].as_str().unwrap_or(""),
                            c["title"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        line(&format!("result:     {kind}"))?;
        for c in culprits {
            line(&format!("            {c}"))?;
        }
        if let Some(e) = v["error"]["message"].as_str() {
            line(&format!("            {e}"))?;
        }
    }
    Ok(Exit::Success)
}
