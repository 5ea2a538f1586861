//! Shared helpers: the binary, its JSON and journal; the fixture repository
//! and fake build/test programs come from `kbisect-testutil`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use kbisect_testutil::Fixture;

/// The fixture of `kbisect_testutil`.
pub fn fixture() -> Fixture {
    Fixture::new()
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("kbisect")
}

pub fn kbisect() -> Command {
    let mut c = Command::new(bin());
    c.env_remove("KBISECT_FAILPOINT");
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

/// A finished program's stdout and stderr, as text.
pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
