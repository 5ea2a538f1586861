//! What a persistent build dir was last built with, so that the next build
//! is incremental when nothing but the sources changed and starts clean when
//! the compiler or the config did (kbuild would rebuild everything for a new
//! `CC` anyway, and stale objects of another config are not worth trusting).

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::KernelError;

/// The stamp file, inside the build dir.
pub const STAMP_FILE: &str = ".kbisect-build";

/// The inputs that, when they change, make a clean build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildStamp {
    /// Fields in a fixed order: `cc`, `compiler`, `config`, `arch`, `release`.
    fields: BTreeMap<String, String>,
}

impl BuildStamp {
    /// `cc` as passed to make, the compiler's `--version` line, the config
    /// given to olddefconfig (hashed), the arch and the kernel release.
    pub fn new(
        cc: &str,
        compiler_version: &str,
        config: &[u8],
        arch: &str,
        release: &str,
    ) -> BuildStamp {
        let mut fields = BTreeMap::new();
        fields.insert("arch".into(), arch.into());
        fields.insert("cc".into(), cc.into());
        fields.insert("compiler".into(), compiler_version.into());
        fields.insert("config".into(), hex::encode(Sha256::digest(config)));
        fields.insert("release".into(), release.into());
        BuildStamp { fields }
    }

    /// The stamp in `build_dir`, if it has a readable one.
    pub fn read(build_dir: &Path) -> Option<BuildStamp> {
        let text = std::fs::read_to_string(build_dir.join(STAMP_FILE)).ok()?;
        let fields = text
            .lines()
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect::<BTreeMap<_, _>>();
        (!fields.is_empty()).then_some(BuildStamp { fields })
    }

    /// Writes the stamp into `build_dir`.
    pub fn write(&self, build_dir: &Path) -> Result<(), KernelError> {
        let text: String = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect();
        let p = build_dir.join(STAMP_FILE);
        std::fs::write(&p, text).map_err(|e| KernelError::io(&p, e))
    }

    /// Why a build dir stamped `old` cannot be reused for this one, if it cannot.
    pub fn reason_to_clean(&self, old: Option<&BuildStamp>) -> Option<String> {
        let Some(old) = old else {
            return Some("no record of what it was built with".into());
        };
        let changed: Vec<&str> = self
            .fields
            .iter()
            .filter(|(k, v)| old.fields.get(*k) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        (!changed.is_empty()).then(|| format!("{} changed", changed.join(", ")))
    }
}

/// Empties `build_dir` (creating it if needed). Refuses a non-empty
/// directory that is neither stamped by kbisect nor a kbuild output dir, so a
/// mistyped `build_dir` cannot wipe someone's files.
pub fn clean_build_dir(build_dir: &Path) -> Result<(), KernelError> {
    if !build_dir.exists() {
        return std::fs::create_dir_all(build_dir).map_err(|e| KernelError::io(build_dir, e));
    }
    let mut entries = std::fs::read_dir(build_dir)
        .map_err(|e| KernelError::io(build_dir, e))?
        .peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    let ours = build_dir.join(STAMP_FILE).is_file()
        || (build_dir.join(".config").is_file() && build_dir.join("Makefile").is_file());
    if !ours {
        return Err(KernelError::BuildDir {
            path: build_dir.to_owned(),
            detail: "not empty and not a kernel build dir; refusing to clean it".into(),
        });
    }
    for e in entries {
        let e = e.map_err(|e| KernelError::io(build_dir, e))?;
        let p = e.path();
        let is_dir = e
            .file_type()
            .map_err(|err| KernelError::io(&p, err))?
            .is_dir();
        let r = if is_dir {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|err| KernelError::io(&p, err))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn stamps_round_trip_and_name_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let a = BuildStamp::new(
            "ccache gcc",
            "gcc (Debian 12.2.0) 12.2.0",
            b"CONFIG_X=y\n",
            "x86_64",
            "6.12.0-kbisect",
        );
        assert_eq!(
            a.reason_to_clean(None).as_deref(),
            Some("no record of what it was built with")
        );
        assert_eq!(BuildStamp::read(dir.path()), None);
        a.write(dir.path()).unwrap();
        let back = BuildStamp::read(dir.path()).unwrap();
        assert_eq!(back, a);
        assert_eq!(a.reason_to_clean(Some(&back)), None);
        let b = BuildStamp::new(
            "gcc",
            "gcc (Debian 12.2.0) 12.2.0",
            b"CONFIG_X=m\n",
            "x86_64",
            "6.12.0-kbisect",
        );
        assert_eq!(
            b.reason_to_clean(Some(&a)).as_deref(),
            Some("cc, config changed")
        );
    }

    #[test]
    fn cleaning_empties_only_build_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let b = tmp.path().join("build");
        clean_build_dir(&b).unwrap();
        assert!(b.is_dir());
        std::fs::create_dir_all(b.join("kernel")).unwrap();
        std::fs::write(b.join("kernel/sys.o"), "").unwrap();
        // Not stamped, no .config + Makefile: refused, nothing removed.
        let e = clean_build_dir(&b).unwrap_err();
        assert!(e.to_string().contains("refusing to clean"), "{e}");
        assert!(b.join("kernel/sys.o").exists());
        std::fs::write(b.join(".config"), "").unwrap();
        std::fs::write(b.join("Makefile"), "").unwrap();
        clean_build_dir(&b).unwrap();
        assert_eq!(std::fs::read_dir(&b).unwrap().count(), 0);
        std::fs::write(b.join("x"), "").unwrap();
        BuildStamp::new("gcc", "v", b"", "x86_64", "r")
            .write(&b)
            .unwrap();
        clean_build_dir(&b).unwrap();
        assert_eq!(std::fs::read_dir(&b).unwrap().count(), 0);
    }
}
