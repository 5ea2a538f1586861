//! Helpers shared by the family tests.

#![allow(dead_code, clippy::unwrap_used)]

use kbisect_report::{Config, Reporter};

pub fn reporter() -> Reporter {
    Reporter::new(&Config::default()).unwrap()
}

/// Console lines of one task, with timestamps and a caller tag.
pub fn log(lines: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, l) in lines.lines().enumerate() {
        out.extend_from_slice(format!("[  100.{i:06}][ T4242] {l}\n").as_bytes());
    }
    out
}
