//! Release tags (`vX.Y`, `vX.Y.Z`, `vX.Y-rcN`) and their version order.

use std::cmp::Ordering;

use crate::error::GitError;
use crate::id::CommitId;
use crate::repo::{Repo, lines, run_ok};
use crate::scheme::{TagScheme, TagVersion};

/// A kernel-style release version; release candidates sort before the release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Version {
    /// `X` of `vX.Y`.
    pub major: u32,
    /// `Y`.
    pub minor: u32,
    /// `Z` of `vX.Y.Z` (a stable release).
    pub patch: Option<u32>,
    /// `N` of `-rcN`.
    pub rc: Option<u32>,
}

impl Version {
    /// A release candidate.
    pub fn is_rc(&self) -> bool {
        self.rc.is_some()
    }

    fn key(&self) -> (u32, u32, u32, bool, u32, bool) {
        // v5.10-rc1 < v5.10 < v5.10.1; a missing patch counts as 0 and the
        // explicit `.0` only breaks the tie so that Ord agrees with Eq.
        let (final_release, rc) = match self.rc {
            Some(n) => (false, n),
            None => (true, 0),
        };
        (
            self.major,
            self.minor,
            self.patch.unwrap_or(0),
            final_release,
            rc,
            self.patch.is_some(),
        )
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `v5.10` → 5.10; `v5.10.3`; `v5.10-rc3`; `v2.40.0-rc1`. Anything else is not a release.
pub fn parse_release_tag(name: &str) -> Option<Version> {
    let rest = name.strip_prefix('v')?;
    let (nums, rc) = match rest.split_once("-rc") {
        Some((nums, rc)) => (nums, Some(number(rc)?)),
        None => (rest, None),
    };
    let parts: Vec<&str> = nums.split('.').collect();
    let (major, minor, patch) = match parts.as_slice() {
        [a, b] => (number(a)?, number(b)?, None),
        [a, b, c] => (number(a)?, number(b)?, Some(number(c)?)),
        _ => return None,
    };
    Some(Version {
        major,
        minor,
        patch,
        rc,
    })
}

fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A release tag found in the repository.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseTag {
    /// The tag's name.
    pub name: String,
    /// The commit the tag points at (annotated tags peeled).
    pub commit: CommitId,
    /// Its version, as the tag scheme reads it.
    pub version: TagVersion,
}

impl Repo {
    /// Every kernel-style release tag, newest version first.
    pub fn release_tags(&self) -> Result<Vec<ReleaseTag>, GitError> {
        self.list_release_tags(None, &TagScheme::Kernel)
    }

    /// Kernel-style release tags that are ancestors of `id` but do not point at it, newest first.
    pub fn release_tags_before(&self, id: &CommitId) -> Result<Vec<ReleaseTag>, GitError> {
        self.release_tags_before_in(id, &TagScheme::Kernel)
    }

    /// Release tags of `scheme` that are ancestors of `id` but do not point
    /// at it, newest version first.
    pub fn release_tags_before_in(
        &self,
        id: &CommitId,
        scheme: &TagScheme,
    ) -> Result<Vec<ReleaseTag>, GitError> {
        let mut tags = self.list_release_tags(Some(id), scheme)?;
        tags.retain(|t| &t.commit != id);
        Ok(tags)
    }

    /// Names of all tags pointing at `id`, sorted.
    pub fn tags_on(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        let cmd = self.git().args(["tag", "--points-at", id.as_str()]);
        let mut names = lines(&run_ok(&cmd)?);
        names.sort();
        Ok(names)
    }

    fn list_release_tags(
        &self,
        merged: Option<&CommitId>,
        scheme: &TagScheme,
    ) -> Result<Vec<ReleaseTag>, GitError> {
        let mut cmd = self.git().args([
            "for-each-ref",
            "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)",
        ]);
        if let Some(id) = merged {
            cmd = cmd.arg(format!("--merged={id}"));
        }
        let out = run_ok(&cmd.arg("refs/tags"))?;
        let mut tags = Vec::new();
        for line in out.stdout_str().lines() {
            let f: Vec<&str> = line.split('\0').collect();
            let [name, ty, obj, peeled_ty, peeled] = f.as_slice() else {
                return Err(GitError::parse("for-each-ref output", line));
            };
            let Some(version) = scheme.version(name) else {
                continue;
            };
            let commit = match (*ty, *peeled_ty) {
                ("commit", _) => CommitId::from_git(obj)?,
                (_, "commit") => CommitId::from_git(peeled)?,
                // A tag of a tag (rare): let git peel it all the way.
                _ => match self.resolve(&format!("refs/tags/{name}"))? {
                    Some(c) => c,
                    None => continue,
                },
            };
            tags.push(ReleaseTag {
                name: (*name).to_owned(),
                commit,
                version,
            });
        }
        tags.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.name.cmp(&b.name)));
        Ok(tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        parse_release_tag(s).unwrap()
    }

    #[test]
    fn parses_release_names() {
        assert_eq!(
            v("v5.10-rc3"),
            Version {
                major: 5,
                minor: 10,
                patch: None,
                rc: Some(3)
            }
        );
        assert_eq!(v("v4.19.2").patch, Some(2));
        assert_eq!(v("v2.40.0-rc1").rc, Some(1));
        for bad in [
            "5.10",
            "v5",
            "v5.10.1.2",
            "v5.10-rc",
            "v5.x",
            "v5.10-foo",
            "vv5.1",
            "v5..1",
        ] {
            assert_eq!(parse_release_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn orders_rc_before_final() {
        let mut vs = [
            "v5.10.1",
            "v5.10",
            "v5.9",
            "v5.10-rc2",
            "v5.10-rc10",
            "v6.0-rc1",
            "v5.10.0",
        ]
        .map(v)
        .to_vec();
        vs.sort();
        let names: Vec<String> = vs
            .iter()
            .map(|x| format!("{}.{}.{:?}.{:?}", x.major, x.minor, x.patch, x.rc))
            .collect();
        assert_eq!(
            names,
            [
                "5.9.None.None",
                "5.10.None.Some(2)",
                "5.10.None.Some(10)",
                "5.10.None.None",
                "5.10.Some(0).None",
                "5.10.Some(1).None",
                "6.0.None.Some(1)"
            ]
        );
    }
}
