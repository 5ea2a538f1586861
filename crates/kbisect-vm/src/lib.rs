//! Test machines and the testers that run reproducers on them, each an
//! implementation of [`kbisect_core::Tester`]:
//!
//! - [`LocalTester`]: the user's test command as a local process group
//!   (user-space projects).
//! - [`QemuTester`]: a kernel image booted under qemu with an initramfs
//!   kbisect writes itself (a tiny static `/init` and the user's C
//!   reproducer, compiled on the host), N VMs at once bounded by VM slots
//!   and memory; see the [`qemu`] module.
//!
//! Both stream a run's console to its log file (in full up to a cap) and
//! scan it for crashes as it arrives ([`ConsoleScanner`], the crash
//! regexp), so a crash is found wherever it is in the output and memory
//! stays bounded however much a run prints. Runs go through a small pool
//! ([`run_pool`]); every external program (the test command, gcc, qemu)
//! runs through `kbisect-proc` with the tester's cancel token.

#![warn(missing_docs)]

mod classify;
mod console;
mod local;
mod local_tester;
mod matcher;
mod output;
mod pool;
pub mod qemu;

pub use classify::{VerdictMode, classify, classify_output};
pub use console::{ConsoleScanner, CrashWindow, DEFAULT_LOG_CAP, LineSplitter, ScanLimits};
pub use local::{LocalRun, LocalSpec, RawRun, VmError};
pub use local_tester::{LocalTester, LocalTesterConfig};
pub use matcher::{CrashMatcher, CrashStream, DEFAULT_CRASH_REGEX};
pub use output::{OutputScan, RunOutput, TAIL_BYTES};
pub use pool::run_pool;
pub use qemu::{KERNEL_IMAGE, QemuError, QemuTester, QemuTesterConfig, Reproducer};
