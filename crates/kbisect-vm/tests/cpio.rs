//! kbisect's newc writer checked against the real cpio program's reading.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{have, skip};
use kbisect_proc::Cmd;
use kbisect_vm::qemu::{Entry, write_newc};

fn archive() -> Vec<u8> {
    let mut out = Vec::new();
    write_newc(
        &mut out,
        &[
            Entry::dir("dev", 0o755),
            Entry::char_dev("dev/console", 0o600, 5, 1),
            Entry::dir("kbisect", 0o755),
            Entry::file("init", 0o755, b"\x7fELF not really".to_vec()),
            // Sizes around the 4-byte padding.
            Entry::file("kbisect/a", 0o644, b"1".to_vec()),
            Entry::file("kbisect/ab", 0o644, b"12".to_vec()),
            Entry::file("kbisect/abc", 0o644, b"123".to_vec()),
            Entry::file("kbisect/abcd", 0o600, b"1234".to_vec()),
            Entry::file("kbisect/empty", 0o644, Vec::new()),
        ],
    )
    .unwrap();
    out
}

#[test]
fn real_cpio_lists_and_extracts_what_was_written() {
    if !have("cpio") {
        skip(
            "cpio",
            "the cpio program is not installed (apt-get install cpio)",
        );
        return;
    }
    let a = archive();
    let list = Cmd::new("cpio")
        .args(["-itv", "--quiet", "--numeric-uid-gid"])
        .stdin_bytes(a.clone())
        .timeout(Duration::from_secs(30))
        .run_checked()
        .unwrap();
    let got: Vec<String> = list
        .stdout_str()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            // mode, and the name (last field); size or device in between.
            format!("{} {} {}", f[0], f[4].trim_end_matches(','), f[f.len() - 1])
        })
        .collect();
    assert_eq!(
        got,
        [
            "drwxr-xr-x 0 dev",
            "crw------- 5 dev/console",
            "drwxr-xr-x 0 kbisect",
            "-rwxr-xr-x 15 init",
            "-rw-r--r-- 1 kbisect/a",
            "-rw-r--r-- 2 kbisect/ab",
            "-rw-r--r-- 3 kbisect/abc",
            "-rw------- 4 kbisect/abcd",
            "-rw-r--r-- 0 kbisect/empty",
        ]
    );

    // Contents come back byte for byte (device nodes left out: they need root).
    let dir = tempfile::tempdir().unwrap();
    Cmd::new("cpio")
        .args([
            "-id",
            "--quiet",
            "--no-absolute-filenames",
            "init",
            "kbisect/*",
        ])
        .cwd(dir.path())
        .stdin_bytes(a)
        .timeout(Duration::from_secs(30))
        .run_checked()
        .unwrap();
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    assert_eq!(read("init"), b"\x7fELF not really");
    assert_eq!(read("kbisect/abc"), b"123");
    assert_eq!(read("kbisect/abcd"), b"1234");
    assert_eq!(read("kbisect/empty"), b"");
}
