//! Results other than a culprit, and their exit codes: inconclusive (a range
//! that does not build around the culprit) and horizon (crash on the oldest
//! release).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use kbisect_testutil::TestRepo;

const BUILD: &str = r#"if [ -f broken ]; then echo "src/x.c:3:7: error: expected ';'" >&2; exit 1; fi
cp state "$KBISECT_OUT/state""#;

fn run(repo: &TestRepo, wd: &std::path::Path, good: Option<&str>) -> std::process::Output {
    let scripts = tempfile::tempdir().unwrap();
    let build = scripts.path().join("build.sh");
    std::fs::write(&build, BUILD).unwrap();
    let mut args = vec![
        "run".to_string(),
        "--repo".into(),
        repo.path().display().to_string(),
        "--bad".into(),
        "master".into(),
        "--build".into(),
        format!("sh {}", build.display()),
        "--test".into(),
        "grep -q bug \"$KBISECT_OUT/state\" && echo 'BUG: boom' && exit 1; exit 0".into(),
        "--workdir".into(),
        wd.display().to_string(),
        "--no-progress".into(),
        // git bisect's skip list and syzkaller's horizon are what is
        // checked here (bayes answers "unsure" with posteriors instead).
        "--strategy".into(),
        "syzkaller".into(),
    ];
    if let Some(g) = good {
        args.extend(["--good".to_string(), g.to_string()]);
    }
    kbisect().args(args).output().unwrap()
}

#[test]
fn skipped_revisions_around_the_culprit_are_inconclusive() {
    let repo = TestRepo::new();
    repo.commit_file("state", "ok\n", "init");
    repo.tag("v1.0");
    repo.commit("one");
    let b1 = repo.commit_file("broken", "", "break the build");
    let planted = repo.commit_file("state", "bug\n", "plant the bug");
    repo.git(&["rm", "-q", "broken"]);
    repo.git(&["commit", "-q", "-m", "fix the build"]);
    let t = tempfile::tempdir().unwrap();
    let out = run(&repo, &t.path().join("w"), Some("v1.0"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(10), "{stdout}");
    assert!(stdout.contains("bisection is inconclusive"), "{stdout}");
    let r = read_json(&t.path().join("w/result.json"));
    assert_eq!(r["kind"], "inconclusive");
    let culprits: Vec<&str> = r["culprits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    assert!(
        culprits.contains(&b1.as_str()) && culprits.contains(&planted.as_str()),
        "{culprits:?}"
    );
    let skipped = r["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["verdict"] == "skip")
        .expect("a skipped revision");
    assert_eq!(skipped["build_error"], "src/x.c:3:7: error: expected ';'");
}

#[test]
fn crash_on_the_oldest_release_is_a_horizon() {
    let repo = TestRepo::new();
    repo.commit_file("state", "bug\n", "init");
    repo.tag("v1.0");
    repo.commit("one");
    repo.commit("two");
    let t = tempfile::tempdir().unwrap();
    let out = run(&repo, &t.path().join("w"), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(11),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = read_json(&t.path().join("w/result.json"));
    assert_eq!(r["kind"], "horizon");
    assert!(r["horizon"]["commit"].is_string());
}
