//! `kbisect run`: bisect any git project from a job file and/or flags, in a
//! resumable work dir. `kbisect demo` runs through the same [`execute`].

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use kbisect_core::{BisectResult, Event};
use kbisect_proc::CancelToken;
use kbisect_runner::render_log::LogRenderer;
use kbisect_runner::{Bisection, ErrorKind, Finished, Job, Notice};

use crate::exit::{CliError, Exit, fail};
use crate::output::note;
use crate::progress::Progress;
use crate::run_args::RunArgs;

pub fn run(args: RunArgs) -> Result<Exit, CliError> {
    let job = args.resolve()?;
    let f = execute(job, args.fresh, !args.no_progress)?;
    exit_of(&f)
}

/// The exit of a finished bisection: its outcome's, or its error's.
pub fn exit_of(f: &Finished) -> Result<Exit, CliError> {
    match &f.outcome {
        Ok(r) => Ok(Exit::of_outcome(r.kind)),
        Err(e) => {
            let kind = ErrorKind::of_engine(e);
            let msg = match kind {
                ErrorKind::Interrupted => format!(
                    "interrupted; the work dir {} is resumable: run the same command again",
                    f.workdir.display()
                ),
                ErrorKind::Infra => format!(
                    "{e}; nothing was recorded as a verdict, and running the same command again retries it"
                ),
                _ => e.to_string(),
            };
            let causes = CauseChain::of(e).0;
            let full = if causes.is_empty() || msg.contains(&causes) {
                msg
            } else {
                format!("{msg}: {causes}")
            };
            Err(CliError {
                exit: Exit::of_kind(kind),
                error: Some(anyhow::Error::msg(full)),
            })
        }
    }
}

/// The sources of an engine error, shown after its message.
struct CauseChain(String);

impl CauseChain {
    fn of(e: &dyn std::error::Error) -> CauseChain {
        let mut out = Vec::new();
        let mut cur = e.source();
        while let Some(c) = cur {
            out.push(c.to_string());
            cur = c.source();
        }
        CauseChain(out.join(": "))
    }
}

/// Log text rendered to memory, then handed to the terminal through the progress bar.
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
pub fn cancel_token() -> CancelToken {
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

/// The words of a notice.
pub fn notice_text(n: &Notice) -> String {
    match n {
        Notice::Starting { workdir } => {
            format!("starting a new bisection in {}", workdir.display())
        }
        Notice::Resuming {
            workdir,
            builds,
            runs,
        } => format!(
            "resuming {}: {builds} builds and {runs} runs already recorded (they are replayed, not redone; --fresh starts over)",
            workdir.display()
        ),
        Notice::KeptAside { moved_to } => {
            format!(
                "--fresh: the old work dir is kept as {}",
                moved_to.display()
            )
        }
        Notice::StartPinned { given, pinned, now } => format!(
            "the start '{given}' is pinned to {pinned}, the commit recorded in the journal{}; --fresh bisects from where it points now",
            now.as_ref()
                .map(|n| format!(" (it now points to {n})"))
                .unwrap_or_default()
        ),
        Notice::LeftoverGroups { count } => {
            format!("ended {count} process group(s) a killed kbisect left running in this work dir")
        }
        Notice::DirtyRepo { repo, worktree } => format!(
            "note: {} has uncommitted changes; they are not bisected (kbisect checks revisions out in its own worktree, {})",
            repo.display(),
            worktree.display()
        ),
        Notice::WorktreeRemoved { worktree, extra } => format!(
            "the bisection is finished: removed kbisect's worktree {}{} (the journal and artifacts stay)",
            worktree.display(),
            match extra {
                0 => String::new(),
                n => format!(" and {n} more of its build slots"),
            }
        ),
    }
}

/// Runs (or resumes) the bisection of `job`, showing its log and progress.
pub fn execute(job: Job, fresh: bool, show_progress: bool) -> Result<Finished, CliError> {
    let mut print_notice = |n: Notice| note(&notice_text(&n));
    let mut b = Bisection::open(job, fresh, &mut print_notice)?;
    let cancel = cancel_token();
    let screen = SharedBuf::default();
    let mut screen_log = LogRenderer::with_dialect(screen.clone(), b.dialect());
    let mut progress = Progress::new(show_progress);
    let mut stdout_closed = false;
    let res = {
        let mut sink = |e: &Event| {
            progress.event(e);
            let _ = screen_log.event(e);
            if !stdout_closed && progress.print(&screen.take()).is_err() {
                stdout_closed = true;
            }
        };
        b.run(&cancel, &mut sink, &mut print_notice)
    };
    progress.finish();
    let f = res?;
    match &f.outcome {
        Ok(r) => {
            let _ = screen_log.result(r);
        }
        Err(e) => {
            let _ = screen_log.error(e);
        }
    }
    if !stdout_closed {
        let _ = progress.print(&screen.take());
    }
    let s = f.stats;
    if let Some(d) = f.first_new_action.filter(|_| s.replayed_entries > 0) {
        note(&format!(
            "journal replayed in {:.3}s (time to the first new build or run)",
            d.as_secs_f64()
        ));
    }
    if s.transient_retried > 0 {
        note(&format!(
            "retried {} build(s)/run(s) that had failed for environment reasons",
            s.transient_retried
        ));
    }
    note(&format!(
        "work dir: {} (builds: {} new, {} from journal; runs: {} new, {} from journal)",
        f.workdir.display(),
        s.builds_done,
        s.builds_replayed,
        s.runs_done,
        s.runs_replayed
    ));
    if let Some(e) = b.journal_error() {
        return Err(fail(Exit::JournalWrite, anyhow::anyhow!("{e}")));
    }
    Ok(f)
}

/// The single culprit's hash, if the result names exactly one.
pub fn culprit(r: &BisectResult) -> Option<String> {
    (r.commits.len() == 1).then(|| r.commits[0].id.to_string())
}
