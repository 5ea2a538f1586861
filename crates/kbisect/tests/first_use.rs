//! What a developer coming from `git bisect run` expects (issue 9), through
//! the binary on generated repositories: exit-code verdicts, no build step,
//! crashes in a child of the test script, tags like `name_1.2.3`, re-runs,
//! `kbisect clean`, and generic words where there is no kernel.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use kbisect_testutil::TestRepo;

/// A pure-Python project: `calc.add` breaks at one commit; releases are
/// tagged `calc_1.0.0`, `calc_1.1.0`; a docs-only commit or two.
struct PyRepo {
    repo: TestRepo,
    culprit: String,
}

fn py_repo() -> PyRepo {
    let repo = TestRepo::new();
    let good = "def add(a, b):\n    return a + b\n";
    repo.commit_file("calc.py", good, "calc: add");
    repo.commit_file("README", "calc\n", "docs: readme");
    repo.tag("calc_1.0.0");
    for i in 0..4 {
        repo.commit_file(&format!("extra{i}.py"), "X = 1\n", &format!("extra {i}"));
    }
    repo.tag("calc_1.1.0");
    repo.commit_file("extra9.py", "Y = 2\n", "extra 9");
    let culprit = repo.commit_file(
        "calc.py",
        "def add(a, b):\n    return a + b + (1 if a == 2 else 0)\n",
        "calc: handle the special case of two",
    );
    for i in 4..8 {
        repo.commit_file(&format!("extra{i}.py"), "X = 1\n", &format!("extra {i}"));
    }
    PyRepo { repo, culprit }
}

const PY_TEST: &str = "python3 -c 'import calc; assert calc.add(2, 2) == 4, \"2 + 2\"'";

#[test]
fn python_project_with_exit_code_verdict_no_build_and_version_tags() {
    let py = py_repo();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let out = kbisect()
        .args(["run", "--no-progress", "--repo"])
        .arg(py.repo.path())
        .args(["--bad", "master", "--verdict", "exit-code"])
        .args(["--release-tags", "any-version", "--test", PY_TEST])
        .arg("--workdir")
        .arg(&wd)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("{} is the first bad commit", py.culprit)),
        "{stdout}"
    );
    // The release walk read the version tags, newest first.
    assert!(stdout.contains("testing release calc_1.1.0"), "{stdout}");
    // Generic words: no kernel, no compiler slot filled with a command.
    assert!(!stdout.contains("kernel signature"), "{stdout}");
    assert!(stdout.contains("build signature: "), "{stdout}");
    assert!(
        stdout
            .lines()
            .filter(|l| l.starts_with("testing commit"))
            .all(|l| !l.contains(" with ")),
        "{stdout}"
    );
    assert!(
        stdout.contains("crashed: test failed with exit status 1"),
        "{stdout}"
    );
}

#[test]
fn tags_that_match_no_scheme_name_the_scheme_and_good() {
    let py = py_repo();
    let t = tempfile::tempdir().unwrap();
    let out = kbisect()
        .args(["run", "--no-progress", "--repo"])
        .arg(py.repo.path())
        .args([
            "--bad",
            "master",
            "--verdict",
            "exit-code",
            "--test",
            PY_TEST,
        ])
        .arg("--workdir")
        .arg(t.path().join("w"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    assert!(stderr.contains("vX.Y"), "{stderr}");
    assert!(stderr.contains("--good"), "{stderr}");
}

#[test]
fn a_crash_in_a_child_of_the_test_script_is_a_crash() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    // The wrapper does not exec: it sees its child die of SIGSEGV and exits 139.
    let wrapper = fx.scripts.path().join("wrapper.sh");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\necho running the program\nsh -c 'grep -q bug \"$KBISECT_OUT/state\" && kill -SEGV $$; exit 0'\n",
    )
    .unwrap();
    let mut args = fx.run_args(&t.path().join("w"));
    let i = args.iter().position(|a| a == "--test").unwrap();
    args[i + 1] = format!("sh {}", wrapper.display());
    let out = kbisect().args(&args).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("crashed: killed by signal 11 (SIGSEGV)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} is the first bad commit", fx.culprit)),
        "{stdout}"
    );
}

#[test]
fn the_line_a_crash_regex_matched_is_shown() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let script = fx.scripts.path().join("traceback.sh");
    // Like a Python traceback: the echoed source line mentions the word too.
    std::fs::write(
        &script,
        "#!/bin/sh\nif grep -q bug \"$KBISECT_OUT/state\"; then\n  echo '  raise Fatal(\"x\")'\n  echo 'Fatal: frob went wrong'\n  exit 1\nfi\n",
    )
    .unwrap();
    let mut args = fx.run_args(&t.path().join("w"));
    let i = args.iter().position(|a| a == "--test").unwrap();
    args[i + 1] = format!("sh {}", script.display());
    args.extend(["--crash-regex".into(), "^Fatal: (?P<title>.*)".into()]);
    let out = kbisect().args(&args).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("crashed: frob went wrong (matched: Fatal: frob went wrong)"),
        "{stdout}"
    );
}

fn worktrees(repo: &Path) -> String {
    let out = std::process::Command::new("git")
        .args(["worktree", "list", "--porcelain"])
        .current_dir(repo)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn re_running_says_so_fresh_starts_over_and_clean_removes_everything() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let first = kbisect().args(fx.run_args(&wd)).output().unwrap();
    let (_, stderr) = text(&first);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("starting a new bisection"), "{stderr}");
    // A finished bisection leaves no worktree registered in the repository.
    assert!(
        !worktrees(fx.repo.path()).contains("/w/worktree"),
        "{}",
        worktrees(fx.repo.path())
    );

    let again = kbisect().args(fx.run_args(&wd)).output().unwrap();
    let (_, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("resuming")
            && stderr.contains("builds and")
            && stderr.contains("runs already recorded"),
        "{stderr}"
    );

    // A changed job names what changed and the way out.
    let mut changed = fx.run_args(&wd);
    changed.extend(["--test-timeout".into(), "7s".into()]);
    let out = kbisect().args(&changed).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains("test.timeout") && stderr.contains("--fresh"),
        "{stderr}"
    );

    changed.push("--fresh".into());
    let out = kbisect().args(&changed).output().unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("kept as"), "{stderr}");
    assert!(t.path().join("w.old-1/journal.jsonl").is_file());

    let out = kbisect()
        .args(["clean", "--yes"])
        .arg(&wd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert!(!wd.exists());
    assert!(!worktrees(fx.repo.path()).contains("/w/worktree"));
    // Without --yes and without a terminal to ask on, nothing is removed.
    let old = t.path().join("w.old-1");
    let out = kbisect().arg("clean").arg(&old).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(old.exists());
}
