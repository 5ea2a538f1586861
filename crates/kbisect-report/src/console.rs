//! Console line handling: splitting output into lines and removing the
//! timestamp / caller-tag prefix the kernel puts in front of every line.
//!
//! Everything here works on bytes; console output is frequently not UTF-8.

/// One line of console output (without the trailing `\n`), with its offset.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line<'a> {
    pub start: usize,
    /// Offset just past the line's `\n` (or the end of the buffer).
    pub next: usize,
    pub text: &'a [u8],
}

/// Iterates over the lines of `buf`, starting at `pos`.
pub(crate) struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub(crate) fn lines_from(buf: &[u8], pos: usize) -> Lines<'_> {
    Lines { buf, pos }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.buf[start..];
        let (end, next) = match memchr_nl(rest) {
            Some(i) => (start + i, start + i + 1),
            None => (self.buf.len(), self.buf.len()),
        };
        self.pos = next;
        Some(Line {
            start,
            next,
            text: &self.buf[start..end],
        })
    }
}

pub(crate) fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Start of the line holding `pos`.
pub(crate) fn line_start(buf: &[u8], pos: usize) -> usize {
    let pos = pos.min(buf.len());
    buf[..pos]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(0, |i| i + 1)
}

/// End of the line holding `pos` (offset of its `\n`, or the buffer end).
pub(crate) fn line_end(buf: &[u8], pos: usize) -> usize {
    let pos = pos.min(buf.len());
    memchr_nl(&buf[pos..]).map_or(buf.len(), |i| pos + i)
}

/// The console prefix of a line: where the message starts and the caller tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefix<'a> {
    /// Offset of the message text inside the line.
    pub body: usize,
    /// `T1234` / `C1` when the kernel prints caller ids.
    pub tag: Option<&'a [u8]>,
    /// The line carries a kernel timestamp (it is kernel console output).
    pub kernel: bool,
}

/// Parses `[<level>][ 123.456][ T12] ` style prefixes. Hand-written instead of
/// a regexp because it runs on every line of every report.
pub(crate) fn prefix(line: &[u8]) -> Prefix<'_> {
    let none = Prefix {
        body: 0,
        tag: None,
        kernel: false,
    };
    let mut i = 0;
    // "** 12 printk messages dropped ** " can glue onto the next line.
    if line.starts_with(b"** ")
        && let Some(p) = find(line, b" ** ")
        && p > 3
    {
        i = p + 4;
    }
    // "syzkaller login: [  12.3] ..." when a login prompt was interrupted
    // (never on a line that already starts with a prefix).
    if !matches!(line.get(i), Some(b'[' | b'<'))
        && let Some(p) = find(&line[i..], b" login: ")
    {
        let after = i + p + 8;
        if line[after..].starts_with(b"[") || line[after..].starts_with(b"<") {
            i = after;
        }
    }
    // Optional syslog level "<6>".
    if line.get(i) == Some(&b'<') {
        let mut j = i + 1;
        while j < line.len() && line[j].is_ascii_digit() {
            j += 1;
        }
        if j > i + 1 && line.get(j) == Some(&b'>') {
            i = j + 1;
        }
    }
    let Some(ts_end) = timestamp(line, i) else {
        return none;
    };
    let mut body = ts_end;
    let mut tag = None;
    if let Some((t, end)) = caller_tag(line, ts_end) {
        tag = Some(t);
        body = end;
    }
    if line.get(body) == Some(&b' ') {
        body += 1;
    }
    Prefix {
        body,
        tag,
        kernel: true,
    }
}

/// `[ 123.456789]` at `i`: returns the offset after `]`.
fn timestamp(line: &[u8], i: usize) -> Option<usize> {
    if line.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while line.get(j) == Some(&b' ') {
        j += 1;
    }
    let d0 = j;
    while line.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j == d0 || line.get(j) != Some(&b'.') {
        return None;
    }
    j += 1;
    let f0 = j;
    while line.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j == f0 || line.get(j) != Some(&b']') {
        return None;
    }
    Some(j + 1)
}

/// `[ T1234]` / `[    C0]` at `i`.
fn caller_tag(line: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if line.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while line.get(j) == Some(&b' ') {
        j += 1;
    }
    let t0 = j;
    if !matches!(line.get(j), Some(b'T' | b'C')) {
        return None;
    }
    j += 1;
    let d0 = j;
    while line.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    if j == d0 || line.get(j) != Some(&b']') {
        return None;
    }
    Some((&line[t0..j], j + 1))
}

/// A stack line the unwinder itself marks as unreliable (` ? func+0x1/0x2`).
pub(crate) fn is_questionable(body: &[u8]) -> bool {
    let mut s = body;
    while let Some(rest) = s.strip_prefix(b" ") {
        s = rest;
    }
    if s.first() == Some(&b'[') {
        // "[<ffffffff81234>] ? func+0x.."
        if let Some(p) = find(s, b"] ") {
            s = &s[p + 2..];
        }
    }
    let Some(rest) = s.strip_prefix(b"? ") else {
        return false;
    };
    let rest = trim_start(rest);
    let name_len = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
        .count();
    name_len > 0 && rest[name_len..].starts_with(b"+0x")
}

pub(crate) fn trim_start(mut s: &[u8]) -> &[u8] {
    while let Some((c, rest)) = s.split_first() {
        if c.is_ascii_whitespace() {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// Naive substring search; used only on short lines.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if needle.len() > hay.len() {
        return None;
    }
    let first = needle[0];
    let last = hay.len() - needle.len();
    let mut i = 0;
    while i <= last {
        match hay[i..=last].iter().position(|&c| c == first) {
            None => return None,
            Some(p) => i += p,
        }
        if &hay[i..i + needle.len()] == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = prefix(b"[  584.319520][   T31] INFO: task");
        assert_eq!(p.tag, Some(&b"T31"[..]));
        assert_eq!(
            &b"[  584.319520][   T31] INFO: task"[p.body..],
            b"INFO: task"
        );
        let p = prefix(b"<4>[    1.2] WARNING: x");
        assert_eq!(p.tag, None);
        assert_eq!(&b"<4>[    1.2] WARNING: x"[p.body..], b"WARNING: x");
        let p = prefix(b"syzkaller login: [   12.5] BUG: x");
        assert_eq!(&b"syzkaller login: [   12.5] BUG: x"[p.body..], b"BUG: x");
        assert!(!prefix(b"2018/08/03 14:36:29 Manager").kernel);
        assert!(!prefix(b"[ 1.x] a").kernel);
    }

    #[test]
    fn questionable() {
        assert!(is_questionable(b" ? __pfx___se_sys_mremap+0x10/0x10"));
        assert!(is_questionable(
            b" [<ffffffff8100554f>] ? do_syscall_64+0x19f/0x480"
        ));
        assert!(!is_questionable(b" do_syscall_64+0x19f/0x480"));
    }

    #[test]
    fn lines_and_find() {
        let v: Vec<_> = lines_from(b"a\nbc\n\nd", 0).map(|l| l.text).collect();
        assert_eq!(v, vec![&b"a"[..], b"bc", b"", b"d"]);
        assert_eq!(find(b"hello world", b"o w"), Some(4));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(line_start(b"ab\ncd", 4), 3);
        assert_eq!(line_end(b"ab\ncd", 0), 2);
    }
}
