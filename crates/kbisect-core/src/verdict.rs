//! The per-revision verdict of the syzkaller-compatible strategy
//! (`../shared/conformance/verdicts.toml`).

use crate::model::Verdict;

/// Counts of one revision's runs, after transient crashes were set aside.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCounts {
    /// Runs made.
    pub total: usize,
    /// Runs that passed.
    pub good: usize,
    /// Runs that crashed (transient crashes set aside).
    pub bad: usize,
    /// Runs lost to the infrastructure.
    pub infra: usize,
}

impl RunCounts {
    /// Boot failures, basic-test failures and ignored crashes.
    pub fn skip(&self) -> usize {
        self.total.saturating_sub(self.good + self.bad + self.infra)
    }
}

/// A verdict, or the bisection must stop on infrastructure errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Good, bad or skip.
    Verdict(Verdict),
    /// Too many runs lost to the infrastructure: stop.
    Abort,
}

/// The rule: enough clean runs make a revision good; enough crashes among
/// enough usable runs make it bad (one outlier crash is not enough); when the
/// runs were mostly lost to infrastructure, stop rather than guess.
pub fn decide(c: RunCounts, flaky: bool) -> Decision {
    let want_bad = 2.max(c.total.saturating_sub(c.infra) / 6);
    let want_good = if flaky { c.total * 3 / 4 } else { c.total / 2 };
    let want_total = c.total / 2;
    if c.bad == 0 && c.good >= want_good {
        Decision::Verdict(Verdict::Good)
    } else if c.bad >= want_bad && c.good + c.bad >= want_total {
        Decision::Verdict(Verdict::Bad)
    } else if c.infra > c.skip() {
        Decision::Abort
    } else {
        Decision::Verdict(Verdict::Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(total: usize, good: usize, bad: usize, infra: usize, flaky: bool) -> Decision {
        decide(
            RunCounts {
                total,
                good,
                bad,
                infra,
            },
            flaky,
        )
    }

    #[test]
    fn basics() {
        assert_eq!(d(10, 10, 0, 0, false), Decision::Verdict(Verdict::Good));
        assert_eq!(d(10, 0, 10, 0, false), Decision::Verdict(Verdict::Bad));
        assert_eq!(d(10, 9, 1, 0, false), Decision::Verdict(Verdict::Skip));
        assert_eq!(d(10, 0, 0, 10, false), Decision::Abort);
        assert_eq!(d(10, 0, 0, 0, false), Decision::Verdict(Verdict::Skip));
    }
}
