//! Which tags are releases, and in what order: kernel-style `vX.Y[.Z][-rcN]`
//! (syzbot's), semantic versions (`v1.2.3`, `1.2.3-beta`), any tag with a
//! version in it (`pyparsing_3.0.9`, `0.5.4`), or a regexp with a `version`
//! capture. Tags are ordered by version, never by date.

use std::cmp::Ordering;

use regex::Regex;

use crate::tags::parse_release_tag;

/// A release's version as a tag scheme reads it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TagVersion {
    /// The numbers, most significant first (`[5, 10, 3]`).
    pub parts: Vec<u32>,
    /// A pre-release suffix (`rc3`, `beta.1`): sorts before the release.
    pub pre: Option<String>,
    /// A point release of a release line (`v5.10.3` of `v5.10`; `1.2.3` of
    /// `1.2.0`): the release walk treats these apart.
    pub sub_release: bool,
}

impl TagVersion {
    /// A pre-release (release candidate, beta, ...).
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }
}

/// `rc10` after `rc2`: digit runs compare as numbers.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for c in s.chars() {
            let d = c.is_ascii_digit();
            match out.last_mut() {
                Some((kind, run)) if *kind == d => run.push(c),
                _ => out.push((d, c.to_string())),
            }
        }
        out
    };
    let (x, y) = (split(a), split(b));
    for (p, q) in x.iter().zip(&y) {
        let o = match (p.0, q.0) {
            (true, true) => {
                let (m, n) = (p.1.trim_start_matches('0'), q.1.trim_start_matches('0'));
                m.len().cmp(&n.len()).then_with(|| m.cmp(n))
            }
            _ => p.1.cmp(&q.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    x.len().cmp(&y.len())
}

impl Ord for TagVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            if a != b {
                return a.cmp(&b);
            }
        }
        let pre = match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => natural_cmp(a, b),
        };
        pre.then_with(|| self.parts.len().cmp(&other.parts.len()))
    }
}

impl PartialOrd for TagVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Which tags are releases.
#[derive(Clone, Debug)]
pub enum TagScheme {
    /// `vX.Y`, `vX.Y.Z`, `vX.Y-rcN` (syzbot's).
    Kernel,
    /// `X.Y.Z` with an optional `v` and an optional `-pre` suffix.
    Semver,
    /// Any tag holding a version `X.Y[.Z...]`, with any prefix (`name_1.2.3`,
    /// `release-2.0`) and an optional pre-release suffix.
    AnyVersion,
    /// A regexp: a tag is a release when it matches; the `version` capture
    /// (or the first group, or the whole match) holds the version.
    Regex(Regex),
}

fn any_version() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:^|[^0-9.])(\d+(?:\.\d+)+)(?:[-_.+~]?((?:rc|alpha|beta|pre|dev|a|b)[0-9.]*))?$",
        )
        .expect("constant regex")
    })
}

fn semver() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^v?(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
            .expect("constant regex")
    })
}

/// `1.2.3` plus a pre-release into a version; a point release when a
/// number past the second is not zero.
fn numeric(nums: &str, pre: Option<&str>) -> Option<TagVersion> {
    let parts: Vec<u32> = nums
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.len() < 2 {
        return None;
    }
    let sub_release = parts.iter().skip(2).any(|&p| p != 0);
    Some(TagVersion {
        parts,
        pre: pre.filter(|p| !p.is_empty()).map(str::to_string),
        sub_release,
    })
}

impl TagScheme {
    /// `kernel`, `semver`, `any-version`, or a regexp.
    pub fn parse(s: &str) -> Result<TagScheme, String> {
        match s {
            "kernel" => Ok(TagScheme::Kernel),
            "semver" => Ok(TagScheme::Semver),
            "any-version" => Ok(TagScheme::AnyVersion),
            re => Regex::new(re).map(TagScheme::Regex).map_err(|e| {
                format!("'{re}' is neither a preset (kernel, semver, any-version) nor a valid regexp: {e}")
            }),
        }
    }

    /// The version a tag stands for, `None` when it is not a release tag.
    pub fn version(&self, tag: &str) -> Option<TagVersion> {
        match self {
            TagScheme::Kernel => parse_release_tag(tag).map(|v| {
                let mut parts = vec![v.major, v.minor];
                parts.extend(v.patch);
                TagVersion {
                    parts,
                    pre: v.rc.map(|n| format!("rc{n}")),
                    sub_release: v.patch.is_some(),
                }
            }),
            TagScheme::Semver => {
                let c = semver().captures(tag)?;
                numeric(&c[1], c.get(2).map(|m| m.as_str()))
            }
            TagScheme::AnyVersion => {
                let c = any_version().captures(tag)?;
                numeric(&c[1], c.get(2).map(|m| m.as_str()))
            }
            TagScheme::Regex(re) => {
                let c = re.captures(tag)?;
                let text = c
                    .name("version")
                    .or_else(|| c.get(1))
                    .or_else(|| c.get(0))?
                    .as_str();
                // The captured text may itself carry a suffix (`1.2.3-rc1`).
                let c = any_version().captures(text)?;
                numeric(&c[1], c.get(2).map(|m| m.as_str()))
            }
        }
    }

    /// The scheme's name (presets) or its regexp, for messages.
    pub fn describe(&self) -> String {
        match self {
            TagScheme::Kernel => "vX.Y[.Z] (release_tags = \"kernel\")".into(),
            TagScheme::Semver => "X.Y.Z (release_tags = \"semver\")".into(),
            TagScheme::AnyVersion => "a version X.Y[.Z] (release_tags = \"any-version\")".into(),
            TagScheme::Regex(re) => format!("/{}/", re.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &TagScheme, t: &str) -> Option<TagVersion> {
        s.version(t)
    }

    #[test]
    fn presets_read_their_tags() {
        let k = TagScheme::Kernel;
        assert_eq!(v(&k, "v5.10-rc3").unwrap().pre.as_deref(), Some("rc3"));
        assert!(v(&k, "v5.10.3").unwrap().sub_release);
        assert!(v(&k, "1.2.3").is_none());
        let s = TagScheme::Semver;
        assert_eq!(v(&s, "v1.2.3-beta").unwrap().pre.as_deref(), Some("beta"));
        assert!(v(&s, "1.2").is_none());
        let a = TagScheme::AnyVersion;
        assert_eq!(v(&a, "pyparsing_3.0.9").unwrap().parts, vec![3, 0, 9]);
        assert_eq!(v(&a, "0.5.4").unwrap().parts, vec![0, 5, 4]);
        assert_eq!(v(&a, "release-2.0rc1").unwrap().pre.as_deref(), Some("rc1"));
        assert!(v(&a, "latest").is_none());
        let r = TagScheme::parse(r"^rel-(?P<version>[\d.]+)$").unwrap();
        assert_eq!(v(&r, "rel-4.2").unwrap().parts, vec![4, 2]);
        assert!(v(&r, "4.2").is_none());
        assert!(TagScheme::parse("(").is_err());
    }

    #[test]
    fn versions_sort_by_number_then_pre_release() {
        let a = TagScheme::AnyVersion;
        let mut tags = [
            "x_1.10.0",
            "x_1.2.0",
            "x_1.10.0rc2",
            "x_1.10.0rc10",
            "x_1.9.9",
        ];
        tags.sort_by_key(|t| a.version(t).unwrap());
        assert_eq!(
            tags,
            [
                "x_1.2.0",
                "x_1.9.9",
                "x_1.10.0rc2",
                "x_1.10.0rc10",
                "x_1.10.0"
            ]
        );
    }
}
