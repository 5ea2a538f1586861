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
//!
//! A batch of builds (a builder with several build slots) is journaled a
//! batch at a time: an error of one build of a batch loses the batch's
//! other outcomes too, so all of them are recorded as transient.

use kbisect_core::{
    BuildOutcome, BuildRequest, Builder, BuilderKind, Commit, InfraError, RunJob, RunOutcome,
    RunResult, Tester,
};

use super::{BuildKey, Counter, Entry, Session, Stage};

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

    fn may_change_binary(&self, build: &kbisect_core::Build, path: &str) -> bool {
        self.inner.may_change_binary(build, path)
    }

    fn build_slots(&self) -> usize {
        self.inner.build_slots()
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        let key = build_key(req);
        if let Some(outcome) = self.replayed(&key) {
            return Ok(outcome);
        }
        self.will_build(&key, req);
        let res = self.inner.build(req);
        self.record(key, res)
    }

    /// What the journal holds is answered from it; the rest goes to the
    /// inner builder in batches of at most its slot count, each batch
    /// journaled (in request order) as soon as it ends, so a kill loses at
    /// most the batch in flight. A builder of one slot gets one request at
    /// a time, through `build`: each build is journaled the moment it ends.
    fn build_many(&mut self, reqs: &[BuildRequest<'_>]) -> Result<Vec<BuildOutcome>, InfraError> {
        let slots = self.inner.build_slots().max(1);
        if slots == 1 || reqs.len() <= 1 {
            return reqs.iter().map(|r| self.build(r)).collect();
        }
        let keys: Vec<BuildKey> = reqs.iter().map(build_key).collect();
        let mut out: Vec<Option<BuildOutcome>> = keys.iter().map(|k| self.replayed(k)).collect();
        let todo: Vec<usize> = (0..reqs.len()).filter(|&i| out[i].is_none()).collect();
        for chunk in todo.chunks(slots) {
            let batch: Vec<BuildRequest<'_>> = chunk.iter().map(|&i| reqs[i]).collect();
            for &i in chunk {
                self.will_build(&keys[i], &reqs[i]);
            }
            match self.inner.build_many(&batch) {
                Ok(outcomes) => {
                    for (&i, outcome) in chunk.iter().zip(outcomes) {
                        out[i] = Some(self.record(keys[i].clone(), Ok(outcome))?);
                    }
                }
                Err(e @ InfraError::Environment { .. }) => {
                    // The error does not say whose it was, and the batch's
                    // other outcomes are lost with it: each build of the
                    // batch is made again on resume, as a retry.
                    let why = format!(
                        "{} (one of a batch of {} builds)",
                        error_chain(&e),
                        batch.len()
                    );
                    for &i in chunk {
                        self.record_transient(keys[i].clone(), why.clone())?;
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
        // A builder that answered fewer requests than it was asked shows
        // as a short list, which the engine refuses.
        Ok(out.into_iter().flatten().collect())
    }
}

/// A build's key in the journal: (commit, config hash).
fn build_key(req: &BuildRequest<'_>) -> BuildKey {
    (req.commit.id.to_string(), req.config.hash())
}

impl JournaledBuilder<'_> {
    /// The journal's outcome of `req`, if it holds one whose artifact is
    /// still there.
    fn replayed(&self, key: &BuildKey) -> Option<BuildOutcome> {
        let s = self.session;
        let mut outcome = s.with_recorded(|r| r.builds.get(key).cloned()).flatten()?;
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
        if !artifact_there {
            return None;
        }
        s.count(Counter::BuildReplayed);
        Some(outcome)
    }

    /// Notes that `req` is built for real (a retry, if an earlier attempt
    /// failed for the environment).
    fn will_build(&self, key: &BuildKey, req: &BuildRequest<'_>) {
        let s = self.session;
        let transient = s
            .with_recorded(|r| r.transient_builds.get(key).map_or(0, Vec::len))
            .unwrap_or(0);
        s.mark_new_action();
        if transient > 0 {
            tracing::info!(commit = %req.commit.id, attempts = transient, "retrying a build that failed for environment reasons");
            s.count(Counter::Retried);
        }
    }

    /// Journals the result of building `req` before anyone acts on it: an
    /// outcome as evidence, an environment failure as transient.
    fn record(
        &self,
        key: BuildKey,
        res: Result<BuildOutcome, InfraError>,
    ) -> Result<BuildOutcome, InfraError> {
        let s = self.session;
        match res {
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
                self.record_transient(key, error_chain(&e))?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn record_transient(&self, key: BuildKey, error: String) -> Result<(), InfraError> {
        self.session
            .append(&Entry::Transient {
                commit: key.0,
                config_hash: key.1,
                stage: Stage::Build,
                error,
                result: None,
            })
            .map_err(record_error)
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

#[cfg(test)]
#[path = "journaled_tests.rs"]
mod tests;
