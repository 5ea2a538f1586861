//! The text report (syzbot's log of the replayed events, then a summary)
//! and the JSON one (`result.json`'s format).

use std::fmt::Write as _;

use kbisect_core::{OutcomeKind, RunOutcome, humanize};

use super::{Outcome, Report};
use crate::kind::ErrorKind;
use crate::render_log::LogRenderer;
use crate::result_json::{self, RevisionJson, RunJson};

/// The log of the replayed bisection in syzbot's format, its closing lines
/// included.
pub fn log(report: &Report) -> String {
    let mut log = LogRenderer::with_dialect(Vec::new(), report.dialect);
    // Writing to memory cannot fail.
    for e in &report.events {
        let _ = log.event(e);
    }
    let _ = match &report.outcome {
        Outcome::Finished(r) => log.result(r),
        Outcome::Failed(e) => log.error(e),
        Outcome::Partial(_) => Ok(()),
    };
    let mut text = String::from_utf8_lossy(&log.into_inner()).into_owned();
    if let Outcome::Partial(nr) = &report.outcome {
        let _ = writeln!(text, "{nr}");
    }
    text
}

/// The short commit name used in summaries.
pub(crate) fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// One line saying how the bisection ended.
pub fn outcome_line(report: &Report) -> String {
    let first = if report.fix() { "good" } else { "bad" };
    match &report.outcome {
        Outcome::Partial(nr) => format!(
            "partial: the journal ends before the bisection does ({})",
            nr.commit()
        ),
        Outcome::Failed(e) => format!("no result: {e}"),
        Outcome::Finished(r) => match r.kind {
            OutcomeKind::Culprit => match r.commits.first() {
                Some(c) => format!("first {first} commit: {} {}", short(c.id.as_str()), c.title),
                None => "culprit: none".into(),
            },
            OutcomeKind::Inconclusive => format!(
                "inconclusive: the first {first} commit could be any of {} commits",
                r.commits.len()
            ),
            OutcomeKind::Unsure => format!(
                "unsure: {} candidates, none at the confidence target {:.2}",
                r.commits.len().max(r.candidates.len()),
                report.confidence_target
            ),
            OutcomeKind::Horizon => match (&r.horizon, report.fix()) {
                (Some(c), false) => format!(
                    "horizon: the crash already happens on the oldest release tested ({} {})",
                    short(c.id.as_str()),
                    c.title
                ),
                (Some(c), true) => format!(
                    "horizon: the crash still happens on {} {}",
                    short(c.id.as_str()),
                    c.title
                ),
                (None, _) => "horizon: no commit in the range".into(),
            },
        },
    }
}

/// The text report: the log, then a summary of what a reader needs.
pub fn text(report: &Report) -> String {
    let mut s = log(report);
    let _ = writeln!(s);
    let _ = writeln!(s, "--- kbisect report ---");
    let _ = writeln!(s, "work dir:     {}", report.workdir.display());
    let _ = writeln!(
        s,
        "strategy:     {}{}",
        report.strategy,
        if report.rejudged {
            format!(" (re-judged; the bisection ran with {})", report.ran_with)
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "outcome:      {}", outcome_line(report));
    if let Some(w) = report.confidence_words() {
        let _ = writeln!(s, "confidence:   {w}");
    }
    if let Some(r) = report.result()
        && r.repro_chance < 1.0
    {
        let _ = writeln!(
            s,
            "repro chance: {:.2} per run on a bad revision{}",
            r.repro_chance,
            if r.flaky { " (flaky reproducer)" } else { "" }
        );
    }
    if let Some(r) = report.result()
        && !r.candidates.is_empty()
    {
        let _ = writeln!(s, "candidates:");
        for c in r.candidates.iter().take(10) {
            let _ = writeln!(
                s,
                "  {:.3}  {}",
                c.posterior,
                match &c.commit {
                    Some(id) => format!("{} {}", short(id.as_str()), c.title),
                    None => "(no commit of the range)".into(),
                }
            );
        }
    }
    let lines = report.verify_lines();
    if !lines.is_empty() {
        let _ = writeln!(s, "culprit vs parent (crashed/runs):");
        for l in &lines {
            let _ = writeln!(
                s,
                "  {:<8} {}  {:>3}/{:<3} {}",
                l.role,
                short(l.commit.as_str()),
                l.crashed,
                l.runs,
                l.note
            );
        }
    }
    let flags = report.flags();
    let culprit = report
        .result()
        .is_some_and(|r| r.kind == OutcomeKind::Culprit);
    if flags.iter().any(|f| f.suspect) {
        let _ = writeln!(s, "suspect:");
    } else if culprit {
        let _ = writeln!(s, "suspect:      nothing makes this result suspect");
    } else if !flags.is_empty() {
        let _ = writeln!(s, "notes:");
    }
    for f in &flags {
        let _ = writeln!(s, "  {} {}", if f.suspect { "!" } else { "-" }, f.text);
    }
    let built = report
        .timeline
        .rows
        .iter()
        .filter(|r| r.signature.is_some() || r.build_error.is_some())
        .count();
    let tested = report
        .timeline
        .rows
        .iter()
        .filter(|r| !r.runs.is_empty())
        .count();
    let _ = writeln!(
        s,
        "revisions:    {tested} tested, {built} built; {} of {} recorded runs used",
        report.runs_used, report.recorded.1
    );
    let _ = writeln!(
        s,
        "time:         build {} (recorded), test {} (estimated from the runs' durations over {} slot(s))",
        humanize(report.build_time),
        humanize(report.test_time),
        report.job.parallel.max(1)
    );
    s
}

/// The JSON report: `result.json`'s schema. A partial report is
/// `kind: "partial"` with what was tested so far.
pub fn json(report: &Report) -> String {
    let j = match &report.outcome {
        Outcome::Finished(r) => result_json::from_result(r),
        Outcome::Failed(e) => {
            result_json::from_error(report.fix(), ErrorKind::of_engine(e), e.to_string())
        }
        Outcome::Partial(nr) => {
            let mut j = result_json::from_error(report.fix(), ErrorKind::Other, nr.to_string());
            j.kind = "partial".into();
            if let Some(e) = &mut j.error {
                e.kind = "partial".into();
            }
            j.strategy = report.strategy.to_string();
            j.revisions = revisions(report);
            j.revisions_tested = j.revisions.iter().filter(|r| !r.runs.is_empty()).count();
            j.build_time = report.build_time.as_secs_f64();
            j.test_time = report.test_time.as_secs_f64();
            j.total_time = j.build_time + j.test_time;
            j
        }
    };
    serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
}

/// The revisions of the timeline in `result.json`'s shape.
fn revisions(report: &Report) -> Vec<RevisionJson> {
    report
        .timeline
        .rows
        .iter()
        .map(|r| RevisionJson {
            commit: r.commit.to_string(),
            title: r.title.clone(),
            purpose: match &r.role {
                super::Role::Start => "start",
                super::Role::Release(_) => "release",
                super::Role::KnownGood => "known_good",
                super::Role::Head => "head",
                super::Role::MergeBase => "merge_base",
                super::Role::Bisect => "bisect",
                super::Role::ParentBuild => "parent_build",
                super::Role::Other => "other",
            }
            .into(),
            release_tag: match &r.role {
                super::Role::Release(t) => Some(t.clone()),
                _ => None,
            },
            verdict: r.verdict.map(|v| v.to_string()),
            compiler: r.compiler.clone().unwrap_or_default(),
            signature: r.signature.as_ref().map(|s| s.0.clone()),
            build_error: r.build_error.clone(),
            build_time: r.build_time.as_secs_f64(),
            test_time: r.test_time(report.job.parallel).as_secs_f64(),
            runs: r
                .runs
                .iter()
                .map(|run| RunJson {
                    outcome: match &run.result.outcome {
                        RunOutcome::Ok => "ok",
                        RunOutcome::Crashed(_) => "crashed",
                        RunOutcome::BootFailed { .. } => "boot_failed",
                        RunOutcome::TestFailed { .. } => "test_failed",
                        RunOutcome::Infra { .. } => "infra",
                    }
                    .into(),
                    title: match &run.result.outcome {
                        RunOutcome::Crashed(c) => Some(c.title.clone()),
                        RunOutcome::Ok => None,
                        RunOutcome::BootFailed { reason }
                        | RunOutcome::TestFailed { reason }
                        | RunOutcome::Infra { reason } => Some(reason.clone()),
                    },
                    time: run.result.duration.as_secs_f64(),
                    matched: run.result.matched.clone(),
                })
                .collect(),
        })
        .collect()
}
