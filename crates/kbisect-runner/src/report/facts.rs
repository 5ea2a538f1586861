//! What every report says beyond syzbot's words: how sure the result is,
//! the parent-vs-culprit table, and the flags that make a result suspect,
//! in plain words. The e-mail, the HTML page and the text summary share
//! these sentences.

use std::collections::{BTreeMap, BTreeSet};

use kbisect_core::{CommitId, CrashType, OutcomeKind, RunOutcome, StrategyKind, VerifyRole};

use super::{Outcome, Report};
use crate::render_log::Dialect;

/// Something a reader should know before trusting the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// A stable name (`merge`, `noop`, `release`, `verification`,
    /// `unrelated`, `unsure`, `flaky`, `partial`, `rejudged`).
    pub key: &'static str,
    /// It makes the result suspect (otherwise it is a note).
    pub suspect: bool,
    /// The sentence.
    pub text: String,
}

/// One row of the parent-vs-culprit table.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifyLine {
    /// `culprit` or `parent`.
    pub role: &'static str,
    /// The revision.
    pub commit: CommitId,
    /// Runs that showed the crash.
    pub crashed: usize,
    /// Runs that counted.
    pub runs: usize,
    /// P(the revision has the culprit), when the strategy computed it.
    pub posterior: Option<f64>,
    /// What else to know about the row (`decided`, `built only`, ...).
    pub note: String,
}

impl Report {
    /// Whether a crash of type `t` is set aside as infrastructure noise
    /// (a fuzzer failure or lost connection, unless that is what is bisected).
    pub fn transient(&self, t: &CrashType) -> bool {
        let target_type = self.target_type();
        matches!(t, CrashType::SyzFailure | CrashType::LostConnection)
            && target_type.as_ref() != Some(t)
    }

    /// The crash type of the crash bisected.
    fn target_type(&self) -> Option<CrashType> {
        let title = self.timeline.target.as_ref()?;
        self.timeline
            .rows
            .iter()
            .flat_map(|r| &r.runs)
            .find_map(|r| match &r.result.outcome {
                RunOutcome::Crashed(c) if &c.title == title => Some(c.crash_type.clone()),
                _ => None,
            })
    }

    /// The parent-vs-culprit table: the strategy's verification when it
    /// made one, else the culprit's and its parents' own runs.
    pub fn verify_lines(&self) -> Vec<VerifyLine> {
        let Some(r) = self.result() else {
            return Vec::new();
        };
        if let Some(v) = &r.verification {
            return v
                .rows
                .iter()
                .map(|row| VerifyLine {
                    role: match row.role {
                        VerifyRole::Culprit => "culprit",
                        VerifyRole::Parent => "parent",
                    },
                    commit: row.commit.clone(),
                    crashed: row.crashed,
                    runs: row.runs,
                    posterior: Some(row.posterior),
                    note: if row.decided { "decided" } else { "undecided" }.into(),
                })
                .collect();
        }
        if r.kind != OutcomeKind::Culprit || r.commits.len() != 1 {
            return Vec::new();
        }
        let culprit = &r.commits[0];
        let transient = |t: &CrashType| self.transient(t);
        let mut out = Vec::new();
        let line = |role: &'static str, id: &CommitId| match self.timeline.row(id) {
            Some(row) if !row.runs.is_empty() => {
                let (crashed, runs) = row.crashed_of(transient);
                VerifyLine {
                    role,
                    commit: id.clone(),
                    crashed,
                    runs,
                    posterior: None,
                    note: row.verdict.map(|v| v.to_string()).unwrap_or_default(),
                }
            }
            Some(_) => VerifyLine {
                role,
                commit: id.clone(),
                crashed: 0,
                runs: 0,
                posterior: None,
                note: "built only (to compare signatures)".into(),
            },
            None => VerifyLine {
                role,
                commit: id.clone(),
                crashed: 0,
                runs: 0,
                posterior: None,
                note: "not tested".into(),
            },
        };
        out.push(line("culprit", &culprit.id));
        for p in &culprit.parents {
            out.push(line("parent", p));
        }
        out
    }

    /// What the confidence number means for this strategy.
    pub fn confidence_words(&self) -> Option<String> {
        let r = self
            .result()
            .filter(|r| matches!(r.kind, OutcomeKind::Culprit | OutcomeKind::Unsure))?;
        Some(match self.strategy {
            StrategyKind::Plain => {
                "not estimated: one run per revision, every verdict trusted (git bisect run)".into()
            }
            StrategyKind::Syzkaller => format!(
                "{:.3}: the chance that no good verdict was a missed crash (syzbot's arithmetic: the product over good verdicts of 1 - (1 - p)^runs, p = {:.2})",
                r.confidence, r.repro_chance
            ),
            StrategyKind::Bayes => format!(
                "{:.3}: the posterior probability of the result (target {:.2})",
                r.confidence, self.confidence_target
            ),
        })
    }

    /// Everything a reader should know before trusting the result, suspect
    /// flags first.
    pub fn flags(&self) -> Vec<Flag> {
        let mut out = Vec::new();
        let mut push =
            |key: &'static str, suspect: bool, text: String| out.push(Flag { key, suspect, text });
        let what = match self.dialect {
            Dialect::Kernel => "kernel",
            Dialect::Generic => "build",
        };
        if let Outcome::Partial(nr) = &self.outcome {
            let what = nr.to_string();
            let what = what.trim_start_matches("partial: not recorded: ");
            push(
                "partial",
                true,
                if self.rejudged {
                    format!(
                        "This report is partial: re-judging needs evidence the bisection (run with {}) never gathered ({what}); only a bisection run with the {} strategy would have it.",
                        self.ran_with, self.strategy
                    )
                } else {
                    format!(
                        "This report is partial: the journal ends before the bisection does ({what}). The bisection was interrupted (or its journal cut short): running the same `kbisect run` again resumes it."
                    )
                },
            );
        }
        if let Some(r) = self.result() {
            if r.kind == OutcomeKind::Unsure {
                push(
                    "unsure",
                    true,
                    format!(
                        "The strategy could not reach its confidence target ({:.2}) within its budget: the commits listed are candidates, not a culprit.",
                        self.confidence_target
                    ),
                );
            }
            if r.merge {
                push(
                    "merge",
                    true,
                    "The culprit is a merge commit: bisection cannot look inside a merge, so the change that matters is in one of the merged branches (or in how they combine).".into(),
                );
            }
            if r.release {
                push(
                    "release",
                    true,
                    "A release tag points at the culprit: release commits usually change only the version number, so the culprit is likely wrong.".into(),
                );
            }
            if r.noop {
                push(
                    "noop",
                    true,
                    format!(
                        "The culprit does not change the built binary (its {what} signature equals its parent's), so it cannot have introduced the crash: a verdict near it was probably wrong."
                    ),
                );
            }
            if r.verification.as_ref().is_some_and(|v| !v.verified) {
                push(
                    "verification",
                    true,
                    "Verification failed: re-running the culprit and its parent did not decide both of them at the confidence target (see the table).".into(),
                );
            }
            if let Some(c) = &r.revert {
                let base = c.base.short();
                match c.outcome {
                    kbisect_core::RevertOutcome::StillCrashes => push(
                        "revert",
                        true,
                        format!(
                            "The start commit {base} with the culprit reverted still crashes ({}/{} runs): the culprit is not (only) what broke it.",
                            c.crashed, c.runs
                        ),
                    ),
                    kbisect_core::RevertOutcome::Gone => push(
                        "revert",
                        false,
                        format!(
                            "The start commit {base} with the culprit reverted does not crash (0/{} runs).",
                            c.runs
                        ),
                    ),
                    kbisect_core::RevertOutcome::DoesNotApply => push(
                        "revert",
                        false,
                        format!(
                            "The culprit does not revert cleanly on the start commit {base}: not checked."
                        ),
                    ),
                    kbisect_core::RevertOutcome::Undecided => push(
                        "revert",
                        false,
                        format!(
                            "The start commit {base} with the culprit reverted did not build or its runs decided nothing."
                        ),
                    ),
                }
            }
        }
        let unrelated = unrelated_crashes(self);
        if !unrelated.is_empty() {
            let list: Vec<String> = unrelated
                .iter()
                .map(|(t, cs)| {
                    format!(
                        "\"{t}\" on {}",
                        if cs.len() == 1 {
                            "1 revision".to_string()
                        } else {
                            format!("{} revisions", cs.len())
                        }
                    )
                })
                .collect();
            let how = match self.strategy {
                StrategyKind::Syzkaller => {
                    "syzbot's rules count any crash as bad, so a revision may have been judged bad for a crash that is not this one"
                }
                StrategyKind::Plain => {
                    "git bisect run's rule counts any crash as bad, so a revision may have been judged bad for a crash that is not this one"
                }
                StrategyKind::Bayes => {
                    "the bayes strategy counts them as weaker evidence than the crash bisected"
                }
            };
            push(
                "unrelated",
                true,
                format!(
                    "Crashes other than the one bisected{} were seen: {}; {how}.",
                    self.timeline
                        .target
                        .as_ref()
                        .map(|t| format!(" (\"{t}\")"))
                        .unwrap_or_default(),
                    list.join(", ")
                ),
            );
        }
        if let Some(r) = self.result()
            && r.flaky
        {
            push(
                "flaky",
                false,
                format!(
                    "The reproducer is flaky: a run on a bad revision crashes with an estimated chance of {:.2}, so a good verdict may be a crash that did not show.",
                    r.repro_chance
                ),
            );
        }
        if self.rejudged {
            push(
                "rejudged",
                false,
                format!(
                    "Re-judged from the recorded evidence with the {} strategy{} (the bisection ran with {}).",
                    self.strategy,
                    if self.strategy == StrategyKind::Bayes {
                        format!(" at confidence {:.2}", self.confidence_target)
                    } else {
                        String::new()
                    },
                    self.ran_with
                ),
            );
        }
        if self.torn {
            push(
                "torn",
                false,
                "The journal's last line was cut short (a kbisect killed while writing it): it is ignored.".into(),
            );
        }
        if self.config_changed {
            push(
                "config",
                false,
                "The job's config file has changed since the bisection: the report keys evidence by the hash the journal recorded.".into(),
            );
        }
        out.sort_by_key(|f| !f.suspect);
        out
    }
}

/// Crashes whose title differs from the crash bisected: title → the
/// revisions they were seen on (in the order tested).
pub fn unrelated_crashes(report: &Report) -> BTreeMap<String, Vec<CommitId>> {
    let Some(target) = &report.timeline.target else {
        return BTreeMap::new();
    };
    let mut out: BTreeMap<String, Vec<CommitId>> = BTreeMap::new();
    let mut seen: BTreeSet<(String, CommitId)> = BTreeSet::new();
    for row in &report.timeline.rows {
        for run in &row.runs {
            if let RunOutcome::Crashed(c) = &run.result.outcome
                && &c.title != target
                && seen.insert((c.title.clone(), row.commit.clone()))
            {
                out.entry(c.title.clone())
                    .or_default()
                    .push(row.commit.clone());
            }
        }
    }
    out
}
