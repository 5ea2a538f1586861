//! Shared fixtures: a generated repository whose `state` file says `bug` from
//! one commit on, and build/test scripts (scripted at the process boundary).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kbisect_testutil::TestRepo;

pub struct Fixture {
    pub repo: TestRepo,
    pub scripts: tempfile::TempDir,
    pub culprit: String,
    pub head: String,
}

const BUILD: &str = r#"#!/bin/sh
[ -n "$MARKS" ] && echo $$ > "$MARKS/build-$KBISECT_COMMIT"
[ -n "$BUILD_DELAY" ] && sleep "$BUILD_DELAY"
cp state "$KBISECT_OUT/state"
"#;

const TEST: &str = r#"#!/bin/sh
[ -n "$MARKS" ] && touch "$MARKS/run-$KBISECT_COMMIT-$KBISECT_RUN"
[ -n "$RUN_DELAY" ] && sleep "$RUN_DELAY"
if grep -q bug "$KBISECT_OUT/state"; then
	echo "BUG: fixture crash in frob_state"
	exit 1
fi
echo fine
"#;

/// v1.0, then 11 commits (a merge among them); the 6th after the tag plants the bug.
pub fn fixture() -> Fixture {
    let repo = TestRepo::new();
    repo.commit_file("state", "ok\n", "init");
    repo.tag("v1.0");
    for i in 0..3 {
        repo.commit(&format!("change {i}"));
    }
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit("topic change");
    repo.git(&["checkout", "-q", "master"]);
    repo.merge_no_ff("topic", "Merge branch 'topic'");
    repo.commit("change 3");
    let culprit = repo.commit_file("state", "bug\n", "frob: plant the bug");
    for i in 4..8 {
        repo.commit(&format!("change {i}"));
    }
    let head = repo.head();
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(scripts.path().join("build.sh"), BUILD).unwrap();
    std::fs::write(scripts.path().join("repro.sh"), TEST).unwrap();
    Fixture {
        repo,
        scripts,
        culprit,
        head,
    }
}

impl Fixture {
    pub fn script(&self, name: &str) -> String {
        format!("sh {}", self.scripts.path().join(name).display())
    }

    /// `kbisect run` flags for this fixture, without a job file.
    pub fn run_args(&self, workdir: &Path) -> Vec<String> {
        vec![
            "run".into(),
            "--repo".into(),
            self.repo.path().display().to_string(),
            "--bad".into(),
            "master".into(),
            "--good".into(),
            "v1.0".into(),
            "--build".into(),
            self.script("build.sh"),
            "--test".into(),
            self.script("repro.sh"),
            "--workdir".into(),
            workdir.display().to_string(),
            "--parallel".into(),
            "2".into(),
            "--no-progress".into(),
        ]
    }
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("kbisect")
}

pub fn kbisect() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("KBISECT_FAULT_JOURNAL_FULL_AFTER");
    c
}

pub fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// (commit, verdict) of every revision tested, and the culprits.
pub type Summary = (Vec<(String, String)>, Vec<String>);

pub fn summary(result: &serde_json::Value) -> Summary {
    let revs = result["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["commit"].as_str().unwrap().to_string(),
                r["verdict"].to_string(),
            )
        })
        .collect();
    let culprits = result["culprits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap().to_string())
        .collect();
    (revs, culprits)
}

/// Journal lines after the header, parsed; panics on any unparsable line.
pub fn journal(workdir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(workdir.join("journal.jsonl")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).expect("journal line parses"))
        .collect()
}

pub fn count(entries: &[serde_json::Value], kind: &str) -> usize {
    entries.iter().filter(|e| e["type"] == kind).count()
}
