//! Kernel console output to crash reports (title, type, frame, flags).

mod crash_type;

pub use crash_type::CrashType;
