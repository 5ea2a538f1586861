//! The posterior update against hand-computed cases (ported from the
//! prototype), and the machine's protocol on small ranges.
#![allow(clippy::unwrap_used)]

use super::decide::{NEW_BUILD_RUNS, PmfCache, info_curve};
use super::graph::RangeDag;
use super::machine::{Action, BayesConfig, BuildResult, Job, Machine, Outcome, Report, Rev};
use super::model::{ModelConfig, RunObs, own_runs_posterior, thetas};
use super::posterior::{Hyp, Posterior};

fn linear(n: usize) -> RangeDag {
    let parents = (0..n)
        .map(|i| if i == 0 { vec![] } else { vec![i as u32 - 1] })
        .collect();
    RangeDag::new(parents, vec![false; n]).unwrap()
}

/// One theta: p, q, no other-title crashes, no variants.
fn fixed(p: f64, q: f64) -> ModelConfig {
    ModelConfig {
        p_grid: vec![p],
        p_prior: vec![1.0],
        q_grid: vec![q],
        q_prior: vec![1.0],
        q_other: 0.0,
        variant: 0.0,
        prior_old: 0.0,
    }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-9, "{a} != {b}");
}

#[test]
fn clean_run_then_crashes() {
    // 0 <- 1 <- 2, uniform prior. p = 0.5, q = 0.1:
    // P(ok | contains) = 0.45, P(ok | not) = 0.9,
    // P(match | contains) = 0.5 + 0.5 * 0.1 = 0.55, P(match | not) = 0.1.
    let dag = linear(3);
    let cfg = fixed(0.5, 0.1);
    let mut post = Posterior::new(&dag, thetas(&cfg, false), 0.0);
    let b1 = post.add_binary(&dag, Some(1));
    post.add_runs(b1, &[0, 0, 1]);
    // {0.45, 0.45, 0.9} / 1.8
    close(post.prob(Hyp::Commit(0)), 0.25);
    close(post.prob(Hyp::Commit(1)), 0.25);
    close(post.prob(Hyp::Commit(2)), 0.5);
    // A crash on a binary containing every candidate tells nothing.
    let b2 = post.add_binary(&dag, Some(2));
    post.add_runs(b2, &[1, 0, 0]);
    close(post.prob(Hyp::Commit(2)), 0.5);
    // A crash on commit 0's binary: {0.25 * 0.55, 0.25 * 0.1, 0.5 * 0.1}.
    let b0 = post.add_binary(&dag, Some(0));
    post.add_runs(b0, &[1, 0, 0]);
    let z = 0.25 * 0.55 + 0.25 * 0.1 + 0.5 * 0.1;
    close(post.prob(Hyp::Commit(0)), 0.25 * 0.55 / z);
    close(post.prob(Hyp::Commit(1)), 0.25 * 0.1 / z);
    close(post.prob(Hyp::Commit(2)), 0.5 * 0.1 / z);
    assert_eq!(post.top(1)[0].0, Hyp::Commit(0));
}

#[test]
fn fix_bisection_swaps_the_sides() {
    // The same runs in a fix bisection: "contains the culprit" means
    // "has the fix", which is the clean side. A clean run on commit 1's
    // binary: {0.9, 0.9, 0.45} / 2.25 (0 and 1 contained: clean likely).
    let dag = linear(3);
    let cfg = fixed(0.5, 0.1);
    let mut post = Posterior::new(&dag, thetas(&cfg, true), 0.0);
    let b1 = post.add_binary(&dag, Some(1));
    post.add_runs(b1, &[0, 0, 1]);
    close(post.prob(Hyp::Commit(0)), 0.9 / 2.25);
    close(post.prob(Hyp::Commit(2)), 0.45 / 2.25);
}

#[test]
fn p_is_estimated_jointly() {
    // p in {0.2, 0.8} with even prior, q = 0.01; the start commit (contains
    // every candidate) crashed twice and passed once:
    // L(0.2) = m(0.2)^2 * k(0.2), L(0.8) = m(0.8)^2 * k(0.8), where
    // m(p) = p + (1 - p) q = P(match | contains), k(p) = (1 - p)(1 - q).
    let dag = linear(4);
    let mut cfg = fixed(0.2, 0.01);
    cfg.p_grid = vec![0.2, 0.8];
    cfg.p_prior = vec![0.5, 0.5];
    let mut post = Posterior::new(&dag, thetas(&cfg, false), 0.0);
    let b = post.add_binary(&dag, Some(3));
    post.add_runs(b, &[2, 0, 1]);
    let m = |p: f64| p + (1.0 - p) * 0.01;
    let k = |p: f64| (1.0 - p) * 0.99;
    let (l2, l8) = (m(0.2).powi(2) * k(0.2), m(0.8).powi(2) * k(0.8));
    let w8 = l8 / (l2 + l8);
    close(post.p_mean(), 0.2 * (1.0 - w8) + 0.8 * w8);
    // The culprit posterior is still uniform: the start contains them all.
    close(post.prob(Hyp::Commit(1)), 0.25);
}

#[test]
fn p_quantile_of_a_few_lucky_crashes() {
    // p in {0.2, 0.5, 0.8, 1.0}, even prior, q = 0: three crashes in three
    // runs give weights proportional to p^3: 0.008, 0.125, 0.512, 1 (sum
    // 1.645). The 5% quantile is 0.5 (mass at or below 0.2 is 0.5%, at or
    // below 0.5 8.1%): verification then judges a parent with p <= 0.5,
    // not with the 0.9 the mean alone would allow.
    let dag = linear(4);
    let mut cfg = fixed(0.2, 0.0);
    cfg.p_grid = vec![0.2, 0.5, 0.8, 1.0];
    cfg.p_prior = vec![0.25; 4];
    let mut post = Posterior::new(&dag, thetas(&cfg, false), 0.0);
    let b = post.add_binary(&dag, Some(3));
    post.add_runs(b, &[3, 0, 0]);
    close(post.p_quantile(0.05), 0.5);
    close(post.p_quantile(0.001), 0.2);
    close(post.p_quantile(0.5), 1.0);
    let z = 0.008 + 0.125 + 0.512 + 1.0;
    close(
        post.p_mean(),
        (0.2 * 0.008 + 0.5 * 0.125 + 0.8 * 0.512 + 1.0) / z,
    );
}

#[test]
fn no_culprit_in_range() {
    // Two commits, prior_old = 0.1; a crash on commit 0's binary, which
    // contains c = 0 and "old": {0.45 * 0.55, 0.45 * 0.1, 0.1 * 0.55}.
    let dag = linear(2);
    let cfg = fixed(0.5, 0.1);
    let mut post = Posterior::new(&dag, thetas(&cfg, false), 0.1);
    let b = post.add_binary(&dag, Some(0));
    post.add_runs(b, &[1, 0, 0]);
    let z = 0.45 * 0.55 + 0.45 * 0.1 + 0.1 * 0.55;
    close(post.prob(Hyp::Commit(0)), 0.45 * 0.55 / z);
    close(post.prob(Hyp::Commit(1)), 0.45 * 0.1 / z);
    close(post.prob(Hyp::Old), 0.1 * 0.55 / z);
    // A binary from outside the range contains only "old".
    let out = post.add_binary(&dag, None);
    post.add_runs(out, &[0, 0, 1]);
    let z2 = 0.45 * 0.55 * 0.9 + 0.45 * 0.1 * 0.9 + 0.1 * 0.55 * 0.45;
    close(post.prob(Hyp::Old), 0.1 * 0.55 * 0.45 / z2);
}

#[test]
fn other_titles_are_weaker_evidence() {
    // p = 0.5, q = 0.01, q_other = 0.02, variant 0.1:
    // P(other | contains) = 0.5 * 0.1 + 0.5 * 0.02 = 0.06, P(other | not) = 0.02
    // P(match | contains) = 0.5 * 0.9 + 0.5 * 0.01 = 0.455, P(match | not) = 0.01.
    let dag = linear(2);
    let mut cfg = fixed(0.5, 0.01);
    cfg.q_other = 0.02;
    cfg.variant = 0.1;
    let th = thetas(&cfg, false);
    let w = [1.0];
    close(
        own_runs_posterior(&th, &w, &[0, 1, 0]),
        0.06 / (0.06 + 0.02),
    );
    close(
        own_runs_posterior(&th, &w, &[1, 0, 0]),
        0.455 / (0.455 + 0.01),
    );
    let ok_in = 0.5 * (1.0 - 0.03);
    close(
        own_runs_posterior(&th, &w, &[0, 0, 1]),
        ok_in / (ok_in + 0.97),
    );
    let mut post = Posterior::new(&dag, th, 0.0);
    let b = post.add_binary(&dag, Some(0));
    post.add_runs(b, &[0, 1, 0]);
    close(post.prob(Hyp::Commit(0)), 0.06 / (0.06 + 0.02));
}

#[test]
fn classes_split_and_weighted_sums_match_a_walk() {
    // A DAG with merges; after a few binaries with runs, the bitset pass
    // equals per-revision walks.
    let n = 400usize;
    let mut s = 12345u64;
    let mut rnd = |m: usize| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % m as u64) as usize
    };
    let parents: Vec<Vec<u32>> = (0..n)
        .map(|i| {
            let mut ps = Vec::new();
            if i > 0 {
                ps.push((i - 1 - rnd(i.min(8))) as u32);
                if rnd(5) == 0 {
                    let q = (i - 1 - rnd(i.min(50))) as u32;
                    if !ps.contains(&q) {
                        ps.push(q);
                    }
                }
            }
            ps
        })
        .collect();
    let docs: Vec<bool> = (0..n).map(|i| i > 0 && rnd(8) == 0).collect();
    let dag = RangeDag::new(parents, docs).unwrap();
    let mut post = Posterior::new(&dag, thetas(&ModelConfig::default(), false), 0.01);
    for (r, c) in [
        (399u32, [3, 0, 0]),
        (200, [0, 0, 2]),
        (300, [1, 0, 1]),
        (250, [0, 1, 3]),
    ] {
        let b = post.add_binary(&dag, Some(r));
        post.add_runs(b, &c);
    }
    let all = post.contains_all(&dag);
    for r in 0..n as u32 {
        let joint: f64 = post.contains_joint(&dag, Some(r)).iter().sum();
        let anc = dag.ancestors(&[r]);
        let walk: f64 = (0..n as u32)
            .filter(|&c| anc[c as usize])
            .map(|c| post.prob(Hyp::Commit(c)))
            .sum::<f64>()
            + post.prob(Hyp::Old);
        assert!((all[r as usize] - walk).abs() < 1e-9, "r={r}");
        assert!((joint - walk).abs() < 1e-9, "r={r}");
    }
    let total: f64 = (0..n as u32)
        .map(|c| post.prob(Hyp::Commit(c)))
        .sum::<f64>()
        + post.prob(Hyp::Old);
    close(total, 1.0);
}

#[test]
fn information_of_a_deterministic_bug() {
    // p = 1, q tiny: one run on an even split is worth ~1 bit, a second ~0.
    let dag = linear(2);
    let cfg = fixed(1.0, 0.0005);
    let th = thetas(&cfg, false);
    let pmf = PmfCache::new(&th, 50);
    let post = Posterior::new(&dag, th, 0.0);
    let j = post.contains_joint(&dag, Some(0));
    let ic = info_curve(&pmf, &j, post.theta_posterior(), &NEW_BUILD_RUNS);
    assert!(ic[0] > 0.99, "{ic:?}");
    assert!(ic[1] - ic[0] < 0.01, "{ic:?}");
}

#[test]
fn equal_binaries_rule_out_the_commits_between() {
    // 0 <- 1 <- 2 <- 3; after a clean run on 1 ({0.45, 0.45, 0.9, 0.9}/2.7),
    // learning that 2 and 3 build the same binary rules out 3.
    let dag = linear(4);
    let cfg = fixed(0.5, 0.1);
    let mut post = Posterior::new(&dag, thetas(&cfg, false), 0.0);
    let b = post.add_binary(&dag, Some(1));
    post.add_runs(b, &[0, 0, 1]);
    close(post.prob(Hyp::Commit(3)), 0.9 / 2.7);
    post.exclude(&[3]);
    close(post.prob(Hyp::Commit(3)), 0.0);
    close(post.prob(Hyp::Commit(2)), 0.9 / 1.8);
    close(post.prob(Hyp::Commit(0)), 0.45 / 1.8);
}

/// Drives `m` on a deterministic bug at `culprit` on a line (a revision
/// contains it iff it is at or after it), showing `seen` each round's jobs.
fn play_line(m: &mut Machine, culprit: u32, mut seen: impl FnMut(&[Job])) -> Report {
    loop {
        match m.next_action() {
            Action::Run(jobs) => {
                seen(&jobs);
                for j in jobs {
                    let inside = matches!(j.rev, Rev::Commit(c) if c >= culprit);
                    if j.build {
                        let sig = format!("{:?}", j.rev);
                        m.built(
                            j.rev,
                            BuildResult::Built {
                                signature: Some(sig),
                            },
                        );
                    }
                    let obs = vec![if inside { RunObs::Match } else { RunObs::Ok }; j.runs];
                    m.ran(j.rev, &obs);
                }
            }
            Action::Describe(c) => m.describe(c, c == 0),
            Action::Done(rep) => return rep,
        }
    }
}

/// A deterministic bug on a linear range, driven through the machine's
/// protocol: it finds the culprit, verifies it against its parent, and
/// asks the same questions when given the same answers.
#[test]
fn machine_finds_a_deterministic_culprit_and_replays() {
    let play = || {
        let n = 64u32;
        let culprit = 37u32;
        let mut dag = linear(n as usize);
        dag.has_outside_parent[0] = true;
        let mut m = Machine::new(dag, n - 1, BayesConfig::default(), false, true);
        let mut asked = Vec::new();
        let rep = play_line(&mut m, culprit, |jobs| asked.extend_from_slice(jobs));
        (rep, asked)
    };
    let (rep, asked) = play();
    match &rep.outcome {
        Outcome::Culprit {
            commit, verified, ..
        } => {
            assert_eq!(*commit, 37);
            assert!(*verified, "{rep:?}");
        }
        o => panic!("{o:?}"),
    }
    // log2(64) = 6 splits, the start, at most one parent for verification.
    assert!(rep.builds <= 9, "{} builds", rep.builds);
    assert_eq!(play().1, asked);
}

#[test]
fn machine_plans_in_a_fix_bisection() {
    let n = 16u32;
    let mut dag = linear(n as usize);
    dag.has_outside_parent[0] = true;
    let mut m = Machine::new(dag, n - 1, BayesConfig::default(), true, true);
    m.built(
        Rev::Commit(n - 1),
        BuildResult::Built {
            signature: Some("h".into()),
        },
    );
    m.ran(Rev::Commit(n - 1), &[RunObs::Ok; 13]);
    m.built(
        Rev::Outside(0),
        BuildResult::Built {
            signature: Some("s".into()),
        },
    );
    m.ran(Rev::Outside(0), &[RunObs::Match; 2]);
    m.skip_start();
    let a = m.next_action();
    assert!(matches!(a, Action::Run(_)), "{a:?}");
}

/// With three build slots, a search round builds three revisions spread
/// over the range (a 4-section of a line), and the culprit is found in
/// fewer rounds than builds.
#[test]
fn build_slots_spread_a_round_over_the_range() {
    let n = 64u32;
    let culprit = 37u32;
    let mut dag = linear(n as usize);
    dag.has_outside_parent[0] = true;
    let cfg = BayesConfig {
        build_slots: 3,
        ..BayesConfig::default()
    };
    let mut m = Machine::new(dag, n - 1, cfg, false, true);
    let mut first_round_builds: Option<Vec<u32>> = None;
    let mut rounds_with_builds = 0;
    let rep = play_line(&mut m, culprit, |jobs| {
        let built: Vec<u32> = jobs
            .iter()
            .filter(|j| j.build)
            .filter_map(|j| match j.rev {
                Rev::Commit(c) => Some(c),
                _ => None,
            })
            .collect();
        if !built.is_empty() {
            rounds_with_builds += 1;
            if built.len() > 1 && first_round_builds.is_none() {
                first_round_builds = Some(built);
            }
        }
    });
    match &rep.outcome {
        Outcome::Culprit { commit, .. } => assert_eq!(*commit, culprit),
        o => panic!("{o:?}"),
    }
    let mut first = first_round_builds.expect("a round with several builds");
    first.sort_unstable();
    assert_eq!(first.len(), 3, "{first:?}");
    // Spread: the three split the line into four stretches of 8..=24 commits.
    let mut edges = vec![0u32];
    edges.extend(&first);
    edges.push(n);
    for w in edges.windows(2) {
        assert!((8..=24).contains(&(w[1] - w[0])), "{first:?}");
    }
    assert!(
        rounds_with_builds < rep.builds,
        "{rounds_with_builds} rounds, {} builds",
        rep.builds
    );
}
