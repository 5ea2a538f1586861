//! `kill -9` during a build and during runs, then the same command again:
//! same result as an uninterrupted run, no run done twice or lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::*;

fn marks(dir: &Path, prefix: &str) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

fn wait_for(child: &mut Child, what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "kbisect ended before {what}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill9(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// The fixture's run with syzkaller's strategy: these tests count on its
/// 20 runs on the first revision (bayes, the default, makes 2 there).
fn syz_args(fx: &Fixture, wd: &Path) -> Vec<String> {
    let mut a = fx.run_args(wd);
    a.extend(["--strategy".to_string(), "syzkaller".to_string()]);
    a
}

/// Runs to the end; returns (summary, builds, runs) of the work dir.
fn finish(fx: &Fixture, wd: &Path) -> (Summary, usize, usize) {
    let out = kbisect().args(syz_args(fx, wd)).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let j = journal(wd);
    let mut keys: Vec<String> = j
        .iter()
        .filter(|e| e["type"] == "run")
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["commit"], e["config_hash"], e["occurrence"], e["index"]
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "a run was recorded twice");
    (
        summary(&read_json(&wd.join("result.json"))),
        count(&j, "build"),
        count(&j, "run"),
    )
}

#[test]
fn kill_during_build_and_during_runs_then_resume() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let baseline = finish(&fx, &tmp.path().join("baseline"));
    assert_eq!(baseline.0.1, vec![fx.culprit.clone()]);

    // Killed while the second revision builds.
    let wd = tmp.path().join("mid-build");
    let m = tmp.path().join("marks-build");
    std::fs::create_dir_all(&m).unwrap();
    let mut child = kbisect()
        .args(syz_args(&fx, &wd))
        .env("MARKS", &m)
        .env("BUILD_DELAY", "0.4")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, "the second build", || marks(&m, "build-") >= 2);
    std::thread::sleep(Duration::from_millis(100));
    kill9(child);
    let before = journal(&wd);
    assert_eq!(count(&before, "build"), 1, "killed during the second build");
    assert_eq!(count(&before, "run"), 20);
    let resumed = finish(&fx, &wd);
    assert_eq!(resumed, baseline);

    // Killed in the middle of the first revision's runs.
    let wd = tmp.path().join("mid-runs");
    let m = tmp.path().join("marks-runs");
    std::fs::create_dir_all(&m).unwrap();
    let mut child = kbisect()
        .args(syz_args(&fx, &wd))
        .env("MARKS", &m)
        .env("RUN_DELAY", "0.15")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, "the 7th run", || marks(&m, "run-") >= 7);
    kill9(child);
    let before = journal(&wd);
    let runs_before = count(&before, "run");
    assert!(
        (4..20).contains(&runs_before),
        "{runs_before} runs recorded"
    );
    // A torn last line, as if killed while writing it.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(wd.join("journal.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"type\":\"run\",\"commit\":\"").unwrap();
    drop(f);
    let resumed = finish(&fx, &wd);
    assert_eq!(resumed, baseline);
}

/// Whether `pid` is running (a zombie is not).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')')
                .next()
                .map(|r| !r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn build_left_running_by_kill9_is_ended_on_resume() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let wd = tmp.path().join("wd");
    let m = tmp.path().join("marks");
    std::fs::create_dir_all(&m).unwrap();
    let mut child = kbisect()
        .args(syz_args(&fx, &wd))
        .env("MARKS", &m)
        .env("BUILD_DELAY", "60")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The mark exists before the shell has written its pid into it: wait
    // for the pid itself.
    let pid_of_build = || {
        let mark = std::fs::read_dir(&m).ok()?.next()?.ok()?.path();
        let pid = std::fs::read_to_string(mark).ok()?.trim().to_string();
        (!pid.is_empty()).then_some(pid)
    };
    wait_for(&mut child, "the first build", || pid_of_build().is_some());
    kill9(child);
    let pid = pid_of_build().unwrap();
    assert!(
        alive(&pid),
        "the orphaned build should still run after kill -9"
    );
    let out = kbisect().args(syz_args(&fx, &wd)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ended 1 process group"), "{stderr}");
    assert!(!alive(&pid), "the orphaned build was not ended");
}

#[test]
fn second_process_on_the_same_workdir_is_refused() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let wd = tmp.path().join("w");
    let mut first = kbisect()
        .args(syz_args(&fx, &wd))
        .env("BUILD_DELAY", "5")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id();
    wait_for(&mut first, "the lock", || {
        std::fs::read_to_string(wd.join("lock")).is_ok_and(|s| s.trim() == pid.to_string())
    });
    let out = kbisect().args(syz_args(&fx, &wd)).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains(&format!("is in use by pid {pid}")),
        "{stderr}"
    );
    let st = kbisect().arg("status").arg(&wd).output().unwrap();
    assert!(String::from_utf8_lossy(&st.stdout).contains(&format!("running (pid {pid})")));
    kill9(first);
}

#[test]
fn ctrl_c_stops_the_children_and_leaves_a_resumable_work_dir() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let wd = tmp.path().join("w");
    let m = tmp.path().join("marks");
    std::fs::create_dir_all(&m).unwrap();
    let mut child = kbisect()
        .args(syz_args(&fx, &wd))
        .env("MARKS", &m)
        .env("RUN_DELAY", "2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&mut child, "the first runs", || marks(&m, "run-") >= 2);
    let t = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("resumable"), "{stderr}");
    // The 2-second runs were stopped, not waited for.
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
    assert!(!wd.join("result.json").exists());
    let (summary, _, _) = finish(&fx, &wd);
    assert_eq!(summary.1, vec![fx.culprit.clone()]);
}
