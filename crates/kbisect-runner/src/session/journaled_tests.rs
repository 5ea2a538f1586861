//! The journaling wrappers' own tests: replay, retries, batches.

use std::path::Path;
use std::time::Duration;

use kbisect_core::{ArtifactSignature, Build, BuildConfig, Commit, Crash, RunResult, TestRequest};

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

/// Builds into `out_dir`, counts builds; fails for the environment while
/// `env_fail`; has `slots` build slots and remembers the batches asked for.
#[derive(Default)]
struct CountingBuilder {
    builds: usize,
    env_fail: bool,
    slots: usize,
    batches: Vec<Vec<String>>,
}

impl Builder for CountingBuilder {
    fn kind(&self) -> BuilderKind {
        BuilderKind::Generic
    }
    fn compiler_id(&mut self, _: &Commit) -> Option<String> {
        None
    }
    fn build_slots(&self) -> usize {
        self.slots.max(1)
    }
    fn build_many(&mut self, reqs: &[BuildRequest<'_>]) -> Result<Vec<BuildOutcome>, InfraError> {
        self.batches
            .push(reqs.iter().map(|r| r.commit.title.clone()).collect());
        reqs.iter().map(|r| self.build(r)).collect()
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
    let mut b = CountingBuilder::default();
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
        env_fail: true,
        ..CountingBuilder::default()
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

fn out_dirs(wd: &std::path::Path, commits: &[Commit]) -> Vec<std::path::PathBuf> {
    commits
        .iter()
        .map(|c| wd.join("artifacts").join(&c.title))
        .collect()
}

fn requests<'a>(
    commits: &'a [Commit],
    cfg: &'a BuildConfig,
    outs: &'a [std::path::PathBuf],
) -> Vec<BuildRequest<'a>> {
    commits
        .iter()
        .zip(outs)
        .map(|(c, o)| BuildRequest {
            commit: c,
            config: cfg,
            out_dir: o,
        })
        .collect()
}

#[test]
fn a_batch_builds_only_what_the_journal_lacks_in_slot_sized_batches_in_order() {
    let d = tempfile::tempdir().unwrap();
    let wd = d.path().join("w");
    let cfg = BuildConfig::default();
    let commits: Vec<Commit> = (10..15).map(commit).collect();
    let outs = out_dirs(&wd, &commits);
    let reqs = requests(&commits, &cfg, &outs);
    let mut b = CountingBuilder {
        slots: 2,
        ..CountingBuilder::default()
    };
    {
        let s = open(&wd);
        JournaledBuilder::new(&mut b, &s).build(&reqs[1]).unwrap();
    }
    let s = open(&wd);
    let got = JournaledBuilder::new(&mut b, &s).build_many(&reqs).unwrap();
    let sigs: Vec<String> = got
        .iter()
        .map(|o| o.signature().unwrap().0.clone())
        .collect();
    assert_eq!(sigs, ["c10", "c11", "c12", "c13", "c14"]);
    assert_eq!(b.batches, [vec!["c10", "c12"], vec!["c13", "c14"]]);
    assert_eq!(s.stats().builds_replayed, 1);
    drop(s);
    // Every new build was journaled: all five are replayed now.
    let s = open(&wd);
    JournaledBuilder::new(&mut b, &s).build_many(&reqs).unwrap();
    assert_eq!(b.builds, 5);
    assert_eq!(s.stats().builds_replayed, 5);
}

#[test]
fn a_batch_lost_to_the_environment_is_retried_whole_on_resume() {
    let d = tempfile::tempdir().unwrap();
    let wd = d.path().join("w");
    let cfg = BuildConfig::default();
    let commits: Vec<Commit> = (20..22).map(commit).collect();
    let outs = out_dirs(&wd, &commits);
    let reqs = requests(&commits, &cfg, &outs);
    let mut b = CountingBuilder {
        slots: 2,
        env_fail: true,
        ..CountingBuilder::default()
    };
    {
        let s = open(&wd);
        let e = JournaledBuilder::new(&mut b, &s).build_many(&reqs);
        assert!(matches!(e, Err(InfraError::Environment { .. })));
    }
    b.env_fail = false;
    let s = open(&wd);
    let got = JournaledBuilder::new(&mut b, &s).build_many(&reqs).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(s.stats().transient_retried, 2);
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
