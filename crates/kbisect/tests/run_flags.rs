//! `kbisect run` with flags only, on a generated repository; `kbisect status`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[test]
fn flag_only_run_finds_the_culprit_and_writes_its_outputs() {
    let fx = fixture();
    // A dirty user checkout is fine: kbisect works in its own worktree.
    std::fs::write(fx.repo.path().join("state"), "local edit\n").unwrap();
    let work = tempfile::tempdir().unwrap();
    let wd = work.path().join("w");
    // The run counts below are syzkaller's (20 on the start commit).
    let mut args = fx.run_args(&wd);
    args.extend(["--strategy".to_string(), "syzkaller".to_string()]);
    let out = kbisect().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("uncommitted changes"), "{stderr}");
    assert!(
        stdout.contains(&format!("{} is the first bad commit", fx.culprit)),
        "{stdout}"
    );
    assert!(
        stdout.contains("run #0: crashed: BUG: fixture crash in frob_state")
            || stdout.contains("all runs: crashed: BUG: fixture crash in frob_state"),
        "{stdout}"
    );
    // The user's checkout is untouched.
    assert_eq!(
        std::fs::read_to_string(fx.repo.path().join("state")).unwrap(),
        "local edit\n"
    );

    let log = std::fs::read_to_string(wd.join("bisect.log")).unwrap();
    assert!(log.contains("first bad commit:"), "{log}");
    let r = read_json(&wd.join("result.json"));
    assert_eq!(r["schema"], 3);
    assert_eq!(r["kind"], "culprit");
    assert_eq!(r["culprits"][0]["commit"], fx.culprit.as_str());
    assert_eq!(r["culprits"][0]["title"], "frob: plant the bug");
    assert_eq!(r["crash"]["title"], "BUG: fixture crash in frob_state");
    let revs = r["revisions"].as_array().unwrap();
    assert_eq!(revs[0]["purpose"], "start");
    assert_eq!(revs[0]["verdict"], "bad");
    assert_eq!(revs[0]["runs"].as_array().unwrap().len(), 20);
    assert!(revs.iter().all(|v| v["signature"].is_string()));
    // Run logs are kept per run.
    let logs = wd.join("artifacts").join(&fx.head);
    let cfg = std::fs::read_dir(&logs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(cfg.join("run-0-19.log").is_file());
    assert!(cfg.join("out/state").is_file());

    let st = kbisect().arg("status").arg(&wd).output().unwrap();
    let st_out = String::from_utf8_lossy(&st.stdout);
    assert_eq!(st.status.code(), Some(0), "{st_out}");
    assert!(st_out.contains("state:      finished"), "{st_out}");
    assert!(st_out.contains(&fx.culprit), "{st_out}");
}

#[test]
fn job_file_with_flag_override() {
    let fx = fixture();
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "repo = {:?}\nstart = \"master\"\ngood = [\"v1.0\"]\nruns = 4\nparallel = 3\nstrategy = \"syzkaller\"\nworkdir = \"wd\"\n\n[build]\ncommand = {:?}\n\n[test]\ncommand = {:?}\ntimeout = \"20s\"\n",
            fx.repo.path().display().to_string(),
            fx.script("build.sh"),
            fx.script("repro.sh")
        ),
    )
    .unwrap();
    let out = kbisect()
        .arg("run")
        .arg(&job)
        .args(["--runs", "6", "--no-progress"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = read_json(&dir.path().join("wd/result.json"));
    assert_eq!(r["culprits"][0]["commit"], fx.culprit.as_str());
    // --runs 6 won over runs = 4: the start commit gets twice that.
    assert_eq!(r["revisions"][0]["runs"].as_array().unwrap().len(), 12);
}

#[test]
fn reproducer_file_is_the_test_command_by_default() {
    let fx = fixture();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fx.scripts.path().join("repro.sh"),
        dir.path().join("repro.sh"),
    )
    .unwrap();
    let job = dir.path().join("job.toml");
    std::fs::write(
        &job,
        format!(
            "repo = {:?}\nstart = \"master\"\ngood = [\"v1.0\"]\n\n[build]\nbuilder = \"command\"\ncommand = {:?}\n\n[reproducer]\nfile = \"repro.sh\"\n",
            fx.repo.path().display().to_string(),
            fx.script("build.sh"),
        ),
    )
    .unwrap();
    let out = kbisect()
        .arg("run")
        .arg(&job)
        .arg("--no-progress")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The work dir defaults to kbisect-work next to the job file.
    let r = read_json(&dir.path().join("kbisect-work/result.json"));
    assert_eq!(r["culprits"][0]["commit"], fx.culprit.as_str());
}
