//! How much output may surround a crash before it is lost, and what memory
//! that costs (issue 8: "the largest output a run can print after a crash
//! and still be recognised, and peak memory then"), side by side in one run:
//!
//! - `local`: the local tester as it is now (the output streamed to the
//!   run's log up to its 64 MiB cap, the crash searched on the stream);
//! - `1 MiB tail`: what the local tester did before (keep the last 1 MiB of
//!   output, search it at the end), through the same crash matcher;
//! - `qemu`: the qemu tester with a scripted fake qemu (same console behind
//!   kbisect's init markers).
//!
//! A kernel-style WARNING report is printed after N MiB of noise lines
//! (`before`) or followed by N MiB of them (`after`). Each cell runs in a
//! child process of its own, so VmHWM (peak resident memory) is that cell's
//! alone.
//!
//!   cargo bench -p kbisect-vm --bench after_crash [-- SIZE_MIB...]
//!
//! Sizes default to 0, 1, 100 and 1024 MiB.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kbisect_core::{
    Build, BuildConfig, Commit, RunJob, RunOutcome, RunResult, TestRequest, Tester,
};
use kbisect_proc::{CancelToken, Cmd};
use kbisect_vm::qemu::QemuRun;
use kbisect_vm::{
    CrashMatcher, LocalTester, LocalTesterConfig, QemuTester, QemuTesterConfig, Reproducer,
    VerdictMode,
};

const CHILD: &str = "KBISECT_BENCH_AFTER_CRASH";

/// The console: `$1` is `before:N` or `after:N` (the last argument, after
/// qemu's own when run as the fake qemu); `$KBISECT_MARKERS` set prints
/// kbisect's init markers around it.
const CONSOLE: &str = r#"#!/bin/sh
for spec; do :; done
where=${spec%%:*}
n=${spec#*:}
noise() {
  yes '[    9.000000] a line of the noise that keeps coming around the oops, 80 bytes' | head -c "$1"
}
if [ -n "$KBISECT_MARKERS" ]; then
  printf '\033c\033[2J[    0.000000] Linux version 6.12.0 (fake)\r\n'
  printf 'KBISECT-BASIC-OK\r\nKBISECT-REPRO-START: 1000 ms\r\n'
fi
[ "$where" = before ] && noise "$n"
cat <<'EOF'
[    2.000001] WARNING: CPU: 0 PID: 42 at fs/open.c:1400 do_sys_openat2+0x10/0x20
[    2.000003] Modules linked in:
[    2.000005] RIP: 0010:do_sys_openat2+0x10/0x20
[    2.000006] Call Trace:
[    2.000007]  <TASK>
[    2.000008]  __x64_sys_openat+0x1/0x2
[    2.000009]  do_syscall_64+0x1/0x2
[    2.000011]  </TASK>
EOF
[ "$where" = after ] && noise "$n"
if [ -n "$KBISECT_MARKERS" ]; then
  printf 'KBISECT-REPRO-EXIT: 0\r\nKBISECT-END\r\n'
fi
exit 0
"#;

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        let mut f = spec.splitn(3, ':');
        let (mode, place, bytes) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        child(mode, &format!("{place}:{bytes}"));
        return;
    }
    let sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![0, 1, 100, 1024]
    } else {
        sizes
    };
    println!(
        "after_crash: a kernel WARNING and N MiB of console lines (one child process per cell)"
    );
    for (place, what) in [
        ("after", "the crash, then N MiB of output"),
        ("before", "N MiB of output, then the crash"),
    ] {
        println!();
        println!("{what}:");
        println!(
            "| N MiB | local: found              | time   | MiB/s | VmHWM   | log     | 1 MiB tail: found         | VmHWM   | qemu: found               | time   | VmHWM   |"
        );
        println!(
            "|-------|---------------------------|--------|-------|---------|---------|---------------------------|---------|---------------------------|--------|---------|"
        );
        for &mib in &sizes {
            let bytes = mib << 20;
            let l = spawn("local", place, bytes);
            let t = spawn("tail", place, bytes);
            let q = spawn("qemu", place, bytes);
            let rate = if mib > 0 && l.secs > 0.0 {
                format!("{:.0}", mib as f64 / l.secs)
            } else {
                "-".into()
            };
            println!(
                "| {mib:>5} | {:<25} | {:>5.2}s | {rate:>5} | {:>3} MiB | {:>3} MiB | {:<25} | {:>3} MiB | {:<25} | {:>5.2}s | {:>3} MiB |",
                l.found,
                l.secs,
                l.hwm_kib >> 10,
                l.log_bytes >> 20,
                t.found,
                t.hwm_kib >> 10,
                q.found,
                q.secs,
                q.hwm_kib >> 10,
            );
        }
    }
}

struct Cell {
    found: String,
    secs: f64,
    hwm_kib: u64,
    log_bytes: u64,
}

fn spawn(mode: &str, place: &str, bytes: u64) -> Cell {
    let exe = std::env::current_exe().unwrap();
    let out = Cmd::new(exe)
        .env(CHILD, format!("{mode}:{place}:{bytes}"))
        .timeout(Duration::from_secs(3600))
        .run_checked()
        .unwrap();
    let line = out.stdout_str();
    let f: Vec<&str> = line.trim().split('|').collect();
    Cell {
        found: f[0].to_owned(),
        secs: f[1].parse().unwrap(),
        hwm_kib: f[2].parse().unwrap(),
        log_bytes: f[3].parse().unwrap(),
    }
}

fn child(mode: &str, spec: &str) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("console.sh");
    std::fs::write(&script, CONSOLE).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (found, secs, log) = match mode {
        "local" => local(dir.path(), &script, spec),
        "tail" => tail(&script, spec),
        _ => qemu(dir.path(), &script, spec),
    };
    let log_bytes = log.and_then(|p| p.metadata().ok()).map_or(0, |m| m.len());
    println!("{found}|{secs:.2}|{}|{log_bytes}", hwm_kib());
}

fn title(outcome: &RunOutcome) -> String {
    match outcome {
        RunOutcome::Crashed(c) => c.title.clone(),
        o => format!("MISSED ({o:?})"),
    }
}

/// The local tester through the engine's seam.
fn local(dir: &Path, script: &Path, spec: &str) -> (String, f64, Option<PathBuf>) {
    let mut t = LocalTester::new(
        LocalTesterConfig {
            command: format!("{} {spec}", script.display()),
            cwd: Some(dir.to_owned()),
            env: Vec::new(),
            parallel: 1,
            timeout: Duration::from_secs(3600),
            idle_timeout: None,
            crash_regex: None,
            verdict: VerdictMode::Crash,
        },
        CancelToken::new(),
    )
    .unwrap();
    let commit = Commit {
        id: "0123456789abcdef0123456789abcdef01234567".parse().unwrap(),
        title: "bench".into(),
        author_name: String::new(),
        author_email: String::new(),
        author_date: String::new(),
        author_time: 0,
        commit_time: 0,
        parents: Vec::new(),
        body: String::new(),
        trailers: Vec::new(),
    };
    let build = Build {
        compiler: None,
        signature: None,
        artifact: None,
        files_used: None,
        duration: Duration::ZERO,
    };
    let config = BuildConfig::default();
    let logs = dir.join("logs");
    let req = TestRequest {
        commit: &commit,
        config: &config,
        build: &build,
        runs: 1,
        occurrence: 0,
        log_dir: &logs,
    };
    let start = Instant::now();
    let mut got: Option<RunResult> = None;
    t.run(
        &[RunJob {
            request: &req,
            index: 0,
        }],
        &mut |_, r| {
            got = Some(r);
            Ok(())
        },
    )
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    (
        title(&got.unwrap().outcome),
        secs,
        Some(logs.join("run-0-0.log")),
    )
}

/// Before: the last 1 MiB of output kept, searched at the end.
fn tail(script: &Path, spec: &str) -> (String, f64, Option<PathBuf>) {
    let matcher = CrashMatcher::new(None).unwrap();
    let start = Instant::now();
    let cap = 1 << 20;
    let mut console: Vec<u8> = Vec::new();
    Cmd::new(script)
        .arg(spec)
        .output_cap(cap)
        .timeout(Duration::from_secs(3600))
        .run_streaming(&mut |_, chunk| {
            console.extend_from_slice(chunk);
            if console.len() > cap * 2 {
                let cut = console.len() - cap;
                console.drain(..cut);
            }
        })
        .unwrap();
    let cut = console.len().saturating_sub(cap);
    let found = match matcher.find(&console[cut..]) {
        Some(c) => c.title,
        None => "MISSED".into(),
    };
    (found, start.elapsed().as_secs_f64(), None)
}

/// The qemu tester with the script as a fake qemu.
fn qemu(dir: &Path, script: &Path, spec: &str) -> (String, f64, Option<PathBuf>) {
    // The same console behind init's markers.
    let wrapper = dir.join("fake-qemu");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nKBISECT_MARKERS=1 exec {} \"$@\"\n",
            script.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let repro = dir.join("repro.c");
    std::fs::write(&repro, "int main(void) { return 0; }\n").unwrap();
    let t = QemuTester::new(
        QemuTesterConfig {
            qemu: wrapper,
            extra_args: vec![spec.to_owned()],
            crash_wait: Duration::from_secs(3600),
            idle_timeout: Duration::from_secs(60),
            memory_budget_mib: Some(4096),
            ..QemuTesterConfig::new(Reproducer::CSource(repro), dir.join("cache"))
        },
        CancelToken::new(),
    )
    .unwrap();
    let kernel = dir.join("bzImage");
    std::fs::write(&kernel, b"not a kernel").unwrap();
    // Compile outside the timed part.
    t.prepare().unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = dir.join("logs/run-0.log");
    let mut got = None;
    t.run_machines(
        &[QemuRun {
            kernel: &kernel,
            log: log.clone(),
            index: 0,
        }],
        &mut |_, r| {
            got = Some(r);
            true
        },
    )
    .unwrap();
    let r = got.unwrap();
    (title(&r.outcome), r.duration.as_secs_f64(), Some(log))
}

fn hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
