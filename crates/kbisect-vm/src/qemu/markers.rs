//! The marker lines kbisect's `/init` prints (see `init.c`), read back from
//! the console stream.

use regex::bytes::Regex;

/// How the reproducer ended inside the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReproEnd {
    /// It exited with this status (kept, not judged: syzkaller ignores it too).
    Exited(i32),
    /// It was killed by this signal.
    Signaled(i32),
    /// It ran for the whole configured time and was stopped (the usual end
    /// of a looping reproducer).
    RanFullTime,
}

/// One marker and where its line starts in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    pub offset: u64,
    pub kind: MarkerKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    BasicOk,
    BasicFail(String),
    ReproStart,
    ExecFail(String),
    Repro(ReproEnd),
    End,
}

/// Finds markers in blocks of whole lines.
pub(crate) struct MarkerFinder {
    re: Regex,
}

impl MarkerFinder {
    pub(crate) fn new() -> MarkerFinder {
        // A literal pattern with no user input: cannot fail to compile.
        #[allow(clippy::expect_used)]
        let re = Regex::new(r"(?m)KBISECT-(BASIC-OK|BASIC-FAIL|REPRO-START|REPRO-EXEC-FAIL|REPRO-EXIT|REPRO-SIGNAL|REPRO-TIMEOUT|END)(?::[ ]?([^\n]*))?$")
            .expect("marker regexp");
        MarkerFinder { re }
    }

    /// The markers in `block`, which starts at stream offset `base`.
    pub(crate) fn find(&self, block: &[u8], base: u64) -> Vec<Marker> {
        let mut out = Vec::new();
        for c in self.re.captures_iter(block) {
            let (Some(all), Some(name)) = (c.get(0), c.get(1)) else {
                continue;
            };
            let arg = c
                .get(2)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).trim().to_owned())
                .unwrap_or_default();
            let num = || arg.parse::<i32>().unwrap_or(-1);
            let kind = match name.as_bytes() {
                b"BASIC-OK" => MarkerKind::BasicOk,
                b"BASIC-FAIL" => MarkerKind::BasicFail(arg.clone()),
                b"REPRO-START" => MarkerKind::ReproStart,
                b"REPRO-EXEC-FAIL" => MarkerKind::ExecFail(arg.clone()),
                b"REPRO-EXIT" => MarkerKind::Repro(ReproEnd::Exited(num())),
                b"REPRO-SIGNAL" => MarkerKind::Repro(ReproEnd::Signaled(num())),
                b"REPRO-TIMEOUT" => MarkerKind::Repro(ReproEnd::RanFullTime),
                _ => MarkerKind::End,
            };
            out.push(Marker {
                offset: base + all.start() as u64,
                kind,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_with_their_arguments_and_offsets() {
        let f = MarkerFinder::new();
        let block = b"[ 1.0] Run /init as init process\nkbisect-init: trivial program ran\n\
KBISECT-BASIC-OK\nKBISECT-REPRO-START: 5000 ms\nhello\nKBISECT-REPRO-EXIT: 3\nKBISECT-END\n";
        let m = f.find(block, 100);
        let kinds: Vec<_> = m.iter().map(|m| m.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                MarkerKind::BasicOk,
                MarkerKind::ReproStart,
                MarkerKind::Repro(ReproEnd::Exited(3)),
                MarkerKind::End
            ]
        );
        let at = usize::try_from(m[0].offset - 100).unwrap();
        assert!(block[at..].starts_with(b"KBISECT-BASIC-OK"));
        let m = f.find(
            b"KBISECT-BASIC-FAIL: the trivial program ended with status 0x100\n",
            0,
        );
        assert_eq!(
            m[0].kind,
            MarkerKind::BasicFail("the trivial program ended with status 0x100".into())
        );
        assert_eq!(
            f.find(
                b"KBISECT-REPRO-SIGNAL: 11\nKBISECT-REPRO-TIMEOUT: 9 ms\n",
                0
            )
            .into_iter()
            .map(|m| m.kind)
            .collect::<Vec<_>>(),
            vec![
                MarkerKind::Repro(ReproEnd::Signaled(11)),
                MarkerKind::Repro(ReproEnd::RanFullTime)
            ]
        );
    }

    #[test]
    fn words_that_merely_start_like_a_marker_are_not_markers() {
        let f = MarkerFinder::new();
        assert!(
            f.find(b"KBISECT-ENDING\nKBISECT-BASIC-OKAY\n", 0)
                .is_empty()
        );
    }
}
