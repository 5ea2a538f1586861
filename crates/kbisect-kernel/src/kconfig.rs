//! A kernel `.config`: read, write, get/set/unset, merge a fragment, and the
//! check that what a job asked for survived `make olddefconfig`.
//!
//! Lines are kept in order with their comments, so writing back a config
//! that was only read gives the same bytes, and a merged fragment's options
//! land where the base had them (new ones at the end), like kconfig's own
//! `merge_config.sh` without its second olddefconfig pass.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::error::KernelError;

/// The value of one option, as `.config` spells it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConfigValue {
    /// `=y`
    Yes,
    /// `=m`
    Module,
    /// `# CONFIG_X is not set` (or `=n`).
    No,
    /// `="text"`, unescaped.
    Str(String),
    /// `=123`, `=-1`, `=0x1f`: an int or hex option, as written.
    Number(String),
}

impl ConfigValue {
    /// Whether the option is built in or modular.
    pub fn is_enabled(&self) -> bool {
        !matches!(self, ConfigValue::No)
    }
}

impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::Yes => f.write_str("y"),
            ConfigValue::Module => f.write_str("m"),
            ConfigValue::No => f.write_str("is not set"),
            ConfigValue::Str(s) => write!(f, "\"{}\"", escape(s)),
            ConfigValue::Number(n) => f.write_str(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Line {
    Option { name: String, value: ConfigValue },
    Other(String),
}

/// A parsed `.config` (or fragment). Option names are stored with their
/// `CONFIG_` prefix; every method also accepts the bare name (`KASAN`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KernelConfig {
    lines: Vec<Line>,
    index: BTreeMap<String, usize>,
}

/// An option that a job asked for and `make olddefconfig` changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedOption {
    /// `CONFIG_X`.
    pub name: String,
    /// What the job's config said.
    pub wanted: ConfigValue,
    /// What olddefconfig left (`No` when it removed the line).
    pub got: ConfigValue,
}

impl fmt::Display for DroppedOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.wanted {
            ConfigValue::No => write!(f, "{} is not set", self.name)?,
            v => write!(f, "{}={v}", self.name)?,
        }
        match &self.got {
            ConfigValue::No => f.write_str(" became not set"),
            v => write!(f, " became {v}"),
        }
    }
}

/// `KASAN` → `CONFIG_KASAN`; `CONFIG_KASAN` stays.
pub fn canonical_name(name: &str) -> String {
    if name.starts_with("CONFIG_") {
        name.to_owned()
    } else {
        format!("CONFIG_{name}")
    }
}

impl KernelConfig {
    /// Parses `.config` text. Unknown lines are kept as they are; an option
    /// line whose value is not y/m/n, a quoted string or a number is an error.
    pub fn parse(text: &[u8]) -> Result<KernelConfig, KernelError> {
        let text = String::from_utf8_lossy(text);
        let mut cfg = KernelConfig::default();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            match parse_line(line) {
                Ok(Some((name, value))) => cfg.push_option(name, value),
                Ok(None) => cfg.lines.push(Line::Other(line.to_owned())),
                Err(detail) => {
                    return Err(KernelError::BadConfig {
                        detail: format!("line {}: {detail}: {line}", n + 1),
                    });
                }
            }
        }
        Ok(cfg)
    }

    /// Reads and parses a `.config` file.
    pub fn read(path: &Path) -> Result<KernelConfig, KernelError> {
        let bytes = std::fs::read(path).map_err(|e| KernelError::io(path, e))?;
        KernelConfig::parse(&bytes)
    }

    /// Writes the config to `path` (replacing it).
    pub fn write(&self, path: &Path) -> Result<(), KernelError> {
        std::fs::write(path, self.to_bytes()).map_err(|e| KernelError::io(path, e))
    }

    /// The config as `.config` text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for l in &self.lines {
            match l {
                Line::Option { name, value } => out.push_str(&option_line(name, value)),
                Line::Other(s) => out.push_str(s),
            }
            out.push('\n');
        }
        out.into_bytes()
    }

    /// The option's value; `None` when the config does not mention it.
    pub fn get(&self, name: &str) -> Option<&ConfigValue> {
        let i = *self.index.get(&canonical_name(name))?;
        match &self.lines[i] {
            Line::Option { value, .. } => Some(value),
            Line::Other(_) => None,
        }
    }

    /// Whether the option is `y` or `m` (or has a string or number value).
    pub fn is_enabled(&self, name: &str) -> bool {
        self.get(name).is_some_and(ConfigValue::is_enabled)
    }

    /// Sets the option. Its line moves to the end, as `merge_config.sh`
    /// does: for a choice (`KERNEL_GZIP` vs `KERNEL_XZ`) kconfig keeps the
    /// last member set to `y`, so the newest assignment must come last.
    pub fn set(&mut self, name: &str, value: ConfigValue) {
        self.push_option(canonical_name(name), value);
    }

    /// Sets the option to `# CONFIG_X is not set`.
    pub fn unset(&mut self, name: &str) {
        self.set(name, ConfigValue::No);
    }

    /// Removes the option's line altogether (not the same as unsetting it:
    /// kconfig then picks its default).
    pub fn remove(&mut self, name: &str) {
        let Some(i) = self.index.remove(&canonical_name(name)) else {
            return;
        };
        self.lines.remove(i);
        for v in self.index.values_mut() {
            if *v > i {
                *v -= 1;
            }
        }
    }

    /// Every option the config mentions, in name order.
    pub fn options(&self) -> impl Iterator<Item = (&str, &ConfigValue)> {
        self.index
            .iter()
            .filter_map(|(name, &i)| match &self.lines[i] {
                Line::Option { value, .. } => Some((name.as_str(), value)),
                Line::Other(_) => None,
            })
    }

    /// Applies every option of `fragment` over this config (the fragment wins).
    pub fn merge(&mut self, fragment: &KernelConfig) {
        for l in &fragment.lines {
            if let Line::Option { name, value } = l {
                self.set(name, value.clone());
            }
        }
    }

    /// What of `wanted` is not in this (olddefconfig'd) config: an option
    /// set to a value that now differs or is gone, or one unset that is now
    /// enabled. `m` that became `y` counts as kept (the code is still in).
    /// `only`, when given, limits the check to those names.
    pub fn dropped_from(
        &self,
        wanted: &KernelConfig,
        only: Option<&[String]>,
    ) -> Vec<DroppedOption> {
        let mut out = Vec::new();
        for (name, want) in wanted.options() {
            if let Some(only) = only
                && !only.iter().any(|o| canonical_name(o) == name)
            {
                continue;
            }
            let got = self.get(name).cloned().unwrap_or(ConfigValue::No);
            let kept = match (want, &got) {
                (ConfigValue::No, g) => !g.is_enabled(),
                (ConfigValue::Module, ConfigValue::Yes) => true,
                (w, g) => w == g,
            };
            if !kept {
                out.push(DroppedOption {
                    name: name.to_owned(),
                    wanted: want.clone(),
                    got,
                });
            }
        }
        out
    }

    fn push_option(&mut self, name: String, value: ConfigValue) {
        // A repeated option: the last one wins, as in kconfig; one line, last.
        self.remove(&name);
        self.index.insert(name.clone(), self.lines.len());
        self.lines.push(Line::Option { name, value });
    }
}

fn option_line(name: &str, value: &ConfigValue) -> String {
    match value {
        ConfigValue::No => format!("# {name} is not set"),
        v => format!("{name}={v}"),
    }
}

/// `Some((name, value))` for an option line, `None` for anything else.
fn parse_line(line: &str) -> Result<Option<(String, ConfigValue)>, String> {
    if let Some(rest) = line.strip_prefix("# CONFIG_") {
        if let Some(name) = rest.strip_suffix(" is not set")
            && is_symbol(name)
        {
            return Ok(Some((format!("CONFIG_{name}"), ConfigValue::No)));
        }
        return Ok(None);
    }
    let Some(rest) = line.strip_prefix("CONFIG_") else {
        return Ok(None);
    };
    let Some((name, value)) = rest.split_once('=') else {
        return Err("an option without '='".into());
    };
    if !is_symbol(name) {
        return Err(format!("bad option name CONFIG_{name}"));
    }
    let value = match value {
        "y" => ConfigValue::Yes,
        "m" => ConfigValue::Module,
        "n" => ConfigValue::No,
        v if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
            ConfigValue::Str(unescape(&v[1..v.len() - 1]))
        }
        v if is_number(v) => ConfigValue::Number(v.to_owned()),
        _ => return Err("a value that is not y, m, n, a \"string\" or a number".into()),
    };
    Ok(Some((format!("CONFIG_{name}"), value)))
}

fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_number(v: &str) -> bool {
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let digits = v.strip_prefix('-').unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_64BIT=y
CONFIG_CMDLINE=\"console=ttyS0 root=\\\"/dev/sda\\\"\"
# CONFIG_KASAN is not set
CONFIG_LOG_BUF_SHIFT=17
CONFIG_PHYSICAL_START=0x1000000
CONFIG_E1000=m
CONFIG_PANIC_TIMEOUT=-1
";

    #[test]
    fn round_trip_keeps_bytes() {
        let c = KernelConfig::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(c.to_bytes()).unwrap(), SAMPLE);
    }

    #[test]
    fn values_of_every_kind() {
        let c = KernelConfig::parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(c.get("64BIT"), Some(&ConfigValue::Yes));
        assert_eq!(c.get("CONFIG_E1000"), Some(&ConfigValue::Module));
        assert_eq!(c.get("KASAN"), Some(&ConfigValue::No));
        assert_eq!(c.get("UBSAN"), None);
        assert_eq!(
            c.get("CMDLINE"),
            Some(&ConfigValue::Str("console=ttyS0 root=\"/dev/sda\"".into()))
        );
        assert_eq!(
            c.get("LOG_BUF_SHIFT"),
            Some(&ConfigValue::Number("17".into()))
        );
        assert_eq!(
            c.get("PHYSICAL_START"),
            Some(&ConfigValue::Number("0x1000000".into()))
        );
        assert_eq!(
            c.get("PANIC_TIMEOUT"),
            Some(&ConfigValue::Number("-1".into()))
        );
        assert!(c.is_enabled("E1000") && !c.is_enabled("KASAN") && !c.is_enabled("UBSAN"));
    }

    #[test]
    fn set_and_unset_move_the_option_to_the_end() {
        let mut c = KernelConfig::parse(SAMPLE.as_bytes()).unwrap();
        c.set("KASAN", ConfigValue::Yes);
        c.unset("CONFIG_E1000");
        c.set("LOCALVERSION", ConfigValue::Str(String::new()));
        let text = String::from_utf8(c.to_bytes()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[5], "CONFIG_LOG_BUF_SHIFT=17");
        assert_eq!(
            lines[lines.len() - 3..],
            [
                "CONFIG_KASAN=y",
                "# CONFIG_E1000 is not set",
                "CONFIG_LOCALVERSION=\"\""
            ]
        );
        assert_eq!(c.get("KASAN"), Some(&ConfigValue::Yes));
        c.remove("CMDLINE");
        c.remove("NOT_THERE");
        assert_eq!(c.get("CMDLINE"), None);
        assert_eq!(
            c.get("PANIC_TIMEOUT"),
            Some(&ConfigValue::Number("-1".into()))
        );
        c.set("PANIC_TIMEOUT", ConfigValue::Number("0".into()));
        let text = String::from_utf8(c.to_bytes()).unwrap();
        assert!(!text.contains("CMDLINE") && text.contains("CONFIG_PANIC_TIMEOUT=0\n"));
    }

    #[test]
    fn merge_lets_the_fragment_win_and_a_repeat_counts_once() {
        let mut base = KernelConfig::parse(SAMPLE.as_bytes()).unwrap();
        let frag =
            KernelConfig::parse(b"# a fragment\nCONFIG_KASAN=y\nCONFIG_KASAN=m\n# CONFIG_64BIT is not set\nCONFIG_NEW=y\n")
                .unwrap();
        assert_eq!(frag.options().count(), 3);
        base.merge(&frag);
        assert_eq!(base.get("KASAN"), Some(&ConfigValue::Module));
        assert_eq!(base.get("64BIT"), Some(&ConfigValue::No));
        assert_eq!(base.get("NEW"), Some(&ConfigValue::Yes));
        let names: Vec<&str> = base.options().map(|(n, _)| n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn a_merged_choice_member_comes_after_the_base_one() {
        // tinyconfig picks XZ; the fragment wants GZIP, earlier in the file.
        let mut base =
            KernelConfig::parse(b"# CONFIG_KERNEL_GZIP is not set\nCONFIG_KERNEL_XZ=y\n").unwrap();
        let frag = KernelConfig::parse(b"CONFIG_KERNEL_GZIP=y\n").unwrap();
        base.merge(&frag);
        assert_eq!(
            base.to_bytes(),
            b"CONFIG_KERNEL_XZ=y\nCONFIG_KERNEL_GZIP=y\n"
        );
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        for bad in ["CONFIG_X", "CONFIG_X=maybe", "CONFIG_=y", "CONFIG_A-B=y"] {
            let e = KernelConfig::parse(format!("# ok\n{bad}\n").as_bytes()).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("line 2") && msg.contains(bad), "{msg}");
        }
        // Comments that only look like options are kept as comments.
        let c = KernelConfig::parse(b"# CONFIG_X is set to something\n#CONFIG_Y=y\n").unwrap();
        assert_eq!(c.options().count(), 0);
        assert_eq!(
            c.to_bytes(),
            b"# CONFIG_X is set to something\n#CONFIG_Y=y\n"
        );
    }

    #[test]
    fn dropped_options_are_named() {
        let wanted = KernelConfig::parse(
            b"CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=\"x\"\n# CONFIG_D is not set\nCONFIG_E=y\nCONFIG_F=5\n",
        )
        .unwrap();
        let got = KernelConfig::parse(
            b"CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=\"y\"\nCONFIG_D=y\nCONFIG_F=5\n",
        )
        .unwrap();
        let dropped = got.dropped_from(&wanted, None);
        let names: Vec<&str> = dropped.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["CONFIG_C", "CONFIG_D", "CONFIG_E"]);
        assert_eq!(dropped[2].to_string(), "CONFIG_E=y became not set");
        assert_eq!(dropped[1].to_string(), "CONFIG_D is not set became y");
        let only = got.dropped_from(&wanted, Some(&["E".to_owned(), "CONFIG_A".to_owned()]));
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].name, "CONFIG_E");
    }

    #[test]
    fn read_and_write_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".config");
        let c = KernelConfig::parse(SAMPLE.as_bytes()).unwrap();
        c.write(&p).unwrap();
        assert_eq!(KernelConfig::read(&p).unwrap(), c);
        let e = KernelConfig::read(&dir.path().join("missing")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
