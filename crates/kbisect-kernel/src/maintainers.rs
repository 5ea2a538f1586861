//! The tree's `MAINTAINERS` file, and who to tell about changed files the
//! way `scripts/get_maintainer.pl` (no git, no mailmap) and syzbot's reading
//! of its output decide: maintainers, supporters and lists "to"; reviewers
//! and other roles (odd fixers, orphan minders) "cc";
//! `linux-kernel@vger.kernel.org` "to" unless a subsystem list is there too,
//! then "cc"; Linus (the "chief penguin" of THE REST) left out, as
//! get_maintainer.pl does by default.
//!
//! Matching follows get_maintainer.pl: an `F:`/`X:` pattern is a regex
//! anchored at the start (`*` → `.*`, `?` → `.`, `.` literal); one ending in
//! `/` covers the whole subtree, any other only paths with as many `/` (so
//! `drivers/net/*` does not reach `drivers/net/phy/x.c`); a pattern naming
//! a directory of the tree gets its `/`. `N:` is an extended regex anywhere
//! in the path; `K:` an extended regex over the patch (the commit message,
//! then its `+`/`-` lines). A section with a matching `X:` is skipped.

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

use crate::error::KernelError;

/// The address syzbot moves from "to" to "cc" when a subsystem list exists.
pub const LKML: &str = "linux-kernel@vger.kernel.org";
const CHIEF_PENGUIN: &str = "torvalds@linux-foundation.org";
const SECTION_MAXLEN: usize = 50;

/// One `MAINTAINERS` section.
#[derive(Clone, Debug)]
pub struct Section {
    /// The title line (`NETWORKING DRIVERS`).
    pub name: String,
    /// Its entries in file order: (`'M'`, `Name <addr>`), (`'F'`, `net/`), ...
    pub entries: Vec<(char, String)>,
    /// `F:` and `N:` in file order (the last one that matches sets the depth).
    covers: Vec<Cover>,
    excludes: Vec<Pattern>,
    /// Each `K:` as written, compiled for the message and for diff lines.
    keywords: Vec<(String, Regex, Regex)>,
}

#[derive(Clone, Debug)]
enum Cover {
    File(Pattern),
    Regex(Regex),
}

#[derive(Clone, Debug)]
struct Pattern {
    re: Option<Regex>,
    text: String,
    dir: bool,
    slashes: usize,
}

/// One line of get_maintainer.pl's output: an address and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Maintainer {
    /// The name, when the entry has one.
    pub name: Option<String>,
    /// The address as written.
    pub address: String,
    /// `maintainer:NETWORKING DRIVERS`, `reviewer:...`, `open list:...`.
    pub role: String,
}

/// Recipients from MAINTAINERS, lowercase addresses, sorted; none in both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaintainerRecipients {
    /// Addressed directly.
    pub to: BTreeSet<String>,
    /// Copied.
    pub cc: BTreeSet<String>,
}

/// A parsed `MAINTAINERS` file.
#[derive(Clone, Debug, Default)]
pub struct Maintainers {
    /// The sections, in file order.
    pub sections: Vec<Section>,
}

impl Maintainers {
    /// Reads `<tree>/MAINTAINERS`; directory patterns are checked in `tree`.
    pub fn read(tree: &Path) -> Result<Maintainers, KernelError> {
        let p = tree.join("MAINTAINERS");
        let text = std::fs::read(&p).map_err(|e| KernelError::io(&p, e))?;
        Ok(Maintainers::parse(
            &String::from_utf8_lossy(&text),
            Some(tree),
        ))
    }

    /// Parses the text; `tree`, when given, is where a pattern without a
    /// trailing `/` is checked for being a directory.
    pub fn parse(text: &str, tree: Option<&Path>) -> Maintainers {
        let mut sections = Vec::new();
        let mut title: Option<String> = None;
        let mut current: Option<Section> = None;
        for line in text.lines() {
            if let Some((t, v)) = entry(line) {
                let sec =
                    current.get_or_insert_with(|| Section::new(title.clone().unwrap_or_default()));
                sec.add(t, v, tree);
            } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                if let Some(s) = current.take() {
                    sections.push(s);
                }
                title = Some(line.trim_end().to_owned());
            }
        }
        sections.extend(current);
        Maintainers { sections }
    }

    /// The sections covering `file`, deepest pattern first (get_maintainer.pl's order).
    pub fn sections_for(&self, file: &str) -> Vec<&Section> {
        let mut hits: Vec<(i64, usize)> = Vec::new();
        for (i, s) in self.sections.iter().enumerate() {
            if s.excludes.iter().any(|p| p.matches(file)) {
                continue;
            }
            let mut depth: Option<i64> = None;
            for c in &s.covers {
                match c {
                    Cover::File(p) if p.matches(file) => {
                        let d = p.slashes as i64 + i64::from(!p.dir);
                        depth = Some(if p.text.starts_with(".*") { -1 } else { d });
                    }
                    Cover::Regex(r) if r.is_match(file) => depth = Some(0),
                    _ => {}
                }
            }
            if let Some(d) = depth {
                hits.push((d, i));
            }
        }
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        hits.into_iter().map(|(_, i)| &self.sections[i]).collect()
    }

    /// What get_maintainer.pl prints for `files` (and, for `K:`, the patch
    /// text of `git show`): people first, then lists, duplicates dropped.
    pub fn get_maintainers(&self, files: &[&str], patch: Option<&str>) -> Vec<Maintainer> {
        let mut order: Vec<(&Section, String)> = Vec::new();
        for f in files {
            order.extend(self.sections_for(f).into_iter().map(|s| (s, String::new())));
        }
        if let Some(patch) = patch {
            let mut hit: BTreeSet<(usize, usize)> = BTreeSet::new();
            let mut in_diff = false;
            for line in patch.lines() {
                if line.starts_with("+++ ") || line.starts_with("--- ") {
                    in_diff = true;
                    continue;
                }
                // Lines get_maintainer.pl reads for file names, not keywords.
                let meta = [
                    "diff --git ",
                    "@@ -",
                    " mode change ",
                    "rename from ",
                    "rename to ",
                    "Fixes:",
                ];
                if meta.iter().any(|m| line.starts_with(m)) {
                    continue;
                }
                for (i, s) in self.sections.iter().enumerate() {
                    for (j, (_, msg, diff)) in s.keywords.iter().enumerate() {
                        if if in_diff {
                            diff.is_match(line)
                        } else {
                            msg.is_match(line)
                        } {
                            hit.insert((i, j));
                        }
                    }
                }
            }
            for (i, j) in hit {
                let s = &self.sections[i];
                order.push((s, format!(":Keyword:{}", s.keywords[j].0)));
            }
        }
        let mut people: Vec<Maintainer> = Vec::new();
        let mut lists: Vec<Maintainer> = Vec::new();
        let mut seen_names = BTreeSet::new();
        let mut seen_addrs = BTreeSet::new();
        let mut seen_lists = BTreeSet::new();
        for (s, suffix) in order {
            let sub = s.short_name();
            for (t, v) in &s.entries {
                match t {
                    'L' => {
                        let mut parts = v.splitn(2, char::is_whitespace);
                        let addr = parts.next().unwrap_or_default().to_owned();
                        let extra = parts.next().unwrap_or_default();
                        if extra.contains("subscribers-only")
                            || !seen_lists.insert(addr.to_lowercase())
                        {
                            continue;
                        }
                        let kind = if extra.contains("moderated") {
                            "moderated list"
                        } else {
                            "open list"
                        };
                        let role = match sub.as_str() {
                            "THE REST" => format!("{kind}{suffix}"),
                            name => format!("{kind}:{name}{suffix}"),
                        };
                        lists.push(Maintainer {
                            name: None,
                            address: addr,
                            role,
                        });
                    }
                    'M' | 'R' => {
                        let Some((name, address)) = parse_email(v) else {
                            continue;
                        };
                        let used = name
                            .as_ref()
                            .is_some_and(|n| seen_names.contains(&n.to_lowercase()))
                            || seen_addrs.contains(&address.to_lowercase());
                        if used {
                            continue;
                        }
                        if let Some(n) = &name {
                            seen_names.insert(n.to_lowercase());
                        }
                        seen_addrs.insert(address.to_lowercase());
                        let role = if *t == 'M' {
                            format!("{}:{sub}{suffix}", s.maintainer_role())
                        } else {
                            format!("reviewer:{sub}{suffix}")
                        };
                        people.push(Maintainer {
                            name,
                            address,
                            role,
                        });
                    }
                    _ => {}
                }
            }
        }
        people.retain(|m| !m.address.eq_ignore_ascii_case(CHIEF_PENGUIN));
        people.extend(lists);
        people
    }

    /// syzbot's "to"/"cc" split of [`Maintainers::get_maintainers`].
    pub fn recipients(&self, files: &[&str], patch: Option<&str>) -> MaintainerRecipients {
        let mut r = MaintainerRecipients::default();
        let mut lkml_to = true;
        let mut lkml = false;
        for m in self.get_maintainers(files, patch) {
            let addr = m.address.to_lowercase();
            let kind = m.role.split(':').next().unwrap_or_default();
            if addr == LKML {
                lkml = true;
                continue;
            }
            if kind.contains("list") {
                lkml_to = false;
                r.to.insert(addr);
            } else if kind.contains("maintainer") || kind.contains("supporter") {
                r.to.insert(addr);
            } else {
                r.cc.insert(addr);
            }
        }
        if lkml {
            if lkml_to {
                r.to.insert(LKML.into())
            } else {
                r.cc.insert(LKML.into())
            };
        }
        let to = r.to.clone();
        r.cc.retain(|a| !to.contains(a));
        r
    }
}

/// `M:\tName <addr>` → (`'M'`, `Name <addr>`).
fn entry(line: &str) -> Option<(char, &str)> {
    let mut chars = line.chars();
    let t = chars.next()?;
    if !t.is_ascii_uppercase() || chars.next()? != ':' {
        return None;
    }
    Some((t, line[2..].trim()))
}

/// get_maintainer.pl's parse_email: `Name <addr>`, `<addr>`, `addr ...`.
fn parse_email(s: &str) -> Option<(Option<String>, String)> {
    let s = s.trim();
    let (name, address) = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b && s[a + 1..b].contains('@') => (&s[..a], &s[a + 1..b]),
        _ => ("", s.split_whitespace().find(|w| w.contains('@'))?),
    };
    let name = name.trim().trim_matches('"').trim();
    let address = address.trim().to_owned();
    Some(((!name.is_empty()).then(|| name.to_owned()), address))
}

impl Section {
    fn new(name: String) -> Section {
        Section {
            name,
            entries: Vec::new(),
            covers: Vec::new(),
            excludes: Vec::new(),
            keywords: Vec::new(),
        }
    }

    fn add(&mut self, t: char, v: &str, tree: Option<&Path>) {
        self.entries.push((t, v.to_owned()));
        match t {
            'F' => self.covers.push(Cover::File(Pattern::new(v, tree))),
            'X' => self.excludes.push(Pattern::new(v, tree)),
            'N' => match Regex::new(&format!("(?x){v}")) {
                Ok(r) => self.covers.push(Cover::Regex(r)),
                Err(e) => {
                    tracing::warn!(section = %self.name, pattern = v, "unusable N: regex: {e}")
                }
            },
            // Perl regexes that Rust's engine lacks (look-around) are skipped.
            'K' => match (
                Regex::new(&format!("(?x){v}")),
                Regex::new(&format!("(?x)^[+-].*(?:{v})")),
            ) {
                (Ok(msg), Ok(diff)) => self.keywords.push((v.to_owned(), msg, diff)),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(section = %self.name, pattern = v, "unusable K: regex: {e}")
                }
            },
            _ => {}
        }
    }

    fn short_name(&self) -> String {
        if self.name.chars().count() > SECTION_MAXLEN {
            let cut: String = self.name.chars().take(SECTION_MAXLEN - 3).collect();
            format!("{}...", cut.trim_end())
        } else {
            self.name.clone()
        }
    }

    /// `maintainer`, `supporter`, `odd fixer`, ... from the `S:` status.
    fn maintainer_role(&self) -> String {
        let status = self
            .entries
            .iter()
            .rev()
            .find(|(t, _)| *t == 'S')
            .map(|(_, v)| v.to_lowercase());
        match status.as_deref() {
            Some("supported") => "supporter".into(),
            Some("maintained") => "maintainer".into(),
            Some("odd fixes") => "odd fixer".into(),
            Some("orphan") => "orphan minder".into(),
            Some("obsolete") => "obsolete minder".into(),
            Some("buried alive in reporters") => "chief penguin".into(),
            Some(other) => other.to_owned(),
            None => "unknown".into(),
        }
    }
}

impl Pattern {
    fn new(raw: &str, tree: Option<&Path>) -> Pattern {
        let mut text = raw.replace('.', "\\.").replace('*', ".*").replace('?', ".");
        if !text.ends_with('/') && tree.is_some_and(|t| t.join(&text).is_dir()) {
            text.push('/');
        }
        let re = Regex::new(&format!("^(?:{text})")).ok();
        Pattern {
            dir: text.ends_with('/'),
            slashes: text.matches('/').count(),
            re,
            text,
        }
    }

    fn matches(&self, file: &str) -> bool {
        let hit = match &self.re {
            Some(r) => r.is_match(file),
            None => file.starts_with(&self.text),
        };
        hit && (self.dir || file.matches('/').count() == self.slashes)
    }
}

#[cfg(test)]
#[path = "maintainers_tests.rs"]
mod tests;
