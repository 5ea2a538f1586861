//! Hostile and broken input: never panic, stay bounded, answer sensibly.
#![allow(clippy::unwrap_used)]

use kbisect_report::{Config, Reporter};
use proptest::prelude::*;

static REPORTER: std::sync::LazyLock<Reporter> =
    std::sync::LazyLock::new(|| Reporter::new(&Config::default()).unwrap());

fn reporter() -> &'static Reporter {
    &REPORTER
}

#[test]
fn empty_and_garbage() {
    let r = reporter();
    assert!(!r.contains_crash(b""));
    assert!(r.parse(b"").is_none());
    assert!(r.parse_all(b"").is_empty());
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let _ = r.parse_all(&garbage);
    assert!(r.parse(b"\xff\xfe BUG: \xc3\x28 \n\x00\x00").is_some());
}

#[test]
fn invalid_utf8_in_title_is_sanitized() {
    let r = reporter();
    let rep = r.parse(b"[ 1.0] WARNING: foo \xff\xfe bar\n").unwrap();
    assert!(rep.title.is_ascii());
    assert!(rep.title.starts_with("WARNING: foo"));
}

#[test]
fn huge_line_is_bounded() {
    let r = reporter();
    let mut log = b"[ 1.0] BUG: unable to handle kernel paging request at 0000\n[ 1.1] ".to_vec();
    log.extend(std::iter::repeat_n(b'A', 64 << 20));
    log.extend_from_slice(b"\n[ 1.2] RIP: 0010:foo_bar+0x1/0x2\n");
    let rep = r.parse(&log).unwrap();
    assert!(rep.report.len() <= 1 << 20);
    assert!(rep.title.len() <= 120);
}

#[test]
fn truncated_stack_is_corrupted() {
    let r = reporter();
    let log = b"[ 1.0] general protection fault: 0000 [#1] SMP KASAN\n[ 1.1] CPU: 0 PID: 1 Comm: x Not tainted\n[ 1.2] Call Trace:\n";
    let rep = r.parse(log).unwrap();
    assert!(rep.corrupted);
    assert_eq!(rep.title, "general protection fault in corrupted");
}

#[test]
fn warning_with_stack() {
    let r = reporter();
    let log = b"[ 1.0][ T5] WARNING: CPU: 0 PID: 5 at net/core/dev.c:1 foo_bar+0x1/0x2\n\
[ 1.1][ T5] RIP: 0010:foo_bar+0x1/0x2\n[ 1.2][ T5] Call Trace:\n[ 1.3][ T5]  baz_qux+0x1/0x2\n\
[ 1.4][ T5]  __x64_sys_ioctl+0x1/0x2\n";
    let rep = r.parse(log).unwrap();
    assert_eq!(rep.title, "WARNING in foo_bar");
    assert!(!rep.corrupted, "{}", rep.corrupted_reason);
    assert_eq!(rep.crash_type.to_string(), "WARNING");
}

#[test]
fn user_ignores_and_suppressions() {
    let cfg = Config {
        ignores: vec!["WARNING: harmless".into()],
        suppressions: vec!["out of tea".into()],
    };
    let r = Reporter::new(&cfg).unwrap();
    assert!(!r.contains_crash(b"[ 1.0] WARNING: harmless thing\n"));
    let rep = r
        .parse(b"out of tea\n[ 1.0] WARNING: other thing\n")
        .unwrap();
    assert!(rep.suppressed);
    assert!(
        Reporter::new(&Config {
            ignores: vec!["(".into()],
            ..Default::default()
        })
        .is_err()
    );
}

/// Fragments that steer random input into the parser's interesting paths.
const PIECES: &[&[u8]] = &[
    b"BUG: ",
    b"WARNING: ",
    b"INFO: ",
    b"KASAN: ",
    b"general protection fault",
    b"Call Trace:\n",
    b" func+0x1/0x2\n",
    b"RIP: 0010:",
    b"[ 12.345][ T1] ",
    b"\n",
    b" at: ",
    b"Kernel panic - not syncing: ",
    b"kernel BUG at ",
    b"Booting the kernel.",
    b"<IRQ>\n",
    b"</IRQ>\n",
    b"INFO: task x:1 blocked for more than 1 seconds.",
    b"SYZFAIL: ",
    b"panic: ",
    b"\xff\xfe",
    b"(",
    b"0x",
    b"?",
    b" from ",
    b"backtrace:\n",
    b"at:\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let r = reporter();
        let c = r.contains_crash(&data);
        let all = r.parse_all(&data);
        prop_assert_eq!(c, !all.is_empty());
    }

    #[test]
    fn random_fragments_never_panic(idx in proptest::collection::vec((0..PIECES.len(), any::<u8>()), 0..200)) {
        let r = reporter();
        let mut data = Vec::new();
        for (i, b) in idx {
            data.extend_from_slice(PIECES[i]);
            if b % 3 == 0 {
                data.push(b);
            }
        }
        let c = r.contains_crash(&data);
        let all = r.parse_all(&data);
        prop_assert_eq!(c, !all.is_empty());
        for rep in all {
            prop_assert!(rep.title.len() <= 120);
            prop_assert!(rep.start <= rep.end && rep.end <= data.len());
        }
    }
}
