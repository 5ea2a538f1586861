//! Verification of the best culprit before it is reported: the culprit's
//! own runs must show it contains the bug, and each parent's side must show
//! it does not, each at the verification target *on its own runs* (an even
//! prior, p and q from the posterior), as the 0-day bot's parent-vs-culprit
//! table reads (0.95; 0.99 when the reproducer is flaky, estimated p
//! below 0.9: a few lucky early crashes make p look higher than it is).
//! The rates are the posterior's, but only its part with
//! p <= `verify_p_max` (0.9): a reliable reproducer is an assumption the
//! search may rest on, the verification may not (one clean run on the
//! parent would otherwise "prove" it good: it takes two clean runs to
//! clear a parent at 0.95 at p = 0.9, three at p = 0.7; 0.75 was tried
//! and cost a deterministic bug one to two runs more for no accuracy the
//! simulation or the demo could see), and at most the
//! 5% quantile of p's posterior (`verify_p_quantile`): a 20% reproducer
//! that crashed on its first three runs makes p look like 0.98, and the
//! mean alone then clears a parent with five clean runs (seen on the demo:
//! a wrong culprit reported at 0.997). A parent counts as
//! shown good by its own runs or by those of
//! any tested revision that contains the parent but not the culprit (if the
//! parent contained the bug, so would that revision). Rows that are not
//! decided get more runs (the parent is built when nothing shows it),
//! bounded per binary; the global posterior takes these runs too, and when
//! it drops below the target the search resumes.

use super::machine::{Job, Machine, Rev, Role, VerifyRow};
use super::model::{Counts, own_runs_posterior, restricted};

/// What verification needs.
pub enum Step {
    /// More runs (and maybe a build).
    Need(Vec<Job>),
    /// Finished: the table, and whether every row was decided.
    Done {
        /// Parent-vs-culprit table.
        table: Vec<VerifyRow>,
        /// All rows decided.
        verified: bool,
    },
}

/// What one row still wants.
enum Want {
    Decided(VerifyRow),
    Stuck(VerifyRow),
    Job(Job, VerifyRow),
}

impl Machine {
    /// The target a row must reach on its own runs.
    fn tau(&self) -> f64 {
        if self.post.p_mean() < self.cfg.flaky_p {
            self.cfg.verify_confidence_flaky
        } else {
            self.cfg.verify_confidence
        }
    }

    /// P(contains | own runs) with the rates restricted to p <= verify_p_max.
    pub(super) fn own(&self, c: &Counts) -> f64 {
        let th = self.post.thetas();
        let mut cap = self.cfg.verify_p_max;
        if self.cfg.verify_p_quantile > 0.0 {
            cap = cap.min(self.post.p_quantile(self.cfg.verify_p_quantile));
        }
        let w = restricted(th, self.post.theta_posterior(), cap);
        own_runs_posterior(th, &w, c)
    }

    /// Fewest runs (up to the slots) after which the row would be decided
    /// if they came out as expected: the side's predicted rate of matching
    /// crashes (a culprit of a cause bisection crashes, its parent is clean;
    /// a fix bisection the other way round), the rest clean.
    fn runs_needed(&self, c: &Counts, should_contain: bool) -> usize {
        let slots = self.cfg.slots;
        let tau = self.tau();
        let pm: f64 = self
            .post
            .thetas()
            .iter()
            .zip(self.post.theta_posterior())
            .map(|(t, w)| {
                w * if should_contain {
                    t.match_in
                } else {
                    t.match_out
                }
            })
            .sum::<f64>()
            .min(0.9);
        for n in 1..=slots {
            let mut x = *c;
            let hits = (pm * n as f64).round() as u32;
            x[0] += hits;
            x[2] += n as u32 - hits;
            let own = self.own(&x);
            if (should_contain && own >= tau) || (!should_contain && own <= 1.0 - tau) {
                return n;
            }
        }
        slots
    }

    fn row(&self, role: Role, rev: Rev, contain: bool) -> (VerifyRow, bool) {
        let tau = self.tau();
        let c = self.bin(rev).map(|b| self.post.counts(b)).unwrap_or([0; 3]);
        let own = self.own(&c);
        let decided = if contain {
            own >= tau
        } else {
            own <= 1.0 - tau
        };
        (
            VerifyRow {
                role,
                rev,
                crashed: c[0],
                runs: c.iter().sum(),
                own_posterior: own,
                decided,
            },
            decided,
        )
    }

    fn want(&self, role: Role, rev: Rev, contain: bool) -> Want {
        let (row, decided) = self.row(role, rev, contain);
        if decided {
            return Want::Decided(row);
        }
        if self.is_broken(rev) {
            return Want::Stuck(row);
        }
        match self.bin(rev) {
            None => Want::Job(
                Job {
                    rev,
                    build: true,
                    runs: self.runs_needed(&[0; 3], contain),
                },
                row,
            ),
            Some(b) if self.total(b) >= self.cfg.verify_max_runs => Want::Stuck(row),
            Some(b) => Want::Job(
                Job {
                    rev,
                    build: false,
                    runs: self.runs_needed(&self.post.counts(b), contain),
                },
                row,
            ),
        }
    }

    /// The parent's row: decided by the parent or a tested revision that
    /// contains it and not the culprit, else more runs on the most
    /// convincing such revision, else a build of the parent.
    fn parent_want(&self, culprit: u32, parent: u32) -> Want {
        // A no-change parent is its binary's commit.
        let parent = self.dag.binary_of(parent);
        let mut best: Option<(f64, Rev)> = None;
        for (&rev, _) in self.revs.iter() {
            let Some(b) = self.bin(rev) else { continue };
            if !self.post.binary_contains(b, parent) || self.post.binary_contains(b, culprit) {
                continue;
            }
            let own = self.own(&self.post.counts(b));
            if best.is_none_or(|(o, _)| own < o) {
                best = Some((own, rev));
            }
        }
        let own_rev = Rev::Commit(self.dag.binary_of(parent));
        match best {
            Some((own, rev)) if own <= 1.0 - self.tau() => self.want(Role::Parent, rev, false),
            Some((own, rev)) if own < 0.5 => match self.want(Role::Parent, rev, false) {
                Want::Stuck(_) => self.want(Role::Parent, own_rev, false),
                w => w,
            },
            _ => self.want(Role::Parent, own_rev, false),
        }
    }

    /// One verification step for culprit `c`.
    pub(super) fn verify_step(&self, c: u32) -> Step {
        let mut wants = vec![self.want(Role::Culprit, Rev::Commit(c), true)];
        for &p in &self.dag.parents[c as usize] {
            wants.push(self.parent_want(c, p));
        }
        if self.dag.has_outside_parent[c as usize] {
            wants.push(self.want(Role::Parent, Rev::OutsideParent(c), false));
        }
        let mut jobs: Vec<Job> = Vec::new();
        let mut table = Vec::new();
        let mut verified = true;
        let mut free = self.cfg.slots;
        for w in wants {
            match w {
                Want::Decided(r) => table.push(r),
                Want::Stuck(r) => {
                    verified = false;
                    table.push(r);
                }
                Want::Job(mut j, r) => {
                    table.push(r);
                    if jobs.iter().any(|x| x.rev == j.rev) {
                        continue;
                    }
                    j.runs = j.runs.min(free);
                    free -= j.runs;
                    if j.runs > 0 || j.build {
                        jobs.push(j);
                    }
                }
            }
        }
        if jobs.is_empty() {
            Step::Done { table, verified }
        } else {
            Step::Need(jobs)
        }
    }
}
