//! Domain values shared by the engine, the builders and testers, and the renderers.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use kbisect_crash::CrashType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use kbisect_git::{Commit, CommitId};

/// The configuration a build is made with (a kernel `.config`, or whatever
/// file a `command` build reads): opaque bytes, identified by their hash.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct BuildConfig(Vec<u8>);

impl BuildConfig {
    /// A config holding `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        BuildConfig(bytes.into())
    }
    /// The config's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
    /// Whether there is no config at all (a project without one).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Short stable identity (hex sha256 prefix), used to key evidence.
    pub fn hash(&self) -> String {
        content_hash(&self.0)
    }
    /// The config as text (lossy), for results and tests.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

/// The short hex sha256 prefix kbisect keys content by (configs, reproducers).
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

impl fmt::Debug for BuildConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BuildConfig({} bytes, {})", self.0.len(), self.hash())
    }
}

/// The identity of a built artifact: equal signatures mean the same binary
/// (for a kernel, the hash of `vmlinux`'s loaded sections).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArtifactSignature(pub String);

impl fmt::Display for ArtifactSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a successful build produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    /// The compiler identity as logged (`gcc (GCC) 8.1.0`), if the builder knows one.
    #[serde(default)]
    pub compiler: Option<String>,
    /// `None` when the build left nothing to compare (then no culprit is a no-op).
    pub signature: Option<ArtifactSignature>,
    /// Where the artifact lives (a kernel image dir, `$KBISECT_OUT`), if any.
    pub artifact: Option<PathBuf>,
    /// Source files the build read (repo-relative, sorted), when the builder
    /// knows them: a commit touching none of them cannot change the binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_used: Option<Vec<String>>,
    /// How long the build took.
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

/// Why a build failed: the revision's own fault, so a *skip*, never a verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildFailure {
    /// One line: the first compiler/linker error, or the command's failure.
    pub title: String,
    /// The first error lines (at most 20) from the build output.
    pub error_lines: Vec<String>,
    /// The source file the first error names, if any.
    pub guilty_file: Option<String>,
    /// How long the failed build took.
    #[serde(with = "duration_secs")]
    pub duration: Duration,
}

/// The outcome of building one revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuildOutcome {
    /// It built.
    Built(Build),
    /// It did not build (a skip).
    Failed(BuildFailure),
}

impl BuildOutcome {
    /// The artifact's signature, when it built and has one.
    pub fn signature(&self) -> Option<&ArtifactSignature> {
        match self {
            BuildOutcome::Built(b) => b.signature.as_ref(),
            BuildOutcome::Failed(_) => None,
        }
    }
    /// How long the build took, built or not.
    pub fn duration(&self) -> Duration {
        match self {
            BuildOutcome::Built(b) => b.duration,
            BuildOutcome::Failed(f) => f.duration,
        }
    }
    /// The build, when it succeeded.
    pub fn built(&self) -> Option<&Build> {
        match self {
            BuildOutcome::Built(b) => Some(b),
            BuildOutcome::Failed(_) => None,
        }
    }
}

/// A crash seen in one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    /// The crash's title (`WARNING in htab_map_alloc`).
    pub title: String,
    /// Its type, a function of the title.
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
    /// A crash was seen.
    Crashed(Crash),
    /// The kernel (or program) did not come up: a skip, not a verdict.
    BootFailed {
        /// What went wrong, in one line.
        reason: String,
    },
    /// The basic test before the reproducer failed, or the test itself
    /// failed without crashing: a skip.
    TestFailed {
        /// What went wrong, in one line.
        reason: String,
    },
    /// Lost to the infrastructure (VM could not be created, ...): counts for
    /// nothing, and too many of them stop the bisection.
    Infra {
        /// What went wrong, in one line.
        reason: String,
    },
}

impl RunOutcome {
    /// The crash, if the run crashed.
    pub fn crash(&self) -> Option<&Crash> {
        match self {
            RunOutcome::Crashed(c) => Some(c),
            _ => None,
        }
    }
}

/// One run as recorded: its outcome and how long it took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    /// What happened.
    pub outcome: RunOutcome,
    /// How long the run took.
    #[serde(with = "duration_secs")]
    pub duration: Duration,
    /// The output line that made it a crash, when a pattern matched (shown
    /// so a user can see why a run counted as a crash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
}

impl RunResult {
    /// A run result with no duration and no matched line.
    pub fn new(outcome: RunOutcome) -> Self {
        RunResult {
            outcome,
            duration: Duration::ZERO,
            matched: None,
        }
    }
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

impl Verdict {
    /// The verdict with good and bad swapped (fix bisection's terms).
    pub fn inverted(self) -> Verdict {
        match self {
            Verdict::Good => Verdict::Bad,
            Verdict::Bad => Verdict::Good,
            Verdict::Skip => Verdict::Skip,
        }
    }
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

    /// Writes the duration as seconds.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    /// Reads seconds; a negative or non-finite value reads as zero.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Ok(Duration::try_from_secs_f64(v).unwrap_or_default())
    }
}
