//! Test-only helpers: git fixture repos, scripted fakes.
//!
//! Fixture repositories are built with the real git CLI (so tests compare
//! kbisect with real git's answers) and are deterministic: fixed identity,
//! fixed dates advancing one minute per git call, no user or system config,
//! so the same script always yields the same hashes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod conformance;
mod fakes;
mod repo;
pub mod scripted;

pub use conformance::{ConformanceRepo, conformance_repo, conformance_repo_uncached};
pub use fakes::{FakeProgram, Fixture, STATE_BUILD, STATE_TEST, fake_programs};
pub use repo::TestRepo;

use std::path::PathBuf;

/// The read-only shared reference directory: `$KBISECT_SHARED`, else
/// `<workspace>/../shared`, when it exists.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KBISECT_SHARED") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return Some(p);
        }
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if p.is_dir() {
        Some(p.canonicalize().unwrap_or(p))
    } else {
        None
    }
}

/// The shared directory for a test that needs it. Without it the test says
/// it was skipped (`None`), except in CI (`CI` set), where a missing
/// `../shared` is a failure: CI must not pass by skipping.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: ../shared is missing (set KBISECT_SHARED); CI must not skip this test")
        }
        None => {
            println!("{test}: skipped (no ../shared and no KBISECT_SHARED)");
            None
        }
    }
}
