//! `git bisect run`'s semantics, deliberately simple: one run per revision,
//! any crash is bad, a run that neither crashes nor passes is a skip, and
//! the search is git bisect's. No flakiness handling, no fix guard: it is
//! the baseline the other strategies are measured against.

use kbisect_git::Commit;

use super::Strategy;
use crate::Verdict;
use crate::engine::{Context, count_runs, dag_search};
use crate::error::EngineError;
use crate::events::Event;
use crate::result::{BisectResult, Purpose, ResultReport, RevisionEvidence};

/// The plain strategy (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Strategy for Plain {
    fn name(&self) -> &'static str {
        "plain"
    }

    fn test_revision(
        &mut self,
        cx: &mut Context<'_>,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        let mut rev = cx.build(commit, purpose)?;
        rev.verdict = Some(Verdict::Skip);
        if rev.build.built().is_none() {
            return Ok(cx.record(rev));
        }
        if let Err(e) = cx.run(&mut rev, 1) {
            cx.record(rev);
            return Err(e);
        }
        let (counts, crashes) = count_runs(cx, &mut rev);
        let verdict = if counts.bad > 0 {
            Verdict::Bad
        } else if counts.good > 0 {
            Verdict::Good
        } else if counts.infra > 0 {
            // git bisect run aborts when the test cannot run at all.
            cx.record(rev);
            return Err(EngineError::InfraVerdict);
        } else {
            Verdict::Skip
        };
        if let Some(c) = crashes.first() {
            rev.crash = Some(c.clone());
            rev.crash_types = vec![c.crash_type.clone()];
            rev.report = Some(ResultReport::of_crash(c));
            rev.bad_ratio = 1.0;
        } else if verdict == Verdict::Skip {
            rev.report = Some(ResultReport::untested(&rev.commit));
        }
        rev.verdict = Some(verdict);
        cx.emit(Event::Verdict {
            commit: rev.commit.clone(),
            verdict,
            false_negative: None,
        });
        Ok(cx.record(rev))
    }

    fn search(
        &mut self,
        cx: &mut Context<'_>,
        bad: &Commit,
        good: &[Commit],
    ) -> Result<Vec<Commit>, EngineError> {
        dag_search(cx, bad, good, &mut |cx, com| {
            let v = self
                .test_revision(cx, com, Purpose::Bisect)?
                .verdict_or_skip();
            Ok(if cx.settings().fix { v.inverted() } else { v })
        })
    }

    fn conclude(&self, result: &mut BisectResult) {
        // git bisect trusts every verdict: one run either way.
        result.confidence = 1.0;
        result.flaky = false;
        result.repro_chance = 1.0;
    }

    fn flaky_estimate(&self) -> Option<f64> {
        None
    }
}
