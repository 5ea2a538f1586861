//! kbisect's own scenarios (`tests/scenarios/*.toml`): behaviour beyond
//! syzbot's table: known-good commits, bad input, the overall timeout, and
//! the fix-bisection guard's "cannot tell" case.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

mod common;

use common::runner::run_scenario;
use kbisect_testutil::scripted::ScenarioFile;

#[test]
fn kbisect_scenarios() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut failed = Vec::new();
    let mut passed = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let file: ScenarioFile = toml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for sc in file.scenario {
            match run_scenario(&sc, false) {
                Ok(()) => passed += 1,
                Err(e) => failed.push(format!("{}: {e}", sc.name)),
            }
        }
    }
    for f in &failed {
        println!("FAIL {f}");
    }
    println!(
        "kbisect scenarios: {passed} passed, {} failed",
        failed.len()
    );
    assert!(failed.is_empty(), "{failed:#?}");
}
