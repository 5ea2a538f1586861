//! The journaling wrappers around the real builder and tester: answer from
//! the journal what it already holds, ask the real one for the rest, and
//! record each new outcome durably the moment it exists — before the engine
//! can act on it.
//!
//! Transient outcomes (the environment's fault) are recorded as such and
//! never replayed as evidence: a resumed bisection makes them again. A
//! build that failed that way is retried on every resume (each resume is
//! the user's decision); a run lost to the infrastructure is retried on
//! resume up to [`MAX_RUN_RETRIES`] times, then its last result is
//! replayed, so a setup that loses every run still reaches a verdict rule
//! that stops the bisection instead of retrying forever.

use kbisect_core::{
    BuildOutcome, BuildRequest, Builder, BuilderKind, Commit, InfraError, RunJob, RunOutcome,
    RunResult, Tester,
};

use super::{Counter, Entry, Session, Stage};

/// How many times a run lost to the infrastructure is made again on resume.
pub const MAX_RUN_RETRIES: usize = 3;

fn record_error(e: super::SessionError) -> InfraError {
    InfraError::Record {
        source: Box::new(e),
    }
}

/// Builds each (commit, config) at most once across restarts.
pub struct JournaledBuilder<'a> {
    inner: &'a mut dyn Builder,
    session: &'a Session,
}

impl<'a> JournaledBuilder<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Builder, session: &'a Session) -> Self {
        JournaledBuilder { inner, session }
    }
}

impl Builder for JournaledBuilder<'_> {
    fn kind(&self) -> BuilderKind {
        self.inner.kind()
    }

    fn compiler_id(&mut self, commit: &Commit) -> Option<String> {
        self.inner.compiler_id(commit)
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        let s = self.session;
        let key = (req.commit.id.to_string(), req.config.hash());
        let recorded = s.with_recorded(|r| {
            (
                r.builds.get(&key).cloned(),
                r.transient_builds.get(&key).map_or(0, Vec::len),
            )
        });
        let (recorded, transient) = recorded.unwrap_or((None, 0));
        if let Some(mut outcome) = recorded {
            // A recorded build is reused only while its artifact is still there.
            let artifact_there = match &mut outcome {
                BuildOutcome::Built(b) => match &mut b.artifact {
                    Some(p) => {
                        *p = s.absolute(p);
                        p.exists()
                    }
                    None => true,
                },
                BuildOutcome::Failed(_) => true,
            };
            if artifact_there {
                s.count(Counter::BuildReplayed);
                return Ok(outcome);
            }
        }
        s.mark_new_action();
        if transient > 0 {
            tracing::info!(commit = %req.commit.id, attempts = transient, "retrying a build that failed for environment reasons");
            s.count(Counter::Retried);
        }
        match self.inner.build(req) {
            Ok(outcome) => {
                let mut stored = outcome.clone();
                if let BuildOutcome::Built(b) = &mut stored
                    && let Some(p) = &mut b.artifact
                {
                    *p = s.relative(p);
                }
                s.append(&Entry::Build {
                    commit: key.0,
                    config_hash: key.1,
                    outcome: stored,
                })
                .map_err(record_error)?;
                s.count(Counter::BuildDone);
                Ok(outcome)
            }
            Err(e @ InfraError::Environment { .. }) => {
                s.append(&Entry::Transient {
                    commit: key.0,
                    config_hash: key.1,
                    stage: Stage::Build,
                    error: error_chain(&e),
                    result: None,
                })
                .map_err(record_error)?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

/// The error and its sources, in one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Makes each run (commit, config, occurrence, index) at most once across restarts.
pub struct JournaledTester<'a> {
    inner: &'a mut dyn Tester,
    session: &'a Session,
}

impl<'a> JournaledTester<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Tester, session: &'a Session) -> Self {
        JournaledTester { inner, session }
    }
}

fn run_key(job: &RunJob<'_>) -> super::RunKey {
    (
        job.request.commit.id.to_string(),
        job.request.config.hash(),
        job.request.occurrence,
        job.index,
    )
}

impl Tester for JournaledTester<'_> {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        let s = self.session;
        let mut missing = Vec::new();
        for (pos, job) in jobs.iter().enumerate() {
            let key = run_key(job);
            let known = s.with_recorded(|r| {
                let lost = r.transient_runs.get(&key);
                match (r.runs.get(&key), lost) {
                    (Some(done), _) => Some((Some(done.clone()), 0)),
                    (None, Some(l)) if l.len() >= MAX_RUN_RETRIES => {
                        Some((l.last().cloned(), l.len()))
                    }
                    (None, l) => Some((None, l.map_or(0, Vec::len))),
                }
            });
            match known.flatten() {
                Some((Some(result), _)) => {
                    s.count(Counter::RunReplayed);
                    on_run(pos, result)?;
                }
                Some((None, retries)) => {
                    if retries > 0 {
                        s.count(Counter::Retried);
                    }
                    missing.push(pos);
                }
                None => missing.push(pos),
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        s.mark_new_action();
        let todo: Vec<RunJob<'_>> = missing.iter().map(|&p| jobs[p]).collect();
        self.inner.run(&todo, &mut |i, result| {
            let pos = missing[i];
            let (commit, config_hash, occurrence, index) = run_key(&jobs[pos]);
            let entry = match &result.outcome {
                RunOutcome::Infra { reason } => Entry::Transient {
                    commit,
                    config_hash,
                    stage: Stage::Run { occurrence, index },
                    error: reason.clone(),
                    result: Some(result.clone()),
                },
                _ => Entry::Run {
                    commit,
                    config_hash,
                    occurrence,
                    index,
                    result: result.clone(),
                },
            };
            s.append(&entry).map_err(record_error)?;
            s.count(Counter::RunDone);
            on_run(pos, result)
        })
    }
}
