//! The version of a kernel revision, from its top-level `Makefile`.
//!
//! `VERSION`, `PATCHLEVEL`, `SUBLEVEL` and `EXTRAVERSION` are what the
//! revision says it is, whatever tags sit around it. A release candidate
//! (`EXTRAVERSION = -rc3`) sorts before its release, like the tags do, so
//! a table entry "from v5.16" does not apply to v5.16-rc1 (syzbot picks by
//! the newest release tag, which for an -rc is the previous release).

use std::fmt;
use std::path::Path;

use kbisect_git::Version;

use crate::error::KernelError;

/// `VERSION.PATCHLEVEL.SUBLEVEL` and the `EXTRAVERSION` text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelVersion {
    /// Comparable part (an `-rcN` extraversion becomes `rc`).
    pub version: Version,
    /// `EXTRAVERSION` as written (`-rc3`, `-next`, empty).
    pub extraversion: String,
}

impl KernelVersion {
    /// Parses the assignments at the top of a kernel `Makefile`.
    pub fn from_makefile(text: &str) -> Option<KernelVersion> {
        let mut vals = [None, None, None];
        let mut extra = String::new();
        for line in text.lines().take(40) {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            match k {
                "VERSION" => vals[0] = v.parse::<u32>().ok(),
                "PATCHLEVEL" => vals[1] = v.parse::<u32>().ok(),
                "SUBLEVEL" => vals[2] = v.parse::<u32>().ok(),
                "EXTRAVERSION" => extra = v.to_owned(),
                _ => {}
            }
        }
        let [Some(major), Some(minor), sub] = vals else {
            return None;
        };
        let rc = extra
            .strip_prefix("-rc")
            .and_then(|n| n.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok());
        Some(KernelVersion {
            version: Version {
                major,
                minor,
                patch: Some(sub.unwrap_or(0)),
                rc,
            },
            extraversion: extra,
        })
    }

    /// Reads `<source>/Makefile`.
    pub fn read(source: &Path) -> Result<KernelVersion, KernelError> {
        let path = source.join("Makefile");
        let text = std::fs::read_to_string(&path).map_err(|e| KernelError::io(&path, e))?;
        KernelVersion::from_makefile(&text).ok_or_else(|| KernelError::BadConfig {
            detail: format!("{}: no VERSION/PATCHLEVEL at the top", path.display()),
        })
    }

    /// `6.12.0` style `VERSION.PATCHLEVEL.0`: the release line, for names
    /// that must not change within a release (the fixed `KERNELRELEASE`).
    pub fn release_line(&self) -> String {
        format!("{}.{}.0", self.version.major, self.version.minor)
    }
}

impl fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.version;
        write!(
            f,
            "{}.{}.{}{}",
            v.major,
            v.minor,
            v.patch.unwrap_or(0),
            self.extraversion
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kbisect_git::parse_release_tag;

    fn mk(text: &str) -> KernelVersion {
        KernelVersion::from_makefile(text).unwrap()
    }

    #[test]
    fn parses_release_rc_and_stable() {
        let v = mk(
            "# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\nNAME = Baby Opossum Posse\n",
        );
        assert_eq!(v.to_string(), "6.12.117");
        assert_eq!(v.release_line(), "6.12.0");
        let rc = mk("VERSION = 5\nPATCHLEVEL = 16\nSUBLEVEL = 0\nEXTRAVERSION = -rc1\n");
        assert_eq!(rc.to_string(), "5.16.0-rc1");
        assert_eq!(rc.version.rc, Some(1));
        assert!(rc.version < parse_release_tag("v5.16").unwrap());
        assert!(rc.version > parse_release_tag("v5.15.90").unwrap());
        let rel = mk("VERSION = 5\nPATCHLEVEL = 16\nSUBLEVEL = 0\nEXTRAVERSION =\n");
        assert_eq!(rel.version, parse_release_tag("v5.16.0").unwrap());
        assert!(rel.version >= parse_release_tag("v5.16").unwrap());
        let odd = mk("VERSION = 4\nPATCHLEVEL = 19\nSUBLEVEL = 0\nEXTRAVERSION = -next-20190101\n");
        assert_eq!(odd.version.rc, None);
    }

    #[test]
    fn missing_numbers_are_none_and_read_names_the_file() {
        assert!(KernelVersion::from_makefile("all:\n\techo hi\n").is_none());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Makefile"), "all:\n").unwrap();
        let e = KernelVersion::read(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no VERSION/PATCHLEVEL"), "{e}");
        assert!(KernelVersion::read(&dir.path().join("nope")).is_err());
    }
}
