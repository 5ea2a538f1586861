//! Renders engine events and the result as the lines of syzbot's bisection
//! log (`shared/design/sample-bisection.log`), so a kbisect run reads like a
//! syzbot one. For projects that are not kernels the kernel words give way
//! to generic ones (`build signature:`, `test failed:`); every other line is
//! syzbot's.

use std::io::{self, Write};

use kbisect_core::{
    BisectResult, BuilderKind, Candidate, EngineError, Event, FoldReason, GuardStep, OutcomeKind,
    RangeEnd, RevertCheck, RevertOutcome, RunLine, Verification, VerifyRole, humanize,
    recipients::Recipients,
};

/// Which words the log uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Exactly syzbot's (`kernel signature:`, `basic kernel testing failed:`).
    Kernel,
    /// Generic words for any other project.
    Generic,
}

impl From<BuilderKind> for Dialect {
    fn from(k: BuilderKind) -> Self {
        match k {
            BuilderKind::Kernel => Dialect::Kernel,
            BuilderKind::Generic => Dialect::Generic,
        }
    }
}

/// Writes log lines to `W`.
pub struct LogRenderer<W: Write> {
    w: W,
    dialect: Dialect,
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quoted(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

/// A candidate as the log names it: `H (0.41)`, or the range's outside.
fn candidate(c: &Candidate) -> String {
    match &c.commit {
        Some(id) => format!("{id} ({:.2})", c.posterior),
        None => format!("none in the range ({:.2})", c.posterior),
    }
}

/// `verification: parent 0/12 crashed, culprit 9/12 crashed`.
fn verification_line(v: &Verification) -> String {
    let mut rows: Vec<String> = v
        .rows
        .iter()
        .filter(|r| r.role == VerifyRole::Parent)
        .chain(v.rows.iter().filter(|r| r.role == VerifyRole::Culprit))
        .map(|r| {
            let role = match r.role {
                VerifyRole::Parent => "parent",
                VerifyRole::Culprit => "culprit",
            };
            format!(
                "{role} {}/{} crashed{}",
                r.crashed,
                r.runs,
                if r.decided { "" } else { " (undecided)" }
            )
        })
        .collect();
    if !v.verified {
        rows.push("FAILED".into());
    }
    format!("verification: {}", rows.join(", "))
}

/// `revert check: the crash is gone (0/10 crashed)`.
fn revert_line(c: &RevertCheck) -> String {
    let what = match c.outcome {
        RevertOutcome::Gone => "the crash is gone",
        RevertOutcome::StillCrashes => "FAILED: the revert still crashes",
        RevertOutcome::DoesNotApply => "not made: the revert does not apply",
        RevertOutcome::Undecided => {
            "undecided: the revert did not build or its runs decided nothing"
        }
    };
    if c.commit.is_some() {
        format!("revert check: {what} ({}/{} crashed)", c.crashed, c.runs)
    } else {
        format!("revert check: {what}")
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl<W: Write> LogRenderer<W> {
    /// A renderer in syzbot's own words.
    pub fn new(w: W) -> Self {
        LogRenderer {
            w,
            dialect: Dialect::Kernel,
        }
    }

    /// A renderer in `dialect`.
    pub fn with_dialect(w: W, dialect: Dialect) -> Self {
        LogRenderer { w, dialect }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.w
    }

    fn run_line(&self, r: &RunLine) -> String {
        match r {
            RunLine::Ok => "OK".into(),
            RunLine::Crashed { title, matched } => match (self.dialect, matched) {
                // Show why a run counted as a crash when the title alone does not.
                (Dialect::Generic, Some(line)) if line != title => {
                    format!("crashed: {title} (matched: {line})")
                }
                _ => format!("crashed: {title}"),
            },
            RunLine::Ignored { title } => format!("ignore: {title}"),
            RunLine::BootFailed { reason } => format!("boot failed: {reason}"),
            RunLine::TestFailed { reason } => match self.dialect {
                Dialect::Kernel => format!("basic kernel testing failed: {reason}"),
                Dialect::Generic => format!("test failed: {reason}"),
            },
            RunLine::Infra { reason } => format!("infra problem: {reason}"),
        }
    }

    /// The lines of one event.
    pub fn event(&mut self, e: &Event) -> io::Result<()> {
        let kernel = self.dialect == Dialect::Kernel;
        match e {
            Event::Started {
                fix,
                given,
                resolved,
                ..
            } => {
                let commit = match resolved {
                    Some(id) => format!("{id} ({given})"),
                    None => given.clone(),
                };
                if *fix {
                    writeln!(self.w, "bisecting fixing commit since {commit}")
                } else {
                    writeln!(self.w, "bisecting cause commit starting from {commit}")
                }
            }
            Event::Reidentified { commit, title } => writeln!(
                self.w,
                "rewritten commit {commit} reidentified by title '{title}'"
            ),
            Event::FetchingStart => {
                writeln!(
                    self.w,
                    "fetch other tags and check if the commit is present"
                )
            }
            Event::ReproducingStart { commit } => writeln!(
                self.w,
                "ensuring issue is reproducible on original commit {commit}"
            ),
            Event::ReleasesPicked { picked, total } => writeln!(
                self.w,
                "picked [{}] out of {total} release tags",
                picked.join(" ")
            ),
            Event::TestingRelease { tag } => writeln!(self.w, "testing release {tag}"),
            Event::TestingKnownGood { commit } => {
                writeln!(self.w, "testing known-good commit {commit}")
            }
            Event::FindingMergeBase { start, head } => writeln!(
                self.w,
                "determining the merge base between {start} and {head}"
            ),
            Event::CheckingMergeBase { commit, title } => writeln!(
                self.w,
                "{commit}/{title} is a merge base, check if it has the bug"
            ),
            Event::TestingHead { commit } => writeln!(self.w, "testing current HEAD {commit}"),
            Event::RangeEnded { why } => writeln!(
                self.w,
                "{}",
                match why {
                    RangeEnd::MergeBaseClean =>
                        "reproducer does not crash the merge base, so there's no known bad commit",
                    RangeEnd::StillCrashes =>
                        "crash still not fixed/happens on the oldest tested release",
                    RangeEnd::HeadBroken if kernel => "HEAD had kernel build, boot or test errors",
                    RangeEnd::HeadBroken => "HEAD had build or test errors",
                }
            ),
            Event::TestingCommit {
                commit, compiler, ..
            } => match compiler {
                Some(c) => writeln!(self.w, "testing commit {commit} with {c}"),
                None => writeln!(self.w, "testing commit {commit}"),
            },
            Event::Built {
                commit,
                signature,
                error,
                ..
            } => {
                if let Some(s) = signature {
                    let what = if kernel { "kernel" } else { "build" };
                    writeln!(self.w, "{what} signature: {s}")?;
                }
                if let Some(e) = error {
                    writeln!(self.w, "failed building {commit}: {e}")?;
                }
                Ok(())
            }
            Event::RunsStarted { .. } | Event::RunFinished { .. } => Ok(()),
            Event::RunsSummary { runs, .. } => {
                let lines: Vec<String> = runs.iter().map(|r| self.run_line(r)).collect();
                let all_same = lines.windows(2).all(|w| w[0] == w[1]);
                if all_same && let Some(first) = lines.first() {
                    writeln!(self.w, "all runs: {first}")
                } else {
                    lines
                        .iter()
                        .enumerate()
                        .try_for_each(|(i, l)| writeln!(self.w, "run #{i}: {l}"))
                }
            }
            Event::Representative { title, types } => {
                let t: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                writeln!(
                    self.w,
                    "representative crash: {title}, types: [{}]",
                    t.join(" ")
                )
            }
            Event::Undetermined {
                good,
                want_good,
                want_total,
                usable,
            } => writeln!(
                self.w,
                "unable to determine the verdict: {good} good runs (wanted {want_good}), for bad wanted {want_total} in total, got {usable}"
            ),
            Event::Verdict { false_negative, .. } => match false_negative {
                Some(p) => writeln!(self.w, "false negative chance: {p:.3}"),
                None => Ok(()),
            },
            Event::Guard { step } => writeln!(
                self.w,
                "{}",
                match step {
                    GuardStep::Checking =>
                        "determine whether the revision contains the guilty commit".to_string(),
                    GuardStep::CrashedAncestor { commit } =>
                        format!("revision {commit} crashed and is reachable"),
                    GuardStep::MergeBase { commit } => format!("checking the merge base {commit}"),
                    GuardStep::TestingMergeBase => "no existing result, test the revision".into(),
                    GuardStep::NotIntroducedYet =>
                        "the bug was not introduced yet; pretend that kernel crashed".into(),
                    GuardStep::CannotTell =>
                        "unable to determine whether there was a bug; skip the revision".into(),
                }
            ),
            Event::BisectStart { bad, goods } => {
                let g: Vec<String> = goods.iter().map(|g| g.to_string()).collect();
                writeln!(self.w, "# git bisect start {bad} {}", g.join(" "))
            }
            Event::BisectMark { term, commit } => writeln!(self.w, "# git bisect {term} {commit}"),
            Event::BisectNext {
                left,
                steps,
                commit,
                title,
            } => {
                writeln!(
                    self.w,
                    "Bisecting: {} left to test after this (roughly {})",
                    plural(*left, "revision", "revisions"),
                    plural(*steps, "step", "steps")
                )?;
                writeln!(self.w, "[{commit}] {title}")
            }
            Event::FirstBad { commit, diffstat } => {
                let w = &mut self.w;
                writeln!(w, "{} is the first bad commit", commit.id)?;
                writeln!(w, "commit {}", commit.id)?;
                if commit.parents.len() > 1 {
                    let p: Vec<&str> = commit.parents.iter().map(|p| p.short()).collect();
                    writeln!(w, "Merge: {}", p.join(" "))?;
                }
                writeln!(
                    w,
                    "Author: {} <{}>",
                    commit.author_name, commit.author_email
                )?;
                writeln!(w, "Date:   {}", commit.author_date)?;
                writeln!(w)?;
                for line in commit.body.trim_end().lines() {
                    writeln!(w, "    {line}")?;
                }
                writeln!(w)?;
                write!(w, "{diffstat}")?;
                if !diffstat.ends_with('\n') && !diffstat.is_empty() {
                    writeln!(w)?;
                }
                Ok(())
            }
            Event::OnlySkippedLeft { candidates } => {
                writeln!(self.w, "There are only 'skip'ped commits left to test.")?;
                writeln!(self.w, "The first bad commit could be any of:")?;
                candidates
                    .iter()
                    .try_for_each(|c| writeln!(self.w, "{c}"))?;
                writeln!(self.w, "We cannot bisect more!")
            }
            Event::ErrorProbability { probability } => {
                writeln!(self.w, "accumulated error probability: {probability:.2}")
            }
            Event::ReleaseCheckFailed { error } => {
                writeln!(self.w, "failed to detect release: {error}")
            }
            Event::ParentNotTested { parent } => {
                writeln!(self.w, "parent commit {parent} wasn't tested")
            }
            Event::NoopUndetermined => writeln!(
                self.w,
                "failed to detect noop change: the parent did not build"
            ),
            Event::Signatures { culprit, parent } => {
                writeln!(self.w, "culprit signature: {culprit}")?;
                writeln!(self.w, "parent  signature: {parent}")
            }
            Event::Judged {
                commit,
                has_bug,
                crashed,
                runs,
            } => writeln!(
                self.w,
                "{commit}: {crashed}/{runs} runs crashed, P(has the bug | own runs) {has_bug:.3}"
            ),
            Event::SearchStarted {
                head,
                goods,
                commits,
                preloaded,
                confidence,
            } => {
                let g: Vec<String> = goods.iter().map(|g| g.to_string()).collect();
                writeln!(
                    self.w,
                    "bayes: {} from {head} back to {}, {} already tested; stopping at posterior {confidence}",
                    plural(*commits, "commit", "commits"),
                    g.join(" "),
                    plural(*preloaded, "revision", "revisions"),
                )
            }
            Event::Folded {
                commit,
                into,
                reason,
            } => match reason {
                FoldReason::FilesUnused => writeln!(
                    self.w,
                    "commit {commit} touches no file the build uses: it has the binary of {into}"
                ),
                FoldReason::SameSignature => writeln!(
                    self.w,
                    "commit {commit} built the same binary as {into}: their runs are shared"
                ),
            },
            Event::Contains {
                commit,
                probability,
                crashed,
                runs,
            } => writeln!(
                self.w,
                "{commit}: {crashed}/{runs} runs crashed, P(contains the culprit) {probability:.3}"
            ),
            Event::Posterior {
                best,
                runner_up,
                repro_chance,
                builds,
                runs,
            } => writeln!(
                self.w,
                "posterior: best {}{}, estimated repro chance {repro_chance:.2} ({}, {})",
                candidate(best),
                runner_up
                    .as_ref()
                    .map(|r| format!(", runner-up {}", candidate(r)))
                    .unwrap_or_default(),
                plural(*builds, "build", "builds"),
                plural(*runs, "run", "runs"),
            ),
            Event::Verified { verification } => {
                writeln!(self.w, "{}", verification_line(verification))
            }
            Event::Reverting {
                culprit,
                base,
                commit,
            } => match commit {
                Some(c) => writeln!(
                    self.w,
                    "testing {base} with {culprit} reverted (commit {c})"
                ),
                None => writeln!(
                    self.w,
                    "reverting {culprit} on {base} does not apply cleanly"
                ),
            },
            Event::RevertChecked { check } => writeln!(self.w, "{}", revert_line(check)),
            Event::Totals {
                revisions,
                total,
                build,
                test,
                flaky,
            } => {
                if let Some(p) = flaky {
                    writeln!(self.w, "reproducer is flaky ({p:.2} repro chance estimate)")?;
                }
                writeln!(
                    self.w,
                    "revisions tested: {revisions}, total time: {} (build: {}, test: {})",
                    humanize(*total),
                    humanize(*build),
                    humanize(*test)
                )
            }
        }
    }

    /// The closing lines: the culprit (or candidates, or horizon), who to
    /// tell, and the crash.
    pub fn result(&mut self, r: &BisectResult) -> io::Result<()> {
        let kernel = self.dialect == Dialect::Kernel;
        let w = &mut self.w;
        let what = if r.fix { "good" } else { "bad" };
        match r.kind {
            OutcomeKind::Horizon => {
                if r.fix {
                    writeln!(w, "crash still not fixed or there were kernel test errors")?;
                } else {
                    writeln!(
                        w,
                        "oldest tested release already had the bug or it had kernel test errors"
                    )?;
                }
                if let Some(c) = &r.horizon {
                    writeln!(w, "commit msg: {}", c.title)?;
                }
            }
            OutcomeKind::Inconclusive => {
                writeln!(
                    w,
                    "bisection is inconclusive, the first {what} commit could be any of:"
                )?;
                for c in &r.commits {
                    writeln!(w, "{}", c.id)?;
                }
                return Ok(());
            }
            OutcomeKind::Unsure => {
                let list: Vec<String> = r.candidates.iter().map(candidate).collect();
                writeln!(
                    w,
                    "bisection is unsure, the first {what} commit is one of: {}",
                    list.join(" ")
                )?;
                writeln!(
                    w,
                    "estimated repro chance {:.2}; the result is unreliable: not mailed",
                    r.repro_chance
                )?;
                return Ok(());
            }
            OutcomeKind::Culprit => {
                if let Some(c) = r.commits.first() {
                    writeln!(w, "first {what} commit: {} {}", c.id, c.title)?;
                }
                if r.runner_up.is_some() || r.verification.is_some() {
                    writeln!(
                        w,
                        "culprit posterior: {:.2}{}, estimated repro chance {:.2}",
                        r.confidence,
                        r.runner_up
                            .as_ref()
                            .map(|c| format!(" (runner-up {})", candidate(c)))
                            .unwrap_or_default(),
                        r.repro_chance
                    )?;
                }
                if let Some(v) = &r.verification {
                    writeln!(w, "{}", verification_line(v))?;
                }
                if let Some(c) = &r.revert {
                    writeln!(w, "{}", revert_line(c))?;
                }
                let Recipients { to, cc } = &r.recipients;
                writeln!(w, "recipients (to): {}", go_quoted(to))?;
                writeln!(w, "recipients (cc): {}", go_quoted(cc))?;
                let mut suspect = Vec::new();
                if r.merge {
                    suspect.push("a merge commit".to_string());
                }
                if r.release {
                    suspect.push("a release commit".to_string());
                }
                if r.verification.as_ref().is_some_and(|v| !v.verified) {
                    suspect.push("not verified against its parents".to_string());
                }
                if r.revert.as_ref().is_some_and(RevertCheck::failed) {
                    suspect.push("still crashing with it reverted".to_string());
                }
                if r.noop {
                    suspect.push(format!(
                        "a no-op change (same {} signature as its parent)",
                        if kernel { "kernel" } else { "build" }
                    ));
                }
                if !suspect.is_empty() {
                    writeln!(
                        w,
                        "the result is unreliable: the culprit is {}",
                        suspect.join(", ")
                    )?;
                }
            }
        }
        if let Some(rep) = &r.report {
            writeln!(w, "crash: {}", rep.title)?;
            write!(w, "{}", rep.text)?;
            if !rep.text.is_empty() && !rep.text.ends_with('\n') {
                writeln!(w)?;
            }
        }
        Ok(())
    }

    /// The line of an error that ended the bisection.
    pub fn error(&mut self, e: &EngineError) -> io::Result<()> {
        writeln!(self.w, "error: {e}")
    }
}

#[cfg(test)]
#[path = "render_log_tests.rs"]
mod tests;
