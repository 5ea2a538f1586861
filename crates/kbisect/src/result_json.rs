//! `result.json`: the outcome of a bisection for programs (schema documented
//! in README.md; `schema` is bumped on any incompatible change).

use kbisect_core::{BisectResult, BuildOutcome, Commit, RunOutcome};
use serde::Serialize;

pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
pub struct ResultJson {
    pub schema: u32,
    /// `culprit`, `inconclusive`, `horizon`, or `error`.
    pub kind: String,
    pub fix: bool,
    /// The culprit (one) or the candidates (inconclusive).
    pub culprits: Vec<CommitJson>,
    /// Horizon results: the release / HEAD / merge base the result is about.
    pub horizon: Option<CommitJson>,
    pub flags: Flags,
    pub confidence: f64,
    pub repro_chance: f64,
    pub crash: Option<CrashJson>,
    pub culprit_signature: Option<String>,
    pub parent_signature: Option<String>,
    pub revisions_tested: usize,
    pub build_time: f64,
    pub test_time: f64,
    pub total_time: f64,
    pub revisions: Vec<RevisionJson>,
    /// `kind == "error"`: why the bisection ended without a result.
    pub error: Option<ErrorJson>,
}

#[derive(Serialize)]
pub struct CommitJson {
    pub commit: String,
    pub title: String,
    pub author: String,
    pub author_email: String,
    pub date: String,
}

#[derive(Serialize)]
pub struct Flags {
    pub release: bool,
    pub merge: bool,
    pub noop: bool,
    pub flaky: bool,
    pub unreliable: bool,
}

#[derive(Serialize)]
pub struct CrashJson {
    pub title: String,
    #[serde(rename = "type")]
    pub crash_type: String,
}

#[derive(Serialize)]
pub struct RevisionJson {
    pub commit: String,
    pub title: String,
    /// Why it was tested: start, release, head, merge_base, bisect, parent_build, ...
    pub purpose: String,
    pub release_tag: Option<String>,
    /// `good`, `bad`, `skip`, or null (built only).
    pub verdict: Option<String>,
    pub compiler: String,
    pub signature: Option<String>,
    /// Null when the build succeeded.
    pub build_error: Option<String>,
    pub build_time: f64,
    pub test_time: f64,
    pub runs: Vec<RunJson>,
}

#[derive(Serialize)]
pub struct RunJson {
    /// `ok`, `crashed`, `boot_failed`, `test_failed`, `infra`.
    pub outcome: String,
    pub title: Option<String>,
    pub time: f64,
}

#[derive(Serialize)]
pub struct ErrorJson {
    pub exit_code: u8,
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
            compiler: e.compiler.clone(),
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
                })
                .collect(),
        })
        .collect();
    ResultJson {
        schema: SCHEMA,
        kind: snake(&r.kind),
        fix: r.fix,
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
        crash: r.report.as_ref().map(|c| CrashJson {
            title: c.title.clone(),
            crash_type: c.crash_type.to_string(),
        }),
        culprit_signature: r.culprit_signature.as_ref().map(|s| s.0.clone()),
        parent_signature: r.parent_signature.as_ref().map(|s| s.0.clone()),
        revisions_tested: r.revisions_tested,
        build_time: r.build_time.as_secs_f64(),
        test_time: r.test_time.as_secs_f64(),
        total_time: r.total_time.as_secs_f64(),
        revisions,
        error: None,
    }
}

/// The result.json of a bisection that ended without a result.
pub fn from_error(fix: bool, exit_code: u8, message: String) -> ResultJson {
    ResultJson {
        schema: SCHEMA,
        kind: "error".into(),
        fix,
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
        crash: None,
        culprit_signature: None,
        parent_signature: None,
        revisions_tested: 0,
        build_time: 0.0,
        test_time: 0.0,
        total_time: 0.0,
        revisions: Vec::new(),
        error: Some(ErrorJson { exit_code, message }),
    }
}

/// Writes `path` atomically (temp file + rename).
pub fn write(path: &std::path::Path, j: &ResultJson) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(j).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, path)
}
