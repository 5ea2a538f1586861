//! One whole bisection from a resolved job: open or resume the work dir,
//! build the adapters the job names and wrap them in the journal, run the
//! engine, write `bisect.log` and `result.json`, and hand every event to
//! the caller's sinks. A front end (the CLI, a service, a test) drives it
//! without knowing any of this.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kbisect_build::{CommandBuilder, CommandBuilderConfig};
use kbisect_core::{
    BisectConfig, BisectResult, Builder, Engine, EngineError, Event, EventSink, Tester,
};
use kbisect_git::{GitError, Repo, TagScheme};
use kbisect_kernel::{
    CompilerFamily, KernelBuilder, KernelBuilderConfig, KernelSettings, ToolchainTable,
};
use kbisect_proc::CancelToken;
use kbisect_vm::{LocalTester, LocalTesterConfig, QemuTester, QemuTesterConfig, Reproducer};

use crate::error::{JobError, RunnerError};
use crate::git_vcs::GitVcs;
use crate::job::Job;
use crate::kind::ErrorKind;
use crate::render_log::{Dialect, LogRenderer};
use crate::result_json;
use crate::session::{
    Header, JOURNAL_VERSION, JournaledBuilder, JournaledTester, LOG_FILE, RESULT_FILE, Session,
    SessionStats,
};
use crate::spec::{BuilderChoice, TesterChoice};

/// Something the runner tells the user, outside the bisection log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A new bisection in an empty work dir.
    Starting {
        /// The work dir.
        workdir: PathBuf,
    },
    /// A journal was found: its work is replayed, not redone.
    Resuming {
        /// The work dir.
        workdir: PathBuf,
        /// Builds recorded.
        builds: usize,
        /// Runs recorded.
        runs: usize,
    },
    /// `--fresh`: the old work dir was moved here.
    KeptAside {
        /// Where it is now.
        moved_to: PathBuf,
    },
    /// The start was given as a ref that has moved since the journal was
    /// written: the bisection stays on the recorded commit.
    StartPinned {
        /// The start as given.
        given: String,
        /// The recorded commit.
        pinned: String,
        /// What the ref names now.
        now: Option<String>,
    },
    /// Process groups a killed kbisect left running were ended.
    LeftoverGroups {
        /// How many.
        count: usize,
    },
    /// The user's checkout has uncommitted changes (they are not bisected).
    DirtyRepo {
        /// The repository.
        repo: PathBuf,
        /// kbisect's own worktree.
        worktree: PathBuf,
    },
    /// The finished bisection removed its worktree registration.
    WorktreeRemoved {
        /// The worktree.
        worktree: PathBuf,
        /// How many other build slots' worktrees went with it.
        extra: usize,
    },
}

/// How a bisection ended.
#[derive(Debug)]
pub struct Finished {
    /// The result, or the error that ended the bisection.
    pub outcome: Result<BisectResult, EngineError>,
    /// The work dir.
    pub workdir: PathBuf,
    /// What was replayed and what done.
    pub stats: SessionStats,
    /// Time to the first build or run the journal could not answer.
    pub first_new_action: Option<Duration>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Finished {
    /// The kind of the error, if the bisection ended in one.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.outcome.as_ref().err().map(ErrorKind::of_engine)
    }
}

/// An open bisection (holding its work dir's lock).
pub struct Bisection {
    job: Job,
    repo: Repo,
    session: Session,
    /// The start commit the engine bisects from (the journal's pinned hash
    /// when the given ref has moved).
    start: String,
}

/// Moves `dir` aside as `dir.old-N` (the first free N).
fn keep_aside(dir: &std::path::Path) -> Result<Option<PathBuf>, RunnerError> {
    if !dir.exists() {
        return Ok(None);
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kbisect-work".into());
    for n in 1.. {
        let to = dir.with_file_name(format!("{name}.old-{n}"));
        if !to.exists() {
            std::fs::rename(dir, &to).map_err(|source| RunnerError::Output {
                path: dir.to_path_buf(),
                source,
            })?;
            return Ok(Some(to));
        }
    }
    Ok(None)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Bisection {
    /// Opens the repository and the work dir of `job` (moving an old work
    /// dir aside first when `fresh`). Notices go to `notice`.
    pub fn open(
        job: Job,
        fresh: bool,
        notice: &mut dyn FnMut(Notice),
    ) -> Result<Bisection, RunnerError> {
        let repo = Repo::open(&job.repo).map_err(RunnerError::Repo)?;
        match repo.branch_head(&job.branch) {
            Ok(_) => {}
            Err(GitError::UnknownRevision { .. }) => {
                return Err(RunnerError::UnknownBranch {
                    branch: job.branch.clone(),
                    repo: job.repo.clone(),
                });
            }
            Err(e) => return Err(RunnerError::Repo(e)),
        }
        if fresh && let Some(moved_to) = keep_aside(&job.workdir)? {
            notice(Notice::KeptAside { moved_to });
        }
        let resolved = repo.resolve(&job.start).ok().flatten();
        let header = Header {
            kbisect_journal: JOURNAL_VERSION,
            identity: job.identity(),
            job: serde_json::to_value(&job).unwrap_or_default(),
            start_commit: resolved.as_ref().map(|c| c.to_string()),
            created: now_secs(),
        };
        let session = Session::open(&job.workdir, header)?;
        let dir = session.dir().to_path_buf();
        if session.is_resume() {
            let (builds, runs) = session.recorded_counts();
            notice(Notice::Resuming {
                workdir: dir.clone(),
                builds,
                runs,
            });
        } else {
            notice(Notice::Starting {
                workdir: dir.clone(),
            });
        }
        if session.leftover_groups() > 0 {
            notice(Notice::LeftoverGroups {
                count: session.leftover_groups(),
            });
        }
        if repo.is_dirty().unwrap_or(false) {
            notice(Notice::DirtyRepo {
                repo: job.repo.clone(),
                worktree: session.worktree_dir(),
            });
        }
        // A start given as a ref stays on the commit the journal recorded.
        let mut start = job.start.clone();
        if let Some(pinned) = session.header().start_commit.clone() {
            let now = resolved.map(|c| c.to_string());
            if now.as_deref() != Some(pinned.as_str()) {
                notice(Notice::StartPinned {
                    given: job.start.clone(),
                    pinned: pinned.clone(),
                    now,
                });
            }
            start = pinned;
        }
        Ok(Bisection {
            job,
            repo,
            session,
            start,
        })
    }

    /// The work dir (canonical).
    pub fn workdir(&self) -> PathBuf {
        self.session.dir().to_path_buf()
    }

    /// The job.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// The log's words for this job's builder.
    pub fn dialect(&self) -> Dialect {
        match self.job.build.builder {
            BuilderChoice::Command => Dialect::Generic,
            BuilderChoice::Kernel => Dialect::Kernel,
        }
    }

    fn config(&self) -> Result<BisectConfig, RunnerError> {
        let j = &self.job;
        let mut cfg = BisectConfig::new(self.start.clone(), j.branch.clone());
        cfg.fix = j.fix;
        cfg.start_title = j.start_title.clone();
        cfg.config = j.config_bytes.clone();
        cfg.known_good = j.good.clone();
        cfg.runs = j.runs;
        cfg.parallel = j.parallel;
        cfg.timeout = j.timeout;
        cfg.strategy = j.strategy;
        cfg.verify_revert = j.verify_revert;
        cfg.share_evidence = j.share_evidence;
        cfg.artifacts = self.session.artifacts_dir();
        let scheme = TagScheme::parse(&j.release_tags).map_err(|msg| JobError::Invalid {
            key: "release_tags",
            msg,
        })?;
        cfg.tag_scheme = Some(scheme.describe());
        Ok(cfg)
    }

    fn builder(&self, cancel: &CancelToken) -> Result<Box<dyn Builder>, RunnerError> {
        let b = &self.job.build;
        Ok(match b.builder {
            BuilderChoice::Command => Box::new(CommandBuilder::new(
                CommandBuilderConfig {
                    command: b.command.clone(),
                    worktree: self.session.worktree_dir(),
                    hash_file: b.hash.clone(),
                    timeout: b.timeout,
                    compiler: b.compiler.clone(),
                    env: Vec::new(),
                    slots: b.slots,
                },
                self.repo.clone(),
                cancel.clone(),
            )),
            BuilderChoice::Kernel => {
                let bad = |msg: String| JobError::Invalid {
                    key: "build.toolchains",
                    msg,
                };
                let table = match &b.toolchains {
                    Some(f) => ToolchainTable::with_user_file(&f.path),
                    None => ToolchainTable::builtin(),
                }
                .map_err(|e| bad(e.to_string()))?;
                let mut s = KernelSettings::new(table);
                if b.compiler_family.as_deref() == Some("clang") {
                    s.family = CompilerFamily::Clang;
                }
                s.compiler = b.compiler.clone();
                if let Some(j) = b.jobs {
                    s.jobs = j.max(1);
                }
                if let Some(c) = b.ccache {
                    s.ccache = c;
                }
                s.ccache_dir = b.ccache_dir.clone();
                s.clean = b.clean;
                s.disable = b.disable.clone();
                if let Some(t) = b.timeout {
                    s.make_timeout = t;
                }
                Box::new(KernelBuilder::new(
                    KernelBuilderConfig {
                        settings: s,
                        worktree: self.session.worktree_dir(),
                        build_dir: b
                            .dir
                            .clone()
                            .unwrap_or_else(|| self.session.dir().join("kbuild")),
                    },
                    self.repo.clone(),
                    cancel.clone(),
                ))
            }
        })
    }

    fn tester(&self, cancel: &CancelToken) -> Result<Box<dyn Tester>, RunnerError> {
        let t = &self.job.test;
        let mut env = vec![(
            "KBISECT_WORKTREE".to_string(),
            self.session.worktree_dir().display().to_string(),
        )];
        if let Some(r) = &self.job.reproducer {
            env.push(("KBISECT_REPRO".to_string(), r.path.display().to_string()));
        }
        match t.tester {
            TesterChoice::Local => Ok(Box::new(
                LocalTester::new(
                    LocalTesterConfig {
                        command: t.command.clone(),
                        cwd: t.cwd.clone(),
                        env,
                        parallel: self.job.parallel,
                        timeout: t.timeout,
                        idle_timeout: t.idle_timeout,
                        crash_regex: t.crash_regex.clone(),
                        verdict: t.verdict,
                    },
                    cancel.clone(),
                )
                .map_err(|e| JobError::Invalid {
                    key: "test.crash_regex",
                    msg: e.to_string(),
                })?,
            )),
            TesterChoice::Qemu => {
                let repro = self.job.reproducer.as_ref().ok_or(JobError::Missing {
                    key: "reproducer.file",
                    hint: "the C reproducer the VM runs",
                })?;
                let cache = t
                    .cache_dir
                    .clone()
                    .unwrap_or_else(|| self.session.dir().join("guest"));
                let mut q = QemuTesterConfig::new(Reproducer::from_path(&repro.path), cache);
                if let Some(c) = &t.cmdline {
                    q.cmdline = c.clone();
                }
                if let Some(m) = t.memory {
                    q.memory_mib = m;
                }
                if let Some(c) = t.cpus {
                    q.cpus = c.max(1);
                }
                q.vm_slots = t.slots.unwrap_or(self.job.parallel).max(1);
                if let Some(b) = t.boot_timeout {
                    q.boot_timeout = b;
                }
                if let Some(r) = t.run_time {
                    q.run_time = r;
                }
                if let Some(i) = t.idle_timeout {
                    q.idle_timeout = i;
                }
                Ok(Box::new(QemuTester::new(q, cancel.clone()).map_err(
                    |e| JobError::Invalid {
                        key: "test",
                        msg: e.to_string(),
                    },
                )?))
            }
        }
    }

    /// Runs (or resumes) the bisection. Every event goes to `sink` and to
    /// `bisect.log`; the result (or the error) goes to `result.json`.
    pub fn run(
        &mut self,
        cancel: &CancelToken,
        sink: &mut dyn EventSink,
        notice: &mut dyn FnMut(Notice),
    ) -> Result<Finished, RunnerError> {
        let t0 = Instant::now();
        // Every build and run records its process group while it runs, so
        // a successor can end what a kill -9 of this process leaves behind.
        let cancel = &cancel.recording_groups_in(&self.session.running_dir());
        let cfg = self.config()?;
        let scheme = TagScheme::parse(&self.job.release_tags).map_err(|msg| JobError::Invalid {
            key: "release_tags",
            msg,
        })?;
        let mut builder = self.builder(cancel)?;
        let mut tester = self.tester(cancel)?;
        let dialect = self.dialect();
        let vcs = GitVcs::new(self.repo.clone(), &self.job.branch).with_scheme(scheme);
        let dir = self.session.dir().to_path_buf();
        let log_path = dir.join(LOG_FILE);
        let output = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| RunnerError::Output { path, source }
        };
        let log_file = std::fs::File::create(&log_path).map_err(output(&log_path))?;
        let mut log = LogRenderer::with_dialect(std::io::LineWriter::new(log_file), dialect);
        let mut log_error = None;
        let outcome = {
            let mut jb = JournaledBuilder::new(builder.as_mut(), &self.session);
            let mut jt = JournaledTester::new(tester.as_mut(), &self.session);
            let mut both = |e: &Event| {
                if let Err(err) = log.event(e) {
                    log_error.get_or_insert(err);
                }
                sink.event(e);
            };
            Engine::new(cfg, &vcs, &mut jb, &mut jt, &mut both).run()
        };
        match &outcome {
            Ok(r) => log.result(r),
            Err(e) => log.error(e),
        }
        .and_then(|()| log.into_inner().flush())
        .map_err(output(&log_path))?;
        if let Some(e) = log_error {
            return Err(output(&log_path)(e));
        }
        self.write_result(&outcome)?;
        if outcome.is_ok() {
            let removed: Vec<PathBuf> = self
                .session
                .worktree_dirs()
                .into_iter()
                .filter(|wt| {
                    wt.exists() && kbisect_git::Worktree::remove_at(&self.repo, wt).is_ok()
                })
                .collect();
            if let Some(first) = removed.first() {
                notice(Notice::WorktreeRemoved {
                    worktree: first.clone(),
                    extra: removed.len() - 1,
                });
            }
        }
        Ok(Finished {
            outcome,
            workdir: dir,
            stats: self.session.stats(),
            first_new_action: self.session.first_new_action(),
            elapsed: t0.elapsed(),
        })
    }

    /// `result.json`: the result, or the error (an interruption or a
    /// transient failure leaves the previous one alone: the work dir is
    /// resumable, nothing is decided).
    fn write_result(&self, outcome: &Result<BisectResult, EngineError>) -> Result<(), RunnerError> {
        let json = match outcome {
            Ok(r) => Some(result_json::from_result(r)),
            Err(e) => match ErrorKind::of_engine(e) {
                ErrorKind::Interrupted | ErrorKind::JournalWrite | ErrorKind::Infra => None,
                kind => Some(result_json::from_error(self.job.fix, kind, e.to_string())),
            },
        };
        if let Some(j) = json {
            let p = self.session.dir().join(RESULT_FILE);
            kbisect_proc::failpoint::hit("result-write");
            result_json::write(&p, &j).map_err(|source| RunnerError::Output { path: p, source })?;
            kbisect_proc::failpoint::hit("result-written");
        }
        Ok(())
    }

    /// The journal's first write failure, if the bisection stopped on one.
    pub fn journal_error(&self) -> Option<String> {
        self.session.journal_error()
    }
}
