//! The toolchain table: per kernel version, the compiler, config changes and
//! fix-up commits (data, not code: `data/toolchains.toml`, extensible by a
//! user file of the same format), and its resolution to installed programs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use kbisect_git::{CommitId, Version, parse_release_tag};
use serde::Deserialize;

use crate::kconfig::{ConfigValue, KernelConfig, canonical_name};
use crate::version::KernelVersion;

const DEFAULT_TABLE: &str = include_str!("../data/toolchains.toml");

/// gcc or clang.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompilerFamily {
    /// GNU C.
    Gcc,
    /// LLVM clang.
    Clang,
}

impl CompilerFamily {
    /// `gcc` / `clang`: the command of the family's default compiler.
    pub fn default_command(self) -> &'static str {
        match self {
            CompilerFamily::Gcc => "gcc",
            CompilerFamily::Clang => "clang",
        }
    }
}

impl fmt::Display for CompilerFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default_command())
    }
}

/// A problem with the table or with the compiler it asks for.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    /// A table file that is not valid.
    #[error("toolchain table {origin}: {detail}")]
    BadTable {
        /// `built-in` or the user file's path.
        origin: String,
        /// What is wrong.
        detail: String,
    },
    /// The table names a compiler that is not installed.
    #[error(
        "kernel {kernel} needs {family} {version} (toolchain table), but none of {} is installed; \
         install it, add a [[compiler]] entry with its command to the toolchain file, \
         or allow the default compiler (compiler_fallback)",
        .tried.join(", ")
    )]
    CompilerMissing {
        /// The revision's version.
        kernel: String,
        /// gcc or clang.
        family: CompilerFamily,
        /// The version the table asks for.
        version: String,
        /// Every command and path looked for.
        tried: Vec<String>,
    },
    /// No compiler entry covers the version (a user table with gaps).
    #[error("toolchain table has no {family} entry for kernel {kernel}")]
    NoEntry {
        /// The revision's version.
        kernel: String,
        /// gcc or clang.
        family: CompilerFamily,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    #[serde(default)]
    replace_defaults: bool,
    #[serde(default)]
    compiler: Vec<CompilerEntry>,
    #[serde(default)]
    tweak: Vec<TweakEntry>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompilerEntry {
    family: CompilerFamily,
    since: Option<String>,
    version: String,
    command: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TweakEntry {
    since: Option<String>,
    until: Option<String>,
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    cherry_pick: Vec<String>,
    why: Option<String>,
}

#[derive(Clone, Debug)]
struct Compiler {
    family: CompilerFamily,
    since: Option<Version>,
    version: String,
    command: Option<String>,
    /// Later tables (the user's) win ties.
    rank: usize,
}

#[derive(Clone, Debug)]
struct Tweak {
    since: Option<Version>,
    until: Option<Version>,
    changes: Vec<(String, ConfigValue)>,
    cherry_picks: Vec<CommitId>,
    why: String,
}

/// The loaded table: the built-in one, possibly extended by user files.
#[derive(Clone, Debug)]
pub struct ToolchainTable {
    compilers: Vec<Compiler>,
    tweaks: Vec<Tweak>,
}

/// How to find compilers and what to do when one is missing.
#[derive(Clone, Debug, Default)]
pub struct CompilerLookup {
    /// The job's compiler command, used where the table says `default`
    /// (else the family's plain `gcc` / `clang`).
    pub default_command: Option<String>,
    /// Directories holding `gcc-X.Y.Z/bin/gcc` style installs.
    pub toolchain_dirs: Vec<PathBuf>,
    /// Use the default compiler, with a note, when the table's is missing.
    pub fallback_to_default: bool,
}

/// What one revision is built with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// gcc or clang.
    pub family: CompilerFamily,
    /// The compiler command (`gcc`, `/opt/gcc-8.1.0/bin/gcc`), without ccache.
    pub compiler: String,
    /// What the table asked for: `default` or a version (`8.1`).
    pub wanted: String,
    /// Set when the table's compiler was missing and the default was used.
    pub note: Option<String>,
    /// Config changes for this version, by option name (`CONFIG_X`).
    pub config_changes: BTreeMap<String, ConfigValue>,
    /// Fix-up commits to cherry-pick, in table order, without repeats.
    pub cherry_picks: Vec<CommitId>,
    /// Why each applicable tweak is there.
    pub reasons: Vec<String>,
}

impl ToolchainTable {
    /// The table shipped with kbisect.
    pub fn builtin() -> Result<ToolchainTable, ToolchainError> {
        let mut t = ToolchainTable {
            compilers: Vec::new(),
            tweaks: Vec::new(),
        };
        t.add(DEFAULT_TABLE, "built-in")?;
        Ok(t)
    }

    /// The built-in table extended by (or, with `replace_defaults`, replaced
    /// by) the user file's text; `origin` names it in errors.
    pub fn with_user_text(text: &str, origin: &str) -> Result<ToolchainTable, ToolchainError> {
        let mut t = ToolchainTable::builtin()?;
        t.add(text, origin)?;
        Ok(t)
    }

    /// Like [`ToolchainTable::with_user_text`], reading the file.
    pub fn with_user_file(path: &Path) -> Result<ToolchainTable, ToolchainError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ToolchainError::BadTable {
            origin: origin.clone(),
            detail: e.to_string(),
        })?;
        ToolchainTable::with_user_text(&text, &origin)
    }

    fn add(&mut self, text: &str, origin: &str) -> Result<(), ToolchainError> {
        let bad = |detail: String| ToolchainError::BadTable {
            origin: origin.to_owned(),
            detail,
        };
        let file: TableFile = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        if file.replace_defaults {
            self.compilers.clear();
            self.tweaks.clear();
        }
        let rank = self.compilers.iter().map(|c| c.rank + 1).max().unwrap_or(0);
        let version = |s: &Option<String>| -> Result<Option<Version>, ToolchainError> {
            s.as_deref()
                .map(|v| {
                    parse_release_tag(v)
                        .ok_or_else(|| bad(format!("{v:?} is not a release like v5.16")))
                })
                .transpose()
        };
        for c in file.compiler {
            self.compilers.push(Compiler {
                family: c.family,
                since: version(&c.since)?,
                version: c.version,
                command: c.command,
                rank,
            });
        }
        for t in file.tweak {
            let mut changes: Vec<(String, ConfigValue)> = t
                .disable
                .iter()
                .map(|o| (canonical_name(o), ConfigValue::No))
                .collect();
            for (name, value) in &t.set {
                let name = canonical_name(name);
                let line = format!("{name}={value}");
                let parsed =
                    KernelConfig::parse(line.as_bytes()).map_err(|e| bad(e.to_string()))?;
                let v = parsed
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| bad(format!("bad set entry {line}")))?;
                changes.push((name, v));
            }
            let cherry_picks = t
                .cherry_pick
                .iter()
                .map(|h| h.parse::<CommitId>().map_err(|e| bad(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            self.tweaks.push(Tweak {
                since: version(&t.since)?,
                until: version(&t.until)?,
                changes,
                cherry_picks,
                why: t.why.unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// The toolchain for a revision of `kernel` built with `family`.
    pub fn resolve(
        &self,
        kernel: &KernelVersion,
        family: CompilerFamily,
        lookup: &CompilerLookup,
    ) -> Result<Toolchain, ToolchainError> {
        let v = kernel.version;
        let entry = self
            .compilers
            .iter()
            .filter(|c| c.family == family && c.since.is_none_or(|s| v >= s))
            .max_by_key(|c| (c.since, c.rank))
            .ok_or(ToolchainError::NoEntry {
                kernel: kernel.to_string(),
                family,
            })?;
        let default_cmd = lookup
            .default_command
            .clone()
            .unwrap_or_else(|| family.default_command().to_owned());
        let (compiler, note) = if entry.version == "default" {
            (entry.command.clone().unwrap_or(default_cmd), None)
        } else {
            let tried = candidates(family, &entry.version, entry.command.as_deref(), lookup);
            match tried.iter().find(|c| is_installed(c)) {
                Some(found) => (found.clone(), None),
                None if lookup.fallback_to_default => {
                    let note = format!(
                        "{family} {} (toolchain table for kernel {kernel}) is not installed; using {default_cmd}",
                        entry.version
                    );
                    (default_cmd, Some(note))
                }
                None => {
                    return Err(ToolchainError::CompilerMissing {
                        kernel: kernel.to_string(),
                        family,
                        version: entry.version.clone(),
                        tried,
                    });
                }
            }
        };
        let mut config_changes = BTreeMap::new();
        let mut cherry_picks: Vec<CommitId> = Vec::new();
        let mut reasons = Vec::new();
        for t in &self.tweaks {
            let applies = t.since.is_none_or(|s| v >= s) && t.until.is_none_or(|u| v < u);
            if !applies {
                continue;
            }
            for (name, value) in &t.changes {
                config_changes.insert(name.clone(), value.clone());
            }
            for c in &t.cherry_picks {
                if !cherry_picks.contains(c) {
                    cherry_picks.push(c.clone());
                }
            }
            if !t.why.is_empty() {
                reasons.push(t.why.clone());
            }
        }
        Ok(Toolchain {
            family,
            compiler,
            wanted: entry.version.clone(),
            note,
            config_changes,
            cherry_picks,
            reasons,
        })
    }
}

/// Where a compiler of `version` may be: the entry's command, versioned
/// names on PATH (`gcc-8.1.0`, `gcc-8.1`, `gcc-8`), then toolchain dirs.
fn candidates(
    family: CompilerFamily,
    version: &str,
    command: Option<&str>,
    lookup: &CompilerLookup,
) -> Vec<String> {
    let base = family.default_command();
    let parts: Vec<&str> = version.split('.').collect();
    let mut versions = vec![version.to_owned()];
    if parts.len() == 2 {
        versions.insert(0, format!("{version}.0"));
    }
    if parts.len() > 1 {
        versions.push(parts[0].to_owned());
    }
    let mut out: Vec<String> = command.map(str::to_owned).into_iter().collect();
    out.extend(versions.iter().map(|v| format!("{base}-{v}")));
    for dir in &lookup.toolchain_dirs {
        for v in &versions[..versions.len().min(2)] {
            out.push(
                dir.join(format!("{base}-{v}"))
                    .join("bin")
                    .join(base)
                    .display()
                    .to_string(),
            );
        }
    }
    out.dedup();
    out
}

/// Whether `cmd` (a path, or a name looked up on PATH) is an executable file.
pub(crate) fn is_installed(cmd: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let exec = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if cmd.contains('/') {
        return exec(Path::new(cmd));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| exec(&d.join(cmd))))
}

#[cfg(test)]
#[path = "toolchain_tests.rs"]
mod tests;
