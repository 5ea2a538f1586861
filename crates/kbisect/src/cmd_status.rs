//! `kbisect status WORKDIR`: where the bisection in a work dir stands, read
//! from its journal, lock, log and result (never changes anything).

use std::collections::BTreeSet;
use std::path::PathBuf;

use kbisect_core::RunOutcome;
use kbisect_core::session::{Entry, JOURNAL_FILE, holder, read};

use crate::cli::{Failure, fail};
use crate::exit::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The work dir of a `kbisect run`.
    pub workdir: PathBuf,
}

#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> Result<Exit, Failure> {
    let dir = &args.workdir;
    let journal = dir.join(JOURNAL_FILE);
    if !journal.is_file() {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!("no bisection in {} (no {JOURNAL_FILE})", dir.display()),
        ));
    }
    let c = read(&journal).map_err(|e| fail(Exit::WorkDir, e))?;
    let Some(h) = &c.header else {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!("{}: empty journal", journal.display()),
        ));
    };
    let id = &h.identity;
    println!("work dir:   {}", dir.display());
    println!("repository: {}", id.repo);
    println!(
        "{} bisection starting from {}",
        if id.fix { "fix" } else { "cause" },
        id.start
    );
    match holder(dir) {
        Some(pid) => println!("state:      running (pid {pid})"),
        None if dir.join("result.json").is_file() => println!("state:      finished"),
        None => println!("state:      stopped (run the same `kbisect run` again to resume)"),
    }
    let (mut builds, mut failed, mut runs, mut crashed) = (0, 0, 0, 0);
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
        }
    }
    println!(
        "journal:    {} entries{}",
        c.entries.len(),
        if c.torn {
            " (+ a torn last line, ignored)"
        } else {
            ""
        }
    );
    println!(
        "builds:     {builds} ({failed} failed), {} revisions",
        commits.len()
    );
    println!("runs:       {runs} ({crashed} crashed)");
    let log = std::fs::read_to_string(dir.join("bisect.log")).unwrap_or_default();
    let last = |prefix: &str| {
        log.lines()
            .rev()
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
    };
    if let Some(l) = last("Bisecting:") {
        println!("bisecting:  {}", l.trim_start_matches("Bisecting:").trim());
    }
    if let Some(l) = last("testing commit") {
        println!("last:       {l}");
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
        println!("result:     {kind}");
        for c in culprits {
            println!("            {c}");
        }
        if let Some(e) = v["error"]["message"].as_str() {
            println!("            {e}");
        }
    }
    Ok(Exit::Culprit)
}
