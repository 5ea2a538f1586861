//! The default strategy of a generic project (bayes) through the binary:
//! it finds the culprit, its result carries the posterior and the
//! verification table, and a run killed in the middle and resumed asks the
//! journal the same questions and reaches the same result.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;

fn finish(fx: &Fixture, wd: &std::path::Path) -> (Summary, serde_json::Value) {
    let out = kbisect().args(fx.run_args(wd)).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r = read_json(&wd.join("result.json"));
    (summary(&r), r)
}

#[test]
fn bayes_is_the_default_and_resumes_to_the_same_result() {
    let fx = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (base, r) = finish(&fx, &tmp.path().join("baseline"));
    assert_eq!(r["strategy"], "bayes");
    assert_eq!(r["kind"], "culprit");
    assert_eq!(base.1, vec![fx.culprit.clone()]);
    assert!(r["confidence"].as_f64().unwrap() >= 0.95, "{r}");
    let v = &r["verification"];
    assert_eq!(v["verified"], true, "{v}");
    assert_eq!(v["rows"][0]["role"], "culprit");
    assert!(v["rows"][0]["crashed"].as_u64().unwrap() >= 1, "{v}");
    let log = std::fs::read_to_string(tmp.path().join("baseline/bisect.log")).unwrap();
    assert!(log.contains("culprit posterior: "), "{log}");
    assert!(log.contains("verification: parent "), "{log}");

    // Killed in the middle of its runs, then resumed: the same requests,
    // answered by the journal, and the same result.
    let wd = tmp.path().join("mid-runs");
    let m = tmp.path().join("marks");
    std::fs::create_dir_all(&m).unwrap();
    let mut child = kbisect()
        .args(fx.run_args(&wd))
        .env("MARKS", &m)
        .env("RUN_DELAY", "0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::fs::read_dir(&m).map_or(0, |d| d.count()) < 6 {
        assert!(child.try_wait().unwrap().is_none(), "ended too early");
        assert!(t.elapsed() < Duration::from_secs(60), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (resumed, _) = finish(&fx, &wd);
    assert_eq!(resumed, base);
}
