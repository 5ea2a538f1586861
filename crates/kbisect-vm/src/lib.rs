//! Test machines: local processes (later qemu, ssh); console capture; a pool running N tests in parallel.

mod local;
mod pool;

pub use local::{LocalRun, LocalSpec, RawRun, VmError};
pub use pool::run_pool;
