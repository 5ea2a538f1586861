//! Helpers shared by kbisect-vm's integration tests and benches.

#![allow(dead_code, clippy::unwrap_used, clippy::print_stdout)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_core::{
    Build, BuildConfig, Commit, InfraError, RunJob, RunResult, TestRequest, Tester,
};
use kbisect_proc::{CancelToken, Cmd};
use kbisect_vm::qemu::{QemuRun, RunReport};
use kbisect_vm::{KERNEL_IMAGE, QemuTester, QemuTesterConfig, Reproducer};

/// Skips a test whose environment is missing, unless CI is set (then the
/// missing piece is a failure: CI must install it).
pub fn skip(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test}: {why} (CI is set, so this is a failure)");
    }
    println!("{test}: skipped: {why}");
}

/// Whether a program runs (`PROG --version`).
pub fn have(program: &str) -> bool {
    Cmd::new(program)
        .arg("--version")
        .timeout(Duration::from_secs(30))
        .run()
        .is_ok_and(|o| o.success())
}

/// Writes an executable script.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Writes a C reproducer.
pub fn c_source(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// Limits small enough for tests with fake machines.
pub fn quick_config(qemu: &Path, repro: Reproducer, cache: &Path) -> QemuTesterConfig {
    QemuTesterConfig {
        qemu: qemu.to_owned(),
        run_time: Duration::from_secs(1),
        settle: Duration::ZERO,
        boot_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(20),
        crash_wait: Duration::from_secs(20),
        end_wait: Duration::from_secs(20),
        wall_slack: Duration::from_secs(5),
        grace: Duration::from_millis(300),
        memory_budget_mib: Some(4096),
        ..QemuTesterConfig::new(repro, cache)
    }
}

pub fn tester(cfg: QemuTesterConfig) -> QemuTester {
    QemuTester::new(cfg, CancelToken::new()).unwrap()
}

/// Runs `indices` on `kernel` through [`QemuTester::run_machines`] (logs
/// `run-<i>.log` in `logs`) and returns the reports sorted by index.
pub fn run(t: &QemuTester, kernel: &Path, logs: &Path, indices: &[usize]) -> Vec<RunReport> {
    try_run(t, kernel, logs, indices).unwrap()
}

pub fn try_run(
    t: &QemuTester,
    kernel: &Path,
    logs: &Path,
    indices: &[usize],
) -> Result<Vec<RunReport>, InfraError> {
    std::fs::create_dir_all(logs).unwrap();
    let runs: Vec<QemuRun<'_>> = indices
        .iter()
        .map(|&index| QemuRun {
            kernel,
            log: logs.join(format!("run-{index}.log")),
            index,
        })
        .collect();
    let mut got = Vec::new();
    t.run_machines(&runs, &mut |_, r| {
        got.push(r);
        true
    })?;
    got.sort_by_key(|r| r.index);
    Ok(got)
}

/// A commit standing for the revision under test.
pub fn commit() -> Commit {
    Commit {
        id: "0123456789abcdef0123456789abcdef01234567".parse().unwrap(),
        title: "test revision".into(),
        author_name: "A".into(),
        author_email: "a@example.com".into(),
        author_date: String::new(),
        author_time: 0,
        commit_time: 0,
        parents: Vec::new(),
        body: String::new(),
        trailers: Vec::new(),
    }
}

/// A build whose artifact directory is `artifact`.
pub fn build(artifact: Option<&Path>) -> Build {
    Build {
        compiler: None,
        signature: None,
        artifact: artifact.map(Path::to_path_buf),
        files_used: None,
        duration: Duration::ZERO,
    }
}

/// An artifact directory holding `kernel` as `bzImage` (a symlink).
pub fn artifact_dir(dir: &Path, kernel: &Path) -> PathBuf {
    let a = dir.join("artifact");
    std::fs::create_dir_all(&a).unwrap();
    let link = a.join(KERNEL_IMAGE);
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(kernel, &link).unwrap();
    a
}

/// Makes `runs` runs of one request (occurrence `occurrence`) through the
/// engine's [`Tester`] seam; results in index order.
pub fn run_tester(
    t: &mut dyn Tester,
    build: &Build,
    log_dir: &Path,
    occurrence: usize,
    runs: usize,
) -> Result<Vec<RunResult>, InfraError> {
    let c = commit();
    let config = BuildConfig::default();
    let req = TestRequest {
        commit: &c,
        config: &config,
        build,
        runs,
        occurrence,
        log_dir,
    };
    let jobs: Vec<RunJob<'_>> = (0..runs)
        .map(|index| RunJob {
            request: &req,
            index,
        })
        .collect();
    let mut got: Vec<Option<RunResult>> = vec![None; runs];
    t.run(&jobs, &mut |pos, r| {
        got[pos] = Some(r);
        Ok(())
    })?;
    Ok(got.into_iter().map(|r| r.unwrap()).collect())
}

/// The C reproducer that does nothing and exits 0.
pub const CLEAN_REPRO: &str =
    "#include <stdio.h>\nint main(void) { printf(\"repro: hello\\n\"); return 0; }\n";

/// VmHWM of this process, KiB.
pub fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A bootable x86-64 distribution kernel: `$KBISECT_TEST_KERNEL`, else
/// Debian's, fetched once into the cache by `fetch-debian-kernel.sh`
/// (`$KBISECT_CACHE_DIR`, else `~/.cache/kbisect`). `Err` says why not.
pub fn distribution_kernel() -> Result<PathBuf, String> {
    static KERNEL: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    KERNEL.get_or_init(find_kernel).clone()
}

fn find_kernel() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("KBISECT_TEST_KERNEL") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("KBISECT_TEST_KERNEL={} is not a file", p.display()))
        };
    }
    let cache = match (
        std::env::var_os("KBISECT_CACHE_DIR"),
        std::env::var_os("HOME"),
    ) {
        (Some(c), _) => PathBuf::from(c),
        (None, Some(h)) => PathBuf::from(h).join(".cache/kbisect"),
        (None, None) => return Err("neither KBISECT_CACHE_DIR nor HOME is set".into()),
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fetch-debian-kernel.sh");
    let out = Cmd::new(&script)
        .arg(cache.join("debian-kernel"))
        .timeout(Duration::from_secs(900))
        .run()
        .map_err(|e| e.to_string())?;
    if !out.success() {
        return Err(format!("no Debian kernel: {}", out.stderr_tail(3)));
    }
    let p = PathBuf::from(out.stdout_str().trim());
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} printed {:?}, not a file",
            script.display(),
            out.stdout_str()
        ))
    }
}

/// Boots under real qemu one test at a time: the machine has two shared
/// cores, and the figures printed are cleaner alone.
pub fn vm_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

pub mod fake;
