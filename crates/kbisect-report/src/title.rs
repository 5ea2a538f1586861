//! Turning a matched format into a stable title: filling the format string,
//! canonical frame names, alternative titles and normalisation of the
//! volatile parts (numbers, addresses, executor names).

use regex::bytes::Regex;

use crate::Error;
use crate::oops_table::compile;

/// Syscall wrapper prefixes. A frame loses the longest one that applies; the
/// other spellings stay available as alternative titles.
const FRAME_PREFIXES: &[&str] = &[
    "__x64_",
    "__ia32_",
    "__arm64_",
    "__riscv_",
    "__s390x_",
    "__s390_",
    "__se_sys_",
    "__se_",
    "__do_sys_",
    "__do_compat_sys_",
    "compat_SyS_",
    "compat_SYSC_",
    "SyS_",
    "SYSC_",
    "sys_",
    "ksys_",
    "__sys_",
    "___sys_",
    "____sys_",
];

/// Longest-first canonical name, plus every other single-prefix strip.
pub(crate) fn frame_variants(raw: &str) -> (String, Vec<String>) {
    let mut strips: Vec<&str> = FRAME_PREFIXES
        .iter()
        .filter(|p| raw.len() > p.len() && raw.starts_with(**p))
        .copied()
        .collect();
    strips.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut others = vec![raw.to_string()];
    let canon = match strips.first() {
        Some(p) => raw[p.len()..].to_string(),
        None => raw.to_string(),
    };
    for p in strips.iter().skip(1) {
        others.push(raw[p.len()..].to_string());
    }
    others.retain(|o| *o != canon);
    (canon, others)
}

/// Fills `{1}`.. with regexp groups and `{F}` with the frame.
pub(crate) fn fill(fmt: &str, groups: &[String], frame: &str) -> String {
    let mut out = String::with_capacity(fmt.len() + 32);
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{'
            && let Some(close) = fmt[i..].find('}')
        {
            let key = &fmt[i + 1..i + close];
            if key == "F" {
                out.push_str(frame);
                i += close + 1;
                continue;
            }
            if let Ok(n) = key.parse::<usize>() {
                if n >= 1 {
                    out.push_str(groups.get(n - 1).map_or("", String::as_str));
                }
                i += close + 1;
                continue;
            }
        }
        let ch = fmt[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Replacements that remove what changes from run to run.
pub(crate) struct Normalizer {
    rules: Vec<(Regex, &'static [u8])>,
    num: Regex,
}

/// (pattern, replacement); applied in order.
const RULES: &[(&str, &str)] = &[
    (r"syz-executor\.?[0-9]+(?:(?:/|:)[0-9]+)?", "syz-executor"),
    (r"syz\.[0-9]+\.[0-9]+(?:(?:/|:)[0-9]+)?", "syz"),
    (r"syzkaller[0-9]+(?:(?:/|:)[0-9]+)?", "syzkaller"),
    (r"syz-fuzzer(?:(?:/|:)[0-9]+)?", "syz-fuzzer"),
    (r"([^a-zA-Z0-9]|^)(?:0x)?[0-9a-f]{6,}", "${1}ADDR"),
    (r"([^a-zA-Z0-9]|^)(?:[0-9]{1,3}\.){3}[0-9]{1,3}", "${1}IP"),
    (r"(?::[0-9]+)+", ":LINE"),
    (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", "${1}"),
    (r"CPU#[0-9]+", "CPU"),
    (r"([a-zA-Z_])[0-9]{8,}", "${1}NUM"),
];

impl Normalizer {
    pub(crate) fn new() -> Result<Normalizer, Error> {
        let rules = RULES
            .iter()
            .map(|(p, r)| compile(p).map(|re| (re, r.as_bytes())))
            .collect::<Result<_, _>>()?;
        Ok(Normalizer {
            rules,
            num: compile(r"(^|[^a-zA-Z0-9_])([0-9]+)([^a-zA-Z0-9_]|$)")?,
        })
    }

    /// The final form of a title: volatile parts replaced, printable ASCII,
    /// single spaces, at most 120 bytes.
    pub(crate) fn title(&self, t: &str) -> String {
        let mut s: Vec<u8> = t.as_bytes().to_vec();
        for (re, rep) in &self.rules {
            if re.is_match(&s) {
                s = re.replace_all(&s, *rep).into_owned();
            }
        }
        // Numbers can share delimiters ("1,2"), so repeat until stable.
        for _ in 0..8 {
            if !self.num.is_match(&s) {
                break;
            }
            s = self.num.replace_all(&s, &b"${1}NUM${3}"[..]).into_owned();
        }
        sanitize(&s)
    }
}

pub(crate) fn sanitize(s: &[u8]) -> String {
    const MAX: usize = 120;
    let mut out = String::with_capacity(s.len().min(MAX));
    let mut prev = b' ';
    for &c in s.iter().take(MAX) {
        let c = if c == b'\t' { b' ' } else { c };
        if !(0x20..0x7f).contains(&c) {
            continue;
        }
        if c == b' ' && prev == b' ' {
            continue;
        }
        out.push(char::from(c));
        prev = c;
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants() {
        let (c, o) = frame_variants("__se_sys_mremap");
        assert_eq!(c, "mremap");
        assert_eq!(
            o,
            vec!["__se_sys_mremap".to_string(), "sys_mremap".to_string()]
        );
        let (c, o) = frame_variants("__x64_sys_futex");
        assert_eq!(c, "sys_futex");
        assert_eq!(o, vec!["__x64_sys_futex".to_string()]);
        let (c, o) = frame_variants("do_futex");
        assert_eq!(c, "do_futex");
        assert!(o.is_empty());
    }

    #[test]
    fn normalize() {
        let n = Normalizer::new().unwrap();
        assert_eq!(
            n.title("SYZFATAL: executor 1 failed 11 times: mkdir ./syzkaller-testdir123456789: read-only"),
            "SYZFATAL: executor NUM failed NUM times: mkdir ./syzkaller-testdirNUM: read-only"
        );
        assert_eq!(n.title("WARNING in foo\x01\tbar"), "WARNING in foo bar");
        assert_eq!(fill("A {1} in {F}", &["x".into()], "f"), "A x in f");
    }
}
