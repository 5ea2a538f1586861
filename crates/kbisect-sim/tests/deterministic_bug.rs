//! Property: on random DAGs (merges, docs-only commits), with a
//! deterministic reproducer (p = 1) and no unrelated crashes, the real
//! engine with the bayes strategy always names the planted culprit, with
//! at most two builds more than `plain` (git bisect run) on the same DAG
//! and culprit.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use kbisect_sim::{Cell, History, Prepared, SimConfig, Strat};
use proptest::prelude::*;

/// A history from proptest's choices: commit 0 is the clean end A (tag
/// `A`); commits 1..=n are the range, each first parent one of the few
/// before it (branches), some merging a second, older parent, and every
/// commit without a child merged into a later one, so that the head (tag
/// `B`) reaches the whole range.
fn history(n: usize, choice: &[(u8, u8, bool, bool)]) -> History {
    let mut parents: Vec<Vec<u32>> = vec![Vec::new()];
    let mut docs = vec![false];
    for i in 0..n {
        let (a, b, merge, doc) = choice[i];
        let mut ps = Vec::new();
        if i > 0 {
            ps.push((i - 1 - (a as usize % i.min(4))) as u32 + 1);
            if merge && i > 2 {
                let q = (i - 1 - (b as usize % i.min(20))) as u32 + 1;
                if !ps.contains(&q) {
                    ps.push(q);
                }
            }
        } else {
            ps.push(0);
        }
        docs.push(doc && ps.len() == 1);
        parents.push(ps);
    }
    let head = n;
    let mut has_child = vec![false; n + 1];
    for ps in &parents {
        for &p in ps {
            has_child[p as usize] = true;
        }
    }
    for i in 1..head {
        if has_child[i] {
            continue;
        }
        let (a, _, _, _) = choice[i - 1];
        let mut j = (i + 1 + a as usize % 6).min(head);
        while j < head && parents[j].len() >= 2 {
            j += 1;
        }
        parents[j].push(i as u32);
        has_child[i] = true;
    }
    docs[head] = false;
    for (d, ps) in docs.iter_mut().zip(&parents) {
        *d &= ps.len() == 1;
    }
    let mut h = History {
        parents,
        docs,
        ..History::default()
    };
    h.tags.insert("A".into(), 0);
    h.tags.insert("B".into(), head as u32);
    h
}

proptest! {
    // 64 cases keep the suite fast; PROPTEST_CASES=3000 for a long run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(64)
    ))]
    #[test]
    fn deterministic_bug_found_with_few_extra_builds(
        n in 2usize..100,
        choice in proptest::collection::vec((any::<u8>(), any::<u8>(), proptest::bool::weighted(0.25), proptest::bool::weighted(0.1)), 100),
        seed in any::<u64>(),
    ) {
        let h = history(n, &choice);
        let range = h.range("A..B").unwrap();
        prop_assert_eq!(range.len(), n);
        let prep = Prepared::new(&h, range);
        let sim = SimConfig::default();
        let cell = Cell { p: 1.0, q: 0.0, s: 0.0 };
        let plain = prep.trial(cell, Strat::Plain, 0, seed, &sim);
        prop_assert!(plain.correct(), "plain: {:?}", plain);
        let bayes = prep.trial(cell, Strat::Bayes, 0, seed, &sim);
        prop_assert!(bayes.correct(), "bayes: {:?}", bayes);
        prop_assert!(
            bayes.builds <= plain.builds + 2,
            "bayes {} builds, plain {}", bayes.builds, plain.builds
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(32)
    ))]
    /// With a build farm of four, bayes builds several revisions a round:
    /// still the right culprit, and never slower than one build at a time
    /// by more than one build's minutes.
    #[test]
    fn build_slots_keep_the_culprit_and_save_wall_time(
        n in 2usize..100,
        choice in proptest::collection::vec((any::<u8>(), any::<u8>(), proptest::bool::weighted(0.25), proptest::bool::weighted(0.1)), 100),
        seed in any::<u64>(),
    ) {
        let h = history(n, &choice);
        let range = h.range("A..B").unwrap();
        let prep = Prepared::new(&h, range);
        let cell = Cell { p: 1.0, q: 0.0, s: 0.0 };
        let one = SimConfig::default();
        let four = SimConfig { build_slots: 4, ..SimConfig::default() };
        let seq = prep.trial(cell, Strat::Bayes, 0, seed, &one);
        let par = prep.trial(cell, Strat::Bayes, 0, seed, &four);
        prop_assert!(par.correct(), "bayes with 4 build slots: {:?}", par);
        prop_assert!(
            par.wall <= seq.wall + one.build_min,
            "4 build slots {} min, 1 slot {} min", par.wall, seq.wall
        );
    }
}
