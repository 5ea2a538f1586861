//! Build slots through the binary: `--build-slots N` builds several
//! revisions at once, each in a worktree of its own, finds the planted
//! culprit, leaves no worktree behind (nor does `kbisect clean`), and
//! resumes from its journal, with the same slots or others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use common::*;
use kbisect_testutil::TestRepo;

/// 40 commits; `state` says `bug` from the 28th on.
struct Planted {
    repo: TestRepo,
    first: String,
    culprit: String,
}

fn planted() -> Planted {
    let repo = TestRepo::new();
    let first = repo.commit_file("state", "fine\n", "state: start fine");
    let mut culprit = String::new();
    for i in 1..40 {
        if i == 27 {
            culprit = repo.commit_file("state", "bug\n", "state: break it");
        } else {
            repo.commit_file(&format!("f{i}.txt"), "x\n", &format!("file {i}"));
        }
    }
    Planted {
        repo,
        first,
        culprit,
    }
}

/// The build script: logs its start and end (with its worktree) to `log`,
/// takes a while, and leaves `state` and the commit (every signature
/// differs) in `$KBISECT_OUT`.
fn build_script(dir: &Path, log: &Path) -> String {
    let p = dir.join("build.sh");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"start $KBISECT_COMMIT $KBISECT_WORKTREE\" >> {log}\nsleep 0.3\ncp state \"$KBISECT_OUT/state\"\necho \"$KBISECT_COMMIT\" > \"$KBISECT_OUT/id\"\necho \"end $KBISECT_COMMIT\" >> {log}\n",
            log = log.display()
        ),
    )
    .unwrap();
    format!("sh {}", p.display())
}

fn args(p: &Planted, build: &str, wd: &Path, slots: &str) -> Vec<String> {
    vec![
        "run".into(),
        "--no-progress".into(),
        "--repo".into(),
        p.repo.path().display().to_string(),
        "--bad".into(),
        "master".into(),
        "--good".into(),
        p.first.clone(),
        "--strategy".into(),
        "bayes".into(),
        "--runs".into(),
        "2".into(),
        "--verdict".into(),
        "exit-code".into(),
        "--build".into(),
        build.into(),
        "--test".into(),
        "grep -q bug \"$KBISECT_OUT/state\" && exit 1; exit 0".into(),
        "--build-slots".into(),
        slots.into(),
        "--workdir".into(),
        wd.display().to_string(),
    ]
}

/// The most builds that had started and not ended at one point of the log.
fn most_at_once(log: &str) -> usize {
    let mut open = std::collections::BTreeSet::new();
    let mut most = 0;
    for l in log.lines() {
        let mut f = l.split(' ');
        match (f.next(), f.next()) {
            (Some("start"), Some(c)) => {
                open.insert(c.to_string());
            }
            (Some("end"), Some(c)) => {
                open.remove(c);
            }
            _ => panic!("bad log line {l}"),
        }
        most = most.max(open.len());
    }
    most
}

fn worktrees(repo: &Path) -> String {
    let out = std::process::Command::new("git")
        .args(["worktree", "list", "--porcelain"])
        .current_dir(repo)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn slot_dirs(wd: &Path) -> Vec<PathBuf> {
    (1..3).map(|i| wd.join(format!("worktree-{i}"))).collect()
}

/// A bisection with 3 slots killed at failpoint `point`.
fn killed_at(p: &Planted, build: &str, wd: &Path, point: &str) {
    let out = kbisect()
        .args(args(p, build, wd, "3"))
        .env("KBISECT_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(9), "{:?}", text(&out));
}

/// No extra slot worktree on disk, none registered under `registered`.
fn assert_no_slot_left(p: &Planted, wd: &Path, registered: &str) {
    for d in slot_dirs(wd) {
        assert!(!d.exists(), "{} is left", d.display());
    }
    assert!(!worktrees(p.repo.path()).contains(registered));
}

#[test]
fn builds_run_at_once_in_their_own_worktrees_and_find_the_culprit() {
    let p = planted();
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("builds.log");
    let build = build_script(t.path(), &log);
    let wd = t.path().join("w");
    let out = kbisect().args(args(&p, &build, &wd, "3")).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("{} is the first bad commit", p.culprit)),
        "{stdout}"
    );
    let result = read_json(&wd.join("result.json"));
    assert_eq!(summary(&result).1, vec![p.culprit.clone()]);

    let builds = std::fs::read_to_string(&log).unwrap();
    assert!(
        most_at_once(&builds) >= 2,
        "no two builds at once:\n{builds}"
    );
    assert!(
        builds.lines().any(|l| l.ends_with("/w/worktree-1")),
        "a second slot built:\n{builds}"
    );

    // Finished: no slot's worktree is left, on disk or registered.
    assert!(stderr.contains("more of its build slots"), "{stderr}");
    for d in slot_dirs(&wd).iter().chain([&wd.join("worktree")]) {
        assert!(!d.exists(), "{} is left", d.display());
    }
    let registered = worktrees(p.repo.path());
    assert!(!registered.contains("/w/worktree"), "{registered}");

    // A report replays the journal with the job's slots: the same
    // questions, a full report.
    let rep = kbisect()
        .args(["report", "--format", "json"])
        .arg(&wd)
        .output()
        .unwrap();
    assert_eq!(rep.status.code(), Some(0), "{:?}", text(&rep));

    // Run again: everything comes from the journal, nothing is built.
    let again = kbisect().args(args(&p, &build, &wd, "3")).output().unwrap();
    let (stdout, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), builds);
    assert_eq!(
        summary(&read_json(&wd.join("result.json"))),
        summary(&result)
    );
}

#[test]
fn a_bisection_killed_mid_batch_resumes_to_the_same_result_and_cleans_up() {
    let p = planted();
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("builds.log");
    let build = build_script(t.path(), &log);
    let base = t.path().join("base");
    let out = kbisect()
        .args(args(&p, &build, &base, "3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let want = summary(&read_json(&base.join("result.json")));

    // Killed during its third build: the second wave, slots in use.
    let wd = t.path().join("w");
    killed_at(&p, &build, &wd, "build:3");
    // A git killed mid-write in a second slot's worktree leaves its lock.
    let gitfile = std::fs::read_to_string(wd.join("worktree-1/.git")).unwrap();
    let admin = PathBuf::from(gitfile.trim().strip_prefix("gitdir:").unwrap().trim());
    std::fs::write(admin.join("index.lock"), "").unwrap();

    let out = kbisect().args(args(&p, &build, &wd, "3")).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    assert_eq!(summary(&read_json(&wd.join("result.json"))), want);
    assert_no_slot_left(&p, &wd, "/w/worktree");

    // Resumed with one slot (slots are no part of the job): the plan may
    // differ, the culprit does not, and the idle slots' worktrees go too.
    let wd = t.path().join("w2");
    killed_at(&p, &build, &wd, "build:4");
    assert!(slot_dirs(&wd).iter().all(|d| d.exists()));
    let out = kbisect().args(args(&p, &build, &wd, "1")).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(summary(&read_json(&wd.join("result.json"))).1, want.1);
    assert_no_slot_left(&p, &wd, "/w2/worktree");

    // `kbisect clean` of a killed bisection unregisters every slot's worktree.
    let wd = t.path().join("w3");
    killed_at(&p, &build, &wd, "build:4");
    assert!(worktrees(p.repo.path()).contains("/w3/worktree-2"));
    let out = kbisect()
        .args(["clean", "--yes"])
        .arg(&wd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(!wd.exists());
    let registered = worktrees(p.repo.path());
    assert!(!registered.contains("/w3/worktree"), "{registered}");
}

#[test]
fn zero_build_slots_is_one_clear_line() {
    let p = planted();
    let t = tempfile::tempdir().unwrap();
    let build = build_script(t.path(), &t.path().join("builds.log"));
    let out = kbisect()
        .args(args(&p, &build, &t.path().join("w"), "0"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("kbisect: error: key 'build.slots': 0 builds"),
        "{stderr}"
    );
    assert!(!t.path().join("w").exists());
}
