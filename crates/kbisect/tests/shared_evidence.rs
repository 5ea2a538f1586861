//! `share_evidence` for the strategies that keep syzbot's rules: the
//! fixture's build says which files it used (only `state`), so every
//! commit that touches none of them is folded into its built first-parent
//! ancestor, never built, and the culprit found is the same as without.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use common::*;
use kbisect_testutil::{FakeProgram, STATE_BUILD, fake_programs};

/// The fixture's build, which also lists the one file it reads.
fn listing_build() -> String {
    format!("{STATE_BUILD}echo state > \"$KBISECT_FILES_USED\"\n")
}

/// `kbisect run` flags for the fixture with the listing build and
/// syzkaller's strategy (unless `extra` names another), then `extra`.
fn args(fx: &Fixture, build: &Path, wd: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = fx.run_args(wd);
    let i = a.iter().position(|x| x == "--build").unwrap();
    a[i + 1] = format!("sh {}", build.display());
    if !extra.contains(&"--strategy") {
        a.extend(["--strategy".into(), "syzkaller".into()]);
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Runs to the end; returns (result.json, bisect.log, builds in the journal).
fn finish(a: &[String], wd: &Path) -> (serde_json::Value, String, usize) {
    let out = kbisect().args(a).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(wd.join("bisect.log")).unwrap();
    (
        read_json(&wd.join("result.json")),
        log,
        count(&journal(wd), "build"),
    )
}

fn culprits(r: &serde_json::Value) -> Vec<String> {
    summary(r).1
}

#[test]
fn shared_evidence_builds_fewer_revisions_and_finds_the_same_culprit() {
    let fx = fixture();
    let scripts = fake_programs(&[FakeProgram {
        name: "build.sh",
        script: &listing_build(),
    }]);
    let build = scripts.path().join("build.sh");
    let t = tempfile::tempdir().unwrap();

    let off = t.path().join("off");
    let (r_off, log_off, builds_off) = finish(&args(&fx, &build, &off, &[]), &off);
    assert_eq!(culprits(&r_off), vec![fx.culprit.clone()]);
    assert!(!log_off.contains("touches no file"), "{log_off}");

    // Through the job file key, as a job would say it.
    let on = t.path().join("on");
    let job = t.path().join("job.toml");
    std::fs::write(&job, "share_evidence = true\n").unwrap();
    let mut a = args(&fx, &build, &on, &[]);
    a.insert(1, job.display().to_string());
    let (r_on, log_on, builds_on) = finish(&a, &on);
    assert_eq!(culprits(&r_on), culprits(&r_off), "{log_on}");
    assert!(
        builds_on < builds_off,
        "{builds_on} builds with shared evidence, {builds_off} without\n{log_on}"
    );
    assert!(
        log_on.contains("touches no file the build uses"),
        "{log_on}"
    );
    // Every revision judged is still in the result, folded ones too.
    assert_eq!(
        r_on["revisions_tested"], r_off["revisions_tested"],
        "{log_on}"
    );
    // The builds saved are the folds: one journal build fewer per fold.
    let folds = log_on.matches("touches no file the build uses").count();
    assert_eq!(builds_off - builds_on, folds, "{log_on}");
    assert_eq!(r_on["builds_saved"], folds);
    assert_eq!(r_off["builds_saved"], 0);

    // And through the flag, for plain's rules too.
    let plain = t.path().join("plain");
    let (r_plain, log_plain, _) = finish(
        &args(
            &fx,
            &build,
            &plain,
            &["--strategy", "plain", "--share-evidence"],
        ),
        &plain,
    );
    assert_eq!(culprits(&r_plain), vec![fx.culprit.clone()], "{log_plain}");
    assert!(log_plain.contains("touches no file"), "{log_plain}");
}

#[test]
fn share_evidence_is_part_of_the_job_identity() {
    let fx = fixture();
    let scripts = fake_programs(&[FakeProgram {
        name: "build.sh",
        script: &listing_build(),
    }]);
    let build = scripts.path().join("build.sh");
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    finish(&args(&fx, &build, &wd, &[]), &wd);
    let out = kbisect()
        .args(args(&fx, &build, &wd, &["--share-evidence"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("share_evidence"), "{stderr}");
}

/// Killed after any journal append (every build and run recorded so far),
/// then resumed: the same result and the same journal as an uninterrupted
/// run — folds and shared runs are decided again the same way.
#[test]
fn a_killed_bisection_with_shared_evidence_resumes_to_the_same_result() {
    let fx = fixture();
    let scripts = fake_programs(&[FakeProgram {
        name: "build.sh",
        script: &listing_build(),
    }]);
    let build = scripts.path().join("build.sh");
    let t = tempfile::tempdir().unwrap();
    // Fewer runs keep the sweep short; the job stays deterministic.
    let a = |wd: &Path| args(&fx, &build, wd, &["--share-evidence", "--runs", "2"]);
    let outcome = |wd: &Path| {
        // A set: runs made at the same time reach the journal in any order.
        let entries: BTreeSet<String> = journal(wd)
            .into_iter()
            .map(|mut e| {
                for k in ["outcome", "result"] {
                    if let Some(o) = e.get_mut(k).and_then(|o| o.as_object_mut()) {
                        o.remove("duration");
                    }
                }
                e.to_string()
            })
            .collect();
        (summary(&read_json(&wd.join("result.json"))), entries)
    };
    let base = t.path().join("base");
    let (_, log, _) = finish(&a(&base), &base);
    assert!(log.contains("touches no file"), "{log}");
    let want = outcome(&base);
    let mut kills = 0;
    for n in 1.. {
        let wd = t.path().join(format!("kill-{n}"));
        let out = kbisect()
            .args(a(&wd))
            .env("KBISECT_FAILPOINT", format!("journal-appended:{n}"))
            .output()
            .unwrap();
        if out.status.signal() != Some(9) {
            assert_eq!(out.status.code(), Some(0), "journal-appended:{n}");
            break;
        }
        kills += 1;
        finish(&a(&wd), &wd);
        assert_eq!(outcome(&wd), want, "killed after journal append {n}");
        std::fs::remove_dir_all(&wd).unwrap();
    }
    assert!(kills > 5, "only {kills} kill points");
}
