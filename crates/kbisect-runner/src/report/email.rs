//! The e-mail: syzbot's bisection mail, laid out as kernel developers know
//! it ("has bisected this issue to:", the commit block, the references,
//! `Reported-by:` and `Fixes:`), then what syzbot never says: how sure the
//! result is, the parent-vs-culprit table, and what makes it suspect.
//! Plain text; references are paths in the work dir (there is no dashboard).

use std::fmt::Write as _;

use kbisect_core::{Commit, OutcomeKind, RangeEnd, RunOutcome};

use super::text::short;
use super::{Outcome, Report};
use crate::render_log::Dialect;

/// What the e-mail adds that the work dir does not know.
#[derive(Debug, Clone, Default)]
pub struct EmailOptions {
    /// The `Reported-by:` tag (`Name <address>`), when there is one.
    pub reported_by: Option<String>,
}

/// syzbot's commit block: hash, author, date, the title indented.
fn commit_block(s: &mut String, c: &Commit) {
    let _ = writeln!(s, "commit {}", c.id);
    let _ = writeln!(s, "Author: {} <{}>", c.author_name, c.author_email);
    let _ = writeln!(s, "Date:   {}", c.author_date);
    let _ = writeln!(s);
    let _ = writeln!(s, "    {}", c.title);
}

/// `Fixes: <12> ("title")`, the kernel's tag.
pub fn fixes_tag(c: &Commit) -> String {
    format!("Fixes: {} (\"{}\")", short(c.id.as_str()), c.title)
}

fn why_range_ended(report: &Report) -> Option<RangeEnd> {
    report.events.iter().rev().find_map(|e| match e {
        kbisect_core::Event::RangeEnded { why } => Some(*why),
        _ => None,
    })
}

/// The opening: what kbisect found, in syzbot's words for each outcome.
fn opening(s: &mut String, report: &Report) {
    let first = if report.fix() { "good" } else { "bad" };
    match &report.outcome {
        Outcome::Partial(nr) => {
            let _ = writeln!(
                s,
                "kbisect has not finished bisecting this issue: this report is partial.\nThe journal ends at {} ({}).",
                short(nr.commit().as_str()),
                nr.to_string().trim_start_matches("partial: not recorded: ")
            );
        }
        Outcome::Failed(e) => {
            let _ = writeln!(s, "kbisect could not bisect this issue: {e}.");
        }
        Outcome::Finished(r) => match r.kind {
            OutcomeKind::Culprit => {
                let _ = if report.fix() {
                    writeln!(s, "kbisect suspects this issue was fixed by commit:")
                } else {
                    writeln!(s, "kbisect has bisected this issue to:")
                };
                let _ = writeln!(s);
                if let Some(c) = r.commits.first() {
                    commit_block(s, c);
                }
            }
            OutcomeKind::Inconclusive => {
                let _ = writeln!(
                    s,
                    "Bisection is inconclusive: the first {first} commit could be any of:"
                );
                let _ = writeln!(s);
                for c in &r.commits {
                    let _ = writeln!(s, "{} {}", short(c.id.as_str()), c.title);
                }
            }
            OutcomeKind::Unsure => {
                let _ = writeln!(
                    s,
                    "Bisection is unsure: no commit reached the confidence target {:.2}; the first {first} commit is most likely one of:",
                    report.confidence_target
                );
                let _ = writeln!(s);
                if r.candidates.is_empty() {
                    for c in &r.commits {
                        let _ = writeln!(s, "{} {}", short(c.id.as_str()), c.title);
                    }
                }
                for c in &r.candidates {
                    let _ = match &c.commit {
                        Some(id) => writeln!(
                            s,
                            "{:>5.1}%  {} {}",
                            c.posterior * 100.0,
                            short(id.as_str()),
                            c.title
                        ),
                        None => writeln!(
                            s,
                            "{:>5.1}%  (no commit of the range: the {} predates its clean end)",
                            c.posterior * 100.0,
                            if report.fix() { "fix" } else { "bug" }
                        ),
                    };
                }
            }
            OutcomeKind::Horizon => {
                let kernel = report.dialect == Dialect::Kernel;
                let words = match (why_range_ended(report), report.fix()) {
                    (Some(RangeEnd::MergeBaseClean), _) => {
                        "the reproducer does not crash the merge base of the start commit and HEAD, so the bug came from the other tree".to_string()
                    }
                    (Some(RangeEnd::HeadBroken), _) => format!(
                        "HEAD had {}build, boot or test errors",
                        if kernel { "kernel " } else { "" }
                    ),
                    (_, true) => "the issue still happens on HEAD".to_string(),
                    (_, false) => "the issue happens on the oldest tested release".to_string(),
                };
                let _ = writeln!(s, "Bisection is inconclusive: {words}.");
                if let Some(c) = &r.horizon {
                    let _ = writeln!(s);
                    let what = match (why_range_ended(report), report.fix()) {
                        (Some(RangeEnd::MergeBaseClean), _) => "merge base",
                        (_, true) => "HEAD",
                        (_, false) => "oldest release tested",
                    };
                    let _ = writeln!(s, "{what}: {} {}", short(c.id.as_str()), c.title);
                }
            }
        },
    }
}

/// A reference line, aligned as syzbot's are.
fn reference(s: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(s, "{:<16}{value}", format!("{key}:"));
}

/// The console log of a run that showed the result's crash: on the
/// culprit when there is one, else on the start commit.
fn console_log(report: &Report, title: Option<&str>) -> Option<std::path::PathBuf> {
    let r = report.result();
    let on = r
        .and_then(|r| {
            (r.kind == OutcomeKind::Culprit)
                .then(|| r.commits.first())
                .flatten()
        })
        .map(|c| c.id.clone())
        .or_else(|| report.start.as_ref().map(|c| c.id.clone()))?;
    let row = report.timeline.row(&on)?;
    row.runs
        .iter()
        .filter(|run| match (&run.result.outcome, title) {
            (RunOutcome::Crashed(c), Some(t)) => c.title == t,
            (RunOutcome::Crashed(_), None) => true,
            _ => false,
        })
        .map(|run| report.path(run.log_path()))
        .find(|p| p.is_file())
}

/// The e-mail for `report`.
pub fn render(report: &Report, opts: &EmailOptions) -> String {
    let mut s = String::new();
    let r = report.result();
    let crash = r.and_then(|r| r.report.as_ref());
    let title = crash
        .map(|c| c.title.clone())
        .or_else(|| report.timeline.target.clone());
    if let Some(r) = r
        && r.kind == OutcomeKind::Culprit
    {
        if !r.recipients.to.is_empty() {
            let _ = writeln!(s, "To: {}", r.recipients.to.join(", "));
        }
        if !r.recipients.cc.is_empty() {
            let _ = writeln!(s, "Cc: {}", r.recipients.cc.join(", "));
        }
    }
    if let Some(t) = &title {
        let _ = writeln!(s, "Subject: Re: {t}");
    }
    if !s.is_empty() {
        let _ = writeln!(s);
    }
    if r.is_some_and(|r| r.unreliable()) || report.is_partial() {
        let _ = writeln!(
            s,
            "[kbisect: this result is not certain (see below); review it before sending]"
        );
        let _ = writeln!(s);
    }
    opening(&mut s, report);
    let _ = writeln!(s);
    let log = report.path(crate::session::LOG_FILE);
    reference(
        &mut s,
        "bisection log",
        if report.rejudged {
            format!(
                "{} (as run with {}; this report re-judged it: kbisect report {} --format text)",
                log.display(),
                report.ran_with,
                report.workdir.display()
            )
        } else {
            log.display().to_string()
        },
    );
    match &report.start {
        Some(c) => reference(
            &mut s,
            "start commit",
            format!("{} {}", short(c.id.as_str()), c.title),
        ),
        None => reference(&mut s, "start commit", &report.job.start),
    }
    reference(
        &mut s,
        "git tree",
        format!("{} {}", report.job.repo.display(), report.job.branch),
    );
    if let Some(t) = &title {
        reference(&mut s, "final crash", t);
    }
    if let Some(p) = console_log(report, title.as_deref()) {
        reference(&mut s, "console output", p.display());
    }
    let config_key = match report.dialect {
        Dialect::Kernel => "kernel config",
        Dialect::Generic => "build config",
    };
    match &report.job.config {
        Some(f) => reference(
            &mut s,
            config_key,
            format!("{} (sha256 {})", f.path.display(), f.sha),
        ),
        None => reference(&mut s, config_key, "none"),
    }
    match (&report.job.reproducer, &report.job.test.command) {
        (Some(f), _) => reference(
            &mut s,
            "reproducer",
            format!("{} (sha256 {})", f.path.display(), f.sha),
        ),
        (None, Some(cmd)) if !cmd.is_empty() => {
            reference(&mut s, "reproducer", format!("{cmd} (test command)"))
        }
        _ => {}
    }
    let culprit = r
        .filter(|r| r.kind == OutcomeKind::Culprit)
        .and_then(|r| r.commits.first());
    let tags = opts.reported_by.is_some() || (culprit.is_some() && !report.fix());
    if tags {
        let _ = writeln!(s);
    }
    if let Some(by) = &opts.reported_by {
        let _ = writeln!(s, "Reported-by: {by}");
    }
    if let Some(c) = culprit {
        if report.fix() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "If the result looks correct, the fix is {} (\"{}\").",
                short(c.id.as_str()),
                c.title
            );
        } else {
            let _ = writeln!(s, "{}", fixes_tag(c));
        }
    }
    how_sure(&mut s, report);
    if let Some(c) = crash
        && !c.text.is_empty()
    {
        let _ = writeln!(s);
        let _ = writeln!(s, "The final crash report:");
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", c.text.trim_end());
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "This report was generated by kbisect {} from the work dir {}.",
        env!("CARGO_PKG_VERSION"),
        report.workdir.display()
    );
    s
}

/// What syzbot never says: the confidence, the parent-vs-culprit table,
/// and the flags, in plain words.
fn how_sure(out: &mut String, report: &Report) {
    let mut s = String::new();
    sureness(&mut s, report);
    if !s.trim().is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "How sure kbisect is (syzbot does not say):");
        let _ = writeln!(out);
        out.push_str(s.trim_start_matches('\n'));
    }
}

fn sureness(s: &mut String, report: &Report) {
    if let Some(w) = report.confidence_words() {
        reference(s, "confidence", w);
    }
    if let Some(r) = report.result()
        && r.repro_chance < 1.0
    {
        reference(
            s,
            "repro chance",
            format!(
                "{:.2} per run on a bad revision{}",
                r.repro_chance,
                if r.flaky { " (flaky reproducer)" } else { "" }
            ),
        );
    }
    if let Some(r) = report.result()
        && let Some(ru) = &r.runner_up
    {
        reference(
            s,
            "runner-up",
            format!(
                "{:.3} {}",
                ru.posterior,
                match &ru.commit {
                    Some(id) => format!("{} {}", short(id.as_str()), ru.title),
                    None => "(no commit of the range)".into(),
                }
            ),
        );
    }
    let lines = report.verify_lines();
    if !lines.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "  {:<9}{:<14}{:>13}", "", "commit", "crashed/runs");
        for l in &lines {
            let _ = writeln!(
                s,
                "  {:<9}{:<14}{:>13}  {}",
                l.role,
                short(l.commit.as_str()),
                format!("{}/{}", l.crashed, l.runs),
                match l.posterior {
                    Some(p) => format!("P(has culprit) {p:.3}, {}", l.note),
                    None => l.note.clone(),
                }
            );
        }
    }
    let flags = report.flags();
    let culprit = report
        .result()
        .is_some_and(|r| r.kind == OutcomeKind::Culprit);
    if flags.iter().any(|f| f.suspect) {
        let _ = writeln!(s);
        let _ = writeln!(s, "What makes this result suspect:");
    } else if culprit {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{}",
            wrap(
                "Nothing makes this result suspect: the culprit is not a merge or a release, it changes the built binary, and no other crash was seen.",
                72,
                ""
            )
        );
    }
    if !flags.is_empty() && !flags.iter().any(|f| f.suspect) {
        let _ = writeln!(s);
    }
    for f in &flags {
        let mark = if f.suspect { "-" } else { "*" };
        let _ = writeln!(s, "{}", wrap(&format!("{mark} {}", f.text), 72, "  "));
    }
}

/// Wraps `text` at `width` columns, continuation lines indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_string();
        } else if !line.is_empty() && line != indent {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}
