//! The qemu tester: runs on N VMs at once (across revisions too), bounded
//! by the job's VM slots and by memory, each handed to the caller as it
//! finishes; the engine's [`Tester`] on top.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kbisect_core::{Build, InfraError, RunJob, RunOutcome, RunResult, Tester};
use kbisect_proc::CancelToken;
use kbisect_report::Reporter;

use crate::pool::run_pool;
use crate::qemu::config::QemuTesterConfig;
use crate::qemu::guest::{Guest, GuestError, prepare_guest};
use crate::qemu::outcome::{RunReport, describe};
use crate::qemu::run::{RunSpec, RunStop, run_one};

/// The file a build's artifact directory holds for the qemu tester: the
/// bootable kernel image (`arch/x86/boot/bzImage`). The kernel builder puts
/// it there beside `vmlinux` (which the tester does not read).
pub const KERNEL_IMAGE: &str = "bzImage";

/// The kernel image of `build`: `<artifact>/bzImage`. A build without one
/// cannot be tested by this tester at all: the builder does not make what
/// it needs (bad setup, not the revision's fault).
pub fn kernel_image(build: &Build) -> Result<PathBuf, InfraError> {
    let Some(dir) = &build.artifact else {
        return Err(InfraError::Setup {
            what: format!(
                "the qemu tester needs a build artifact directory holding {KERNEL_IMAGE}; the builder gave none"
            ),
            source: None,
        });
    };
    let image = dir.join(KERNEL_IMAGE);
    if image.is_file() {
        Ok(image)
    } else {
        Err(InfraError::Setup {
            what: format!(
                "no kernel image {} in the build artifact (the qemu tester boots {KERNEL_IMAGE})",
                image.display()
            ),
            source: None,
        })
    }
}

/// Why a tester cannot be made from its config (bad input).
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// No VM slot at all.
    #[error("the qemu tester needs at least one VM slot")]
    NoSlots,
    /// The memory budget does not fit one VM.
    #[error(
        "memory budget of {budget_mib} MiB does not fit one VM ({per_vm_mib} MiB: -m plus qemu's overhead)"
    )]
    NotEnoughMemory {
        /// The budget in force.
        budget_mib: u64,
        /// What one VM takes.
        per_vm_mib: u64,
    },
    /// The console parser's user additions do not compile.
    #[error("console parser: {0}")]
    Reporter(#[from] kbisect_report::Error),
}

/// One VM run to make: the low-level form of a [`RunJob`].
#[derive(Debug, Clone)]
pub struct QemuRun<'a> {
    /// The kernel image to boot.
    pub kernel: &'a Path,
    /// Where the run's console log goes (its directory must exist).
    pub log: PathBuf,
    /// The run's index, carried into its [`RunReport`].
    pub index: usize,
}

/// Boots kernels under qemu with the reproducer and judges each run.
///
/// As a [`Tester`], a job's artifact is a directory holding [`KERNEL_IMAGE`]
/// (see [`kernel_image`]); run `i` of a request's occurrence `n` logs its
/// console to `<log_dir>/run-<n>-<i>.log`. A reproducer that does not
/// compile makes every run a test failure naming the file; qemu or the
/// compiler missing, or a reproducer that cannot be read, is
/// [`InfraError::Setup`]; a VM that could not be started or was lost is a
/// run outcome [`RunOutcome::Infra`]; a host that fails otherwise (a
/// compiler timeout, an unwritable cache or log dir) is
/// [`InfraError::Environment`]; the cancel token is
/// [`InfraError::Interrupted`].
pub struct QemuTester {
    cfg: QemuTesterConfig,
    parallel: usize,
    reporter: Reporter,
    cancel: CancelToken,
    guest: Mutex<Option<Guest>>,
}

impl QemuTester {
    /// A tester; every gcc and qemu run holds `cancel` (or a child of it),
    /// so cancelling it stops them all and their process groups are
    /// recorded where it records them. Nothing runs yet.
    pub fn new(cfg: QemuTesterConfig, cancel: CancelToken) -> Result<QemuTester, QemuError> {
        if cfg.vm_slots == 0 {
            return Err(QemuError::NoSlots);
        }
        let per_vm = cfg.vm_memory_mib();
        let budget = cfg.memory_budget();
        let by_memory = usize::try_from(budget / per_vm.max(1)).unwrap_or(usize::MAX);
        if by_memory == 0 {
            return Err(QemuError::NotEnoughMemory {
                budget_mib: budget,
                per_vm_mib: per_vm,
            });
        }
        Ok(QemuTester {
            parallel: cfg.vm_slots.min(by_memory),
            reporter: Reporter::new(&cfg.parser)?,
            cfg,
            cancel,
            guest: Mutex::new(None),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &QemuTesterConfig {
        &self.cfg
    }

    /// How many VMs run at once at most (VM slots and memory).
    pub fn parallelism(&self) -> usize {
        self.parallel
    }

    /// Compiles the reproducer and init and writes the initramfs, once per
    /// tester (errors are not remembered: the next call tries again).
    pub fn prepare(&self) -> Result<Guest, GuestError> {
        if let Ok(g) = self.guest.lock()
            && let Some(g) = g.as_ref()
        {
            return Ok(g.clone());
        }
        let c = &self.cfg;
        let g = prepare_guest(
            &c.compile,
            &c.cache_dir,
            &c.reproducer,
            c.run_time,
            c.settle,
            &self.cancel,
        )?;
        if let Ok(mut slot) = self.guest.lock() {
            *slot = Some(g.clone());
        }
        Ok(g)
    }

    /// Makes `runs`, calling `on_run(position in runs, report)` on this
    /// thread as each finishes (completion order); `on_run` returning
    /// `false` stops starting new ones. Errors are those of the [`Tester`]
    /// (see the type's docs).
    pub fn run_machines(
        &self,
        runs: &[QemuRun<'_>],
        on_run: &mut dyn FnMut(usize, RunReport) -> bool,
    ) -> Result<(), InfraError> {
        if self.cancel.is_cancelled() {
            return Err(InfraError::Interrupted);
        }
        if runs.is_empty() {
            return Ok(());
        }
        let guest = match self.prepare() {
            Ok(g) => g,
            Err(GuestError::ReproDoesNotCompile { path, errors }) => {
                // One line for the run's log line; all of it in the log file.
                let first = errors.lines().next().unwrap_or("").trim();
                let outcome = RunOutcome::TestFailed {
                    reason: format!("reproducer does not compile: {first}"),
                };
                let log = format!(
                    "kbisect: {}\n{}:\n{errors}\n",
                    describe(&outcome),
                    path.display()
                );
                for (pos, r) in runs.iter().enumerate() {
                    std::fs::write(&r.log, &log).map_err(|e| {
                        InfraError::environment(format!("cannot write {}", r.log.display()), e)
                    })?;
                    if !on_run(pos, failed_report(r, outcome.clone())) {
                        break;
                    }
                }
                return Ok(());
            }
            Err(e) => return Err(guest_error(e)),
        };
        for r in runs {
            if !r.kernel.is_file() {
                return Err(InfraError::Setup {
                    what: format!("kernel image {} does not exist", r.kernel.display()),
                    source: None,
                });
            }
        }
        let mut stop: Option<InfraError> = None;
        let positions: Vec<usize> = (0..runs.len()).collect();
        run_pool(
            &positions,
            self.parallel.min(runs.len()),
            |pos| {
                let r = &runs[pos];
                run_one(&RunSpec {
                    cfg: &self.cfg,
                    reporter: &self.reporter,
                    kernel: r.kernel,
                    guest: &guest,
                    log: &r.log,
                    index: r.index,
                    cancel: &self.cancel,
                })
            },
            &mut |pos, res: Result<RunReport, RunStop>| match res {
                Ok(report) if stop.is_none() => on_run(pos, report),
                Ok(_) => false,
                Err(RunStop::Interrupted) => {
                    stop.get_or_insert(InfraError::Interrupted);
                    false
                }
                Err(RunStop::QemuNotFound(program)) => {
                    stop.get_or_insert(InfraError::Setup {
                        what: format!(
                            "qemu not found: {program} (install qemu-system-x86, or set the emulator's path)"
                        ),
                        source: None,
                    });
                    false
                }
            },
        );
        match stop {
            Some(e) => Err(e),
            None if self.cancel.is_cancelled() => Err(InfraError::Interrupted),
            None => Ok(()),
        }
    }
}

fn failed_report(r: &QemuRun<'_>, outcome: RunOutcome) -> RunReport {
    RunReport {
        index: r.index,
        outcome,
        duration: std::time::Duration::ZERO,
        boot_time: None,
        repro_end: None,
        log: r.log.clone(),
        console_bytes: 0,
        log_truncated: false,
        crash_line: None,
    }
}

/// A guest that cannot be prepared, in the engine's terms (the message
/// already holds the cause: no source, so it is not printed twice).
fn guest_error(e: GuestError) -> InfraError {
    let what = e.to_string();
    match e {
        GuestError::Interrupted => InfraError::Interrupted,
        GuestError::CompilerMissing(_)
        | GuestError::InitDoesNotBuild(_)
        | GuestError::ReproUnreadable { .. } => InfraError::Setup { what, source: None },
        GuestError::ReproDoesNotCompile { .. }
        | GuestError::Compiler(_)
        | GuestError::Io { .. } => InfraError::Environment { what, source: None },
    }
}

impl Tester for QemuTester {
    fn run(
        &mut self,
        jobs: &[RunJob<'_>],
        on_run: &mut dyn FnMut(usize, RunResult) -> Result<(), InfraError>,
    ) -> Result<(), InfraError> {
        let kernels = jobs
            .iter()
            .map(|j| kernel_image(j.request.build))
            .collect::<Result<Vec<_>, _>>()?;
        for job in jobs {
            let dir = job.request.log_dir;
            std::fs::create_dir_all(dir).map_err(|e| {
                InfraError::environment(format!("cannot create {}", dir.display()), e)
            })?;
        }
        let runs: Vec<QemuRun<'_>> = jobs
            .iter()
            .zip(&kernels)
            .map(|(j, k)| QemuRun {
                kernel: k,
                log: j
                    .request
                    .log_dir
                    .join(format!("run-{}-{}.log", j.request.occurrence, j.index)),
                index: j.index,
            })
            .collect();
        let mut stopped: Option<InfraError> = None;
        let res = self.run_machines(&runs, &mut |pos, report| {
            let matched = match &report.outcome {
                RunOutcome::Crashed(_) => report.crash_line,
                _ => None,
            };
            let result = RunResult {
                outcome: report.outcome,
                duration: report.duration,
                matched,
            };
            match on_run(pos, result) {
                Ok(()) => true,
                Err(e) => {
                    stopped = Some(e);
                    false
                }
            }
        });
        match stopped {
            Some(e) => Err(e),
            None => res,
        }
    }
}
