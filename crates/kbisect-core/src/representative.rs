//! The representative crash of a revision and the crash types it shows
//! (`../shared/conformance/representative.toml`).

use kbisect_crash::CrashType;

use crate::model::Crash;

/// What `pick` chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Representative {
    /// Index into the crashes given to `pick`.
    pub index: Option<usize>,
    /// The crash types taken, most frequent first.
    pub types: Vec<CrashType>,
    /// Some crash types were left out.
    pub others: bool,
}

/// Counts crashes per type, most frequent first (ties keep first-seen order),
/// and takes types until two thirds of the crashes are covered (at most 3).
/// Hangs are only taken when they are at least half of the crashes, and a
/// lost connection never beside another type: both show up in all sorts of
/// unrelated runs and would hide the crash being bisected.
pub fn pick(crashes: &[Crash]) -> Representative {
    struct PerType {
        t: CrashType,
        count: usize,
        first: usize,
    }
    let mut per: Vec<PerType> = Vec::new();
    let mut total = 0usize;
    for (i, c) in crashes.iter().enumerate() {
        if c.title.is_empty() {
            continue;
        }
        total += 1;
        match per.iter_mut().find(|p| p.t == c.crash_type) {
            Some(p) => p.count += 1,
            None => per.push(PerType {
                t: c.crash_type.clone(),
                count: 1,
                first: i,
            }),
        }
    }
    // Stable: equal counts keep first-seen order.
    per.sort_by_key(|p| std::cmp::Reverse(p.count));
    let need = (total + 2) * 2 / 3;
    let mut taken = 0usize;
    let mut types = Vec::new();
    let mut index = None;
    let several = per.len() > 1;
    for p in &per {
        if p.t == CrashType::Hang && p.count * 2 < total && several {
            continue;
        }
        if p.t == CrashType::LostConnection && several {
            continue;
        }
        if taken < need && types.len() < 3 {
            if index.is_none() {
                index = Some(p.first);
            }
            types.push(p.t.clone());
            taken += p.count;
        }
    }
    let others = types.len() != per.len();
    Representative {
        index,
        types,
        others,
    }
}
