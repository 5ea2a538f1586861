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

    fn may_change_binary(&self, build: &kbisect_core::Build, path: &str) -> bool {
        self.inner.may_change_binary(build, path)
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use kbisect_core::{
        ArtifactSignature, Build, BuildConfig, Commit, Crash, RunResult, TestRequest,
    };

    use super::*;
    use crate::session::{Header, Identity, JOURNAL_VERSION};

    fn commit(n: u8) -> Commit {
        Commit {
            id: format!("{n:040x}").parse().unwrap(),
            title: format!("c{n}"),
            author_name: String::new(),
            author_email: String::new(),
            author_date: String::new(),
            author_time: 0,
            commit_time: 0,
            parents: Vec::new(),
            body: String::new(),
            trailers: Vec::new(),
        }
    }

    fn open(dir: &Path) -> Session {
        let header = Header {
            kbisect_journal: JOURNAL_VERSION,
            identity: Identity::new(),
            job: serde_json::Value::Null,
            start_commit: None,
            created: 0,
        };
        Session::open(dir, header).unwrap()
    }

    /// Builds into `out_dir`, counts builds; fails for the environment while `env_fail`.
    struct CountingBuilder {
        builds: usize,
        env_fail: bool,
    }

    impl Builder for CountingBuilder {
        fn kind(&self) -> BuilderKind {
            BuilderKind::Generic
        }
        fn compiler_id(&mut self, _: &Commit) -> Option<String> {
            None
        }
        fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
            self.builds += 1;
            if self.env_fail {
                return Err(InfraError::Environment {
                    what: "disk full".into(),
                    source: None,
                });
            }
            std::fs::create_dir_all(req.out_dir).unwrap();
            Ok(BuildOutcome::Built(Build {
                compiler: None,
                signature: Some(ArtifactSignature(req.commit.title.clone())),
                artifact: Some(req.out_dir.to_path_buf()),
                files_used: None,
                duration: Duration::ZERO,
            }))
        }
    }

    #[test]
    fn builds_are_replayed_unless_their_artifact_is_gone_and_paths_are_relative() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().join("w");
        let (c, cfg) = (commit(1), BuildConfig::default());
        let out = wd.join("artifacts/x");
        let req = BuildRequest {
            commit: &c,
            config: &cfg,
            out_dir: &out,
        };
        let mut b = CountingBuilder {
            builds: 0,
            env_fail: false,
        };
        {
            let s = open(&wd);
            JournaledBuilder::new(&mut b, &s).build(&req).unwrap();
        }
        let text = std::fs::read_to_string(wd.join("journal.jsonl")).unwrap();
        assert!(text.contains("\"artifact\":\"artifacts/x\""), "{text}");
        let s = open(&wd);
        let got = JournaledBuilder::new(&mut b, &s).build(&req).unwrap();
        assert_eq!(b.builds, 1, "replayed");
        assert_eq!(
            got.built().unwrap().artifact.as_deref(),
            Some(out.as_path())
        );
        drop(s);
        std::fs::remove_dir_all(&out).unwrap();
        let s = open(&wd);
        JournaledBuilder::new(&mut b, &s).build(&req).unwrap();
        assert_eq!(b.builds, 2, "rebuilt: the artifact was gone");
    }

    #[test]
    fn a_transient_build_failure_is_recorded_and_retried_on_resume() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().join("w");
        let (c, cfg) = (commit(2), BuildConfig::default());
        let out = wd.join("artifacts/y");
        let req = BuildRequest {
            commit: &c,
            config: &cfg,
            out_dir: &out,
        };
        let mut b = CountingBuilder {
            builds: 0,
            env_fail: true,
        };
        {
            let s = open(&wd);
            assert!(JournaledBuilder::new(&mut b, &s).build(&req).is_err());
        }
        b.env_fail = false;
        let s = open(&wd);
        let got = JournaledBuilder::new(&mut b, &s).build(&req).unwrap();
        assert!(got.built().is_some());
        assert_eq!(b.builds, 2);
        assert_eq!(s.stats().transient_retried, 1);
    }

    /// Crashes on odd run indices, loses run 4 to the infrastructure;
    /// remembers which indices it was asked for.
    #[derive(Default)]
    struct Runs {
        asked: Vec<usize>,
    }

    impl Tester for Runs {
        fn run(
            &mut self,
            jobs: &[RunJob<'_>],
            on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
        ) -> Result<(), InfraError> {
            for (pos, j) in jobs.iter().enumerate() {
                self.asked.push(j.index);
                let outcome = match j.index {
                    4 => RunOutcome::Infra {
                        reason: "VM did not start".into(),
                    },
                    i if i % 2 == 1 => RunOutcome::Crashed(Crash {
                        title: "BUG: x".into(),
                        crash_type: Default::default(),
                        report: String::new(),
                    }),
                    _ => RunOutcome::Ok,
                };
                on_run(pos, RunResult::new(outcome))?;
            }
            Ok(())
        }
    }

    #[test]
    fn runs_are_resumed_by_index_and_lost_runs_are_made_again() {
        let d = tempfile::tempdir().unwrap();
        let wd = d.path().join("w");
        let (c, cfg) = (commit(3), BuildConfig::default());
        let build = Build {
            compiler: None,
            signature: None,
            artifact: None,
            files_used: None,
            duration: Duration::ZERO,
        };
        let req = |runs| TestRequest {
            commit: &c,
            config: &cfg,
            build: &build,
            runs,
            occurrence: 0,
            log_dir: d.path(),
        };
        fn jobs<'a>(r: &'a TestRequest<'a>) -> Vec<RunJob<'a>> {
            (0..r.runs)
                .map(|index| RunJob { request: r, index })
                .collect()
        }
        {
            // A first process made 5 runs of occurrence 0 (run 4 lost), then died.
            let s = open(&wd);
            let mut t = Runs::default();
            let r = req(5);
            JournaledTester::new(&mut t, &s)
                .run(&jobs(&r), &mut |_, _| Ok(()))
                .unwrap();
        }
        let s = open(&wd);
        let mut t = Runs::default();
        let r = req(7);
        let mut seen = Vec::new();
        JournaledTester::new(&mut t, &s)
            .run(&jobs(&r), &mut |i, _| {
                seen.push(i);
                Ok(())
            })
            .unwrap();
        assert_eq!(t.asked, vec![4, 5, 6], "the lost run is made again");
        seen.sort();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        assert_eq!(s.stats().runs_replayed, 4);
    }
}
