//! Linux kernel builds for kbisect.
//!
//! One revision at a time: the job's `.config` adjusted for the revision's
//! version (the toolchain table: compiler, options to disable, fix-up
//! cherry-picks), `make olddefconfig`, then `make -jN O=<build dir>` in a
//! reproducible environment into a build directory that is reused across
//! revisions (incremental builds) and cleaned when the compiler or the config
//! changes. A build that fails is an outcome (a *skip*, with its error lines
//! and guilty file); memory, disk, timeouts and missing tools are errors.
//! Also here: the `vmlinux` signature, the files a build used, the kernel's
//! compiler identity, and `MAINTAINERS` recipients.

#![warn(missing_docs)]

mod build;
mod builder;
mod compiler;
mod deps;
mod error;
mod failure;
mod kconfig;
mod maintainers;
mod make;
mod signature;
mod stamp;
mod toolchain;
mod version;

pub use build::{
    ConfigCheck, KernelArtifacts, KernelBuild, KernelBuildRequest, KernelOutcome, KernelSettings,
};
pub use builder::{KernelBuilder, KernelBuilderConfig};
pub use compiler::{compiler_from_compile_h, compiler_id, compiler_version_line};
pub use deps::{FilesUsed, is_build_system_file};
pub use error::{ErrorKind, KernelError};
pub use failure::{BuildFailure, InfraSign, MAX_ERROR_LINES, extract_failure, infra_sign};
pub use kconfig::{ConfigValue, DroppedOption, KernelConfig, canonical_name};
pub use maintainers::{LKML, Maintainer, MaintainerRecipients, Maintainers, Section};
pub use make::{BUILD_TIMESTAMP, BUILD_USER_HOST, MakeEnd, MakeSettings, reproducibility_changes};
pub use signature::{KernelSignature, elf_signature, vmlinux_signature};
pub use stamp::{BuildStamp, STAMP_FILE, clean_build_dir};
pub use toolchain::{CompilerFamily, CompilerLookup, Toolchain, ToolchainError, ToolchainTable};
pub use version::KernelVersion;
