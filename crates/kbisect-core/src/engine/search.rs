//! Pieces every strategy can reuse: counting a revision's runs (and
//! logging them), and the DAG bisection loop logged as `git bisect` prints it.

use kbisect_git::Commit;

use super::Context;
use crate::dag::{DagBisect, Step};
use crate::error::EngineError;
use crate::events::{Event, RunLine};
use crate::model::{Crash, RunOutcome, Verdict};
use crate::result::RevisionEvidence;
use crate::verdict::RunCounts;

/// Step 3 of testing a revision: counts its runs (transient crashes set
/// aside), stores the counts in the record, logs the runs, and returns the
/// counts and the crashes that count, in run order.
pub fn count_runs(cx: &mut Context<'_>, rev: &mut RevisionEvidence) -> (RunCounts, Vec<Crash>) {
    let mut counts = RunCounts {
        total: rev.runs.len(),
        ..RunCounts::default()
    };
    let mut crashes = Vec::new();
    let mut lines = Vec::with_capacity(rev.runs.len());
    for r in &rev.runs {
        lines.push(match &r.outcome {
            RunOutcome::Ok => {
                counts.good += 1;
                RunLine::Ok
            }
            RunOutcome::Crashed(c) if cx.is_transient(c) => RunLine::Ignored {
                title: c.title.clone(),
            },
            RunOutcome::Crashed(c) => {
                counts.bad += 1;
                crashes.push(c.clone());
                RunLine::Crashed {
                    title: c.title.clone(),
                    matched: r.matched.clone(),
                }
            }
            RunOutcome::Infra { reason } => {
                counts.infra += 1;
                RunLine::Infra {
                    reason: reason.clone(),
                }
            }
            RunOutcome::BootFailed { reason } => RunLine::BootFailed {
                reason: reason.clone(),
            },
            RunOutcome::TestFailed { reason } => RunLine::TestFailed {
                reason: reason.clone(),
            },
        });
    }
    cx.emit(Event::RunsSummary {
        commit: rev.commit.clone(),
        runs: lines,
    });
    rev.good = counts.good;
    rev.bad = counts.bad;
    rev.infra = counts.infra;
    rev.skip = counts.skip();
    (counts, crashes)
}

/// The DAG bisection between `bad` and `good`, logged as `git bisect` would
/// print it. `predicate` tests a revision and answers in git bisect's terms
/// (a fix bisection inverts its verdicts). Returns the first bad commit, or
/// every remaining candidate when only skipped revisions are left.
pub fn dag_search(
    cx: &mut Context<'_>,
    bad: &Commit,
    good: &[Commit],
    predicate: &mut dyn FnMut(&mut Context<'_>, &Commit) -> Result<Verdict, EngineError>,
) -> Result<Vec<Commit>, EngineError> {
    let good_ids: Vec<_> = good.iter().map(|c| c.id.clone()).collect();
    let dag = cx.vcs().dag(&bad.id, &good_ids)?;
    cx.emit(Event::BisectStart {
        bad: bad.id.clone(),
        goods: good_ids,
    });
    let mut bis = DagBisect::new(dag, &bad.id)?;
    loop {
        match bis.next() {
            Step::Test {
                commit,
                left,
                steps,
            } => {
                let com = cx.vcs().commit(&commit)?;
                cx.emit(Event::BisectNext {
                    left,
                    steps,
                    commit: commit.clone(),
                    title: com.title.clone(),
                });
                let term = predicate(cx, &com)?;
                cx.emit(Event::BisectMark {
                    term,
                    commit: commit.clone(),
                });
                bis.mark(&commit, term)?;
            }
            Step::Found(id) => {
                let com = cx.vcs().commit(&id)?;
                let diffstat = cx.vcs().diffstat(&id)?;
                cx.emit(Event::FirstBad {
                    commit: Box::new(com.clone()),
                    diffstat,
                });
                return Ok(vec![com]);
            }
            Step::OnlySkipped(ids) => {
                cx.emit(Event::OnlySkippedLeft {
                    candidates: ids.clone(),
                });
                return ids.iter().map(|id| Ok(cx.vcs().commit(id)?)).collect();
            }
        }
    }
}
