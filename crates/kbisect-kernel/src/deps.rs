//! The source files a kernel build used, from kbuild's own bookkeeping.
//!
//! Every object kbuild makes has a `.<target>.cmd` file in the build dir
//! listing `source_<target> := file` and `deps_<target> := \ file \ ...`
//! (fixdep's rewrite of the compiler's `-MD` output); `include/config/
//! auto.conf.cmd` lists the Kconfig files read. Their union, as paths relative
//! to the source tree, is what a commit must touch to change the binary,
//! except for the build system itself (Makefiles, scripts), which no `.cmd`
//! file names: [`FilesUsed::may_affect`] counts those in.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::error::KernelError;

/// Repo-relative paths of the files a build read, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilesUsed(pub BTreeSet<String>);

impl FilesUsed {
    /// Reads every `*.cmd` file under `build_dir` (a build of `source_dir`).
    pub fn from_build_dir(source_dir: &Path, build_dir: &Path) -> Result<FilesUsed, KernelError> {
        let src = normalize(source_dir);
        let build = normalize(build_dir);
        let mut cmd_files = Vec::new();
        find_cmd_files(&build, &mut cmd_files)?;
        cmd_files.sort();
        let mut raw: BTreeSet<(PathBuf, String)> = BTreeSet::new();
        for f in &cmd_files {
            let text = std::fs::read(f).map_err(|e| KernelError::io(f, e))?;
            let text = String::from_utf8_lossy(&text);
            let base = tool_base(&build, f);
            for p in listed_paths(&text) {
                raw.insert((base.clone(), p.to_owned()));
            }
        }
        let mut files = BTreeSet::new();
        for (base, p) in raw {
            if let Some(rel) = classify(&src, &build, &base, &p) {
                files.insert(rel);
            }
        }
        Ok(FilesUsed(files))
    }

    /// Whether a change to `path` (repo-relative) can change what this build
    /// produces: it was read, or it belongs to the build system.
    pub fn may_affect(&self, path: &str) -> bool {
        self.0.contains(path) || is_build_system_file(path)
    }

    /// Whether `path` was read by the build.
    pub fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was found (no `.cmd` files: not a kbuild build dir).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Makefiles, Kbuild and Kconfig files anywhere, and everything in `scripts/`.
pub fn is_build_system_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("Makefile")
        || name.starts_with("Kbuild")
        || name.starts_with("Kconfig")
        || path.starts_with("scripts/")
}

fn find_cmd_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), KernelError> {
    let entries = std::fs::read_dir(dir).map_err(|e| KernelError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| KernelError::io(dir, e))?;
        let p = entry.path();
        let t = entry.file_type().map_err(|e| KernelError::io(&p, e))?;
        if t.is_dir() {
            find_cmd_files(&p, out)?;
        } else if t.is_file() && p.extension().is_some_and(|x| x == "cmd") {
            out.push(p);
        }
    }
    Ok(())
}

/// The paths of the `source_*` and `deps_*` assignments, `$(wildcard ...)`
/// config dependencies left out; and `deps_config` of `auto.conf.cmd`.
fn listed_paths(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_list = false;
    for line in text.lines() {
        if in_list {
            let item = line.trim().trim_end_matches('\\').trim();
            if !item.is_empty() && !item.starts_with("$(") {
                out.push(item);
            }
            in_list = line.trim_end().ends_with('\\');
            continue;
        }
        let Some((lhs, rhs)) = line.split_once(" := ") else {
            continue;
        };
        if lhs.starts_with("source_") {
            let rhs = rhs.trim();
            if !rhs.is_empty() {
                out.push(rhs);
            }
        } else if lhs.starts_with("deps_") {
            in_list = rhs.trim_end().ends_with('\\');
        }
    }
    out
}

/// Tools built by their own Makefiles (objtool) write paths relative to
/// `tools/<tool>/` of the source tree: that base, relative, for `.cmd` files
/// under `<build>/tools/<tool>/`; empty for kbuild's own.
fn tool_base(build: &Path, cmd_file: &Path) -> PathBuf {
    let rel = cmd_file.strip_prefix(build).unwrap_or(cmd_file);
    let mut parts = rel.components();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Component::Normal(t)), Some(Component::Normal(tool)), Some(_)) if t == "tools" => {
            Path::new("tools").join(tool)
        }
        _ => PathBuf::new(),
    }
}

/// A source-relative path for a listed file, or `None` for generated files,
/// system headers and what cannot be placed.
fn classify(src: &Path, build: &Path, base: &Path, listed: &str) -> Option<String> {
    let p = Path::new(listed);
    if p.is_absolute() {
        let p = normalize(p);
        if src != build && p.starts_with(build) {
            return None;
        }
        return under(&p, src).filter(|r| !is_generated(r));
    }
    if src != build && build.join(p).exists() {
        return None; // generated in the build dir
    }
    for candidate in [src.join(p), src.join(base).join(p)] {
        let c = normalize(&candidate);
        if c.exists() {
            return under(&c, src).filter(|r| !is_generated(r));
        }
    }
    None
}

/// kbuild's generated headers, for in-tree builds where they sit in the source dir.
fn is_generated(rel: &str) -> bool {
    rel.starts_with("include/generated/")
        || rel.starts_with("include/config/")
        || (rel.starts_with("arch/") && rel.contains("/include/generated/"))
}

fn under(p: &Path, root: &Path) -> Option<String> {
    let rel = p.strip_prefix(root).ok()?;
    let s = rel.to_str()?;
    (!s.is_empty()).then(|| s.to_owned())
}

/// `a/b/../c` → `a/c`, without touching the file system (symlinked trees
/// keep the names kbuild used).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
#[path = "deps_tests.rs"]
mod tests;
