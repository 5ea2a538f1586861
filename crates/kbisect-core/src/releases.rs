//! Which release tags a cause bisection tests while walking back from the
//! crashing commit (`../shared/conformance/release_tags.toml`).

use kbisect_git::{ReleaseTag, parse_release_tag};

/// Drops pre-release tags and everything older than the compiler's horizon
/// tag (kept itself) when that tag is among them. Input and output newest
/// first; each tag with whether it is a point release (`vX.Y.Z`).
pub fn usable_tags(tags: &[ReleaseTag], horizon: Option<&str>) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = tags
        .iter()
        .filter(|t| !t.version.is_prerelease())
        .map(|t| (t.name.clone(), t.version.sub_release))
        .collect();
    if let Some(h) = horizon
        && let Some(pos) = out.iter().position(|(t, _)| t == h)
    {
        out.truncate(pos + 1);
    }
    out
}

/// [`pick_releases`] over kernel-style tag names.
pub fn pick_release_tags(all: &[String]) -> Vec<String> {
    let tags: Vec<(String, bool)> = all
        .iter()
        .map(|t| {
            let sub = parse_release_tag(t).is_some_and(|v| v.rc.is_some() || v.patch.is_some());
            (t.clone(), sub)
        })
        .collect();
    pick_releases(&tags)
}

/// Picks the subset to test, newest first: the two newest point releases
/// (before the first release), the middle one when there are many, then
/// releases with a step that grows (1, then 2 from the 4th, 3 from the
/// 12th), always ending with the oldest.
pub fn pick_releases(all: &[(String, bool)]) -> Vec<String> {
    let mut sub = Vec::new();
    let mut rel = Vec::new();
    let mut releases_began = false;
    for (tag, is_sub) in all {
        if !is_sub {
            releases_began = true;
            rel.push(tag.clone());
        }
        if !releases_began {
            sub.push(tag.clone());
        }
    }
    let mut out: Vec<String> = sub.iter().take(2).cloned().collect();
    if sub.len() > 5 {
        out.push(sub[sub.len() / 2].clone());
    }
    for (i, tag) in rel.iter().enumerate() {
        let step = if i >= 11 {
            3
        } else if i >= 3 {
            2
        } else {
            1
        };
        if i % step == 0 || i + 1 == rel.len() {
            out.push(tag.clone());
        }
    }
    out
}
