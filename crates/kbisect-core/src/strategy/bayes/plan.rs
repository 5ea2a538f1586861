//! One search round of the `bayes` strategy: the options (undecided built
//! binaries, the most balanced new splits, git's own choice, a binary from
//! outside the range), valued by information per cost, and the slots filled
//! (`decide.rs` holds the rule; this file gathers the options).

use super::decide::{Candidate, NEW_BUILD_RUNS, h2, info_curve, plan_round};
use super::gitbisect::{GitBisect, Mark, Step as GitStep};
use super::machine::{Job, Machine, Rev, RevState};
use super::posterior::{BinId, Hyp};

impl Machine {
    /// Chance a new build of `r` fails: the rate seen so far, higher next to
    /// a known broken build (broken builds come in stretches).
    fn p_build_fail(&self, r: u32) -> f64 {
        let base = (self.failed as f64 + 0.25) / (self.builds as f64 + 2.5);
        let near = self.dag.parents[r as usize]
            .iter()
            .chain(&self.children[r as usize])
            .any(|&x| self.is_broken(Rev::Commit(self.dag.binary_of(x))));
        if near { base.max(0.5) } else { base }
    }

    /// git bisect's next revision on the verdicts the posterior has decided
    /// (`m` = P(contains) per commit): tested binaries near 1 are bad (the
    /// one with the fewest ancestors is git's current bad), near 0 good,
    /// failed builds skipped.
    fn git_suggestion(&self, m: &[f64]) -> Option<u32> {
        let eps = self.cfg.git_decided;
        let mut goods: Vec<u32> = Vec::new();
        let mut skips: Vec<u32> = Vec::new();
        let mut bads: Vec<u32> = Vec::new();
        let mut mark = |c: u32, st: RevState| match st {
            RevState::Broken => skips.push(c),
            RevState::Built(_) if m[c as usize] >= 1.0 - eps => bads.push(c),
            RevState::Built(_) if m[c as usize] <= eps => goods.push(c),
            RevState::Built(_) => {}
        };
        for (&rev, &st) in &self.revs {
            if let Rev::Commit(c) = rev {
                mark(c, st);
            }
        }
        // A no-change commit has its binary's P(contains) (it adds no mass).
        for (&g, &b) in &self.git_alias {
            if let Some(&st) = self.revs.get(&Rev::Commit(b)) {
                mark(g, st);
            }
        }
        let anc_count = |c: u32| self.dag.ancestors(&[c]).iter().filter(|x| **x).count();
        let bad = bads
            .iter()
            .map(|&c| (anc_count(c), c))
            .min()
            .map_or(self.head, |(_, c)| c);
        let mut gb = GitBisect::new(&self.dag, bad);
        for g in goods {
            gb.mark(g, Mark::Good);
        }
        for s in skips {
            gb.mark(s, Mark::Skip);
        }
        match gb.next(&self.dag) {
            GitStep::Test(i) => Some(i),
            _ => None,
        }
    }

    /// With several build slots, a round that builds one new revision
    /// builds `build_slots` of them: the one chosen plus the unbuilt
    /// revisions nearest the even quantiles of P(contains) (on a line of
    /// commits, a (k+1)-section instead of a bisection: log(k+1) bits a
    /// round instead of one). Each extra build gets the chosen build's
    /// runs, shared out over the test slots left (at least one each).
    fn spread_builds(&self, plan: &mut Vec<Job>, m: &[f64], opts: &[(f64, u32)]) {
        let k = self.cfg.build_slots;
        if k <= 1 {
            return;
        }
        let Some(first) = plan.iter().find(|p| p.build).cloned() else {
            return;
        };
        let Rev::Commit(r0) = first.rev else { return };
        let mut chosen: Vec<f64> = vec![m[r0 as usize]];
        let used: usize = plan.iter().map(|p| p.runs).sum();
        let free = self.cfg.slots.saturating_sub(used);
        let mut extra: Vec<u32> = Vec::new();
        // The chosen build stands for the quantile nearest it; the others
        // go to the rest.
        let mut targets: Vec<f64> = (1..=k).map(|i| i as f64 / (k + 1) as f64).collect();
        if let Some(i) = (0..targets.len()).min_by(|&a, &b| {
            (targets[a] - chosen[0])
                .abs()
                .total_cmp(&(targets[b] - chosen[0]).abs())
        }) {
            targets.remove(i);
        }
        for target in targets {
            // Nearest to the target, not next to a value already chosen.
            let best = opts
                .iter()
                .filter(|&&(_, r)| r != r0 && !extra.contains(&r))
                .filter(|&&(_, r)| chosen.iter().all(|c| (c - m[r as usize]).abs() > 0.02))
                .map(|&(_, r)| ((m[r as usize] - target).abs(), r))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            if let Some((d, r)) = best
                && d < 0.5 / (k + 1) as f64
            {
                chosen.push(m[r as usize]);
                extra.push(r);
            }
        }
        if extra.is_empty() {
            return;
        }
        let each = (free / extra.len()).clamp(1, first.runs.max(1));
        for r in extra {
            plan.push(Job {
                rev: Rev::Commit(r),
                build: true,
                runs: each,
            });
        }
    }

    /// One search round: the options, valued, and the slots filled.
    pub(super) fn plan_search(&mut self) -> Vec<Job> {
        let slots = self.cfg.slots;
        let m = self.post.contains_all(&self.dag);
        let theta = self.post.theta_posterior().to_vec();
        // Built binaries still undecided.
        let mut built: Vec<Candidate<Rev>> = Vec::new();
        let mut seen: Vec<BinId> = Vec::new();
        let all_n: Vec<usize> = (0..=slots).collect();
        for (&rev, st) in &self.revs {
            let RevState::Built(b) = *st else { continue };
            if seen.contains(&b) {
                continue;
            }
            seen.push(b);
            let inside = match rev {
                Rev::Commit(c) => Some(c),
                Rev::OutsideParent(_) | Rev::Outside(_) => None,
            };
            let pm = match inside {
                Some(c) => m[c as usize],
                None => self.post.prob(Hyp::Old),
            };
            if !(1e-6..=1.0 - 1e-6).contains(&pm) {
                continue;
            }
            let j = self.post.contains_joint(&self.dag, inside);
            built.push(Candidate {
                key: rev,
                info: info_curve(&self.pmf, &j, &theta, &all_n),
                p_build_ok: 1.0,
            });
        }
        // New builds: the most balanced splits, then valued in full.
        let mut opts: Vec<(f64, u32)> = Vec::new();
        for r in 0..self.dag.len() as u32 {
            if self.dag.same_binary_as_parent[r as usize] {
                continue;
            }
            if self.revs.contains_key(&Rev::Commit(r)) {
                continue;
            }
            let h = h2(m[r as usize]);
            if h > 1e-9 {
                opts.push((h, r));
            }
        }
        opts.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut picked: Vec<(f64, u32)> = Vec::new();
        for &(_, r) in &opts {
            if picked.len() >= self.cfg.shortlist {
                break;
            }
            let mr = m[r as usize];
            if picked.iter().any(|&(x, _)| (x - mr).abs() < 1e-9) {
                continue;
            }
            picked.push((mr, r));
        }
        // "No culprit in the range" is told apart by a binary from outside
        // it (a root's outside parent: the good side), worth a build only
        // when that hypothesis carries weight and no such binary was built
        // (a tested clean end is re-run instead, as a built option).
        let p_old = self.post.prob(Hyp::Old);
        let outside_built = self.revs.iter().any(|(r, s)| {
            matches!(r, Rev::Outside(_) | Rev::OutsideParent(_)) && matches!(s, RevState::Built(_))
        });
        let mut outside_option = None;
        if p_old > 1e-3
            && !outside_built
            && let Some(r) =
                (0..self.dag.len() as u32).find(|&r| self.dag.has_outside_parent[r as usize])
            && !self.revs.contains_key(&Rev::OutsideParent(r))
        {
            outside_option = Some(r);
        }
        // git's own choice joins the options (and is preferred when close).
        let git = self.git_suggestion(&m);
        let mut preferred = None;
        if let Some(g) = git {
            let b = self.dag.binary_of(g);
            if !self.revs.contains_key(&Rev::Commit(b)) && h2(m[b as usize]) > 1e-9 {
                match picked.iter().position(|&(_, r)| r == b) {
                    Some(i) => preferred = Some(i),
                    None => {
                        picked.push((m[b as usize], b));
                        preferred = Some(picked.len() - 1);
                    }
                }
            }
        }
        let new: Vec<Candidate<Rev>> = picked
            .iter()
            .map(|&(_, r)| {
                let j = self.post.contains_joint(&self.dag, Some(r));
                Candidate {
                    key: Rev::Commit(r),
                    info: info_curve(&self.pmf, &j, &theta, &NEW_BUILD_RUNS),
                    p_build_ok: 1.0 - self.p_build_fail(r),
                }
            })
            .collect();
        let mut new = new;
        if let Some(r) = outside_option {
            let j = self.post.contains_joint(&self.dag, None);
            new.push(Candidate {
                key: Rev::OutsideParent(r),
                info: info_curve(&self.pmf, &j, &theta, &NEW_BUILD_RUNS),
                p_build_ok: 1.0 - self.p_build_fail(r),
            });
        }
        let plan = plan_round(
            &built,
            &new,
            slots,
            self.cfg.costs,
            self.cfg.min_rate,
            self.cfg.lazy,
            preferred.map(|i| (i, self.cfg.git_tolerance)),
        );
        if let (Some(g), Some(i)) = (git, preferred) {
            let key = new[i].key;
            if g != self.dag.binary_of(g) && plan.iter().any(|p| p.build && p.key == key) {
                self.git_alias.insert(g, self.dag.binary_of(g));
            }
        }
        let mut jobs: Vec<Job> = plan
            .into_iter()
            .map(|p| Job {
                rev: p.key,
                build: p.build,
                runs: p.runs,
            })
            .collect();
        self.spread_builds(&mut jobs, &m, &opts);
        jobs
    }
}
