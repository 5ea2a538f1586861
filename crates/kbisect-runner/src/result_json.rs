//! `result.json`: the outcome of a bisection for programs (schema documented
//! in README.md; `schema` is bumped on any incompatible change).

use kbisect_core::{
    BisectResult, BuildOutcome, Candidate, Commit, RevertOutcome, RunOutcome, VerifyRole,
};

use serde::Serialize;

/// Bumped on any incompatible change.
pub const SCHEMA: u32 = 3;

/// `result.json`.
#[derive(Serialize)]
pub struct ResultJson {
    /// The schema version.
    pub schema: u32,
    /// `culprit`, `inconclusive`, `horizon`, `unsure`, or `error`.
    pub kind: String,
    /// Fix bisection.
    pub fix: bool,
    /// The strategy that decided.
    pub strategy: String,
    /// The culprit (one) or the candidates (inconclusive).
    pub culprits: Vec<CommitJson>,
    /// Horizon results: the release / HEAD / merge base the result is about.
    pub horizon: Option<CommitJson>,
    /// What makes the result suspect.
    pub flags: Flags,
    /// How sure the strategy is.
    pub confidence: f64,
    /// The estimated chance one run on a bad revision crashes.
    pub repro_chance: f64,
    /// The culprit's runner-up and its posterior (posterior strategies).
    pub runner_up: Option<CandidateJson>,
    /// The top candidates with their posteriors, most likely first
    /// (posterior strategies; for `unsure` the commits it may be).
    pub candidates: Vec<CandidateJson>,
    /// The parent-vs-culprit verification, when the strategy made one.
    pub verification: Option<VerificationJson>,
    /// The start commit with the culprit reverted (`verify_revert`).
    pub revert: Option<RevertJson>,
    /// The culprit's crash (cause), or the horizon's.
    pub crash: Option<CrashJson>,
    /// The culprit's artifact signature.
    pub culprit_signature: Option<String>,
    /// Its parent's.
    pub parent_signature: Option<String>,
    /// Revisions whose reproducer ran.
    pub revisions_tested: usize,
    /// Commits never built: shared evidence folded them into another's binary.
    pub builds_saved: usize,
    /// Seconds spent building.
    pub build_time: f64,
    /// Seconds spent testing.
    pub test_time: f64,
    /// Wall seconds.
    pub total_time: f64,
    /// Every revision tested, in order.
    pub revisions: Vec<RevisionJson>,
    /// `kind == "error"`: why the bisection ended without a result.
    pub error: Option<ErrorJson>,
}

/// A commit.
#[derive(Serialize)]
pub struct CommitJson {
    /// Its hash.
    pub commit: String,
    /// Its title.
    pub title: String,
    /// Its author's name.
    pub author: String,
    /// Its author's address.
    pub author_email: String,
    /// Its author date.
    pub date: String,
}

/// A candidate culprit and its posterior.
#[derive(Serialize)]
pub struct CandidateJson {
    /// Its hash; null for "no commit of the range".
    pub commit: Option<String>,
    /// Its title.
    pub title: String,
    /// Its posterior probability.
    pub posterior: f64,
}

/// The revert check.
#[derive(Serialize)]
pub struct RevertJson {
    /// The start commit the culprit was reverted on.
    pub base: String,
    /// The revert commit (`null`: the revert does not apply).
    pub commit: Option<String>,
    /// Runs that showed the target crash.
    pub crashed: usize,
    /// Runs that counted.
    pub runs: usize,
    /// `gone`, `still_crashes` (the result failed verification),
    /// `does_not_apply` or `undecided`.
    pub outcome: String,
}

/// The parent-vs-culprit table.
#[derive(Serialize)]
pub struct VerificationJson {
    /// Every row was decided (false: the result failed verification).
    pub verified: bool,
    /// The culprit's row first, then one per parent.
    pub rows: Vec<VerificationRowJson>,
}

/// One row of the table.
#[derive(Serialize)]
pub struct VerificationRowJson {
    /// `culprit` or `parent`.
    pub role: String,
    /// The revision whose runs decide the row.
    pub commit: String,
    /// Runs that showed the target crash.
    pub crashed: usize,
    /// Runs that counted.
    pub runs: usize,
    /// P(the revision contains the culprit | its own runs).
    pub posterior: f64,
    /// The row reached the verification target.
    pub decided: bool,
}

fn candidate_json(c: &Candidate) -> CandidateJson {
    CandidateJson {
        commit: c.commit.as_ref().map(|id| id.to_string()),
        title: c.title.clone(),
        posterior: c.posterior,
    }
}

/// The flags that make a result suspect.
#[derive(Serialize)]
pub struct Flags {
    /// A release tag points at the culprit.
    pub release: bool,
    /// The culprit is a merge.
    pub merge: bool,
    /// The culprit's binary equals its parent's.
    pub noop: bool,
    /// The reproducer is flaky.
    pub flaky: bool,
    /// Any of the above but flaky, an unsure result, or one that failed
    /// verification: shown, never mailed as certain.
    pub unreliable: bool,
}

/// A crash.
#[derive(Serialize)]
pub struct CrashJson {
    /// Its title.
    pub title: String,
    /// Its type.
    #[serde(rename = "type")]
    pub crash_type: String,
}

/// One revision's evidence.
#[derive(Serialize)]
pub struct RevisionJson {
    /// Its hash.
    pub commit: String,
    /// Its title.
    pub title: String,
    /// Why it was tested: start, release, head, merge_base, bisect, parent_build, ...
    pub purpose: String,
    /// The tag, when tested as a release.
    pub release_tag: Option<String>,
    /// `good`, `bad`, `skip`, or null (built only).
    pub verdict: Option<String>,
    /// The compiler logged for it.
    pub compiler: String,
    /// Its artifact signature.
    pub signature: Option<String>,
    /// Null when the build succeeded.
    pub build_error: Option<String>,
    /// Seconds spent building.
    pub build_time: f64,
    /// Seconds spent testing.
    pub test_time: f64,
    /// Every run.
    pub runs: Vec<RunJson>,
}

/// One run.
#[derive(Serialize)]
pub struct RunJson {
    /// `ok`, `crashed`, `boot_failed`, `test_failed`, `infra`.
    pub outcome: String,
    /// The crash title, or the reason of a failure.
    pub title: Option<String>,
    /// Seconds.
    pub time: f64,
    /// The output line that made it a crash, when a pattern matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
}

/// Why the bisection ended without a result.
#[derive(Serialize)]
pub struct ErrorJson {
    /// What kind of failure (`not_reproducible`, `bad_range`, ...; README).
    pub kind: String,
    /// The one-line message.
    pub message: String,
}

fn commit_json(c: &Commit) -> CommitJson {
    CommitJson {
        commit: c.id.to_string(),
        title: c.title.clone(),
        author: c.author_name.clone(),
        author_email: c.author_email.clone(),
        date: c.author_date.clone(),
    }
}

fn snake<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(m)) => m
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// The result.json of a finished bisection.
pub fn from_result(r: &BisectResult) -> ResultJson {
    let revisions = r
        .evidence
        .iter()
        .map(|e| RevisionJson {
            commit: e.commit.to_string(),
            title: e.title.clone(),
            purpose: snake(&e.purpose),
            release_tag: match &e.purpose {
                kbisect_core::Purpose::Release { tag } => Some(tag.clone()),
                _ => None,
            },
            verdict: e.verdict.map(|v| v.to_string()),
            compiler: e.compiler.clone().unwrap_or_default(),
            signature: e.build.signature().map(|s| s.0.clone()),
            build_error: match &e.build {
                BuildOutcome::Failed(f) => Some(f.title.clone()),
                BuildOutcome::Built(_) => None,
            },
            build_time: e.build.duration().as_secs_f64(),
            test_time: e.test_time.as_secs_f64(),
            runs: e
                .runs
                .iter()
                .map(|run| RunJson {
                    outcome: snake(&run.outcome),
                    title: match &run.outcome {
                        RunOutcome::Crashed(c) => Some(c.title.clone()),
                        RunOutcome::Ok => None,
                        RunOutcome::BootFailed { reason }
                        | RunOutcome::TestFailed { reason }
                        | RunOutcome::Infra { reason } => Some(reason.clone()),
                    },
                    time: run.duration.as_secs_f64(),
                    matched: run.matched.clone(),
                })
                .collect(),
        })
        .collect();
    ResultJson {
        schema: SCHEMA,
        kind: snake(&r.kind),
        fix: r.fix,
        strategy: r.strategy.to_string(),
        culprits: r.commits.iter().map(commit_json).collect(),
        horizon: r.horizon.as_ref().map(commit_json),
        flags: Flags {
            release: r.release,
            merge: r.merge,
            noop: r.noop,
            flaky: r.flaky,
            unreliable: r.unreliable(),
        },
        confidence: r.confidence,
        repro_chance: r.repro_chance,
        runner_up: r.runner_up.as_ref().map(candidate_json),
        candidates: r.candidates.iter().map(candidate_json).collect(),
        verification: r.verification.as_ref().map(|v| VerificationJson {
            verified: v.verified,
            rows: v
                .rows
                .iter()
                .map(|row| VerificationRowJson {
                    role: match row.role {
                        VerifyRole::Culprit => "culprit",
                        VerifyRole::Parent => "parent",
                    }
                    .to_string(),
                    commit: row.commit.to_string(),
                    crashed: row.crashed,
                    runs: row.runs,
                    posterior: row.posterior,
                    decided: row.decided,
                })
                .collect(),
        }),
        revert: r.revert.as_ref().map(|c| RevertJson {
            base: c.base.to_string(),
            commit: c.commit.as_ref().map(|x| x.to_string()),
            crashed: c.crashed,
            runs: c.runs,
            outcome: match c.outcome {
                RevertOutcome::Gone => "gone",
                RevertOutcome::StillCrashes => "still_crashes",
                RevertOutcome::DoesNotApply => "does_not_apply",
                RevertOutcome::Undecided => "undecided",
            }
            .to_string(),
        }),
        crash: r.report.as_ref().map(|c| CrashJson {
            title: c.title.clone(),
            crash_type: c.crash_type.to_string(),
        }),
        culprit_signature: r.culprit_signature.as_ref().map(|s| s.0.clone()),
        parent_signature: r.parent_signature.as_ref().map(|s| s.0.clone()),
        revisions_tested: r.revisions_tested,
        builds_saved: r.builds_saved,
        build_time: r.build_time.as_secs_f64(),
        test_time: r.test_time.as_secs_f64(),
        total_time: r.total_time.as_secs_f64(),
        revisions,
        error: None,
    }
}

/// The result.json of a bisection that ended without a result.
pub fn from_error(fix: bool, kind: crate::ErrorKind, message: String) -> ResultJson {
    ResultJson {
        schema: SCHEMA,
        kind: "error".into(),
        fix,
        strategy: String::new(),
        culprits: Vec::new(),
        horizon: None,
        flags: Flags {
            release: false,
            merge: false,
            noop: false,
            flaky: false,
            unreliable: false,
        },
        confidence: 0.0,
        repro_chance: 0.0,
        runner_up: None,
        candidates: Vec::new(),
        verification: None,
        revert: None,
        crash: None,
        culprit_signature: None,
        parent_signature: None,
        revisions_tested: 0,
        builds_saved: 0,
        build_time: 0.0,
        test_time: 0.0,
        total_time: 0.0,
        revisions: Vec::new(),
        error: Some(ErrorJson {
            kind: kind.name().to_string(),
            message,
        }),
    }
}

/// Writes `path` atomically (temp file + rename).
pub fn write(path: &std::path::Path, j: &ResultJson) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(j).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}
