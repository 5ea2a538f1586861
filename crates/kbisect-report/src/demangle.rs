//! Readable names for mangled symbols in stack traces: Rust (v0 and legacy)
//! and C++ (only the plain function name). Rust kernel code shows up as
//! `_RNv...` symbols; titles name them the way `rustfilt` prints them, e.g.
//! `<ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap`.
//!
//! Everything returns `None` on input it does not fully understand: the raw
//! symbol is then used as is.

/// The readable form of `sym`, if it is mangled.
pub(crate) fn demangle(sym: &[u8]) -> Option<Vec<u8>> {
    if let Some(rest) = sym.strip_prefix(b"_R") {
        let mut p = V0 {
            s: rest,
            pos: 0,
            depth: 0,
        };
        let out = p.path()?;
        return Some(out.into_bytes());
    }
    if let Some(rest) = sym.strip_prefix(b"_ZN") {
        return legacy(rest);
    }
    let rest = sym.strip_prefix(b"_Z")?;
    let (n, used) = decimal(rest)?;
    Some(rest.get(used..used.checked_add(n)?)?.to_vec())
}

/// A decimal length prefix: (value, digits used).
fn decimal(s: &[u8]) -> Option<(usize, usize)> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = std::str::from_utf8(s.get(..digits)?).ok()?.parse().ok()?;
    Some((n, digits))
}

/// Legacy Rust: `_ZN` {len ident} [`17h` hash] `E`, joined with `::`.
fn legacy(mut s: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    while s.first() != Some(&b'E') {
        let (n, used) = decimal(s)?;
        let id = s.get(used..used.checked_add(n)?)?;
        s = &s[used + n..];
        // The trailing hash is not part of the name.
        let is_hash = id.len() == 17 && id[0] == b'h' && id[1..].iter().all(u8::is_ascii_hexdigit);
        if !is_hash {
            parts.push(id);
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join(&b"::"[..]))
}

/// Rust v0 mangling (RFC 2603): paths, impls and the common types.
struct V0<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

/// Bounds recursion (backrefs can nest) on hostile input.
const MAX_DEPTH: usize = 64;

impl V0<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `_` = 0, `<base62>_` = value + 1.
    fn base62(&mut self) -> Option<usize> {
        if self.eat(b'_') {
            return Some(0);
        }
        let mut v: usize = 0;
        loop {
            let c = self.next()?;
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'z' => c - b'a' + 10,
                b'A'..=b'Z' => c - b'A' + 36,
                b'_' => return v.checked_add(1),
                _ => return None,
            };
            v = v.checked_mul(62)?.checked_add(usize::from(d))?;
        }
    }

    fn disambiguator(&mut self) -> Option<()> {
        if self.eat(b's') {
            self.base62()?;
        }
        Some(())
    }

    fn ident(&mut self) -> Option<String> {
        self.disambiguator()?;
        let punycode = self.eat(b'u');
        let (n, used) = decimal(self.s.get(self.pos..)?)?;
        if used == 0 {
            return None;
        }
        self.pos += used;
        self.eat(b'_');
        let bytes = self.s.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        if punycode {
            return None;
        }
        Some(String::from_utf8_lossy(bytes).into_owned())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// Follows a backref (`B<base62>`) and parses what it points at with `f`.
    fn backref(&mut self, f: fn(&mut Self) -> Option<String>) -> Option<String> {
        let target = self.base62()?;
        if target >= self.pos {
            return None;
        }
        let back = self.pos;
        self.pos = target;
        let r = f(self);
        self.pos = back;
        r
    }

    fn path(&mut self) -> Option<String> {
        self.enter()?;
        let r = match self.next()? {
            b'C' => self.ident(),
            b'N' => {
                let ns = self.next()?;
                let parent = self.path()?;
                let name = self.ident()?;
                match ns {
                    // Closures and shims have no useful name of their own.
                    b'C' => Some(format!("{parent}::{{closure}}")),
                    b'S' => Some(format!("{parent}::{{shim}}")),
                    _ if name.is_empty() => Some(parent),
                    _ => Some(format!("{parent}::{name}")),
                }
            }
            b'M' => {
                self.disambiguator()?;
                self.path()?;
                let ty = self.ty()?;
                Some(format!("<{ty}>"))
            }
            b'X' => {
                self.disambiguator()?;
                self.path()?;
                let ty = self.ty()?;
                let tr = self.path()?;
                Some(format!("<{ty} as {tr}>"))
            }
            b'Y' => {
                let ty = self.ty()?;
                let tr = self.path()?;
                Some(format!("<{ty} as {tr}>"))
            }
            b'I' => {
                let base = self.path()?;
                let mut args = Vec::new();
                while !self.eat(b'E') {
                    args.push(self.generic_arg()?);
                }
                Some(format!("{base}<{}>", args.join(", ")))
            }
            b'B' => self.backref(Self::path),
            _ => None,
        };
        self.depth -= 1;
        r
    }

    fn generic_arg(&mut self) -> Option<String> {
        if self.eat(b'L') {
            self.base62()?;
            return Some("'_".into());
        }
        if self.eat(b'K') {
            return None;
        }
        self.ty()
    }

    fn ty(&mut self) -> Option<String> {
        self.enter()?;
        let c = self.peek()?;
        let basic = match c {
            b'a' => Some("i8"),
            b'b' => Some("bool"),
            b'c' => Some("char"),
            b'd' => Some("f64"),
            b'e' => Some("str"),
            b'f' => Some("f32"),
            b'h' => Some("u8"),
            b'i' => Some("isize"),
            b'j' => Some("usize"),
            b'l' => Some("i32"),
            b'm' => Some("u32"),
            b'n' => Some("i128"),
            b'o' => Some("u128"),
            b's' => Some("i16"),
            b't' => Some("u16"),
            b'u' => Some("()"),
            b'x' => Some("i64"),
            b'y' => Some("u64"),
            b'z' => Some("!"),
            b'p' => Some("_"),
            _ => None,
        };
        let r = if let Some(b) = basic {
            self.pos += 1;
            Some(b.to_string())
        } else {
            self.pos += 1;
            match c {
                b'R' | b'Q' => {
                    if self.eat(b'L') {
                        self.base62()?;
                    }
                    let m = if c == b'Q' { "mut " } else { "" };
                    self.ty().map(|t| format!("&{m}{t}"))
                }
                b'P' | b'O' => {
                    let m = if c == b'O' { "mut" } else { "const" };
                    self.ty().map(|t| format!("*{m} {t}"))
                }
                b'S' => self.ty().map(|t| format!("[{t}]")),
                b'T' => {
                    let mut v = Vec::new();
                    while !self.eat(b'E') {
                        v.push(self.ty()?);
                    }
                    Some(format!("({})", v.join(", ")))
                }
                b'B' => self.backref(Self::ty),
                b'C' | b'N' | b'M' | b'X' | b'Y' | b'I' => {
                    self.pos -= 1;
                    self.path()
                }
                _ => None,
            }
        };
        self.depth -= 1;
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<String> {
        demangle(s.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn rust_v0() {
        assert_eq!(
            d("_RNvXs1_CscPPBqWtAqum_11ashmem_rustNtB5_6AshmemNtNtCs43vyB533jt3_6kernel10miscdevice10MiscDevice4mmap")
                .as_deref(),
            Some("<ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap")
        );
        assert_eq!(
            d("_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt").as_deref(),
            Some("core::panicking::panic_fmt")
        );
        assert_eq!(
            d("_RNvMNtCs1234_6kernel4fileNtB2_4File3get").as_deref(),
            Some("<kernel::file::File>::get")
        );
        // Garbage and truncation never panic.
        assert_eq!(d("_RNvB_"), None);
        assert_eq!(d("_RNvXs1_Csc"), None);
        assert_eq!(d("_RB0_"), None);
    }

    #[test]
    fn legacy_and_cpp() {
        assert_eq!(
            d("_ZN6kernel5alloc4kbox3Box3new17h0123456789abcdefE").as_deref(),
            Some("kernel::alloc::kbox::Box::new")
        );
        assert_eq!(d("_Z8fakeNameiii").as_deref(), Some("fakeName"));
        assert_eq!(d("plain_function"), None);
    }
}
