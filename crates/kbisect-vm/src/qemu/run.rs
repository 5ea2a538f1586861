//! One run: boot the kernel with the guest's initramfs under qemu, stream
//! the serial console to its log and through the crash scanners, stop the
//! machine when a limit says so, and classify what was seen.
//!
//! Two scanners: one for the boot (until init's basic-test marker) and one
//! for the run, so a crash is placed in its phase by construction and each
//! keeps its own bounded window. A watchdog thread enforces the limits that
//! need a clock while the machine is silent (boot timeout, the waits after a
//! crash and after init's end marker) through the run's own cancel token, a
//! child of the tester's: cancelling the tester stops every VM, a watchdog
//! only its own, and qemu's process group is recorded where the tester's
//! token records them.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kbisect_core::RunOutcome;
use kbisect_proc::{CancelToken, Cmd, ProcError, Status, Stream};
use kbisect_report::{CrashType, Reporter};

use crate::console::{CappedLog, ConsoleScanner, CrashWindow, LineSplitter};
use crate::qemu::config::QemuTesterConfig;
use crate::qemu::escapes::EscapeStripper;
use crate::qemu::guest::Guest;
use crate::qemu::markers::{MarkerFinder, MarkerKind, ReproEnd};
use crate::qemu::outcome::{Facts, RunReport, StopReason, classify, describe};

/// Console kept for the reasons of boot failures and tester-made crashes.
const TAIL_BYTES: usize = 8 << 10;
/// qemu's stderr kept (its error messages).
const STDERR_BYTES: usize = 16 << 10;
/// How often the watchdog looks at the clock.
const WATCH_PERIOD: Duration = Duration::from_millis(50);

/// Why a run gave no report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RunStop {
    /// The caller's cancel token was set.
    Interrupted,
    /// The emulator is not installed (the program as configured).
    QemuNotFound(String),
}

/// What the stream has shown, as the watchdog needs it.
#[derive(Debug, Default)]
struct Watch {
    basic_at: Option<Instant>,
    crash_at: Option<Instant>,
    end_at: Option<Instant>,
    stop: Option<StopReason>,
}

pub(crate) struct RunSpec<'a> {
    pub cfg: &'a QemuTesterConfig,
    pub reporter: &'a Reporter,
    pub kernel: &'a Path,
    pub guest: &'a Guest,
    pub log: &'a Path,
    pub index: usize,
    pub cancel: &'a CancelToken,
}

pub(crate) fn run_one(s: &RunSpec<'_>) -> Result<RunReport, RunStop> {
    let cfg = s.cfg;
    let start = Instant::now();
    let mut report = RunReport {
        index: s.index,
        outcome: RunOutcome::Ok,
        duration: Duration::ZERO,
        boot_time: None,
        repro_end: None,
        log: s.log.to_owned(),
        console_bytes: 0,
        log_truncated: false,
        crash_line: None,
    };
    if s.cancel.is_cancelled() {
        return Err(RunStop::Interrupted);
    }
    let log = match CappedLog::create(s.log, cfg.console_cap) {
        Ok(l) => l,
        Err(reason) => {
            report.outcome = RunOutcome::Infra { reason };
            return Ok(report);
        }
    };
    let watch = Mutex::new(Watch::default());
    let run_token = s.cancel.child();
    let done = AtomicBool::new(false);
    let mut console = Console::new(cfg, s.reporter, log, &watch);
    let cmd = Cmd::new(&cfg.qemu)
        .args(cfg.qemu_args(s.kernel, &s.guest.initramfs))
        .timeout(cfg.wall_timeout())
        .idle_timeout(cfg.idle_timeout)
        .grace(cfg.grace)
        // The console is consumed as it streams; these are only the tails
        // kbisect-proc keeps besides.
        .output_cap(STDERR_BYTES)
        .cancel(run_token.clone())
        .failpoint("test");
    let result = std::thread::scope(|scope| {
        scope.spawn(|| watchdog(cfg, start, &watch, s.cancel, &run_token, &done));
        let r = cmd.run_streaming(&mut |stream, chunk| match stream {
            Stream::Stdout => console.stdout(chunk),
            Stream::Stderr => console.stderr(chunk),
        });
        done.store(true, Ordering::SeqCst);
        r
    });
    let stop = watch.lock().ok().and_then(|w| w.stop);
    // The wrapper may see the tester's token before the watchdog does.
    let cancelled = matches!(&result, Ok(o) if o.status == Status::Cancelled);
    if stop == Some(StopReason::Cancelled) || (cancelled && s.cancel.is_cancelled()) {
        return Err(RunStop::Interrupted);
    }
    let mut facts = Facts {
        stop,
        idle_timeout: cfg.idle_timeout,
        wall_timeout: cfg.wall_timeout(),
        ..Facts::default()
    };
    match result {
        Ok(out) => facts.status = Some(out.status),
        Err(ProcError::NotFound { program }) => return Err(RunStop::QemuNotFound(program)),
        Err(e) => facts.spawn_error = Some(format!("cannot run qemu: {e}")),
    }
    report.duration = start.elapsed();
    console.finish(&mut facts);
    report.boot_time = console.basic_at.map(|t| t.duration_since(start));
    report.repro_end = console.repro_end;
    report.console_bytes = facts.console_bytes;
    report.log_truncated = console.log.truncated();
    if !facts.stderr_tail.trim().is_empty() {
        console.log.note(&format!(
            "\n[qemu stderr]\n{}\n",
            facts.stderr_tail.trim_end()
        ));
    }
    facts.log_error = console.log.finish().err();
    report.crash_line = facts.run_crash.as_ref().map(CrashWindow::header_line);
    report.outcome = classify(facts);
    tracing::debug!(index = s.index, outcome = %describe(&report.outcome), duration = ?report.duration, "qemu run finished");
    Ok(report)
}

/// Stops the machine through `run_token` when a clock limit is reached.
fn watchdog(
    cfg: &QemuTesterConfig,
    start: Instant,
    watch: &Mutex<Watch>,
    cancel: &CancelToken,
    run_token: &CancelToken,
    done: &AtomicBool,
) {
    while !done.load(Ordering::SeqCst) {
        let now = Instant::now();
        let Ok(mut w) = watch.lock() else { return };
        let reason = if cancel.is_cancelled() {
            Some(StopReason::Cancelled)
        } else if w.basic_at.is_none() && now >= start + cfg.boot_timeout {
            Some(StopReason::BootTimeout(cfg.boot_timeout))
        } else if w.crash_at.is_some_and(|t| now >= t + cfg.crash_wait) {
            Some(StopReason::CrashWait)
        } else if w.end_at.is_some_and(|t| now >= t + cfg.end_wait) {
            Some(StopReason::EndWait)
        } else {
            None
        };
        if let Some(r) = reason {
            w.stop = Some(r);
            run_token.cancel();
            return;
        }
        drop(w);
        std::thread::sleep(WATCH_PERIOD);
    }
}

/// The console side of one run.
struct Console<'a> {
    strip: EscapeStripper,
    stripped: Vec<u8>,
    lines: LineSplitter,
    log: CappedLog,
    phases: Phases<'a>,
    stderr: Vec<u8>,
    basic_at: Option<Instant>,
    repro_end: Option<ReproEnd>,
}

/// Block-level state (split from `Console` so the line splitter can call it).
struct Phases<'a> {
    reporter: &'a Reporter,
    markers: MarkerFinder,
    watch: &'a Mutex<Watch>,
    offset: u64,
    boot: Option<ConsoleScanner<'a>>,
    boot_crash: Option<CrashWindow>,
    run: ConsoleScanner<'a>,
    tail: Vec<u8>,
    basic_ok: bool,
    basic_at: Option<Instant>,
    basic_fail: Option<String>,
    exec_fail: Option<String>,
    repro_end: Option<ReproEnd>,
    end: bool,
}

impl<'a> Console<'a> {
    fn new(
        cfg: &QemuTesterConfig,
        reporter: &'a Reporter,
        log: CappedLog,
        watch: &'a Mutex<Watch>,
    ) -> Console<'a> {
        Console {
            strip: EscapeStripper::new(),
            stripped: Vec::new(),
            lines: LineSplitter::new(cfg.scan.max_line),
            log,
            phases: Phases {
                reporter,
                markers: MarkerFinder::new(),
                watch,
                offset: 0,
                boot: Some(ConsoleScanner::with_limits(reporter, cfg.scan)),
                boot_crash: None,
                run: ConsoleScanner::with_limits(reporter, cfg.scan),
                tail: Vec::new(),
                basic_ok: false,
                basic_at: None,
                basic_fail: None,
                exec_fail: None,
                repro_end: None,
                end: false,
            },
            stderr: Vec::new(),
            basic_at: None,
            repro_end: None,
        }
    }

    fn stdout(&mut self, chunk: &[u8]) {
        self.stripped.clear();
        self.strip.strip(chunk, &mut self.stripped);
        self.log.write(&self.stripped);
        let phases = &mut self.phases;
        self.lines.push(&self.stripped, &mut |b| phases.block(b));
    }

    fn stderr(&mut self, chunk: &[u8]) {
        self.stderr.extend_from_slice(chunk);
        let excess = self.stderr.len().saturating_sub(STDERR_BYTES);
        self.stderr.drain(..excess);
    }

    fn finish(&mut self, facts: &mut Facts) {
        let phases = &mut self.phases;
        self.lines.finish(&mut |b| phases.block(b));
        let p = &mut self.phases;
        if let Some(boot) = p.boot.take() {
            p.boot_crash = boot.finish();
        }
        let run = std::mem::replace(&mut p.run, ConsoleScanner::new(p.reporter));
        facts.run_crash = run.finish();
        facts.boot_crash = p.boot_crash.take();
        facts.console_bytes = p.offset;
        facts.basic_ok = p.basic_ok;
        facts.basic_fail = p.basic_fail.take();
        facts.exec_fail = p.exec_fail.take();
        facts.end = p.end;
        facts.last_lines = String::from_utf8_lossy(&p.tail).into_owned();
        facts.stderr_tail = String::from_utf8_lossy(&self.stderr).into_owned();
        self.basic_at = p.basic_at;
        self.repro_end = p.repro_end;
    }
}

impl<'a> Phases<'a> {
    /// One block of whole lines of stripped console.
    fn block(&mut self, block: &[u8]) {
        let base = self.offset;
        self.offset += block.len() as u64;
        self.keep_tail(block);
        let mut split = None;
        for m in self.markers.find(block, base) {
            let at = usize::try_from(m.offset - base).unwrap_or(block.len());
            match m.kind {
                MarkerKind::BasicOk if !self.basic_ok => {
                    self.basic_ok = true;
                    let now = Instant::now();
                    self.basic_at = Some(now);
                    self.with_watch(|w| w.basic_at = Some(now));
                    let eol = block[at..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .map_or(block.len(), |p| at + p + 1);
                    split = Some(eol);
                }
                MarkerKind::BasicFail(why) => {
                    self.basic_fail.get_or_insert(why);
                }
                MarkerKind::ExecFail(why) => {
                    self.exec_fail.get_or_insert(why);
                }
                MarkerKind::Repro(end) => self.repro_end = Some(end),
                MarkerKind::End => {
                    self.end = true;
                    let now = Instant::now();
                    self.with_watch(|w| {
                        w.end_at.get_or_insert(now);
                    });
                }
                MarkerKind::BasicOk | MarkerKind::ReproStart => {}
            }
        }
        let (boot_part, run_part) = match (&self.boot, split) {
            (Some(_), Some(s)) => block.split_at(s),
            (Some(_), None) => (block, &[][..]),
            (None, _) => (&[][..], block),
        };
        if let Some(boot) = self.boot.as_mut() {
            boot.push(boot_part);
            if self.basic_ok {
                self.boot_crash = self.boot.take().and_then(ConsoleScanner::finish);
                // The verdict is a boot failure already (see `classify`):
                // no need to run the reproducer to its end.
                if self
                    .boot_crash
                    .as_ref()
                    .is_some_and(|c| c.report.crash_type != CrashType::UnexpectedReboot)
                {
                    let now = Instant::now();
                    self.with_watch(|w| {
                        w.crash_at.get_or_insert(now);
                    });
                }
            }
        }
        if !run_part.is_empty() {
            let was = self.run.crashed();
            self.run.push(run_part);
            if !was && self.run.crashed() {
                let now = Instant::now();
                self.with_watch(|w| w.crash_at = Some(now));
            }
        }
    }

    fn with_watch(&self, f: impl FnOnce(&mut Watch)) {
        if let Ok(mut w) = self.watch.lock() {
            f(&mut w);
        }
    }

    fn keep_tail(&mut self, block: &[u8]) {
        let block = &block[block.len().saturating_sub(TAIL_BYTES)..];
        self.tail.extend_from_slice(block);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        if excess > 0 {
            self.tail.drain(..excess);
        }
    }
}
