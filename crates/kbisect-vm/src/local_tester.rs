//! The `local` tester: the user's test command run on this machine, up to
//! `parallel` runs at once (across revisions too), each in its own process
//! group with a timeout. Each run's output streams to the request's log
//! dir as `run-<occurrence>-<index>.log` (in full up to a cap, 64 MiB by
//! default) and is scanned for the crash as it arrives, so a crash is found
//! however much output follows it, in bounded memory. (Kernel bisections
//! never use it: their reproducers run only in VMs.)

use std::path::PathBuf;
use std::time::Duration;

use kbisect_core::{InfraError, RunJob, RunResult, Tester};
use kbisect_proc::{CancelToken, Status};

use crate::classify::{VerdictMode, classify_output};
use crate::console::DEFAULT_LOG_CAP;
use crate::local::{LocalRun, LocalSpec, RawRun, VmError};
use crate::matcher::CrashMatcher;

/// What the local tester runs and how.
#[derive(Debug, Clone)]
pub struct LocalTesterConfig {
    /// Shell command line, run as `sh -c COMMAND`.
    pub command: String,
    /// Directory the command runs in; `None`: the build's artifact dir
    /// (`$KBISECT_OUT`), which is the revision's tree when nothing is built.
    pub cwd: Option<PathBuf>,
    /// Extra environment for every run.
    pub env: Vec<(String, String)>,
    /// Runs at the same time.
    pub parallel: usize,
    /// Wall-clock limit of one run (a run over it is a `timed out` crash).
    pub timeout: Duration,
    /// Silence limit (`no output from test machine`).
    pub idle_timeout: Option<Duration>,
    /// Regexp of the line that starts a crash (a search: anchor it with `^`
    /// to match only at the start of a line).
    pub crash_regex: Option<String>,
    /// What decides a run's verdict.
    pub verdict: VerdictMode,
}

/// The tester (see the module docs).
pub struct LocalTester {
    cfg: LocalTesterConfig,
    matcher: CrashMatcher,
    cancel: CancelToken,
    log_cap: u64,
    tested_before: bool,
}

impl LocalTester {
    /// A tester; fails on an invalid `crash_regex`.
    pub fn new(cfg: LocalTesterConfig, cancel: CancelToken) -> Result<Self, regex::Error> {
        let matcher = CrashMatcher::new(cfg.crash_regex.as_deref())?;
        Ok(LocalTester {
            cfg,
            matcher,
            cancel,
            log_cap: DEFAULT_LOG_CAP,
            tested_before: false,
        })
    }

    /// Bytes of each run's output written to its log file (64 MiB by
    /// default); the rest is counted, and the log ends with a note saying
    /// how much was left out. The crash search sees all of the output.
    pub fn with_log_cap(mut self, bytes: u64) -> Self {
        self.log_cap = bytes;
        self
    }

    fn spec(&self, job: &RunJob<'_>) -> LocalSpec {
        let req = job.request;
        let artifact = req.build.artifact.clone();
        let cwd = self
            .cfg
            .cwd
            .clone()
            .or_else(|| artifact.clone())
            .unwrap_or_else(|| req.log_dir.to_path_buf());
        let mut s = LocalSpec::new(&self.cfg.command, cwd);
        s.timeout = self.cfg.timeout;
        s.idle_timeout = self.cfg.idle_timeout;
        s.env = self.cfg.env.clone();
        s.log = Some(
            req.log_dir
                .join(format!("run-{}-{}.log", req.occurrence, job.index)),
        );
        s.log_cap = self.log_cap;
        s.env
            .push(("KBISECT_COMMIT".into(), req.commit.id.to_string()));
        s.env.push(("KBISECT_RUN".into(), job.index.to_string()));
        if let Some(a) = &artifact {
            s.env.push(("KBISECT_OUT".into(), a.display().to_string()));
        }
        s
    }
}

fn not_found(raw: &RawRun) -> bool {
    raw.status == Status::Exited(127) && {
        let t = String::from_utf8_lossy(&raw.output.tail);
        t.contains("not found") || t.contains("No such file")
    }
}

impl Tester for LocalTester {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        for job in jobs {
            let dir = job.request.log_dir;
            std::fs::create_dir_all(dir).map_err(|e| {
                InfraError::environment(format!("cannot create {}", dir.display()), e)
            })?;
        }
        let specs: Vec<LocalSpec> = jobs.iter().map(|j| self.spec(j)).collect();
        let first = !self.tested_before;
        self.tested_before = true;
        let (matcher, mode) = (&self.matcher, self.cfg.verdict);
        let mut stopped: Option<InfraError> = None;
        let res = LocalRun {
            specs: &specs,
            parallel: self.cfg.parallel,
            cancel: &self.cancel,
            matcher,
        }
        .run(&mut |raw| {
            if first && not_found(&raw) {
                let what = format!(
                    "test command not found: {}: {}",
                    specs[raw.index].command,
                    String::from_utf8_lossy(&raw.output.tail).trim()
                );
                stopped = Some(InfraError::Setup { what, source: None });
                return Err(VmError::Stopped("test command not found".into()));
            }
            if let Some(msg) = raw.log_error {
                stopped = Some(InfraError::Environment {
                    what: msg.clone(),
                    source: None,
                });
                return Err(VmError::Stopped(msg));
            }
            let mut result = classify_output(raw.status, &raw.output, mode);
            result.duration = raw.duration;
            on_run(raw.index, result).map_err(|e| {
                let msg = e.to_string();
                stopped = Some(e);
                VmError::Stopped(msg)
            })
        });
        match (res, stopped) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(e)) => Err(e),
            (Err(VmError::Cancelled), None) => Err(InfraError::Interrupted),
            (Err(VmError::Log(what)), None) => Err(InfraError::Environment { what, source: None }),
            (Err(e), None) => Err(InfraError::environment("the test runs failed", e)),
        }
    }
}
