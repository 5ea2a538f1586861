//! `kbisect run`: bisect any git project from a job file and/or flags, in a
//! resumable work dir. `kbisect demo` runs through the same [`execute`].

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use kbisect_core::builders::{CommandBuilder, CommandBuilderConfig};
use kbisect_core::git_vcs::GitVcs;
use kbisect_core::session::{
    JobIdentity, JournaledBuilder, JournaledTester, Session, SessionError, SessionStats,
};
use kbisect_core::testers::{LocalTester, LocalTesterConfig};
use kbisect_core::{BisectConfig, BisectResult, Engine, EngineError, Event};
use kbisect_git::{GitError, Repo};
use kbisect_proc::CancelToken;

use crate::cli::{Failure, fail};
use crate::exit::Exit;
use crate::job::{Job, RunArgs};
use crate::progress::Progress;
use crate::render_log::LogRenderer;
use crate::result_json;

/// How a bisection ended, for `run` and `demo`.
pub struct Finished {
    pub exit: Exit,
    pub result: Option<BisectResult>,
    /// The error, when there is no result.
    pub error: Option<String>,
    pub workdir: PathBuf,
    pub stats: SessionStats,
    pub elapsed: Duration,
}

pub fn run(args: RunArgs) -> Result<Exit, Failure> {
    let job = crate::job::resolve(&args)?;
    let f = execute(&job, !args.no_progress)?;
    match f.error {
        Some(e) if f.exit != Exit::Culprit => Err(fail(f.exit, anyhow::anyhow!("{e}"))),
        _ => Ok(f.exit),
    }
}

/// Log text written to memory, then handed to the terminal through the progress bar.
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// Ctrl-C / SIGTERM cancel the token once; a second one exits at once.
fn cancel_token() -> CancelToken {
    static TOKEN: std::sync::OnceLock<CancelToken> = std::sync::OnceLock::new();
    TOKEN
        .get_or_init(|| {
            let t = CancelToken::new();
            let h = t.clone();
            let _ = ctrlc::set_handler(move || {
                if h.is_cancelled() {
                    std::process::exit(i32::from(Exit::Interrupted.code()));
                }
                h.cancel();
            });
            t
        })
        .clone()
}

fn session_failure(e: SessionError) -> Failure {
    let exit = match e {
        SessionError::JournalWrite { .. } => Exit::JournalWrite,
        _ => Exit::WorkDir,
    };
    fail(exit, e)
}

#[allow(clippy::print_stderr)]
fn note(s: &str) {
    eprintln!("kbisect: {s}");
}

/// What identifies the job in its journal: a journal is replayed only into
/// the job that wrote it.
fn identity(job: &Job, repo: &Repo) -> JobIdentity {
    let start = repo
        .resolve(&job.start)
        .ok()
        .flatten()
        .map_or(job.start.clone(), |c| c.to_string());
    let mut setup = std::collections::BTreeMap::new();
    setup.insert("build".to_string(), job.build_command.clone());
    setup.insert("test".to_string(), job.test_command.clone());
    if let Some(h) = &job.build_hash {
        setup.insert("build_hash".to_string(), h.clone());
    }
    if let Some(r) = &job.crash_regex {
        setup.insert("crash_regex".to_string(), r.clone());
    }
    if let Some(r) = &job.reproducer
        && let Ok(bytes) = std::fs::read(r)
    {
        setup.insert(
            "reproducer".to_string(),
            kbisect_core::KernelConfig::new(bytes).hash(),
        );
    }
    JobIdentity {
        repo: job
            .repo
            .canonicalize()
            .unwrap_or_else(|_| job.repo.clone())
            .display()
            .to_string(),
        start,
        fix: job.fix,
        config_hash: job.config.hash(),
        setup,
    }
}

/// Runs (or resumes) the bisection of `job`.
pub fn execute(job: &Job, show_progress: bool) -> Result<Finished, Failure> {
    let t0 = Instant::now();
    let repo = Repo::open(&job.repo).map_err(|e| match e {
        GitError::NotARepo { .. } => fail(Exit::NotARepo, e),
        e => fail(Exit::Infra, e),
    })?;
    let session = Session::open(&job.workdir, &identity(job, &repo)).map_err(session_failure)?;
    let workdir = session.dir().to_path_buf();
    if repo.is_dirty().unwrap_or(false) {
        note(&format!(
            "note: {} has uncommitted changes; they are not bisected (kbisect checks revisions out in its own worktree, {})",
            job.repo.display(),
            workdir.join("worktree").display()
        ));
    }
    if session.is_resume() {
        note(&format!(
            "resuming the bisection in {} from its journal",
            workdir.display()
        ));
    }
    if session.leftover_groups() > 0 {
        note(&format!(
            "ended {} process group(s) a killed kbisect left running in this work dir",
            session.leftover_groups()
        ));
    }
    let cancel = cancel_token();
    let mut builder = CommandBuilder::new(
        CommandBuilderConfig {
            command: job.build_command.clone(),
            workdir: workdir.clone(),
            hash_file: job.build_hash.clone(),
            timeout: job.build_timeout,
            compiler: job.compiler.clone(),
            env: Vec::new(),
        },
        repo.clone(),
        cancel.clone(),
    );
    let mut env = vec![(
        "KBISECT_WORKTREE".to_string(),
        builder.worktree_dir().display().to_string(),
    )];
    if let Some(r) = &job.reproducer {
        env.push(("KBISECT_REPRO".to_string(), r.display().to_string()));
    }
    let mut tester = LocalTester::new(
        LocalTesterConfig {
            command: job.test_command.clone(),
            cwd: job.test_cwd.clone(),
            env,
            parallel: job.parallel,
            timeout: job.test_timeout,
            idle_timeout: job.idle_timeout,
            crash_regex: job.crash_regex.clone(),
            workdir: workdir.clone(),
        },
        cancel.clone(),
    )
    .map_err(|e| fail(Exit::BadJob, anyhow::anyhow!("key 'test.crash_regex': {e}")))?;
    let vcs = GitVcs::new(repo, &job.branch);

    let log_path = workdir.join("bisect.log");
    let log_file = std::fs::File::create(&log_path).map_err(|e| {
        fail(
            Exit::WorkDir,
            anyhow::anyhow!("{}: {e}", log_path.display()),
        )
    })?;
    let mut file_log = LogRenderer::new(std::io::LineWriter::new(log_file));
    let screen = SharedBuf::default();
    let mut screen_log = LogRenderer::new(screen.clone());
    let mut progress = Progress::new(show_progress);

    let mut cfg = BisectConfig::new(job.start.clone(), job.branch.clone());
    cfg.fix = job.fix;
    cfg.start_title = job.start_title.clone();
    cfg.config = job.config.clone();
    cfg.known_good = job.good.clone();
    cfg.runs = job.runs;
    cfg.timeout = job.timeout;
    cfg.strategy = job.strategy;

    let res = {
        let mut jb = JournaledBuilder::new(&mut builder, &session);
        let mut jt = JournaledTester::new(&mut tester, &session);
        let mut sink = |e: &Event| {
            progress.event(e);
            let _ = file_log.event(e);
            let _ = screen_log.event(e);
            progress.print(&screen.take());
        };
        Engine::new(cfg, &vcs, &mut jb, &mut jt, &mut sink).run()
    };
    progress.finish();

    let (exit, result, error) = match res {
        Ok(r) => {
            let _ = file_log.result(&r);
            let _ = screen_log.result(&r);
            (Exit::of_outcome(r.kind), Some(r), None)
        }
        Err(e) => {
            let exit = classify_error(&e, &builder, &tester, &session);
            let msg = match exit {
                Exit::BadCommand => builder
                    .bad_command()
                    .or(tester.bad_command())
                    .map_or_else(|| e.to_string(), str::to_string),
                Exit::JournalWrite => session.journal_error().unwrap_or_else(|| e.to_string()),
                Exit::Interrupted => format!(
                    "interrupted; the work dir {} is resumable: run the same command again",
                    workdir.display()
                ),
                _ => e.to_string(),
            };
            let _ = file_log.error(&e);
            let _ = screen_log.error(&e);
            (exit, None, Some(msg))
        }
    };
    progress.print(&screen.take());
    let _ = file_log.into_inner().flush();

    let json = match (&result, &error) {
        (Some(r), _) => Some(result_json::from_result(r)),
        (None, Some(msg))
            if !matches!(exit, Exit::Interrupted | Exit::JournalWrite | Exit::Infra) =>
        {
            Some(result_json::from_error(job.fix, exit.code(), msg.clone()))
        }
        _ => None,
    };
    if let Some(j) = json {
        let p = workdir.join("result.json");
        result_json::write(&p, &j)
            .map_err(|e| fail(Exit::WorkDir, anyhow::anyhow!("{}: {e}", p.display())))?;
    }
    let stats = session.stats();
    if let (true, Some(d)) = (session.is_resume(), session.first_new_action()) {
        note(&format!(
            "journal replayed in {:.3}s (time to the first new build or run)",
            d.as_secs_f64()
        ));
    }
    note(&format!(
        "work dir: {} (builds: {} new, {} from journal; runs: {} new, {} from journal)",
        workdir.display(),
        stats.builds_done,
        stats.builds_replayed,
        stats.runs_done,
        stats.runs_replayed
    ));
    Ok(Finished {
        exit,
        result,
        error,
        workdir,
        stats,
        elapsed: t0.elapsed(),
    })
}

fn classify_error(e: &EngineError, b: &CommandBuilder, t: &LocalTester, s: &Session) -> Exit {
    if b.bad_command().is_some() || t.bad_command().is_some() {
        Exit::BadCommand
    } else if s.journal_error().is_some() {
        Exit::JournalWrite
    } else {
        Exit::of_engine_error(e)
    }
}
