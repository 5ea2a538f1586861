//! Snapshot of a whole rendered bisection: the conformance scenario
//! `cause-finds-cause` over the real fixture repository.

#![allow(clippy::unwrap_used)]

use kbisect_core::{BisectConfig, BuildConfig, Engine, Event};
use kbisect_git::Repo;
use kbisect_testutil::scripted::{Expect, Scenario, ScriptedBuilder, ScriptedTester};

use super::LogRenderer;
use crate::GitVcs;

#[test]
fn cause_bisection_log() {
    let fx = kbisect_testutil::conformance_repo();
    let repo = Repo::open(fx.repo.path()).unwrap();
    let sc = Scenario {
        name: "cause-finds-cause".into(),
        start_commit: "905".into(),
        introduced: Some("602".into()),
        expect: Expect::default(),
        ..Scenario::default()
    };
    let mut cfg = BisectConfig::new(fx.hash("905"), "master");
    cfg.config = BuildConfig::new("original config");
    let vcs = GitVcs::new(repo.clone(), "master");
    let mut builder = ScriptedBuilder { sc: sc.clone() };
    let mut tester = ScriptedTester::new(sc, repo, fx.by_title.clone());
    let mut out = LogRenderer::new(Vec::new());
    let mut sink = |e: &Event| out.event(e).unwrap();
    let res = Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink)
        .run()
        .unwrap();
    out.result(&res).unwrap();
    let text = String::from_utf8(out.into_inner()).unwrap();
    // Hashes depend on nothing but the fixture, but name them for readers.
    let mut named = text.clone();
    for (title, hash) in &fx.by_title {
        named = named.replace(hash.as_str(), &format!("<{title}>"));
        named = named.replace(&hash[..12], &format!("<{title}>"));
    }
    insta::with_settings!({filters => vec![
        (r"\d+(\.\d+)?s\b", "[T]"),
        (r"\b[0-9a-f]{16}\b", "[CFG]"),
    ]}, {
        insta::assert_snapshot!(named);
    });
}

/// The fixture bisected with bayes: its log and result.json lines.
fn bayes_run(sc: Scenario) -> (String, kbisect_core::BisectResult) {
    let fx = kbisect_testutil::conformance_repo();
    let repo = Repo::open(fx.repo.path()).unwrap();
    let mut cfg = BisectConfig::new(fx.hash(&sc.start_commit), "master");
    cfg.config = BuildConfig::new("original config");
    cfg.strategy = kbisect_core::StrategyKind::Bayes;
    let vcs = GitVcs::new(repo.clone(), "master");
    let mut builder = ScriptedBuilder { sc: sc.clone() };
    let mut tester = ScriptedTester::new(sc, repo, fx.by_title.clone());
    let mut out = LogRenderer::new(Vec::new());
    let mut sink = |e: &Event| out.event(e).unwrap();
    let res = Engine::new(cfg, &vcs, &mut builder, &mut tester, &mut sink)
        .run()
        .unwrap();
    out.result(&res).unwrap();
    (String::from_utf8(out.into_inner()).unwrap(), res)
}

#[test]
fn bayes_culprit_shows_its_posterior_and_verification() {
    let (log, res) = bayes_run(Scenario {
        name: "cause-finds-cause".into(),
        start_commit: "905".into(),
        introduced: Some("602".into()),
        ..Scenario::default()
    });
    assert_eq!(res.kind, kbisect_core::OutcomeKind::Culprit);
    for want in [
        "bayes: ",
        "P(contains the culprit)",
        "posterior: best ",
        "culprit posterior: ",
        "estimated repro chance",
        "verification: parent 0/",
        "is the first bad commit",
    ] {
        assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    }
    let j = crate::result_json::from_result(&res);
    assert_eq!(j.schema, crate::result_json::SCHEMA);
    let v = j.verification.expect("a verification table");
    assert!(v.verified);
    assert_eq!(v.rows[0].role, "culprit");
    assert!(j.runner_up.is_some() && !j.candidates.is_empty());
}

#[test]
fn bayes_unsure_lists_the_candidates() {
    // 500..700 do not boot: the culprit 605 cannot be told from its
    // neighbours, and bayes says so with the posteriors.
    let (log, res) = bayes_run(Scenario {
        name: "cause-inconclusive".into(),
        start_commit: "802".into(),
        broken: Some([500, 700]),
        introduced: Some("605".into()),
        ..Scenario::default()
    });
    assert_eq!(res.kind, kbisect_core::OutcomeKind::Unsure);
    assert!(res.unreliable());
    assert!(
        log.contains("bisection is unsure, the first bad commit is one of: "),
        "{log}"
    );
    let j = crate::result_json::from_result(&res);
    assert_eq!(j.kind, "unsure");
    assert_eq!(j.candidates.len(), res.commits.len());
    assert!(j.candidates.iter().all(|c| c.posterior > 0.0));
}
