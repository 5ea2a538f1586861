//! Defects found under faults (issue 8), each pinned through the binary:
//! stale git locks, transient build failures, settings that cannot work,
//! the demo killed while generating, the user's worktrees, closed pipes,
//! exit codes and messages, a start that moves, a moved work dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::*;

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(9)
}

fn with(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    match args.iter().position(|x| x == flag) {
        Some(i) => args[i + 1] = value.to_string(),
        None => args.extend([flag.to_string(), value.to_string()]),
    }
    args
}

/// The git admin dir of kbisect's worktree in `wd`.
fn admin_dir(wd: &Path) -> PathBuf {
    let text = std::fs::read_to_string(wd.join("worktree/.git")).unwrap();
    PathBuf::from(text.trim().strip_prefix("gitdir:").unwrap().trim())
}

#[test]
fn a_stale_index_lock_in_kbisects_worktree_does_not_block_resume() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    // Killed during its second build, as a kill -9 in a checkout would leave it.
    let out = kbisect()
        .args(fx.run_args(&wd))
        .env("KBISECT_FAILPOINT", "build:2")
        .output()
        .unwrap();
    assert!(killed(&out), "{:?}", out.status);
    std::fs::write(admin_dir(&wd).join("index.lock"), "").unwrap();
    let out = kbisect().args(fx.run_args(&wd)).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("{} is the first bad commit", fx.culprit)));
}

#[test]
fn a_full_disk_during_a_build_is_transient_and_retried() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let flag = t.path().join("disk-full");
    let build = fx.scripts.path().join("build-full.sh");
    std::fs::write(
        &build,
        format!(
            "#!/bin/sh\nif [ -e {} ]; then echo 'cp: error writing state: No space left on device' >&2; exit 1; fi\ncp state \"$KBISECT_OUT/state\"\n",
            flag.display()
        ),
    )
    .unwrap();
    let args = with(
        fx.run_args(&wd),
        "--build",
        &format!("sh {}", build.display()),
    );
    std::fs::write(&flag, "").unwrap();
    let out = kbisect().args(&args).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(20), "{stderr}");
    assert!(stderr.contains("the disk is full"), "{stderr}");
    assert!(
        stderr.contains("running the same command again retries it"),
        "{stderr}"
    );
    let j = journal(&wd);
    assert_eq!(count(&j, "transient"), 1);
    assert_eq!(count(&j, "build"), 0, "nothing recorded as a verdict");
    std::fs::remove_file(&flag).unwrap();
    let out = kbisect().args(&args).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("retried 1"), "{stderr}");
    assert!(stdout.contains(&format!("{} is the first bad commit", fx.culprit)));
}

#[test]
fn a_build_timeout_is_transient_and_a_longer_timeout_resumes() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let args = with(fx.run_args(&wd), "--build-timeout", "1s");
    let out = kbisect()
        .args(&args)
        .env("BUILD_DELAY", "5")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    // On the start commit too: an infrastructure error, not "not reproduced".
    assert_eq!(out.status.code(), Some(20), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(!stderr.contains("wasn't reproduced"), "{stderr}");
    let args = with(args, "--build-timeout", "60s");
    let out = kbisect().args(&args).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
}

#[test]
fn settings_that_cannot_work_are_refused() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let mut args = with(fx.run_args(&t.path().join("w")), "--runs", "1");
    // syzkaller's rule needs two crashed runs (bayes chooses its own runs).
    args.extend(["--strategy".to_string(), "syzkaller".to_string()]);
    let out = kbisect().args(args).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("runs >= 2"), "{stderr}");
    // A known-good commit that cannot be tested is not trusted.
    let v1 = fx.repo.git(&["rev-parse", "v1.0"]);
    let build = fx.scripts.path().join("build-v1-broken.sh");
    std::fs::write(
        &build,
        format!(
            "#!/bin/sh\n[ \"$KBISECT_COMMIT\" = {v1} ] && {{ echo 'x.c:1:1: error: broken' >&2; exit 1; }}\ncp state \"$KBISECT_OUT/state\"\n"
        ),
    )
    .unwrap();
    let out = kbisect()
        .args(with(
            fx.run_args(&t.path().join("w2")),
            "--build",
            &format!("sh {}", build.display()),
        ))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(6), "{stdout}\n{stderr}");
    assert!(stderr.contains("could not be tested"), "{stderr}");
    assert!(!stdout.contains("is the first bad commit"), "{stdout}");
}

#[test]
fn the_users_own_worktrees_survive() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let users = t.path().join("users-worktree");
    fx.repo.git(&[
        "worktree",
        "add",
        "-q",
        "--detach",
        users.to_str().unwrap(),
        "v1.0",
    ]);
    // Its disk is unmounted for now: the directory is missing.
    std::fs::remove_dir_all(&users).unwrap();
    let out = kbisect()
        .args(fx.run_args(&t.path().join("w")))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let list = fx.repo.git(&["worktree", "list", "--porcelain"]);
    assert!(list.contains("users-worktree"), "{list}");
}

#[test]
fn a_closed_pipe_or_a_full_device_is_no_panic() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    assert_eq!(
        kbisect()
            .args(fx.run_args(&wd))
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    for args in [
        vec!["status".to_string(), wd.display().to_string()],
        vec![
            "parse-log".to_string(),
            wd.join("bisect.log").display().to_string(),
        ],
        vec!["demo".to_string(), "--no-progress".to_string()],
    ] {
        // `| head -1` with nothing read: the first write finds the pipe closed.
        let mut child = kbisect()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
        // A full device is one clear line.
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = kbisect().args(&args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn exit_codes_and_messages_say_what_is_wrong() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    // A branch that does not exist is bad input, not an infrastructure error.
    let out = kbisect()
        .args(with(fx.run_args(&t.path().join("w")), "--branch", "nope"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("branch 'nope' does not exist"), "{stderr}");
    // A work dir that cannot be created names the OS error once.
    let file = t.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = kbisect()
        .args(fx.run_args(&file.join("sub")))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");
    // A repository git refuses says why.
    let theirs = kbisect_testutil::TestRepo::new();
    theirs.commit_file("f", "x\n", "init");
    let chown = std::process::Command::new("chown")
        .args(["-R", "65534"])
        .arg(theirs.path())
        .status()
        .unwrap();
    if chown.success() {
        let out = kbisect()
            .args(with(
                fx.run_args(&t.path().join("w3")),
                "--repo",
                theirs.path().to_str().unwrap(),
            ))
            .output()
            .unwrap();
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("dubious ownership"), "{stderr}");
        assert!(stderr.contains("safe.directory"), "{stderr}");
    }
}

#[test]
fn a_start_given_as_a_branch_stays_pinned_when_the_branch_moves() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let out = kbisect()
        .args(fx.run_args(&wd))
        .env("KBISECT_FAILPOINT", "build:3")
        .output()
        .unwrap();
    assert!(killed(&out));
    let moved = fx.repo.commit("change after the crash was seen");
    let out = kbisect().args(fx.run_args(&wd)).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("pinned to {}", fx.head)) && stderr.contains(&moved),
        "{stderr}"
    );
    assert!(stdout.contains(&format!("{} is the first bad commit", fx.culprit)));
}

#[test]
fn a_moved_work_dir_rebuilds_nothing() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    assert_eq!(
        kbisect()
            .args(fx.run_args(&wd))
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    let moved = t.path().join("moved");
    std::fs::rename(&wd, &moved).unwrap();
    let out = kbisect().args(fx.run_args(&moved)).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("builds: 0 new"), "{stderr}");
    assert!(stderr.contains("runs: 0 new"), "{stderr}");
}

#[test]
fn a_demo_killed_while_generating_resumes_and_leaks_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let demo = |env: Option<&str>, workdir: bool| {
        let mut c = kbisect();
        c.args(["demo", "--no-progress", "--repro-chance", "1"])
            .env("TMPDIR", t.path());
        if workdir {
            c.arg("--workdir").arg(&dir);
        }
        if let Some(e) = env {
            c.env("KBISECT_FAILPOINT", e);
        }
        c.output().unwrap()
    };
    assert!(killed(&demo(Some("demo-generate:5"), true)));
    let out = demo(None, true);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("found the planted culprit"), "{stdout}");
    // Without --workdir the temp dir of a killed demo goes on the next run.
    assert!(killed(&demo(Some("demo-generate:5"), false)));
    let leftovers = || {
        std::fs::read_dir(t.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("kbisect-demo-")
            })
            .count()
    };
    assert_eq!(leftovers(), 1);
    assert_eq!(demo(None, false).status.code(), Some(0));
    assert_eq!(leftovers(), 0);
}

#[test]
fn an_interrupted_demo_exits_130() {
    let t = tempfile::tempdir().unwrap();
    let mut child = kbisect()
        .args(["demo", "--no-progress"])
        .env("TMPDIR", t.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the bisection is under way.
    let mut stdout = child.stdout.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("testing commit") {
        let n = std::io::Read::read(&mut stdout, &mut buf).unwrap();
        assert!(
            n > 0,
            "demo ended early: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("temp dir is removed"), "{stderr}");
    assert!(!stderr.contains("resumable: run the same"), "{stderr}");
}

#[test]
fn daemons_a_test_starts_are_ended_with_it() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let pids = t.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let script = fx.scripts.path().join("daemon.sh");
    // Each run leaves a daemon in a session of its own, then tests.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsetsid sh -c 'echo $$ > {0}/.$KBISECT_RUN-$$ && mv {0}/.$KBISECT_RUN-$$ {0}/$KBISECT_RUN-$$; exec sleep 1000' </dev/null >/dev/null 2>&1 &\nexec sh {1}\n",
            pids.display(),
            fx.path("repro.sh").display()
        ),
    )
    .unwrap();
    let mut args = with(
        fx.run_args(&t.path().join("w")),
        "--test",
        &format!("sh {}", script.display()),
    );
    // Many runs, many daemons: syzkaller's 20 and 10 per revision.
    args.extend(["--strategy".to_string(), "syzkaller".to_string()]);
    let out = kbisect().args(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    // A pid is written to a hidden file and renamed, so a daemon ended
    // before it wrote its pid leaves no half-written file behind.
    let started: Vec<i32> = std::fs::read_dir(&pids)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| std::fs::read_to_string(p).unwrap().trim().parse().unwrap())
        .collect();
    assert!(started.len() > 10, "{started:?}");
    let alive = || -> Vec<i32> {
        started
            .iter()
            .copied()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .is_ok_and(|s| !s.contains(") Z "))
            })
            .collect()
    };
    // Killed daemons may take a moment to be reaped on a loaded machine:
    // wait for them to go (a daemon kbisect missed would sleep 1000 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !alive().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(alive().is_empty(), "daemons left running: {:?}", alive());
}
