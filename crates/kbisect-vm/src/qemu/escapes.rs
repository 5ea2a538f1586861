//! Terminal noise out of a serial console, as a stream.
//!
//! Firmware (SeaBIOS, iPXE) and qemu's own terminal handling start the
//! console with escape sequences (`ESC c`, `ESC [2J`, ...), and the guest's
//! tty turns every `\n` into `\r\n`. The parser wants plain lines, and a
//! sequence or a `\r` can arrive split across two reads, so the state
//! machine keeps its state between chunks.

/// Strips ANSI/VT escape sequences, `\r` and other C0 control bytes
/// (except `\n` and `\t`) from a byte stream fed in arbitrary chunks.
#[derive(Debug, Default, Clone)]
pub struct EscapeStripper {
    state: State,
    /// Bytes eaten by the current OSC string, to bound a runaway one.
    osc_len: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    /// After ESC.
    Esc,
    /// After `ESC [`: parameters and intermediates until a final byte.
    Csi,
    /// After `ESC ]`: a string ended by BEL or `ESC \`.
    Osc,
    /// ESC inside an OSC string.
    OscEsc,
    /// After `ESC (` and friends: one designator byte follows.
    Charset,
}

/// An OSC string longer than this is taken as garbage, not a title.
const MAX_OSC: usize = 512;

impl EscapeStripper {
    /// A stripper in the ground state.
    pub fn new() -> EscapeStripper {
        EscapeStripper::default()
    }

    /// Appends the printable part of `input` to `out`.
    pub fn strip(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len());
        for &b in input {
            self.byte(b, out);
        }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<u8>) {
        match self.state {
            State::Ground => match b {
                0x1b => self.state = State::Esc,
                b'\n' | b'\t' => out.push(b),
                0x00..=0x1f | 0x7f => {}
                _ => out.push(b),
            },
            State::Esc => {
                self.state = match b {
                    b'[' => State::Csi,
                    b']' => {
                        self.osc_len = 0;
                        State::Osc
                    }
                    b'(' | b')' | b'*' | b'+' | b'#' | b'%' => State::Charset,
                    // A two-byte sequence (`ESC c`, `ESC 7`, ...).
                    _ => State::Ground,
                };
            }
            State::Csi => match b {
                0x40..=0x7e => self.state = State::Ground,
                0x20..=0x3f => {}
                // Not a sequence after all: give the byte back to the text.
                _ => {
                    self.state = State::Ground;
                    self.byte(b, out);
                }
            },
            State::Osc => match b {
                0x07 => self.state = State::Ground,
                0x1b => self.state = State::OscEsc,
                b'\n' => {
                    self.state = State::Ground;
                    out.push(b);
                }
                _ => {
                    self.osc_len += 1;
                    if self.osc_len > MAX_OSC {
                        self.state = State::Ground;
                    }
                }
            },
            State::OscEsc => {
                self.state = State::Ground;
                if b != b'\\' {
                    self.byte(b, out);
                }
            }
            State::Charset => self.state = State::Ground,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_in_chunks(input: &[u8], size: usize) -> Vec<u8> {
        let mut s = EscapeStripper::new();
        let mut out = Vec::new();
        for c in input.chunks(size) {
            s.strip(c, &mut out);
        }
        out
    }

    #[test]
    fn firmware_preamble_is_removed() {
        // What SeaBIOS and qemu's -nographic print before the kernel.
        let raw = b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2)\r\n\x1b[01;01HBooting\r\n";
        for size in [1, 2, 3, 7, raw.len()] {
            assert_eq!(
                strip_in_chunks(raw, size),
                b"SeaBIOS (version 1.16.2)\nBooting\n",
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn text_and_console_prefixes_survive() {
        let raw = b"[    1.234567][    T1] WARNING: CPU: 0 PID: 1 at fs/x.c:1 f+0x1/0x2\r\n\tx\n";
        assert_eq!(
            strip_in_chunks(raw, 5),
            b"[    1.234567][    T1] WARNING: CPU: 0 PID: 1 at fs/x.c:1 f+0x1/0x2\n\tx\n"
        );
        // Bytes that are not ASCII (a broken UTF-8 console) are text too.
        assert_eq!(strip_in_chunks(b"\xff\xfe ok\n", 1), b"\xff\xfe ok\n");
    }

    #[test]
    fn osc_and_charset_sequences() {
        let raw = b"\x1b]0;title\x07a\x1b]2;t\x1b\\b\x1b(Bc\x1b7d\n";
        assert_eq!(strip_in_chunks(raw, 1), b"abcd\n");
        // A runaway OSC does not swallow the rest of the console.
        let mut long = b"\x1b]".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_OSC + 10));
        long.extend(b"\nafter\n");
        let out = strip_in_chunks(&long, 64);
        assert!(
            out.ends_with(b"\nafter\n"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn broken_csi_gives_the_byte_back() {
        assert_eq!(strip_in_chunks(b"\x1b[12\nnext\n", 1), b"\nnext\n");
    }
}
