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
