//! `kbisect parse-log`: print the crash a console log holds.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use kbisect_report::{Config, Report, Reporter};

use crate::exit::{CliError, Exit, fail};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Console log to parse (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// Print one JSON object (the corpus README's format).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    let log = read_input(args.file.as_deref()).map_err(|e| fail(Exit::Usage, e))?;
    let reporter = Reporter::new(&Config::default()).map_err(|e| fail(Exit::Failure, e))?;
    let rep = reporter.parse(&log);
    let text = if args.json {
        json(rep.as_ref())
    } else {
        human(rep.as_ref())
    };
    if text.ends_with('\n') {
        crate::output::bytes(text.as_bytes())?;
    } else {
        crate::output::line(&text)?;
    }
    Ok(Exit::Success)
}

fn read_input(file: Option<&std::path::Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        None => read_stdin(),
        Some(p) if p.as_os_str() == "-" => read_stdin(),
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display())),
    }
}

fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("cannot read standard input")?;
    Ok(buf)
}

/// The corpus README's result object.
fn json(rep: Option<&Report>) -> String {
    let Some(r) = rep else {
        return serde_json::json!({ "found": false }).to_string();
    };
    serde_json::json!({
        "found": true,
        "title": r.title,
        "type": r.crash_type.to_string(),
        "corrupted": r.corrupted,
        "suppressed": r.suppressed,
        "panicked": r.panicked,
        "alt_titles": r.alt_titles,
        "frame": r.frame,
        "executor": r.executor.map(|e| e.to_string()).unwrap_or_default(),
        "guilty_file": r.guilty_file,
        "report": r.report_text(),
    })
    .to_string()
}

fn human(rep: Option<&Report>) -> String {
    let Some(r) = rep else {
        return "no crash\n".to_string();
    };
    let mut s = format!("title: {}\ntype: {}\n", r.title, r.crash_type);
    for a in &r.alt_titles {
        s.push_str(&format!("alt title: {a}\n"));
    }
    if !r.frame.is_empty() {
        s.push_str(&format!("frame: {}\n", r.frame));
    }
    if !r.guilty_file.is_empty() {
        s.push_str(&format!("guilty file: {}\n", r.guilty_file));
    }
    if let Some(e) = r.executor {
        s.push_str(&format!("executor: {e}\n"));
    }
    let mut flags = Vec::new();
    if r.corrupted {
        flags.push(format!("corrupted ({})", r.corrupted_reason));
    }
    if r.suppressed {
        flags.push("suppressed".to_string());
    }
    if r.panicked {
        flags.push("panicked".to_string());
    }
    if !flags.is_empty() {
        s.push_str(&format!("flags: {}\n", flags.join(", ")));
    }
    s.push('\n');
    s.push_str(&r.report_text());
    s
}
