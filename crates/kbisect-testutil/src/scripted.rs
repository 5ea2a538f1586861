//! The scripted builder, tester and config minimizer of
//! `conformance/README.md`, and the scenario format: scripted at the
//! engine's seams, deterministic, and knowing nothing but the scenario.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use kbisect_core::{
    ArtifactSignature, Build, BuildConfig, BuildFailure, BuildOutcome, BuildRequest, Builder,
    BuilderKind, ConfigMinimizer, Crash, CrashType, EngineError, InfraError, RunJob, RunOutcome,
    RunResult, Tester, Verdict,
};
use kbisect_git::{Commit, CommitId, Repo};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub scenario: Vec<Scenario>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub fix: bool,
    pub start_commit: String,
    pub start_branch: Option<String>,
    #[serde(default)]
    pub cross_tree: bool,
    #[serde(default)]
    pub no_fake_hash: bool,
    pub introduced: Option<String>,
    pub fix_commit: Option<String>,
    #[serde(default)]
    pub flaky: bool,
    pub broken: Option<[u32; 2]>,
    pub infra_error: Option<[u32; 2]>,
    pub same_binary: Option<[u32; 2]>,
    pub report_type: Option<String>,
    #[serde(default)]
    pub inject_syz_failure: bool,
    #[serde(default)]
    pub inject_lost_connection: bool,
    pub baseline_config: Option<String>,
    #[serde(default)]
    pub strategies: Option<Vec<String>>,
    /// kbisect's own fields (not in syzbot's table):
    /// the start revision as given (instead of the start commit's hash).
    pub start_rev: Option<String>,
    /// With `start_rev`: the title to find it again by.
    pub start_title: Option<String>,
    /// Titles of known-good commits (replace the release walk).
    #[serde(default)]
    pub known_good: Vec<String>,
    pub timeout_secs: Option<f64>,
    pub runs: Option<usize>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub error: bool,
    pub error_kind: Option<String>,
    pub commits: Option<usize>,
    #[serde(default)]
    pub report: bool,
    #[serde(default)]
    pub noop: bool,
    #[serde(default)]
    pub release: bool,
    pub oldest_latest: Option<String>,
    pub config: Option<String>,
    pub min_confidence: Option<f64>,
    pub max_confidence: Option<f64>,
    /// kbisect's own checks: a line of the event log contains this.
    pub log_contains: Option<String>,
    /// One of the result's commits has this title.
    pub commits_include: Option<String>,
}

/// The commit number a conformance commit is titled with.
pub fn number(c: &Commit) -> u32 {
    c.title.trim().parse().unwrap_or(0)
}

fn in_range(r: Option<[u32; 2]>, n: u32) -> bool {
    r.is_some_and(|[a, b]| a <= n && n <= b)
}

/// Builds nothing: the signature is a function of the commit number and config.
pub struct ScriptedBuilder {
    pub sc: Scenario,
}

impl Builder for ScriptedBuilder {
    fn kind(&self) -> BuilderKind {
        BuilderKind::Kernel
    }

    fn compiler_id(&mut self, _commit: &Commit) -> Option<String> {
        Some("scripted-cc 1.0".into())
    }

    fn build(&mut self, req: &BuildRequest<'_>) -> Result<BuildOutcome, InfraError> {
        let (commit, config) = (req.commit, req.config);
        let n = number(commit);
        if config.bytes() == b"baseline-fails" {
            return Ok(BuildOutcome::Failed(BuildFailure {
                title: "scripted build failure".into(),
                error_lines: vec!["error: baseline-fails".into()],
                guilty_file: None,
                duration: Duration::from_secs(1),
            }));
        }
        let sig = if in_range(self.sc.same_binary, n) {
            format!("same-sign-{}", config.hash())
        } else {
            format!("{n}-{}", config.hash())
        };
        Ok(BuildOutcome::Built(Build {
            compiler: Some("scripted-cc 1.0".into()),
            signature: Some(ArtifactSignature(sig)),
            artifact: None,
            files_used: None,
            duration: Duration::from_secs(1),
        }))
    }
}

/// Crashes by the scenario's rules; knows the repository to check which
/// commits are reachable from the tested one.
pub struct ScriptedTester {
    sc: Scenario,
    repo: Repo,
    by_title: BTreeMap<String, String>,
    /// (title, commit) → reachable: asked once per revision, not per run.
    reachable: RefCell<BTreeMap<(String, CommitId), bool>>,
}

impl ScriptedTester {
    /// A tester for `sc` over the fixture `repo` (`by_title`: title → hash).
    pub fn new(sc: Scenario, repo: Repo, by_title: BTreeMap<String, String>) -> Self {
        ScriptedTester {
            sc,
            repo,
            by_title,
            reachable: RefCell::new(BTreeMap::new()),
        }
    }

    fn reachable(&self, title: &str, from: &CommitId) -> bool {
        let key = (title.to_string(), from.clone());
        if let Some(&r) = self.reachable.borrow().get(&key) {
            return r;
        }
        let r = match self.by_title.get(title) {
            None => false,
            Some(h) => {
                let id: CommitId = h.parse().unwrap();
                self.repo.is_ancestor(&id, from).unwrap()
            }
        };
        self.reachable.borrow_mut().insert(key, r);
        r
    }
}

fn crash(title: &str, t: CrashType) -> RunResult {
    RunResult {
        outcome: RunOutcome::Crashed(Crash {
            title: title.into(),
            crash_type: t,
            report: format!("{title}\nscripted report\n"),
        }),
        duration: Duration::from_secs(2),
        matched: None,
    }
}

fn outcome(o: RunOutcome) -> RunResult {
    RunResult {
        outcome: o,
        duration: Duration::from_secs(2),
        matched: None,
    }
}

impl Tester for ScriptedTester {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        for (pos, job) in jobs.iter().enumerate() {
            let r = self.one(job);
            on_run(pos, r)?;
        }
        Ok(())
    }
}

impl ScriptedTester {
    /// Run `job.index` of its request, by the scenario's rules.
    fn one(&self, job: &RunJob<'_>) -> RunResult {
        let req = job.request;
        let (n, i) = (req.runs, job.index);
        let num = number(req.commit);
        let cfg = req.config.bytes();
        let present = matches!(
            cfg,
            b"original config" | b"baseline-repro" | b"new-minimized-config"
        ) && self
            .sc
            .introduced
            .as_deref()
            .is_none_or(|t| self.reachable(t, &req.commit.id))
            && self
                .sc
                .fix_commit
                .as_deref()
                .is_none_or(|t| !self.reachable(t, &req.commit.id));
        let crash_type: CrashType = self
            .sc
            .report_type
            .as_deref()
            .unwrap_or("UNKNOWN")
            .parse()
            .unwrap();
        {
            if in_range(self.sc.broken, num) || cfg == b"baseline-skip" {
                outcome(RunOutcome::BootFailed {
                    reason: "kernel doesn't boot".into(),
                })
            } else if in_range(self.sc.infra_error, num) {
                if 2 * i <= n {
                    outcome(RunOutcome::Infra {
                        reason: "failed to create a VM".into(),
                    })
                } else {
                    outcome(RunOutcome::Ok)
                }
            } else if present {
                let crashing = if self.sc.flaky { 2.max(n / 6) } else { n };
                if i < crashing {
                    crash("crashes at crash occurs", crash_type.clone())
                } else {
                    outcome(RunOutcome::Ok)
                }
            } else if self.sc.inject_syz_failure && i == 0 {
                crash("SYZFATAL: test", CrashType::SyzFailure)
            } else if self.sc.inject_lost_connection && i < n / 3 {
                crash("lost connection to test machine", CrashType::LostConnection)
            } else {
                outcome(RunOutcome::Ok)
            }
        }
    }
}

/// The scripted minimizer of the conformance README.
pub struct ScriptedMinimizer;

impl ConfigMinimizer for ScriptedMinimizer {
    fn minimize(
        &mut self,
        original: &BuildConfig,
        baseline: &BuildConfig,
        _types: &[CrashType],
        test: &mut dyn FnMut(&BuildConfig) -> Result<Verdict, EngineError>,
    ) -> Result<BuildConfig, EngineError> {
        if baseline.is_empty() {
            return Ok(original.clone());
        }
        if test(baseline)? == Verdict::Bad {
            return Ok(baseline.clone());
        }
        match baseline.bytes() {
            b"minimize-fails" => Err(EngineError::Minimize(
                "scripted minimization failure".into(),
            )),
            b"minimize-succeeds" => {
                let min = BuildConfig::new("new-minimized-config");
                test(&min)?;
                Ok(min)
            }
            _ => Ok(original.clone()),
        }
    }
}
