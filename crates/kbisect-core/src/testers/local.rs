//! The `local` tester: the user's test command run on this machine, N times,
//! up to `parallel` at once, each in its own process group with a timeout.
//! Each run's console is kept at `artifacts/<commit>/<config>/run-<occ>-<i>.log`.
//! (Kernel bisections never use it: their reproducers run only in VMs.)

use std::path::PathBuf;
use std::time::Duration;

use kbisect_proc::{CancelToken, Status};
use kbisect_vm::{LocalRun, LocalSpec, RawRun, VmError};

use super::{CrashMatcher, RunTester, classify};
use crate::model::RunResult;
use crate::session::artifacts_dir;
use crate::traits::{InfraError, TestRequest, Tester};

/// What the local tester runs and how.
#[derive(Debug, Clone)]
pub struct LocalTesterConfig {
    /// Shell command line, run as `sh -c COMMAND`.
    pub command: String,
    /// Directory the command runs in.
    pub cwd: PathBuf,
    /// Extra environment for every run.
    pub env: Vec<(String, String)>,
    pub parallel: usize,
    pub timeout: Duration,
    pub idle_timeout: Option<Duration>,
    /// Regexp of the line that starts a crash (default [`super::DEFAULT_CRASH_REGEX`]).
    pub crash_regex: Option<String>,
    /// The work dir (run logs go under its `artifacts/`).
    pub workdir: PathBuf,
}

pub struct LocalTester {
    cfg: LocalTesterConfig,
    matcher: CrashMatcher,
    cancel: CancelToken,
    tested_before: bool,
    bad_command: Option<String>,
}

impl LocalTester {
    pub fn new(cfg: LocalTesterConfig, cancel: CancelToken) -> Result<Self, regex::Error> {
        let matcher = CrashMatcher::new(cfg.crash_regex.as_deref())?;
        Ok(LocalTester {
            cfg,
            matcher,
            cancel,
            tested_before: false,
            bad_command: None,
        })
    }

    /// Set when the test command could not be found on the first runs (a
    /// bad-input error, not a test failure).
    pub fn bad_command(&self) -> Option<&str> {
        self.bad_command.as_deref()
    }

    fn spec(&self, req: &TestRequest<'_>) -> LocalSpec {
        let mut s = LocalSpec::new(&self.cfg.command, &self.cfg.cwd);
        s.timeout = self.cfg.timeout;
        s.idle_timeout = self.cfg.idle_timeout;
        s.env = self.cfg.env.clone();
        s.env
            .push(("KBISECT_COMMIT".into(), req.commit.id.to_string()));
        if let Some(a) = &req.build.artifact {
            s.env.push(("KBISECT_OUT".into(), a.display().to_string()));
        }
        s
    }
}

fn not_found(raw: &RawRun) -> bool {
    raw.status == Status::Exited(127) && {
        let t = String::from_utf8_lossy(&raw.console);
        t.contains("not found") || t.contains("No such file")
    }
}

impl RunTester for LocalTester {
    fn test_runs(
        &mut self,
        req: &TestRequest<'_>,
        indices: &[usize],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        let spec = self.spec(req);
        let logs = artifacts_dir(
            &self.cfg.workdir,
            req.commit.id.as_str(),
            &req.config.hash(),
        );
        std::fs::create_dir_all(&logs)
            .map_err(|e| InfraError::Failed(format!("cannot create {}: {e}", logs.display())))?;
        let first = !self.tested_before;
        self.tested_before = true;
        let matcher = &self.matcher;
        let mut stopped: Option<InfraError> = None;
        let res = LocalRun {
            spec: &spec,
            parallel: self.cfg.parallel,
            cancel: &self.cancel,
        }
        .run(indices, &mut |raw| {
            if first && not_found(&raw) {
                let msg = format!(
                    "test command not found: {}: {}",
                    spec.command,
                    String::from_utf8_lossy(&raw.console).trim()
                );
                stopped = Some(InfraError::Failed(msg.clone()));
                return Err(VmError::Stopped(msg));
            }
            let log = logs.join(format!("run-{}-{}.log", req.occurrence, raw.index));
            if let Err(e) = std::fs::write(&log, &raw.console) {
                let msg = format!("cannot write {}: {e}", log.display());
                stopped = Some(InfraError::Failed(msg.clone()));
                return Err(VmError::Stopped(msg));
            }
            let outcome = classify(raw.status, &raw.console, matcher);
            on_run(
                raw.index,
                RunResult {
                    outcome,
                    duration: raw.duration,
                },
            )
            .map_err(|e| {
                let msg = e.to_string();
                stopped = Some(e);
                VmError::Stopped(msg)
            })
        });
        match (res, stopped) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(e)) => {
                if first
                    && let InfraError::Failed(msg) = &e
                    && msg.starts_with("test command not found")
                {
                    self.bad_command = Some(msg.clone());
                }
                Err(e)
            }
            (Err(VmError::Cancelled), None) => Err(InfraError::Interrupted),
            (Err(e), None) => Err(InfraError::Failed(e.to_string())),
        }
    }
}

impl Tester for LocalTester {
    fn test(
        &mut self,
        req: &TestRequest<'_>,
        on_run: &mut dyn FnMut(usize, &RunResult),
    ) -> Result<Vec<RunResult>, InfraError> {
        let indices: Vec<usize> = (0..req.runs).collect();
        let mut got: Vec<Option<RunResult>> = vec![None; req.runs];
        self.test_runs(req, &indices, &mut |i, r| {
            on_run(i, &r);
            got[i] = Some(r);
            Ok(())
        })?;
        got.into_iter()
            .map(|r| r.ok_or_else(|| InfraError::Failed("a run was lost".into())))
            .collect()
    }
}
