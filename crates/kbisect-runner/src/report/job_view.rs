//! The job as the journal header stores it (`Job`'s serialization), read
//! back with only what a report needs, and the engine settings the original
//! run used (the same as `Bisection::config`: a replay must ask the same
//! questions the bisection asked, or it stops early).

use std::path::{Path, PathBuf};

use kbisect_core::{BisectConfig, BuildConfig, StrategyKind, content_hash};
use kbisect_git::TagScheme;
use serde::Deserialize;

use super::ReportError;

/// A file the job read, as recorded: where it was, and its content hash.
#[derive(Debug, Clone, Deserialize)]
pub struct FileView {
    /// Where it was when the bisection started.
    pub path: PathBuf,
    /// Its content hash then.
    pub sha: String,
}

/// `[build]` as recorded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BuildView {
    /// `command` or `kernel`.
    pub builder: Option<String>,
    /// The build command.
    pub command: Option<String>,
    /// The compiler (command: what names it; kernel: what builds).
    pub compiler: Option<String>,
    /// Revisions built at once (bayes plans its rounds by it).
    pub slots: Option<usize>,
}

/// `[test]` as recorded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TestView {
    /// `local` or `qemu`.
    pub tester: Option<String>,
    /// The test command.
    pub command: Option<String>,
}

fn default_branch() -> String {
    "HEAD".into()
}
fn default_runs() -> usize {
    10
}
fn default_parallel() -> usize {
    1
}
fn default_tags() -> String {
    "kernel".into()
}

/// The recorded job, as far as a report reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct JobView {
    /// The repository.
    pub repo: PathBuf,
    /// The branch under bisection.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// The start commit as given.
    pub start: String,
    /// Its title.
    #[serde(default)]
    pub start_title: Option<String>,
    /// Fix bisection.
    #[serde(default)]
    pub fix: bool,
    /// Known-good (cause) or known-fixed (fix) commits.
    #[serde(default)]
    pub good: Vec<String>,
    /// The strategy's name.
    #[serde(default)]
    pub strategy: Option<String>,
    /// Revisions with the same binary shared their evidence.
    #[serde(default)]
    pub share_evidence: bool,
    /// Runs per revision.
    #[serde(default = "default_runs")]
    pub runs: usize,
    /// Runs at the same time.
    #[serde(default = "default_parallel")]
    pub parallel: usize,
    /// The build config file.
    #[serde(default)]
    pub config: Option<FileView>,
    /// The release tag scheme.
    #[serde(default = "default_tags")]
    pub release_tags: String,
    /// How revisions were built.
    #[serde(default)]
    pub build: BuildView,
    /// How the reproducer was run.
    #[serde(default)]
    pub test: TestView,
    /// The reproducer.
    #[serde(default)]
    pub reproducer: Option<FileView>,
}

impl JobView {
    /// Reads the header's `job` value.
    pub fn from_header(journal: &Path, job: &serde_json::Value) -> Result<JobView, ReportError> {
        if job.is_null() {
            return Err(ReportError::NoJob {
                path: journal.to_path_buf(),
            });
        }
        JobView::deserialize(job).map_err(|e| ReportError::BadJob {
            path: journal.to_path_buf(),
            msg: e.to_string(),
        })
    }

    /// The kernel builder built the revisions.
    pub fn is_kernel(&self) -> bool {
        self.build.builder.as_deref() == Some("kernel")
    }

    /// The strategy the bisection ran with.
    pub fn strategy(&self, journal: &Path) -> Result<StrategyKind, ReportError> {
        match self.strategy.as_deref() {
            None => Ok(StrategyKind::default()),
            Some(name) => StrategyKind::from_name(name).ok_or_else(|| ReportError::BadJob {
                path: journal.to_path_buf(),
                msg: format!("strategy '{name}' is unknown to this kbisect"),
            }),
        }
    }

    /// The config hash the journal keys builds and runs by.
    pub fn recorded_config_hash(&self) -> String {
        match &self.config {
            Some(f) => f.sha.clone(),
            None => content_hash(&[]),
        }
    }

    /// The config's bytes when its file still holds what was bisected with.
    pub fn config_bytes(&self) -> Option<BuildConfig> {
        match &self.config {
            None => Some(BuildConfig::default()),
            Some(f) => std::fs::read(&f.path)
                .ok()
                .filter(|b| content_hash(b) == f.sha)
                .map(BuildConfig::new),
        }
    }

    /// The engine's settings for a replay from `start` (the pinned hash).
    pub fn engine_config(
        &self,
        journal: &Path,
        start: String,
        config: BuildConfig,
        artifacts: PathBuf,
    ) -> Result<BisectConfig, ReportError> {
        let mut cfg = BisectConfig::new(start, self.branch.clone());
        cfg.fix = self.fix;
        cfg.start_title = self.start_title.clone();
        cfg.config = config;
        cfg.known_good = self.good.clone();
        cfg.runs = self.runs;
        cfg.parallel = self.parallel.max(1);
        // A replay answers from the journal at once: the time limit the
        // bisection had does not apply to it.
        cfg.timeout = None;
        cfg.strategy = self.strategy(journal)?;
        // The replay must fold and share as the bisection did, or it asks
        // for builds and runs the journal does not hold.
        cfg.share_evidence = self.share_evidence;
        cfg.artifacts = artifacts;
        cfg.tag_scheme = Some(self.scheme(journal)?.describe());
        Ok(cfg)
    }

    /// The release tag scheme.
    pub fn scheme(&self, journal: &Path) -> Result<TagScheme, ReportError> {
        TagScheme::parse(&self.release_tags).map_err(|msg| ReportError::BadJob {
            path: journal.to_path_buf(),
            msg: format!("release_tags: {msg}"),
        })
    }
}
