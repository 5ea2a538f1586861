//! The result type: one crash found in console output.

use std::fmt;

use crate::CrashType;

/// The syz-executor process a crash is attributed to (`Comm: syz.P.I`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Executor {
    pub proc: u64,
    pub id: u64,
}

impl fmt::Display for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proc={}, id={}", self.proc, self.id)
    }
}

/// A crash extracted from console output.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// The crash title, the way syzbot names the bug.
    pub title: String,
    /// Other titles the same bug may have been reported under (sorted).
    pub alt_titles: Vec<String>,
    /// A pure function of `title`.
    pub crash_type: CrashType,
    /// The report text: the crashing context's lines, console prefixes removed.
    #[serde(with = "lossy_bytes")]
    pub report: Vec<u8>,
    /// The guilty function named in the title ("" when none).
    pub frame: String,
    /// The source file the crash is attributed to ("" when unknown).
    pub guilty_file: String,
    /// The report cannot be trusted (truncated, interleaved, no stack...).
    pub corrupted: bool,
    /// Why `corrupted` is set ("" when it is not).
    pub corrupted_reason: String,
    /// The log shows a crash not worth reporting (e.g. the fuzzer ran out of memory).
    pub suppressed: bool,
    /// The kernel panicked (`Kernel panic - not syncing`).
    pub panicked: bool,
    pub executor: Option<Executor>,
    /// Offset in the console output where the crash starts (its header line).
    pub start: usize,
    /// Offset just past the last line that belongs to this crash.
    pub end: usize,
}

impl Report {
    /// The report text as (lossy) UTF-8.
    pub fn report_text(&self) -> String {
        String::from_utf8_lossy(&self.report).into_owned()
    }
}

mod lossy_bytes {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        Ok(s.into_bytes())
    }
}
