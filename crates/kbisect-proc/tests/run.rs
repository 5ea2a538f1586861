#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use kbisect_proc::{CancelToken, Cmd, ProcError, Status, Stream};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

fn sh(script: &str) -> Cmd {
    Cmd::new("sh").arg("-c").arg(script)
}

/// Whether `pid` still exists (zombies reaped by init quickly do not count for long).
fn alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None) != Err(Errno::ESRCH)
}

fn wait_dead(pid: i32, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn exit_code_and_output_are_reported() {
    let out = sh("echo out; echo err >&2; exit 3").run().unwrap();
    assert_eq!(out.status, Status::Exited(3));
    assert!(!out.success());
    assert_eq!(out.stdout_str(), "out\n");
    assert_eq!(out.stderr_tail(10), "err");
    assert_eq!((out.stdout_dropped, out.stderr_dropped), (0, 0));

    let ok = sh("true").run_checked().unwrap();
    assert!(ok.success());
}

#[test]
fn run_checked_reports_argv_status_and_stderr() {
    let err = sh("echo first >&2; echo boom >&2; exit 2")
        .run_checked()
        .unwrap_err();
    match &err {
        ProcError::Failed {
            argv,
            status,
            stderr_tail,
        } => {
            assert!(argv.starts_with("sh -c "), "{argv}");
            assert_eq!(*status, Status::Exited(2));
            assert_eq!(stderr_tail, "first\nboom");
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(err.to_string().contains("exit status 2"));
}

#[test]
fn signal_is_reported() {
    let out = sh("kill -SEGV $$").run().unwrap();
    assert_eq!(out.status, Status::Signaled(11));
}

#[test]
fn timeout_kills_a_child_that_ignores_term() {
    let start = Instant::now();
    let out = sh("trap '' TERM; echo ready; sleep 100; echo never")
        .timeout(Duration::from_millis(300))
        .grace(Duration::from_millis(500))
        .run()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status, Status::TimedOut);
    assert_eq!(out.stdout_str(), "ready\n");
    assert!(took >= Duration::from_millis(700), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn grandchildren_die_with_the_child() {
    // The background sleep keeps stdout open; it must not keep us waiting.
    let start = Instant::now();
    let out = sh("sleep 100 & echo $!; exec sleep 100")
        .timeout(Duration::from_millis(300))
        .grace(Duration::from_millis(200))
        .run()
        .unwrap();
    assert_eq!(out.status, Status::TimedOut);
    assert!(start.elapsed() < Duration::from_secs(10));
    let pid: i32 = out.stdout_str().trim().parse().unwrap();
    assert!(
        wait_dead(pid, Duration::from_secs(5)),
        "grandchild {pid} survived"
    );
}

#[test]
fn grandchildren_die_after_a_normal_exit() {
    let start = Instant::now();
    let out = sh("sleep 100 & echo $!").run().unwrap();
    assert_eq!(out.status, Status::Exited(0));
    assert!(start.elapsed() < Duration::from_secs(10));
    let pid: i32 = out.stdout_str().trim().parse().unwrap();
    assert!(
        wait_dead(pid, Duration::from_secs(5)),
        "grandchild {pid} survived"
    );
}

#[test]
fn huge_output_is_capped_keeping_the_tail() {
    // 100 MiB of zeros on stdout, then a marker; 3 bytes on stderr.
    let cap = 1 << 20;
    let out = sh("head -c 104857600 /dev/zero; printf END; printf abc >&2")
        .output_cap(cap)
        .run()
        .unwrap();
    assert!(out.success());
    assert_eq!(out.stdout.len(), cap);
    assert!(out.stdout.ends_with(b"\0\0END"));
    assert_eq!(out.stdout_dropped, 104_857_600 + 3 - cap as u64);
    assert_eq!(out.stderr, b"abc");
    assert_eq!(out.stderr_dropped, 0);
}

#[test]
fn streaming_sees_every_byte() {
    let mut seen = Vec::new();
    let mut err_seen = Vec::new();
    let out = sh("for i in 1 2 3; do echo line$i; done; echo e >&2")
        .output_cap(4)
        .run_streaming(&mut |s, b| match s {
            Stream::Stdout => seen.extend_from_slice(b),
            Stream::Stderr => err_seen.extend_from_slice(b),
        })
        .unwrap();
    assert_eq!(seen, b"line1\nline2\nline3\n");
    assert_eq!(err_seen, b"e\n");
    assert_eq!(out.stdout, b"ne3\n");
    assert_eq!(out.stdout_dropped, 14);
}

#[test]
fn idle_timeout_fires_only_on_silence() {
    let out = sh("for i in 1 2 3 4 5 6; do echo tick; sleep 0.1; done")
        .idle_timeout(Duration::from_secs(3))
        .run()
        .unwrap();
    assert_eq!(out.status, Status::Exited(0));

    let start = Instant::now();
    let out = sh("echo hello; sleep 100")
        .idle_timeout(Duration::from_millis(400))
        .grace(Duration::from_millis(200))
        .run()
        .unwrap();
    assert_eq!(out.status, Status::NoOutput);
    assert_eq!(out.stdout_str(), "hello\n");
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn cancel_token_stops_the_group() {
    let token = CancelToken::new();
    let t2 = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        t2.cancel();
    });
    let start = Instant::now();
    let out = sh("sleep 100").cancel(token).run().unwrap();
    canceller.join().unwrap();
    assert_eq!(out.status, Status::Cancelled);
    assert!(start.elapsed() < Duration::from_secs(10));

    // Already cancelled: stops at once.
    let token = CancelToken::new();
    token.cancel();
    let out = sh("sleep 100").cancel(token).run().unwrap();
    assert_eq!(out.status, Status::Cancelled);
}

#[test]
fn missing_program_is_not_found() {
    let err = Cmd::new("kbisect-no-such-program").run().unwrap_err();
    assert!(
        matches!(&err, ProcError::NotFound { program } if program == "kbisect-no-such-program"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "program not found: kbisect-no-such-program"
    );

    let err = Cmd::new("true").cwd("/nonexistent/dir").run().unwrap_err();
    assert!(matches!(err, ProcError::Spawn { .. }), "{err:?}");
}

#[test]
fn explicit_env_wins() {
    let out = Cmd::new("env")
        .env("LC_ALL", "en_US.UTF-8")
        .env("GIT_EXPLICIT", "kept")
        .run()
        .unwrap();
    let env = out.stdout_str();
    assert!(env.lines().any(|l| l == "LC_ALL=en_US.UTF-8"), "{env}");
    assert!(env.lines().any(|l| l == "GIT_EXPLICIT=kept"), "{env}");
}

/// Runs in a re-executed copy of this test binary whose environment has
/// `GIT_DIR` set (setting it here would need `unsafe` `set_var`).
#[test]
fn env_helper_child() {
    if std::env::var_os("KBISECT_ENV_HELPER").is_none() {
        return;
    }
    assert_eq!(std::env::var("GIT_DIR").unwrap(), "/tmp/not-a-repo");
    let out = Cmd::new("env").run().unwrap();
    let env = out.stdout_str();
    assert!(env.lines().any(|l| l == "LC_ALL=C"), "{env}");
    assert!(!env.lines().any(|l| l.starts_with("GIT_")), "{env}");
    assert!(env.lines().any(|l| l == "KBISECT_ENV_HELPER=1"), "{env}");
}

#[test]
fn git_variables_of_the_parent_are_not_inherited() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "env_helper_child", "--nocapture"])
        .env("KBISECT_ENV_HELPER", "1")
        .env("GIT_DIR", "/tmp/not-a-repo")
        .env("GIT_WORK_TREE", "/tmp")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 passed"), "{text}");
}

#[test]
fn stdin_bytes_are_fed() {
    let out = Cmd::new("cat")
        .stdin_bytes(b"hello stdin".to_vec())
        .run()
        .unwrap();
    assert_eq!(out.stdout_str(), "hello stdin");
    // Default stdin is /dev/null: cat ends at once.
    let out = Cmd::new("cat")
        .timeout(Duration::from_secs(20))
        .run()
        .unwrap();
    assert_eq!(out.status, Status::Exited(0));
    // A child that never reads a large stdin still finishes.
    let out = sh("exit 0").stdin_bytes(vec![0; 1 << 20]).run().unwrap();
    assert!(out.success());
}

#[test]
fn an_escaped_process_holding_the_pipes_does_not_block() {
    if std::process::Command::new("setsid")
        .arg("--version")
        .output()
        .is_err()
    {
        return;
    }
    // setsid leaves our process group, so the group kill cannot reach it;
    // it keeps stdout open for 8 s, yet the run ends soon after sh exits.
    let start = Instant::now();
    let out = sh("setsid sleep 8 & echo started").run().unwrap();
    assert_eq!(out.status, Status::Exited(0));
    assert_eq!(out.stdout_str(), "started\n");
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn descendants_that_leave_the_group_are_ended_with_the_command() {
    let d = tempfile::tempdir().unwrap();
    let pidfile = d.path().join("daemon.pid");
    // A daemon in a session of its own, out of reach of killpg.
    let script = format!(
        "setsid sh -c 'echo $$ > {0}; exec sleep 1000' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {0} ]; do sleep 0.01; done; echo started",
        pidfile.display()
    );
    let out = Cmd::new("sh")
        .arg("-c")
        .arg(&script)
        .end_escapees()
        .timeout(Duration::from_secs(20))
        .run()
        .unwrap();
    assert!(out.stdout_str().contains("started"));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Gone (or a zombie waiting for init to reap it).
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "the setsid daemon {pid} survived its command");
}
