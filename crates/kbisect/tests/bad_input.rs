//! Bad input: one clear line on stderr, a distinct exit code, nothing lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

fn run(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut c = kbisect();
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn expect(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {stderr}\nstdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("kbisect: error:"))
        .unwrap_or_default();
    assert!(
        line.contains(needle),
        "expected '{needle}' in the error line: {stderr}"
    );
}

fn with(args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    let mut a = args;
    let i = a.iter().position(|x| x == flag).expect("flag present");
    a[i + 1] = value.to_string();
    a
}

fn job(dir: &Path, text: &str) -> Vec<String> {
    let p = dir.join("job.toml");
    std::fs::write(&p, text).unwrap();
    vec!["run".into(), p.display().to_string()]
}

#[test]
fn job_file_errors() {
    let d = tempfile::tempdir().unwrap();
    expect(
        &run(&["run".into(), "/nonexistent/job.toml".into()], &[]),
        3,
        "job file /nonexistent/job.toml",
    );
    expect(&run(&job(d.path(), "repo = \n"), &[]), 3, "line 1");
    expect(
        &run(
            &job(d.path(), "repo = \".\"\nstart = \"HEAD\"\nbogus = 1\n"),
            &[],
        ),
        3,
        "unknown field `bogus`",
    );
    expect(
        &run(&job(d.path(), "start = \"HEAD\"\nruns = \"many\"\n"), &[]),
        3,
        "key 'runs'",
    );
    expect(
        &run(
            &job(
                d.path(),
                "start = \"HEAD\"\n[test]\ncommand = \"x\"\ntimeout = \"soon\"\n[build]\ncommand = \"make\"\n",
            ),
            &[],
        ),
        3,
        "key 'test.timeout'",
    );
    // A setting with which no revision could ever be judged bad.
    expect(
        &run(
            &job(
                d.path(),
                "start = \"HEAD\"\nruns = 1\nstrategy = \"syzkaller\"\n[test]\ncommand = \"x\"\n",
            ),
            &[],
        ),
        3,
        "runs >= 2",
    );
}

#[test]
fn repository_and_range_errors() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let base = fx.run_args(&t.path().join("w"));
    let not_repo = tempfile::tempdir().unwrap();
    expect(
        &run(
            &with(
                base.clone(),
                "--repo",
                &not_repo.path().display().to_string(),
            ),
            &[],
        ),
        4,
        "not a git repository",
    );
    expect(
        &run(
            &with(
                base.clone(),
                "--bad",
                "0123456789abcdef0123456789abcdef01234567",
            ),
            &[],
        ),
        5,
        "0123456789abcdef",
    );
    // A good commit that is not an ancestor of the start commit.
    fx.repo.git(&["checkout", "-q", "-b", "side", "v1.0"]);
    let side = fx.repo.commit("side work");
    fx.repo.git(&["checkout", "-q", "master"]);
    expect(
        &run(
            &with(
                with(base.clone(), "--good", &side),
                "--workdir",
                &t.path().join("w2").display().to_string(),
            ),
            &[],
        ),
        6,
        "not an ancestor",
    );
    // No good commit and no release tag.
    let bare = kbisect_testutil::TestRepo::new();
    bare.commit_file("state", "bug\n", "only");
    let mut a = with(base, "--repo", &bare.path().display().to_string());
    let i = a.iter().position(|x| x == "--good").unwrap();
    a.drain(i..i + 2);
    expect(
        &run(
            &with(a, "--workdir", &t.path().join("w3").display().to_string()),
            &[],
        ),
        7,
        "release tag",
    );
}

#[test]
fn command_errors() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let base = fx.run_args(&t.path().join("w"));
    expect(
        &run(
            &with(base.clone(), "--build", "no-such-build-tool -j4"),
            &[],
        ),
        9,
        "build command not found",
    );
    let base = fx.run_args(&t.path().join("w2"));
    expect(
        &run(&with(base.clone(), "--test", "no-such-test-tool"), &[]),
        9,
        "test command not found",
    );
    let base = fx.run_args(&t.path().join("w3"));
    expect(
        &run(&with(base.clone(), "--test", "echo fine"), &[]),
        12,
        "wasn't reproduced",
    );
    let r = read_json(&t.path().join("w3/result.json"));
    assert_eq!(r["kind"], "error");
    assert_eq!(r["error"]["kind"], "not_reproducible");
}

#[test]
fn work_dir_errors() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    expect(
        &run(&fx.run_args(&file.join("sub")), &[]),
        8,
        "is not writable",
    );
    // A work dir holding another job's journal.
    let wd = t.path().join("w");
    let out = run(&fx.run_args(&wd), &[]);
    assert_eq!(out.status.code(), Some(0));
    expect(
        &run(&with(fx.run_args(&wd), "--test", "sh -c 'exit 0'"), &[]),
        8,
        "holds another job (different: test.command)",
    );
}

#[test]
fn disk_full_while_writing_the_journal() {
    let fx = fixture();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let out = run(
        &fx.run_args(&wd),
        // The header, then 7 entries; the 8th entry finds the disk full.
        &[("KBISECT_FAILPOINT", "journal-append:9:enospc")],
    );
    expect(&out, 21, "No space left on device");
    let j = journal(&wd); // every line parses: the journal is intact
    assert_eq!(j.len(), 7);
    assert!(!wd.join("result.json").exists());
    // Space is back: the same command resumes and finishes.
    let out = run(&fx.run_args(&wd), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = read_json(&wd.join("result.json"));
    assert_eq!(r["culprits"][0]["commit"], fx.culprit.as_str());
}
