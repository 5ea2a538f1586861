//! `kbisect demo` finds the culprit it planted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn demo_finds_the_planted_culprit() {
    let out = common::kbisect()
        .args(["demo", "--no-progress"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("found the planted culprit"), "{stdout}");
    assert!(stdout.contains("testing release v1.3"), "{stdout}");
}

#[test]
fn demo_with_workdir_resumes_from_its_journal() {
    let d = tempfile::tempdir().unwrap();
    let args = [
        "demo",
        "--no-progress",
        "--seed",
        "2",
        "--workdir",
        d.path().to_str().unwrap(),
    ];
    let first = common::kbisect().args(args).output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
    let again = common::kbisect().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 builds, 0 runs"), "{stdout}");
    assert!(stdout.contains("found the planted culprit"), "{stdout}");
}
