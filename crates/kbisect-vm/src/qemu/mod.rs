//! The qemu tester: a kernel image booted under qemu with an initramfs that
//! kbisect writes itself (a tiny static `/init` and the user's C reproducer,
//! compiled on the host), the serial console streamed to a log file and
//! scanned for crashes as it arrives, each run judged from the console alone.
//!
//! - [`QemuTester`] (made from a [`QemuTesterConfig`]) implements
//!   [`kbisect_core::Tester`]: a build's artifact is a directory holding
//!   [`KERNEL_IMAGE`] (`bzImage`; the kernel builder puts `vmlinux` beside
//!   it), and run `i` of occurrence `n` logs to `run-<n>-<i>.log` in the
//!   request's log dir. Runs go on N VMs at once, bounded by VM slots and a
//!   memory budget. [`QemuTester::run_machines`] is the same without the
//!   engine's types, with what was measured on each run ([`RunReport`]).
//! - [`write_newc`] writes cpio archives; [`EscapeStripper`] cleans a
//!   serial console; [`prepare_guest`] compiles and packs the guest.
//!
//! Every external program (gcc, qemu) runs through `kbisect-proc`.

mod config;
mod cpio;
mod escapes;
mod guest;
mod markers;
mod outcome;
mod run;
mod tester;

pub use config::{DEFAULT_CMDLINE, QEMU_OVERHEAD_MIB, QemuTesterConfig, available_memory_mib};
pub use cpio::{Entry, EntryKind, write_newc};
pub use escapes::EscapeStripper;
pub use guest::{CompileConfig, Guest, GuestError, INIT_SOURCE, Reproducer, prepare_guest};
pub use markers::ReproEnd;
pub use outcome::{LOST_CONNECTION_TITLE, NO_OUTPUT_TITLE, RunReport, TIMED_OUT_TITLE, describe};
pub use tester::{KERNEL_IMAGE, QemuError, QemuRun, QemuTester, kernel_image};
