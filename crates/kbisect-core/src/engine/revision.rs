//! Testing one revision: build, run the reproducer, classify every run,
//! decide the verdict and keep the evidence.

use std::time::Instant;

use kbisect_git::Commit;
use kbisect_report::CrashType;

use super::{Engine, Tested};
use crate::error::EngineError;
use crate::events::Event;
use crate::model::{BuildOutcome, Crash, KernelSignature, RunOutcome, RunResult, Verdict};
use crate::representative;
use crate::result::{Purpose, ResultReport, RevisionEvidence};
use crate::traits::TestRequest;
use crate::verdict::{Decision, RunCounts, decide};

/// A flaky reproducer crashes in fewer than half of its runs.
const FLAKY_THRESHOLD: f64 = 0.5;

impl Engine<'_> {
    fn check_timeout(&self) -> Result<(), EngineError> {
        match self.cfg.timeout {
            Some(t) if self.started.elapsed() > t => Err(EngineError::Timeout(t)),
            _ => Ok(()),
        }
    }

    fn build(&mut self, com: &Commit) -> Result<(String, BuildOutcome), EngineError> {
        let compiler = self.builder.compiler_id(com);
        self.emit(Event::TestingCommit {
            commit: com.id.clone(),
            title: com.title.clone(),
            compiler: compiler.clone(),
        });
        let outcome = self.builder.build(com, &self.kernel_config)?;
        self.build_time += outcome.duration();
        let error = match &outcome {
            BuildOutcome::Built(_) => None,
            BuildOutcome::Failed(f) => Some(format!("failed building {}: {}", com.id, f.title)),
        };
        self.emit(Event::Built {
            commit: com.id.clone(),
            signature: outcome.signature().cloned(),
            error,
            duration: outcome.duration(),
        });
        Ok((compiler, outcome))
    }

    /// Builds without testing (the culprit's parent, for the no-op check).
    pub(super) fn build_only(
        &mut self,
        com: &Commit,
    ) -> Result<Option<KernelSignature>, EngineError> {
        self.check_timeout()?;
        let (compiler, outcome) = self.build(com)?;
        let sig = outcome.signature().cloned();
        let ev = RevisionEvidence::built(
            com,
            Purpose::ParentBuild,
            self.kernel_config.hash(),
            compiler,
            outcome,
        );
        self.evidence.push(ev);
        Ok(sig)
    }

    /// syzkaller's `test()`: a skip for a revision that cannot be judged, an
    /// error only when the bisection must stop.
    pub(super) fn test(&mut self, com: &Commit, purpose: Purpose) -> Result<Tested, EngineError> {
        self.check_timeout()?;
        let (compiler, outcome) = self.build(com)?;
        let mut ev = RevisionEvidence::built(
            com,
            purpose,
            self.kernel_config.hash(),
            compiler,
            outcome.clone(),
        );
        ev.verdict = Some(Verdict::Skip);
        let mut tested = Tested {
            verdict: Verdict::Skip,
            commit: com.clone(),
            report: None,
            types: Vec::new(),
            signature: outcome.signature().cloned(),
            bad_ratio: 0.0,
            confidence: 1.0,
        };
        let build = match outcome {
            BuildOutcome::Failed(f) => {
                tested.report = Some(ResultReport {
                    title: format!("failed building {}: {}", com.id, f.title),
                    crash_type: CrashType::Unknown,
                    text: f.error_lines.join("\n"),
                });
                self.evidence.push(ev);
                return Ok(tested);
            }
            BuildOutcome::Built(b) => b,
        };

        let mut runs = self.cfg.runs;
        if self.flaky || self.num_tests == 0 {
            // Twice the runs while we do not know how flaky the reproducer
            // is, and for good once we know it is.
            runs *= 2;
        }
        self.num_tests += 1;
        let key = (com.id.clone(), self.kernel_config.hash());
        let occurrence = *self.occurrences.get(&key).unwrap_or(&0);
        self.occurrences.insert(key, occurrence + 1);
        self.emit(Event::RunsStarted {
            commit: com.id.clone(),
            runs,
        });
        let t0 = Instant::now();
        let results = {
            let req = TestRequest {
                commit: com,
                config: &self.kernel_config,
                build: &build,
                runs,
                occurrence,
            };
            let events = &mut *self.events;
            let id = com.id.clone();
            self.tester.test(&req, &mut |index, result| {
                events.event(&Event::RunFinished {
                    commit: id.clone(),
                    index,
                    result: result.clone(),
                })
            })
        };
        let elapsed = t0.elapsed();
        self.test_time += elapsed;
        ev.test_time = elapsed;
        let results = match results {
            Ok(r) => r,
            Err(crate::traits::InfraError::Interrupted) => return Err(EngineError::Interrupted),
            Err(crate::traits::InfraError::Failed(e)) => {
                let problem = format!("repro testing failure: {e}");
                self.note(problem.clone());
                self.evidence.push(ev);
                return Err(EngineError::Infra(problem));
            }
        };
        let (counts, crashes) = self.process_results(&results);
        ev.runs = results;
        let rep = representative::pick(&crashes);
        let rep_crash = rep.index.map(|i| crashes[i].clone());
        if let Some(c) = &rep_crash {
            self.emit(Event::Representative {
                title: c.title.clone(),
                types: rep.types.clone(),
            });
        }
        ev.good = counts.good;
        ev.bad = counts.bad;
        ev.infra = counts.infra;
        ev.skip = counts.skip();
        let verdict = match decide(counts, self.flaky) {
            Decision::Verdict(v) => v,
            Decision::Abort => {
                self.evidence.push(ev);
                return Err(EngineError::Infra(
                    "unable to determine the verdict because of infra errors".into(),
                ));
            }
        };
        if counts.good + counts.bad > 0 {
            tested.bad_ratio = counts.bad as f64 / (counts.good + counts.bad) as f64;
        }
        let mut false_negative = None;
        match verdict {
            Verdict::Good => {
                // A good verdict may be a false negative of a flaky reproducer.
                tested.confidence = 1.0 - (1.0 - self.repro_chance).powi(counts.good as i32);
                false_negative = Some(1.0 - tested.confidence);
                self.note(format!(
                    "false negative chance: {:.3}",
                    1.0 - tested.confidence
                ));
            }
            Verdict::Skip => {
                let want_good = if self.flaky {
                    counts.total * 3 / 4
                } else {
                    counts.total / 2
                };
                self.note(format!(
                    "unable to determine the verdict: {} good runs (wanted {}), for bad wanted {} in total, got {}",
                    counts.good,
                    want_good,
                    counts.total / 2,
                    counts.good + counts.bad
                ));
                tested.report = Some(ResultReport {
                    title: format!("failed testing reproducer on {}", com.id),
                    crash_type: CrashType::Unknown,
                    text: String::new(),
                });
            }
            Verdict::Bad => {}
        }
        if verdict != Verdict::Skip {
            tested.report = rep_crash.as_ref().map(|c| ResultReport {
                title: c.title.clone(),
                crash_type: c.crash_type.clone(),
                text: c.report.clone(),
            });
        }
        tested.verdict = verdict;
        tested.types = rep.types.clone();
        if verdict == Verdict::Bad && tested.bad_ratio < FLAKY_THRESHOLD {
            self.flaky = true;
        }
        self.emit(Event::Verdict {
            commit: com.id.clone(),
            verdict,
            false_negative,
        });
        ev.verdict = Some(verdict);
        ev.bad_ratio = tested.bad_ratio;
        ev.confidence = tested.confidence;
        ev.crash = rep_crash;
        ev.crash_types = rep.types;
        self.evidence.push(ev);
        Ok(tested)
    }

    /// Classifies runs, setting aside crashes that are not the bug.
    fn process_results(&mut self, results: &[RunResult]) -> (RunCounts, Vec<Crash>) {
        let mut counts = RunCounts {
            total: results.len(),
            ..RunCounts::default()
        };
        let mut crashes = Vec::new();
        let mut lines = Vec::with_capacity(results.len());
        for r in results {
            match &r.outcome {
                RunOutcome::Ok => {
                    counts.good += 1;
                    lines.push("OK".to_string());
                }
                RunOutcome::Crashed(c) => {
                    if self.is_transient(&c.crash_type) {
                        lines.push(format!("ignore: {}", c.title));
                    } else {
                        counts.bad += 1;
                        crashes.push(c.clone());
                        lines.push(format!("crashed: {}", c.title));
                    }
                }
                RunOutcome::Infra { .. } => {
                    counts.infra += 1;
                    lines.push(r.outcome.to_string());
                }
                RunOutcome::BootFailed { .. } | RunOutcome::TestFailed { .. } => {
                    lines.push(r.outcome.to_string());
                }
            }
        }
        let all_same = lines.windows(2).all(|w| w[0] == w[1]);
        let lines = if all_same && !lines.is_empty() {
            vec![format!("all runs: {}", lines[0])]
        } else {
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("run #{i}: {l}"))
                .collect()
        };
        self.emit(Event::RunsSummary { lines });
        (counts, crashes)
    }

    /// A fuzzer failure or a lost connection is infrastructure noise unless
    /// the crash being bisected is itself of that kind.
    fn is_transient(&self, t: &CrashType) -> bool {
        if self.report_types.is_empty() {
            return false;
        }
        matches!(t, CrashType::SyzFailure | CrashType::LostConnection)
            && !self.report_types.contains(t)
    }
}
