//! Runs one scenario over a fresh copy of the fixture repository.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use kbisect_core::{BisectConfig, BuildConfig, Engine, Event, OutcomeKind, StrategyKind};
use kbisect_git::Repo;
use kbisect_runner::render_log::LogRenderer;
use kbisect_runner::{ErrorKind, GitVcs};
use kbisect_testutil::conformance_repo;
use kbisect_testutil::scripted::{Scenario, ScriptedBuilder, ScriptedMinimizer, ScriptedTester};

/// Runs one scenario pass with the syzkaller-compatible strategy.
pub fn run_scenario(sc: &Scenario, fake_hash: bool) -> Result<(), String> {
    run_scenario_with(sc, fake_hash, StrategyKind::Syzkaller)
}

/// Runs one scenario pass with `strategy`; `Err` says what differed.
pub fn run_scenario_with(
    sc: &Scenario,
    fake_hash: bool,
    strategy: StrategyKind,
) -> Result<(), String> {
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
    cfg.config = BuildConfig::new("original config");
    cfg.baseline_config = sc
        .baseline_config
        .as_ref()
        .map(|b| BuildConfig::new(b.as_str()));
    cfg.strategy = strategy;
    let vcs = GitVcs::new(repo.clone(), "master");
    let mut builder = ScriptedBuilder { sc: sc.clone() };
    let mut tester = ScriptedTester::new(sc.clone(), repo, fx.by_title.clone());
    let mut minimizer = ScriptedMinimizer;
    let mut out = LogRenderer::new(Vec::new());
    let mut sink = |e: &Event| out.event(e).unwrap();
    let engine =
        Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink).with_minimizer(&mut minimizer);
    let res = engine.run();
    if let Err(e) = &res {
        out.error(e).unwrap();
    }
    let text = String::from_utf8(out.into_inner()).unwrap();
    let log: Vec<&str> = text.lines().collect();
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
                && kind != ErrorKind::of_engine(&e).name()
            {
                errs.push(format!(
                    "error should be {kind}, got {}: {e}",
                    ErrorKind::of_engine(&e).name()
                ));
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
            // Confidence bounds are syzkaller's arithmetic; other
            // strategies report their own.
            if strategy == StrategyKind::Syzkaller
                && (ex.min_confidence.is_some_and(|m| r.confidence < m)
                    || ex.max_confidence.is_some_and(|m| r.confidence > m))
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
