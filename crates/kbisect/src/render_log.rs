//! Renders engine events and the result as the lines of syzbot's bisection
//! log (`shared/design/sample-bisection.log`), so a kbisect run reads like a
//! syzbot one.

use std::io::{self, Write};

use kbisect_core::{
    BisectResult, EngineError, Event, OutcomeKind, humanize, recipients::Recipients,
};

pub struct LogRenderer<W: Write> {
    w: W,
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quoted(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(" "))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl<W: Write> LogRenderer<W> {
    pub fn new(w: W) -> Self {
        LogRenderer { w }
    }

    pub fn into_inner(self) -> W {
        self.w
    }

    pub fn event(&mut self, e: &Event) -> io::Result<()> {
        let w = &mut self.w;
        match e {
            Event::Started { fix: false, commit } => {
                writeln!(w, "bisecting cause commit starting from {commit}")
            }
            Event::Started { fix: true, commit } => {
                writeln!(w, "bisecting fixing commit since {commit}")
            }
            Event::Reidentified { commit, title } => {
                writeln!(
                    w,
                    "rewritten commit {commit} reidentified by title '{title}'"
                )
            }
            Event::Note(s) => writeln!(w, "{s}"),
            Event::TestingRelease { tag } => writeln!(w, "testing release {tag}"),
            Event::TestingCommit {
                commit, compiler, ..
            } => {
                writeln!(w, "testing commit {commit} with {compiler}")
            }
            Event::Built {
                signature, error, ..
            } => {
                if let Some(s) = signature {
                    writeln!(w, "kernel signature: {s}")?;
                }
                if let Some(e) = error {
                    writeln!(w, "{e}")?;
                }
                Ok(())
            }
            Event::RunsStarted { .. } | Event::RunFinished { .. } | Event::Verdict { .. } => Ok(()),
            Event::RunsSummary { lines } => lines.iter().try_for_each(|l| writeln!(w, "{l}")),
            Event::Representative { title, types } => {
                let t: Vec<String> = types.iter().map(|t| t.to_string()).collect();
                writeln!(w, "representative crash: {title}, types: [{}]", t.join(" "))
            }
            Event::BisectStart { bad, goods } => {
                let g: Vec<String> = goods.iter().map(|g| g.to_string()).collect();
                writeln!(w, "# git bisect start {bad} {}", g.join(" "))
            }
            Event::BisectMark { term, commit } => writeln!(w, "# git bisect {term} {commit}"),
            Event::BisectNext {
                left,
                steps,
                commit,
                title,
            } => {
                writeln!(
                    w,
                    "Bisecting: {} left to test after this (roughly {})",
                    plural(*left, "revision", "revisions"),
                    plural(*steps, "step", "steps")
                )?;
                writeln!(w, "[{commit}] {title}")
            }
            Event::FirstBad { commit, diffstat } => {
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
                write!(w, "{}", diffstat)?;
                if !diffstat.ends_with('\n') && !diffstat.is_empty() {
                    writeln!(w)?;
                }
                Ok(())
            }
            Event::OnlySkippedLeft { candidates } => {
                writeln!(w, "There are only 'skip'ped commits left to test.")?;
                writeln!(w, "The first bad commit could be any of:")?;
                candidates.iter().try_for_each(|c| writeln!(w, "{c}"))?;
                writeln!(w, "We cannot bisect more!")
            }
            Event::Signatures { culprit, parent } => {
                writeln!(w, "culprit signature: {culprit}")?;
                writeln!(w, "parent  signature: {parent}")
            }
            Event::Totals {
                revisions,
                total,
                build,
                test,
                flaky,
            } => {
                if let Some(p) = flaky {
                    writeln!(w, "reproducer is flaky ({p:.2} repro chance estimate)")?;
                }
                writeln!(
                    w,
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
            OutcomeKind::Culprit => {
                if let Some(c) = r.commits.first() {
                    writeln!(w, "first {what} commit: {} {}", c.id, c.title)?;
                }
                let Recipients { to, cc } = &r.recipients;
                writeln!(w, "recipients (to): {}", go_quoted(to))?;
                writeln!(w, "recipients (cc): {}", go_quoted(cc))?;
                let mut suspect = Vec::new();
                if r.merge {
                    suspect.push("a merge commit");
                }
                if r.release {
                    suspect.push("a release commit");
                }
                if r.noop {
                    suspect.push("a no-op change (same kernel signature as its parent)");
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

    pub fn error(&mut self, e: &EngineError) -> io::Result<()> {
        writeln!(self.w, "error: {e}")
    }
}

#[cfg(test)]
#[path = "render_log_tests.rs"]
mod tests;
