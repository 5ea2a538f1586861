//! Running kbuild's `make` reproducibly, under a time limit, and reading
//! what its end means: built, failed (the revision's fault: a skip), or an
//! infrastructure error (memory, disk, timeout, make missing).
//!
//! Reproducible (BISECTION.md): `KBUILD_BUILD_VERSION=0`, a fixed
//! `KBUILD_BUILD_TIMESTAMP`, `KBUILD_BUILD_USER`/`HOST`, and a fixed
//! `KERNELRELEASE` with an empty `LOCALVERSION`, passed on make's command
//! line (the Makefile's own assignment would win over the environment).
//! The release keeps `VERSION.PATCHLEVEL` in front because static binaries
//! of older glibc refuse to run on a kernel whose release does not parse.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kbisect_proc::{CancelToken, Cmd, Status, Stream};

use crate::error::KernelError;
use crate::failure::{BuildFailure, InfraSign, extract_failure, infra_sign};
use crate::kconfig::ConfigValue;

/// `KBUILD_BUILD_TIMESTAMP` of every build (it must parse with `date -d`:
/// kbuild feeds it to the initramfs generator).
pub const BUILD_TIMESTAMP: &str = "Thu Jan  1 00:00:00 UTC 1970";
/// `KBUILD_BUILD_USER` and `KBUILD_BUILD_HOST`.
pub const BUILD_USER_HOST: &str = "kbisect";

/// Options that would make two builds of one revision differ (a git hash in
/// the release, BTF from whatever pahole is installed, a built-in initramfs
/// from outside the tree): always switched off, whatever the job says.
pub fn reproducibility_changes() -> Vec<(&'static str, ConfigValue)> {
    vec![
        ("CONFIG_LOCALVERSION_AUTO", ConfigValue::No),
        ("CONFIG_DEBUG_INFO_BTF", ConfigValue::No),
        ("CONFIG_INITRAMFS_SOURCE", ConfigValue::Str(String::new())),
    ]
}

/// How to run make.
#[derive(Clone, Debug)]
pub struct MakeSettings {
    /// The make program (`make`; a path to a scripted fake in tests).
    pub make: String,
    /// `-jN`.
    pub jobs: usize,
    /// `ARCH=` (`x86_64`).
    pub arch: String,
    /// `CC=`, ccache included (`ccache gcc`).
    pub cc: String,
    /// `HOSTCC=`; `None` leaves kbuild's default.
    pub hostcc: Option<String>,
    /// The fixed `KERNELRELEASE`.
    pub kernel_release: String,
    /// `CCACHE_DIR` for ccache.
    pub ccache_dir: Option<PathBuf>,
    /// Run make under `nice -n N` (the machine is shared).
    pub nice: Option<i32>,
    /// More environment for make (after the reproducible one).
    pub extra_env: Vec<(String, String)>,
    /// Stops the build.
    pub cancel: Option<CancelToken>,
}

/// How one make call ended, when it is not an infrastructure error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MakeEnd {
    /// Exit status 0.
    Done {
        /// Wall time.
        duration: Duration,
    },
    /// The revision does not build.
    Failed(BuildFailure),
}

impl MakeSettings {
    /// The make command for `targets` in `source_dir`, out of tree in `build_dir`.
    pub fn command(
        &self,
        source_dir: &Path,
        build_dir: &Path,
        targets: &[&str],
        timeout: Duration,
    ) -> Cmd {
        let mut cmd = match self.nice {
            Some(n) => Cmd::new("nice")
                .arg("-n")
                .arg(n.to_string())
                .arg(&self.make),
            None => Cmd::new(&self.make),
        };
        cmd = cmd
            .arg("-C")
            .arg(source_dir)
            .arg(format!("O={}", build_dir.display()))
            .arg(format!("-j{}", self.jobs.max(1)))
            .arg(format!("ARCH={}", self.arch))
            .arg(format!("CC={}", self.cc))
            .arg(format!("KERNELRELEASE={}", self.kernel_release))
            .arg("LOCALVERSION=");
        if let Some(h) = &self.hostcc {
            cmd = cmd.arg(format!("HOSTCC={h}"));
        }
        cmd = cmd
            .args(targets)
            .env("KBUILD_BUILD_VERSION", "0")
            .env("KBUILD_BUILD_TIMESTAMP", BUILD_TIMESTAMP)
            .env("KBUILD_BUILD_USER", BUILD_USER_HOST)
            .env("KBUILD_BUILD_HOST", BUILD_USER_HOST)
            // Flags of a make that runs kbisect must not leak into ours.
            .env("MAKEFLAGS", "")
            .env("KCONFIG_CONFIG", ".config")
            .timeout(timeout);
        if let Some(d) = &self.ccache_dir {
            cmd = cmd.env("CCACHE_DIR", d);
        }
        for (k, v) in &self.extra_env {
            cmd = cmd.env(k, v);
        }
        if let Some(c) = &self.cancel {
            cmd = cmd.cancel(c.clone());
        }
        cmd
    }

    /// Runs make; its whole output also goes to `log` (appended) when given.
    pub fn run(
        &self,
        source_dir: &Path,
        build_dir: &Path,
        targets: &[&str],
        timeout: Duration,
        log: Option<&Path>,
    ) -> Result<MakeEnd, KernelError> {
        // Checked here: under `nice` a missing make is only an exit status.
        if !crate::toolchain::is_installed(&self.make) {
            return Err(KernelError::ToolMissing {
                program: self.make.clone(),
            });
        }
        let cmd = self.command(source_dir, build_dir, targets, timeout);
        let argv = cmd.argv_string();
        tracing::debug!(%argv, "running make");
        let mut writer = match log {
            Some(p) => {
                let f = File::options()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| KernelError::io(p, e))?;
                Some((BufWriter::new(f), p.to_owned()))
            }
            None => None,
        };
        let mut log_error: Option<KernelError> = None;
        let start = Instant::now();
        let out = cmd.run_streaming(&mut |_s: Stream, chunk: &[u8]| {
            if let Some((w, p)) = writer.as_mut()
                && let Err(e) = w.write_all(chunk)
            {
                log_error.get_or_insert_with(|| KernelError::io(p, e));
            }
        })?;
        if let Some((mut w, p)) = writer
            && let Err(e) = w.flush()
        {
            log_error.get_or_insert_with(|| KernelError::io(&p, e));
        }
        let duration = start.elapsed();
        match out.status {
            Status::Exited(0) => {
                if let Some(e) = log_error {
                    return Err(e);
                }
                Ok(MakeEnd::Done { duration })
            }
            Status::TimedOut | Status::NoOutput => Err(KernelError::Timeout {
                argv,
                after: timeout,
            }),
            Status::Cancelled => Err(KernelError::Cancelled),
            status => {
                match infra_sign(&[&out.stdout, &out.stderr]) {
                    Some(InfraSign::OutOfMemory(evidence)) => {
                        return Err(KernelError::OutOfMemory { argv, evidence });
                    }
                    Some(InfraSign::DiskFull(evidence)) => {
                        return Err(KernelError::DiskFull { argv, evidence });
                    }
                    None => {}
                }
                match status {
                    // SIGKILL that nobody sent: the kernel's OOM killer.
                    Status::Signaled(9) | Status::Exited(137) => Err(KernelError::OutOfMemory {
                        argv,
                        evidence: format!("make was killed ({status})"),
                    }),
                    Status::Signaled(signal) => Err(KernelError::Killed { argv, signal }),
                    _ => {
                        if let Some(e) = log_error {
                            return Err(e);
                        }
                        let status = status.to_string();
                        Ok(MakeEnd::Failed(extract_failure(
                            &out.stdout,
                            &out.stderr,
                            source_dir,
                            &status,
                            duration,
                        )))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "make_tests.rs"]
mod tests;
