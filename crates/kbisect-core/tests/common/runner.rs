//! Runs one scenario over a fresh copy of the fixture repository.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use kbisect_core::{
    BisectConfig, Engine, ErrorClass, Event, KernelConfig, OutcomeKind, git_vcs::GitVcs,
};
use kbisect_git::Repo;
use kbisect_testutil::conformance_repo;

use super::scripted::{Scenario, ScriptedBuilder, ScriptedMinimizer, ScriptedTester};

fn class_name(c: ErrorClass) -> &'static str {
    match c {
        ErrorClass::NotReproducible => "not_reproducible",
        ErrorClass::UnknownCommit => "unknown_commit",
        ErrorClass::BadRange => "bad_range",
        ErrorClass::NoReleaseTag => "no_release_tag",
        ErrorClass::Infra => "infra",
        ErrorClass::Interrupted => "interrupted",
        ErrorClass::Other => "other",
    }
}

/// Runs one scenario pass; `Err` says what differed.
pub fn run_scenario(sc: &Scenario, fake_hash: bool) -> Result<(), String> {
    let fx = conformance_repo();
    let repo = Repo::open(fx.repo.path()).unwrap();
    let start_hash = fx.hash(&sc.start_commit).to_string();
    let start = match &sc.start_rev {
        Some(rev) => rev.clone(),
        None if fake_hash => format!("fake-hash-for-{}", sc.start_commit),
        None => start_hash,
    };
    let mut cfg = BisectConfig::new(start, "master");
    if fake_hash {
        cfg.start_title = Some(sc.start_commit.clone());
    }
    if sc.start_rev.is_some() {
        cfg.start_title = sc.start_title.clone();
    }
    cfg.known_good = sc
        .known_good
        .iter()
        .map(|t| fx.hash(t).to_string())
        .collect();
    cfg.timeout = sc.timeout_secs.map(Duration::from_secs_f64);
    cfg.runs = sc.runs.unwrap_or(10);
    cfg.fix = sc.fix;
    cfg.cross_tree = sc.cross_tree;
    cfg.config = KernelConfig::new("original config");
    cfg.baseline_config = sc
        .baseline_config
        .as_ref()
        .map(|b| KernelConfig::new(b.as_str()));
    let vcs = GitVcs::new(repo.clone(), "master");
    let mut builder = ScriptedBuilder { sc: sc.clone() };
    let mut tester = ScriptedTester {
        sc: sc.clone(),
        repo,
        by_title: fx.by_title.clone(),
    };
    let mut minimizer = ScriptedMinimizer;
    let mut log: Vec<String> = Vec::new();
    let mut sink = |e: &Event| log.push(format!("{e:?}"));
    let engine =
        Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink).with_minimizer(&mut minimizer);
    let res = engine.run();
    let ex = &sc.expect;
    let mut errs = Vec::new();
    if let Some(want) = &ex.log_contains
        && !log.iter().any(|l| l.contains(want.as_str()))
    {
        errs.push(format!("log lacks {want:?}"));
    }
    match res {
        Err(e) => {
            if !ex.error {
                errs.push(format!("unexpected error: {e}"));
            } else if let Some(kind) = &ex.error_kind
                && kind != class_name(e.class())
            {
                errs.push(format!("error should be {kind}, got {:?}: {e}", e.class()));
            }
        }
        Ok(r) => {
            if ex.error {
                errs.push(format!(
                    "expected an error, got {:?} with {} commits",
                    r.kind,
                    r.commits.len()
                ));
            }
            if let Some(n) = ex.commits
                && r.commits.len() != n
            {
                let titles: Vec<_> = r.commits.iter().map(|c| c.title.clone()).collect();
                errs.push(format!(
                    "commits: want {n}, got {} {titles:?}",
                    r.commits.len()
                ));
            }
            if r.commits.len() == 1 {
                let want = if sc.fix {
                    &sc.fix_commit
                } else {
                    &sc.introduced
                };
                if want.as_deref() != Some(r.commits[0].title.as_str()) {
                    errs.push(format!(
                        "culprit: want {want:?}, got {}",
                        r.commits[0].title
                    ));
                }
                if r.kind != OutcomeKind::Culprit {
                    errs.push(format!("kind: want culprit, got {:?}", r.kind));
                }
            }
            if ex.report != r.report.is_some() {
                errs.push(format!("report: want {}, got {:?}", ex.report, r.report));
            }
            if ex.noop != r.noop {
                errs.push(format!("noop: want {}, got {}", ex.noop, r.noop));
            }
            if ex.release != r.release {
                errs.push(format!("release: want {}, got {}", ex.release, r.release));
            }
            let horizon = r.horizon.as_ref().map(|c| c.title.clone());
            if ex.oldest_latest != horizon {
                errs.push(format!(
                    "oldest_latest: want {:?}, got {horizon:?}",
                    ex.oldest_latest
                ));
            }
            if let Some(c) = &ex.config
                && r.config.text() != *c
            {
                errs.push(format!("config: want {c:?}, got {:?}", r.config.text()));
            }
            if let Some(c) = &ex.commits_include
                && !r.commits.iter().any(|x| &x.title == c)
            {
                errs.push(format!("commits lack {c}"));
            }
            if ex.min_confidence.is_some_and(|m| r.confidence < m)
                || ex.max_confidence.is_some_and(|m| r.confidence > m)
            {
                errs.push(format!(
                    "confidence {:.4} outside [{:?}, {:?}]",
                    r.confidence, ex.min_confidence, ex.max_confidence
                ));
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n      log:\n        {}",
            errs.join("; "),
            log.join("\n        ")
        ))
    }
}
