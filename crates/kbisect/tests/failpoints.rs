//! Crash consistency, proven at every point that matters rather than
//! sampled with random kill times: for every failpoint (before and after
//! each journal append, inside each build, test run and git command in the
//! worktree, before and after the result is written) and every count at
//! which the point is reached, kbisect is killed there as `kill -9` would,
//! resumed, and its final result and its journal's builds and runs compared
//! with an uninterrupted run of the same deterministic job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use common::*;

const POINTS: &[&str] = &[
    "journal-append",
    "journal-appended",
    "git-worktree",
    "build",
    "test",
    "result-write",
    "result-written",
];

/// What must come out the same: the revisions and verdicts, the culprit,
/// and every recorded build and run (without durations).
fn outcome(wd: &Path) -> (Summary, BTreeSet<String>) {
    let result = read_json(&wd.join("result.json"));
    let entries = journal(wd)
        .into_iter()
        .filter(|e| e["type"] != "transient")
        .map(|mut e| {
            for k in ["outcome", "result"] {
                if let Some(o) = e.get_mut(k).and_then(|o| o.as_object_mut()) {
                    o.remove("duration");
                }
            }
            e.to_string()
        })
        .collect();
    (summary(&result), entries)
}

#[test]
fn every_failpoint_resumes_to_the_same_result() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let args = |wd: &Path| {
        let mut a = fx.run_args(wd);
        // Fewer runs keep the sweep short; the job stays deterministic.
        a.extend(["--runs".into(), "2".into()]);
        a
    };
    let base = t.path().join("baseline");
    let out = kbisect().args(args(&base)).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let want = outcome(&base);

    // One worker per failpoint name, two at a time: the runs mostly wait
    // on processes starting.
    let next = std::sync::Mutex::new(POINTS.iter());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some(point) = next.lock().unwrap().next() else {
                        break;
                    };
                    for count in 1.. {
                        let wd = t.path().join(format!("{point}-{count}"));
                        let out = kbisect()
                            .args(args(&wd))
                            .env("KBISECT_FAILPOINT", format!("{point}:{count}"))
                            .output()
                            .unwrap();
                        if out.status.signal() != Some(9) {
                            // Reached fewer than `count` times: this point is done.
                            assert_eq!(out.status.code(), Some(0), "{point}:{count}");
                            break;
                        }
                        let out = kbisect().args(args(&wd)).output().unwrap();
                        let got = (out.status.code() == Some(0)).then(|| outcome(&wd));
                        let r = if got.as_ref() == Some(&want) {
                            Ok(())
                        } else {
                            Err(format!(
                                "{point}:{count}: exit {:?}\n{}",
                                out.status.code(),
                                String::from_utf8_lossy(&out.stderr)
                            ))
                        };
                        results.lock().unwrap().push(r);
                        let _ = std::fs::remove_dir_all(&wd);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let kills = results.len();
    let passed = results.iter().filter(|r| r.is_ok()).count();
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    for f in &failed {
        println!("FAIL {f}");
    }
    println!(
        "failpoint sweep: {passed} passed, {} failed ({} points, {kills} kills)",
        failed.len(),
        POINTS.len()
    );
    assert!(failed.is_empty());
    assert!(kills > 50, "the sweep reached only {kills} kill points");
}
