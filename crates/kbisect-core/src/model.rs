//! Domain values shared by the engine, the builders and testers, and the renderers.

use std::fmt;
use std::time::Duration;

use kbisect_report::CrashType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use kbisect_git::{Commit, CommitId};

/// A kernel (or program) configuration: opaque bytes, identified by their hash.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct KernelConfig(pub Vec<u8>);

impl KernelConfig {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        KernelConfig(bytes.into())
    }
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Short stable identity (hex sha256 prefix), used to key evidence.
    pub fn hash(&self) -> String {
        hex::encode(&Sha256::digest(&self.0)[..8])
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl fmt::Debug for KernelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KernelConfig({} bytes, {})", self.0.len(), self.hash())
    }
}

/// The identity of a built binary: equal signatures mean the same binary.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KernelSignature(pub String);

impl fmt::Display for KernelSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a successful build produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The compiler identity as logged ("gcc (GCC) 8.1.0").
    pub compiler: String,
    pub signature: Option<KernelSignature>,
    /// Where the artifact lives (kernel image dir, `$KBISECT_OUT`), if any.
    pub artifact: Option<std::path::PathBuf>,
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

/// Why a build failed: a failed build is a *skip*, never a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildFailure {
    /// One line: the first compiler/linker error, or the command's failure.
    pub title: String,
    /// The first error lines (at most 20) from the build output.
    pub error_lines: Vec<String>,
    pub guilty_file: Option<String>,
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuildOutcome {
    Built(Build),
    Failed(BuildFailure),
}

impl BuildOutcome {
    pub fn signature(&self) -> Option<&KernelSignature> {
        match self {
            BuildOutcome::Built(b) => b.signature.as_ref(),
            BuildOutcome::Failed(_) => None,
        }
    }
    pub fn duration(&self) -> Duration {
        match self {
            BuildOutcome::Built(b) => b.duration,
            BuildOutcome::Failed(f) => f.duration,
        }
    }
}

/// A crash seen in one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    pub title: String,
    pub crash_type: CrashType,
    /// The crash report text (console excerpt), possibly empty.
    #[serde(default)]
    pub report: String,
}

/// The outcome of one run of the reproducer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOutcome {
    /// The reproducer ran to the end and nothing crashed.
    Ok,
    Crashed(Crash),
    /// The kernel (or program) did not come up: a skip, not a verdict.
    BootFailed {
        reason: String,
    },
    /// The basic test before the reproducer failed: a skip.
    TestFailed {
        reason: String,
    },
    /// Lost to the infrastructure (VM could not be created, ...).
    Infra {
        reason: String,
    },
}

impl fmt::Display for RunOutcome {
    /// The words of syzkaller's log (`run #i: ...`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunOutcome::Ok => f.write_str("OK"),
            RunOutcome::Crashed(c) => write!(f, "crashed: {}", c.title),
            RunOutcome::BootFailed { reason } => write!(f, "boot failed: {reason}"),
            RunOutcome::TestFailed { reason } => write!(f, "basic kernel testing failed: {reason}"),
            RunOutcome::Infra { reason } => write!(f, "infra problem: {reason}"),
        }
    }
}

/// One run as recorded: its outcome and how long it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub outcome: RunOutcome,
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

/// The verdict on one revision, in crash terms (before fix-bisection inversion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No crash (enough good runs).
    Good,
    /// Crashes.
    Bad,
    /// Cannot tell (build, boot or test errors; too few runs).
    Skip,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Good => "good",
            Verdict::Bad => "bad",
            Verdict::Skip => "skip",
        })
    }
}

/// Durations persist as fractional seconds.
pub mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Ok(Duration::try_from_secs_f64(v).unwrap_or_default())
    }
}
