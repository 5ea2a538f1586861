//! syzbot's strategy, exactly (syzkaller's `pkg/bisect`): 10 runs per
//! revision (20 on the first and once flaky), the verdict rule of
//! `verdicts.toml`, git bisect's choice, the fix guard, and syzkaller's
//! confidence arithmetic. The conformance scenarios pin every number.

use kbisect_git::Commit;

use super::Strategy;
use crate::Verdict;
use crate::engine::{Context, count_runs, dag_search, fix_guard};
use crate::error::EngineError;
use crate::events::Event;
use crate::representative;
use crate::result::{BisectResult, Purpose, ResultReport, RevisionEvidence};
use crate::verdict::{Decision, RunCounts, decide};

/// A flaky reproducer crashes in fewer than half of its runs.
const FLAKY_THRESHOLD: f64 = 0.5;

/// syzkaller's bookkeeping across a bisection.
#[derive(Debug, Clone)]
pub struct Syzkaller {
    /// A bad verdict once had a crash ratio below [`FLAKY_THRESHOLD`]: from
    /// then on every revision gets twice the runs and good verdicts need
    /// three quarters of them clean (syzkaller's `flaky`).
    flaky: bool,
    /// The estimated chance that one run on a bad revision crashes
    /// (syzkaller's `reproChance`): the start commit's crash ratio, then
    /// only ever lowered half way towards each bad verdict's ratio, since
    /// one revision's ratio is itself noisy.
    repro_chance: f64,
    /// Product over the bisection's good verdicts of the chance each is
    /// right, `1 - (1 - repro_chance)^good_runs` (syzkaller's confidence).
    confidence: f64,
}

impl Default for Syzkaller {
    fn default() -> Self {
        Syzkaller {
            flaky: false,
            repro_chance: 1.0,
            confidence: 1.0,
        }
    }
}

impl Syzkaller {
    /// Runs a revision gets: the job's, doubled while we do not know how
    /// flaky the reproducer is (the first revision) and for good once we know.
    fn runs(&self, cx: &Context<'_>) -> usize {
        let runs = cx.settings().runs;
        if self.flaky || cx.revisions_tested() == 0 {
            runs * 2
        } else {
            runs
        }
    }

    /// Step 4: the verdict from the counts, and what it says about the revision.
    fn decide(
        &mut self,
        cx: &mut Context<'_>,
        rev: &mut RevisionEvidence,
        counts: RunCounts,
    ) -> Result<Verdict, EngineError> {
        let verdict = match decide(counts, self.flaky) {
            Decision::Verdict(v) => v,
            Decision::Abort => {
                cx.record(rev.clone());
                return Err(EngineError::InfraVerdict);
            }
        };
        if counts.good + counts.bad > 0 {
            rev.bad_ratio = counts.bad as f64 / (counts.good + counts.bad) as f64;
        }
        let mut false_negative = None;
        match verdict {
            Verdict::Good => {
                // A good verdict may be a false negative of a flaky reproducer.
                rev.confidence = 1.0 - (1.0 - self.repro_chance).powi(counts.good as i32);
                false_negative = Some(1.0 - rev.confidence);
            }
            Verdict::Skip => {
                let want_good = if self.flaky {
                    counts.total * 3 / 4
                } else {
                    counts.total / 2
                };
                cx.emit(Event::Undetermined {
                    good: counts.good,
                    want_good,
                    want_total: counts.total / 2,
                    usable: counts.good + counts.bad,
                });
                rev.report = Some(ResultReport::untested(&rev.commit));
            }
            Verdict::Bad => {}
        }
        if verdict != Verdict::Skip {
            rev.report = rev.crash.as_ref().map(ResultReport::of_crash);
        }
        cx.emit(Event::Verdict {
            commit: rev.commit.clone(),
            verdict,
            false_negative,
        });
        Ok(verdict)
    }

    /// The predicate of the DAG bisection: the fix guard first, then a test
    /// whose good verdicts lower the confidence and bad ones the estimate.
    fn predicate(&mut self, cx: &mut Context<'_>, com: &Commit) -> Result<Verdict, EngineError> {
        if cx.settings().fix
            && let Some(v) = fix_guard(self, cx, com)?
        {
            return Ok(v);
        }
        let t = self.test_revision(cx, com, Purpose::Bisect)?;
        self.confidence *= t.confidence;
        if t.verdict == Some(Verdict::Bad) {
            let avg = (self.repro_chance + t.bad_ratio) / 2.0;
            if self.repro_chance > avg {
                self.repro_chance = avg;
            }
        }
        Ok(t.verdict_or_skip())
    }
}

impl Strategy for Syzkaller {
    fn name(&self) -> &'static str {
        "syzkaller"
    }

    /// syzkaller's `test()`: a skip for a revision that cannot be judged,
    /// an error only when the bisection must stop.
    fn test_revision(
        &mut self,
        cx: &mut Context<'_>,
        commit: &Commit,
        purpose: Purpose,
    ) -> Result<RevisionEvidence, EngineError> {
        // Step 1: build.
        let mut rev = cx.build(commit, purpose)?;
        rev.verdict = Some(Verdict::Skip);
        if rev.build.built().is_none() {
            return Ok(cx.record(rev));
        }
        // Step 2: run.
        let runs = self.runs(cx);
        if let Err(e) = cx.run(&mut rev, runs) {
            cx.record(rev);
            return Err(e);
        }
        // Step 3: count, and pick the representative crash.
        let (counts, crashes) = count_runs(cx, &mut rev);
        let rep = representative::pick(&crashes);
        if let Some(i) = rep.index {
            cx.emit(Event::Representative {
                title: crashes[i].title.clone(),
                types: rep.types.clone(),
            });
            rev.crash = Some(crashes[i].clone());
        }
        rev.crash_types = rep.types;
        // Step 4: decide.
        let verdict = self.decide(cx, &mut rev, counts)?;
        rev.verdict = Some(verdict);
        // Step 5: update the estimates.
        if verdict == Verdict::Bad && rev.bad_ratio < FLAKY_THRESHOLD {
            self.flaky = true;
        }
        Ok(cx.record(rev))
    }

    fn start_reproduced(&mut self, start: &RevisionEvidence) {
        self.repro_chance = start.bad_ratio;
    }

    fn search(
        &mut self,
        cx: &mut Context<'_>,
        bad: &Commit,
        good: &[Commit],
    ) -> Result<Vec<Commit>, EngineError> {
        let commits = dag_search(cx, bad, good, &mut |cx, com| {
            let v = self.predicate(cx, com)?;
            Ok(if cx.settings().fix { v.inverted() } else { v })
        })?;
        cx.emit(Event::ErrorProbability {
            probability: 1.0 - self.confidence,
        });
        Ok(commits)
    }

    fn conclude(&self, result: &mut BisectResult) {
        result.confidence = self.confidence;
        result.flaky = self.flaky;
        result.repro_chance = self.repro_chance;
    }

    fn flaky_estimate(&self) -> Option<f64> {
        self.flaky.then_some(self.repro_chance)
    }
}
