//! `--verify-revert`: after the culprit is found, the start commit is built
//! and run with the culprit reverted. The crash gone verifies the result;
//! still crashing marks it unreliable; a revert that does not apply says
//! so. The user's checkout is never touched and a resumed run answers the
//! check from its journal.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kbisect_testutil::{FakeProgram, TestRepo, fake_programs};

/// Copies `state` and `extra` (if there) into the artifact.
const BUILD: &str = r#"#!/bin/sh
cat state > "$KBISECT_OUT/state"
[ -f extra ] && cat extra >> "$KBISECT_OUT/state"
exit 0
"#;

fn run(args: &[String]) -> (i32, String, String) {
    let out = kbisect().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_crash_is_gone_with_the_culprit_reverted() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let status = fx.repo.git(&["status", "--porcelain"]);
    for strategy in ["bayes", "syzkaller"] {
        let wd = tmp.path().join(strategy);
        let mut args = fx.run_args(&wd);
        args.extend([
            "--verify-revert".into(),
            "--strategy".into(),
            strategy.into(),
        ]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{out}\n{err}");
        let r = read_json(&wd.join("result.json"));
        assert_eq!(r["culprits"][0]["commit"], fx.culprit.as_str());
        let rv = &r["revert"];
        assert_eq!(rv["outcome"], "gone", "{rv}");
        assert_eq!(rv["base"], fx.head.as_str());
        assert_eq!(rv["crashed"], 0);
        assert!(rv["runs"].as_u64().unwrap() >= 1, "{rv}");
        let made = rv["commit"].as_str().unwrap().to_string();
        assert_eq!(fx.repo.git(&["rev-parse", &format!("{made}^")]), fx.head);
        assert_eq!(r["flags"]["unreliable"], false);
        let log = std::fs::read_to_string(wd.join("bisect.log")).unwrap();
        assert!(
            log.contains(&format!(
                "testing {} with {} reverted (commit {made})",
                fx.head, fx.culprit
            )),
            "{log}"
        );
        assert!(log.contains("revert check: the crash is gone (0/"), "{log}");

        // Again: the journal answers, nothing is built or run.
        let before = journal(&wd).len();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{out}\n{err}");
        assert_eq!(journal(&wd).len(), before);
        assert_eq!(read_json(&wd.join("result.json"))["revert"], *rv);
    }
    assert_eq!(fx.repo.git(&["status", "--porcelain"]), status);
    assert_eq!(fx.repo.head(), fx.head);
}

/// v1.0, a commit, the culprit (`state` says bug), then `last`.
fn repo_with(last: (&str, &str)) -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.commit_file("state", "ok\n", "init");
    repo.tag("v1.0");
    repo.commit("change 1");
    let culprit = repo.commit_file("state", "bug\n", "frob: plant the bug");
    repo.commit("change 2");
    repo.commit_file(last.0, last.1, "the last change");
    (repo, culprit)
}

fn args(repo: &TestRepo, scripts: &tempfile::TempDir, wd: &std::path::Path) -> Vec<String> {
    let sh = |n: &str| format!("sh {}", scripts.path().join(n).display());
    [
        "run",
        "--repo",
        &repo.path().display().to_string(),
        "--bad",
        "master",
        "--good",
        "v1.0",
        "--build",
        &sh("build.sh"),
        "--test",
        &sh("repro.sh"),
        "--workdir",
        &wd.display().to_string(),
        "--strategy",
        "syzkaller",
        "--verify-revert",
        "--no-progress",
    ]
    .map(String::from)
    .to_vec()
}

fn scripts() -> tempfile::TempDir {
    fake_programs(&[
        FakeProgram {
            name: "build.sh",
            script: BUILD,
        },
        FakeProgram {
            name: "repro.sh",
            script: kbisect_testutil::STATE_TEST,
        },
    ])
}

#[test]
fn a_revert_that_still_crashes_fails_verification() {
    // A later commit brings the bug in a second way: reverting the first
    // one on the start commit does not make the crash go away.
    let (repo, culprit) = repo_with(("extra", "bug\n"));
    let s = scripts();
    let tmp = tempfile::tempdir().unwrap();
    let wd = tmp.path().join("w");
    let (code, out, err) = run(&args(&repo, &s, &wd));
    assert_eq!(code, 0, "{out}\n{err}");
    let r = read_json(&wd.join("result.json"));
    assert_eq!(r["culprits"][0]["commit"], culprit.as_str());
    assert_eq!(r["revert"]["outcome"], "still_crashes", "{}", r["revert"]);
    assert!(r["revert"]["crashed"].as_u64().unwrap() >= 1);
    assert_eq!(r["flags"]["unreliable"], true);
    let log = std::fs::read_to_string(wd.join("bisect.log")).unwrap();
    assert!(
        log.contains("revert check: FAILED: the revert still crashes"),
        "{log}"
    );
    assert!(log.contains("still crashing with it reverted"), "{log}");
}

#[test]
fn a_revert_that_does_not_apply_says_so() {
    // The last change rewrites the culprit's line: the revert conflicts.
    let (repo, culprit) = repo_with(("state", "bug, and more\n"));
    let s = scripts();
    let tmp = tempfile::tempdir().unwrap();
    let wd = tmp.path().join("w");
    let (code, out, err) = run(&args(&repo, &s, &wd));
    assert_eq!(code, 0, "{out}\n{err}");
    let r = read_json(&wd.join("result.json"));
    assert_eq!(r["culprits"][0]["commit"], culprit.as_str());
    assert_eq!(r["revert"]["outcome"], "does_not_apply");
    assert_eq!(r["revert"]["commit"], serde_json::Value::Null);
    assert_eq!(r["flags"]["unreliable"], false);
    let log = std::fs::read_to_string(wd.join("bisect.log")).unwrap();
    assert!(log.contains("does not apply cleanly"), "{log}");
}
