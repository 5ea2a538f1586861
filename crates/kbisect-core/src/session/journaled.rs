//! The journaling wrappers around the real builder and tester: answer from
//! the journal what it already holds, ask the real one for the rest, and
//! record each new outcome durably the moment it exists.

use crate::model::{BuildOutcome, Commit, KernelConfig, RunResult};
use crate::testers::RunTester;
use crate::traits::{Builder, InfraError, TestRequest, Tester};

use super::Session;

/// Builds each (commit, config) at most once across restarts.
pub struct JournaledBuilder<'a> {
    inner: &'a mut dyn Builder,
    session: &'a Session,
}

impl<'a> JournaledBuilder<'a> {
    pub fn new(inner: &'a mut dyn Builder, session: &'a Session) -> Self {
        JournaledBuilder { inner, session }
    }
}

impl Builder for JournaledBuilder<'_> {
    fn compiler_id(&mut self, commit: &Commit) -> String {
        self.inner.compiler_id(commit)
    }

    fn build(
        &mut self,
        commit: &Commit,
        config: &KernelConfig,
    ) -> Result<BuildOutcome, InfraError> {
        let key = (commit.id.to_string(), config.hash());
        if let Some(outcome) = self.session.recorded_build(&key) {
            // A recorded build is reused only while its artifact is still there.
            let artifact_gone = match &outcome {
                BuildOutcome::Built(b) => b.artifact.as_ref().is_some_and(|p| !p.exists()),
                BuildOutcome::Failed(_) => false,
            };
            if !artifact_gone {
                self.session.count_replayed_build();
                return Ok(outcome);
            }
        }
        self.session.mark_new_action();
        let outcome = self.inner.build(commit, config)?;
        self.session
            .record_build(key, &outcome)
            .map_err(|e| InfraError::Failed(e.to_string()))?;
        Ok(outcome)
    }
}

/// Makes each run (commit, config, occurrence, index) at most once across restarts.
pub struct JournaledTester<'a> {
    inner: &'a mut dyn RunTester,
    session: &'a Session,
}

impl<'a> JournaledTester<'a> {
    pub fn new(inner: &'a mut dyn RunTester, session: &'a Session) -> Self {
        JournaledTester { inner, session }
    }
}

impl Tester for JournaledTester<'_> {
    fn test(
        &mut self,
        req: &TestRequest<'_>,
        on_run: &mut dyn FnMut(usize, &RunResult),
    ) -> Result<Vec<RunResult>, InfraError> {
        let commit = req.commit.id.to_string();
        let cfg = req.config.hash();
        let key = |i: usize| (commit.clone(), cfg.clone(), req.occurrence, i);
        let mut results: Vec<Option<RunResult>> = vec![None; req.runs];
        let mut missing = Vec::new();
        for (i, slot) in results.iter_mut().enumerate() {
            match self.session.recorded_run(&key(i)) {
                Some(r) => {
                    self.session.count_replayed_run();
                    on_run(i, &r);
                    *slot = Some(r);
                }
                None => missing.push(i),
            }
        }
        if !missing.is_empty() {
            let session = self.session;
            session.mark_new_action();
            self.inner.test_runs(req, &missing, &mut |i, r| {
                session
                    .record_run(key(i), &r)
                    .map_err(|e| InfraError::Failed(e.to_string()))?;
                on_run(i, &r);
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
                Ok(())
            })?;
        }
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.ok_or_else(|| InfraError::Failed(format!("run #{i} was not made"))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::model::{Build, KernelSignature, RunOutcome};
    use crate::session::JobIdentity;

    fn commit(n: u8) -> Commit {
        let id = format!("{:040x}", n).parse().unwrap();
        Commit {
            id,
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

    fn identity() -> JobIdentity {
        JobIdentity {
            repo: "/r".into(),
            start: "s".into(),
            fix: false,
            config_hash: KernelConfig::default().hash(),
            setup: BTreeMap::new(),
        }
    }

    /// Builds into `dir/<title>` and counts builds.
    struct CountingBuilder {
        dir: std::path::PathBuf,
        builds: usize,
    }

    impl Builder for CountingBuilder {
        fn compiler_id(&mut self, _: &Commit) -> String {
            "cc".into()
        }
        fn build(&mut self, c: &Commit, _: &KernelConfig) -> Result<BuildOutcome, InfraError> {
            self.builds += 1;
            let artifact = self.dir.join(&c.title);
            std::fs::create_dir_all(&artifact).unwrap();
            Ok(BuildOutcome::Built(Build {
                compiler: "cc".into(),
                signature: Some(KernelSignature(c.title.clone())),
                artifact: Some(artifact),
                duration: Duration::ZERO,
            }))
        }
    }

    /// Crashes on odd run indices; remembers which indices it was asked for.
    #[derive(Default)]
    struct Runs {
        asked: Vec<usize>,
    }

    impl RunTester for Runs {
        fn test_runs(
            &mut self,
            _: &TestRequest<'_>,
            indices: &[usize],
            on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
        ) -> Result<(), InfraError> {
            for &i in indices {
                self.asked.push(i);
                let outcome = if i % 2 == 1 {
                    RunOutcome::Crashed(crate::model::Crash {
                        title: "BUG: x".into(),
                        crash_type: Default::default(),
                        report: String::new(),
                    })
                } else {
                    RunOutcome::Ok
                };
                on_run(i, crate::traits::run(outcome))?;
            }
            Ok(())
        }
    }

    #[test]
    fn builds_are_replayed_unless_their_artifact_is_gone() {
        let d = tempfile::tempdir().unwrap();
        let mut b = CountingBuilder {
            dir: d.path().join("art"),
            builds: 0,
        };
        let cfg = KernelConfig::default();
        {
            let s = Session::open(&d.path().join("w"), &identity()).unwrap();
            let mut jb = JournaledBuilder::new(&mut b, &s);
            jb.build(&commit(1), &cfg).unwrap();
            jb.build(&commit(1), &cfg).unwrap(); // same process: memoized too
        }
        assert_eq!(b.builds, 1);
        {
            let s = Session::open(&d.path().join("w"), &identity()).unwrap();
            let mut jb = JournaledBuilder::new(&mut b, &s);
            jb.build(&commit(1), &cfg).unwrap();
            assert_eq!(b.builds, 1);
            assert_eq!(s.stats().builds_replayed, 1);
        }
        std::fs::remove_dir_all(d.path().join("art/c1")).unwrap();
        let s = Session::open(&d.path().join("w"), &identity()).unwrap();
        JournaledBuilder::new(&mut b, &s)
            .build(&commit(1), &cfg)
            .unwrap();
        assert_eq!(b.builds, 2, "rebuilt: the artifact was gone");
    }

    #[test]
    fn only_missing_runs_are_made_and_all_are_reported_in_order() {
        let d = tempfile::tempdir().unwrap();
        let c = commit(2);
        let cfg = KernelConfig::default();
        let build = Build {
            compiler: "cc".into(),
            signature: None,
            artifact: None,
            duration: Duration::ZERO,
        };
        let req = |runs| TestRequest {
            commit: &c,
            config: &cfg,
            build: &build,
            runs,
            occurrence: 0,
        };
        {
            // A first process made 3 runs of occurrence 0, then died.
            let s = Session::open(&d.path().join("w"), &identity()).unwrap();
            let mut t = Runs::default();
            JournaledTester::new(&mut t, &s)
                .test(&req(3), &mut |_, _| {})
                .unwrap();
        }
        let s = Session::open(&d.path().join("w"), &identity()).unwrap();
        let mut t = Runs::default();
        let mut seen = Vec::new();
        let got = JournaledTester::new(&mut t, &s)
            .test(&req(6), &mut |i, _| seen.push(i))
            .unwrap();
        assert_eq!(t.asked, vec![3, 4, 5]);
        assert_eq!(seen, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(got.len(), 6);
        assert!(matches!(got[1].outcome, RunOutcome::Crashed(_)));
        assert_eq!(s.stats().runs_replayed, 3);
        assert_eq!(s.stats().runs_done, 3);
        // Another occurrence of the same revision is new work.
        let mut t = Runs::default();
        let r = TestRequest {
            occurrence: 1,
            ..req(2)
        };
        JournaledTester::new(&mut t, &s)
            .test(&r, &mut |_, _| {})
            .unwrap();
        assert_eq!(t.asked, vec![0, 1]);
    }
}
