//! Throughput of `contains_crash` and `parse_all` over a large synthetic
//! console log (corpus logs separated by long stretches of ordinary boot and
//! executor chatter), plus peak memory. Run: `cargo bench -p kbisect-report`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use kbisect_report::{Config, Reporter};

const TARGET_BYTES: usize = 64 << 20;

fn corpus_dir() -> Option<PathBuf> {
    let p = match std::env::var_os("KBISECT_SHARED") {
        Some(s) => PathBuf::from(s).join("corpus/linux"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/linux"),
    };
    p.is_dir().then_some(p)
}

/// The log part of a corpus file (after the header, before `REPORT:`).
fn log_of(data: &[u8]) -> &[u8] {
    let start = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(0, |p| p + 2);
    let body = &data[start..];
    let end = body
        .windows(9)
        .position(|w| w == b"\nREPORT:\n")
        .map_or(body.len(), |p| p + 1);
    &body[..end]
}

/// Ordinary console output: kernel boot messages and executor progress.
fn chatter(seed: usize, lines: usize, out: &mut Vec<u8>) {
    const MSGS: &[&str] = &[
        "[ T{t}] audit: type=1400 audit({s}.123:{n}): avc:  denied  {{ read }} for  pid={n} comm=\"syz-executor\" scontext=u:r:kernel:s0",
        "[ T{t}] loop0: detected capacity change from 0 to {n}",
        "[ T{t}] EXT4-fs (loop2): mounted filesystem without journal. Quota mode: none.",
        "[ T{t}] netdevsim netdevsim0 netdevsim{n}: renamed from eth{n}",
        "[ T{t}] IPv6: ADDRCONF(NETDEV_CHANGE): veth{n}: link becomes ready",
        "[ T{t}] usb 1-1: new high-speed USB device number {n} using dummy_hcd",
        "[ T{t}] syz-executor.3: attempt to access beyond end of device",
        "[ T{t}] random: crng reseeded on system resumption",
    ];
    for i in 0..lines {
        let k = seed.wrapping_mul(31).wrapping_add(i);
        if k % 7 == 0 {
            out.extend_from_slice(format!("executing program {}:\nr0 = openat$dir(0xffffffffffffff9c, &(0x7f0000000000)='./file0\\x00', 0x0, 0x0)\n", k % 8).as_bytes());
            continue;
        }
        let ts = format!("[{:6}.{:06}]", 100 + k / 1000, k % 1_000_000);
        let m = MSGS[k % MSGS.len()]
            .replace("{t}", &(k % 9000).to_string())
            .replace("{n}", &(k % 4096).to_string())
            .replace("{s}", &(1_600_000_000 + k).to_string());
        out.extend_from_slice(ts.as_bytes());
        out.extend_from_slice(m.as_bytes());
        out.push(b'\n');
    }
}

fn peak_rss_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let Some(dir) = corpus_dir() else {
        println!("corpus not found (set KBISECT_SHARED); benchmark skipped");
        return;
    };
    let mut logs = Vec::new();
    let mut rd: Vec<_> = std::fs::read_dir(dir.join("report"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    rd.sort();
    for p in rd {
        logs.push(log_of(&std::fs::read(p).unwrap()).to_vec());
    }
    let mut big = Vec::with_capacity(TARGET_BYTES + (1 << 20));
    let mut i = 0;
    while big.len() < TARGET_BYTES {
        chatter(i, 1500, &mut big);
        big.extend_from_slice(&logs[i % logs.len()]);
        i += 1;
    }
    let mb = big.len() as f64 / (1 << 20) as f64;
    let rss_before = peak_rss_kb().unwrap_or(0);
    let r = Reporter::new(&Config::default()).unwrap();

    // The VM monitor calls contains_crash on every chunk it reads.
    let t = Instant::now();
    let mut hits = 0;
    for chunk in big.chunks(64 << 10) {
        hits += usize::from(r.contains_crash(chunk));
    }
    let chunked = t.elapsed().as_secs_f64();

    // Worst case for the scan: a long log without any crash in it.
    let mut clean = Vec::with_capacity(32 << 20);
    let mut k = 0;
    while clean.len() < (32 << 20) {
        chatter(k, 1500, &mut clean);
        k += 1;
    }
    let clean_mb = clean.len() as f64 / (1 << 20) as f64;
    let t = Instant::now();
    let whole = r.contains_crash(&clean);
    let once = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let reports = r.parse_all(&big);
    let all = t.elapsed().as_secs_f64();
    let peak = peak_rss_kb().unwrap_or(0);

    println!("\nlog: {mb:.1} MB ({} corpus logs + chatter)\n", i);
    println!("| operation | time (s) | MB/s | result |\n|---|---|---|---|");
    println!(
        "| contains_crash, 64 KiB chunks | {chunked:.3} | {:.0} | {hits} chunks with a crash |",
        mb / chunked
    );
    println!(
        "| contains_crash, {clean_mb:.0} MB crash-free log in one call | {once:.4} | {:.0} | {whole} |",
        clean_mb / once.max(1e-9)
    );
    println!(
        "| parse_all | {all:.3} | {:.1} | {} reports |",
        mb / all,
        reports.len()
    );
    println!(
        "\npeak memory (VmHWM): {:.1} MB (log buffer alone: {mb:.1} MB; before parsing: {:.1} MB)",
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
}
