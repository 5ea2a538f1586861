//! A test machine's console as a stream: written to its log file up to a
//! cap, scanned for crashes as it arrives, in memory bounded whatever the
//! run prints. Shared by the local and the qemu tester.

mod log;
mod scanner;

pub(crate) use log::CappedLog;
pub use scanner::{ConsoleScanner, CrashWindow, LineSplitter, ScanLimits};

/// Bytes of a run's console written to its log file by default; the rest
/// is counted and the log says how much was left out.
pub const DEFAULT_LOG_CAP: u64 = 64 << 20;
