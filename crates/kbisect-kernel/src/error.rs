//! The crate's error type: everything that is not the revision's fault.
//!
//! A revision that does not build is not an error but an outcome
//! ([`crate::BuildFailure`], a skip). What is here either means the job
//! cannot work as set up ([`ErrorKind::Setup`]: a tool missing, a config the
//! tree cannot honour) or that the machine failed ([`ErrorKind::Environment`]:
//! memory, disk, a timeout, git). Neither may become a verdict.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_git::GitError;
use kbisect_proc::ProcError;

use crate::kconfig::DroppedOption;
use crate::toolchain::ToolchainError;

/// How the engine should treat a [`KernelError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or set-up: a one-line error for the user, no retry helps.
    Setup,
    /// The machine failed: retried on resume, never a verdict.
    Environment,
    /// The build was cancelled (Ctrl-C).
    Interrupted,
}

/// Why a kernel could not be built, other than a build error of the revision.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// `make`, the compiler or another tool is not installed.
    #[error("{program} not found: install it to build kernels")]
    ToolMissing {
        /// The program that could not be started.
        program: String,
    },
    /// The toolchain table or the compiler it names.
    #[error(transparent)]
    Toolchain(#[from] ToolchainError),
    /// The job's kernel config cannot be parsed.
    #[error("bad kernel config: {detail}")]
    BadConfig {
        /// Which line and why.
        detail: String,
    },
    /// The build dir cannot be used (not ours to clean, not a directory).
    #[error("build dir {}: {detail}", .path.display())]
    BuildDir {
        /// The build dir.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Fix-up commits need kbisect's git worktree, or one is not in the repository.
    #[error("fix-up commit {commit}: {detail}")]
    FixUp {
        /// The commit to cherry-pick.
        commit: String,
        /// What is wrong.
        detail: String,
    },
    /// `make olddefconfig` changed options the job's config asks for.
    #[error("make olddefconfig dropped options the kernel config asks for: {}", list(.options))]
    ConfigDropped {
        /// Every option that did not survive, in name order.
        options: Vec<DroppedOption>,
    },
    /// The build (or a compiler it ran) was killed for lack of memory.
    #[error("out of memory while running {argv}: {evidence}")]
    OutOfMemory {
        /// The command.
        argv: String,
        /// The output line (or status) that shows it.
        evidence: String,
    },
    /// The disk filled up.
    #[error("disk full while running {argv}: {evidence}")]
    DiskFull {
        /// The command.
        argv: String,
        /// The output line that shows it.
        evidence: String,
    },
    /// A command exceeded its time limit.
    #[error("{argv} timed out after {}s", .after.as_secs())]
    Timeout {
        /// The command.
        argv: String,
        /// Its limit.
        after: Duration,
    },
    /// A command was killed by a signal nobody asked for.
    #[error("{argv} was killed by signal {signal}")]
    Killed {
        /// The command.
        argv: String,
        /// The signal number.
        signal: i32,
    },
    /// The build was cancelled.
    #[error("kernel build cancelled")]
    Cancelled,
    /// A file or directory of the build could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// git failed (checkout, cherry-pick, reset).
    #[error(transparent)]
    Git(#[from] GitError),
    /// A program could not be run at all (not a missing program).
    #[error(transparent)]
    Proc(ProcError),
    /// A helper command failed in a way that is not the revision's fault.
    #[error("{argv} failed: {detail}")]
    Command {
        /// The command.
        argv: String,
        /// Status and the tail of its output.
        detail: String,
    },
}

fn list(options: &[DroppedOption]) -> String {
    options
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl KernelError {
    /// Whether this is bad input, a machine failure or a cancellation.
    pub fn kind(&self) -> ErrorKind {
        match self {
            KernelError::ToolMissing { .. }
            | KernelError::Toolchain(_)
            | KernelError::BadConfig { .. }
            | KernelError::BuildDir { .. }
            | KernelError::FixUp { .. }
            | KernelError::ConfigDropped { .. } => ErrorKind::Setup,
            KernelError::Cancelled => ErrorKind::Interrupted,
            KernelError::OutOfMemory { .. }
            | KernelError::DiskFull { .. }
            | KernelError::Timeout { .. }
            | KernelError::Killed { .. }
            | KernelError::Io { .. }
            | KernelError::Git(_)
            | KernelError::Proc(_)
            | KernelError::Command { .. } => ErrorKind::Environment,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> KernelError {
        KernelError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl From<ProcError> for KernelError {
    fn from(e: ProcError) -> KernelError {
        match e {
            ProcError::NotFound { program } => KernelError::ToolMissing { program },
            e => KernelError::Proc(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kconfig::ConfigValue;

    #[test]
    fn kinds_and_messages() {
        let e = KernelError::from(ProcError::NotFound {
            program: "make".into(),
        });
        assert_eq!(e.kind(), ErrorKind::Setup);
        assert_eq!(e.to_string(), "make not found: install it to build kernels");
        let e = KernelError::ConfigDropped {
            options: vec![
                DroppedOption {
                    name: "CONFIG_KASAN".into(),
                    wanted: ConfigValue::Yes,
                    got: ConfigValue::No,
                },
                DroppedOption {
                    name: "CONFIG_X".into(),
                    wanted: ConfigValue::Number("3".into()),
                    got: ConfigValue::Number("4".into()),
                },
            ],
        };
        assert_eq!(e.kind(), ErrorKind::Setup);
        assert_eq!(
            e.to_string(),
            "make olddefconfig dropped options the kernel config asks for: \
             CONFIG_KASAN=y became not set, CONFIG_X=3 became 4"
        );
        let e = KernelError::Timeout {
            argv: "make -j2".into(),
            after: Duration::from_secs(90),
        };
        assert_eq!(e.kind(), ErrorKind::Environment);
        assert_eq!(e.to_string(), "make -j2 timed out after 90s");
        assert_eq!(KernelError::Cancelled.kind(), ErrorKind::Interrupted);
    }
}
