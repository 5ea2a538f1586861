//! Accuracy against the shared corpus of real console logs (never copied
//! into the repository). Expected values are read exactly the way
//! `shared/tools/score-reports.py` reads them.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::{Path, PathBuf};

use kbisect_report::{Config, Reporter};

#[derive(Default, Debug)]
struct Expected {
    title: String,
    alt: Vec<String>,
    typ: String,
    frame: String,
    corrupted: bool,
    suppressed: bool,
    panicked: bool,
    executor: String,
    log: Vec<u8>,
}

fn corpus_dir() -> Option<PathBuf> {
    let p = match std::env::var_os("KBISECT_SHARED") {
        Some(s) => PathBuf::from(s).join("corpus/linux"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/linux"),
    };
    p.is_dir().then_some(p)
}

fn numbered(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<(u64, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_str()?.parse::<u64>().ok()?;
            Some((n, e.path()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

fn parse_test_file(path: &Path) -> Expected {
    let data: Vec<u8> = std::fs::read(path)
        .unwrap()
        .into_iter()
        .filter(|&c| c != b'\r')
        .collect();
    let mut lines: Vec<&[u8]> = data.split(|&c| c == b'\n').collect();
    if lines.last() == Some(&&b""[..]) {
        lines.pop();
    }
    let mut e = Expected::default();
    let (mut phase, mut prev_empty) = (0, false);
    for raw in lines {
        if phase == 0 {
            let ln = String::from_utf8_lossy(raw);
            if ln.is_empty() {
                phase = 1;
            } else if !ln.starts_with('#') {
                let (k, v) = ln
                    .split_once(": ")
                    .unwrap_or_else(|| panic!("{}: bad header {ln:?}", path.display()));
                let v = v.to_string();
                match k {
                    "TITLE" => e.title = v,
                    "ALT" => e.alt.push(v),
                    "TYPE" => e.typ = v,
                    "FRAME" => e.frame = v,
                    "CORRUPTED" => e.corrupted = v == "Y",
                    "SUPPRESSED" => e.suppressed = v == "Y",
                    "PANICKED" => e.panicked = v == "Y",
                    "EXECUTOR" => e.executor = v,
                    "START" | "END" => {}
                    _ => panic!("{}: unknown header {ln:?}", path.display()),
                }
            }
        } else if phase == 1 {
            if prev_empty && raw == b"REPORT:" {
                phase = 2;
            } else {
                e.log.extend_from_slice(raw);
                e.log.push(b'\n');
            }
        }
        prev_empty = raw.is_empty();
    }
    e.alt.sort();
    e
}

const FIELDS: &[&str] = &[
    "detect",
    "title",
    "type",
    "corrupted",
    "suppressed",
    "panicked",
    "alt",
    "frame",
    "executor",
];

/// The fold a corpus file belongs to: FNV-1a (64 bit) of its file name,
/// modulo the number of folds. A hash of the name, not of the content, so
/// that a file keeps its fold when its expectations are edited.
fn fold_of(name: &str, folds: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % folds
}

/// `KBISECT_CORPUS_FOLDS=N` prints per-fold, per-field accuracy;
/// `KBISECT_CORPUS_HOLDOUT=K` (with it) keeps fold K's failures out of the
/// listing, so rules can be written without looking at that fold and the
/// fold's figures then say how well they generalise.
fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

#[test]
fn corpus_accuracy() {
    let Some(dir) = corpus_dir() else {
        println!("corpus not found (set KBISECT_SHARED); corpus test skipped");
        return;
    };
    let r = Reporter::new(&Config::default()).unwrap();
    let files = numbered(&dir.join("report"));
    assert!(!files.is_empty());
    let folds = env_u64("KBISECT_CORPUS_FOLDS").filter(|&n| n > 1);
    let holdout = env_u64("KBISECT_CORPUS_HOLDOUT");
    let nfolds = folds.unwrap_or(1) as usize;
    // [fold][field] correct counts, and files per fold.
    let mut fold_ok = vec![vec![0usize; FIELDS.len()]; nfolds];
    let mut fold_n = vec![0usize; nfolds];
    let mut ok = vec![0usize; FIELDS.len()];
    let (mut passed, mut failed) = (0, 0);
    let mut failures = Vec::new();
    let mut hidden_failures = 0usize;
    for path in &files {
        let e = parse_test_file(path);
        let rep = r.parse(&e.log);
        let found = rep.is_some();
        let cc = r.contains_crash(&e.log);
        let (title, typ, cor, sup, pan, alt, frame, exe) = match &rep {
            Some(x) => {
                let t = x.crash_type.to_string();
                let t = if t == "UNKNOWN" { String::new() } else { t };
                let exe = x.executor.map(|e| e.to_string()).unwrap_or_default();
                (
                    x.title.clone(),
                    t,
                    x.corrupted,
                    x.suppressed,
                    x.panicked,
                    x.alt_titles.clone(),
                    x.frame.clone(),
                    exe,
                )
            }
            None => Default::default(),
        };
        let exp_crash = !e.title.is_empty();
        let checks = [
            found == exp_crash && cc == exp_crash,
            title == e.title,
            typ == e.typ,
            cor == e.corrupted,
            sup == e.suppressed,
            pan == e.panicked,
            alt == e.alt,
            e.frame.is_empty() || frame == e.frame,
            exe == e.executor,
        ];
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let fold = folds.map_or(0, |k| fold_of(&name, k));
        fold_n[fold as usize] += 1;
        for (i, c) in checks.iter().enumerate() {
            ok[i] += usize::from(*c);
            fold_ok[fold as usize][i] += usize::from(*c);
        }
        let hidden = folds.is_some() && holdout == Some(fold);
        if checks.iter().all(|c| *c) {
            passed += 1;
        } else if hidden {
            failed += 1;
            hidden_failures += 1;
        } else {
            failed += 1;
            let bad: Vec<&str> = FIELDS
                .iter()
                .zip(checks)
                .filter(|(_, c)| !c)
                .map(|(f, _)| *f)
                .collect();
            failures.push(format!(
                "{}: [{}]\n   want: {:?} type={:?} corrupted={} panicked={} alt={:?} frame={:?} exec={:?}\n   got:  {:?} type={:?} corrupted={} ({}) panicked={} alt={:?} frame={:?} exec={:?}",
                path.file_name().unwrap().to_string_lossy(),
                bad.join(","),
                e.title, e.typ, e.corrupted, e.panicked, e.alt, e.frame, e.executor,
                title, typ, cor, rep.as_ref().map(|x| x.corrupted_reason.as_str()).unwrap_or(""), pan, alt, frame, exe,
            ));
        }
    }
    // Guilty files.
    let gfiles = numbered(&dir.join("guilty"));
    let mut gok = 0;
    for path in &gfiles {
        let data = std::fs::read(path).unwrap();
        let text = String::from_utf8_lossy(&data).replace('\r', "");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let want = head.strip_prefix("FILE: ").unwrap_or("").trim();
        let got = r.guilty_file(body.as_bytes());
        if got == want {
            gok += 1;
        } else {
            failures.push(format!(
                "guilty/{}: want {want:?} got {got:?}",
                path.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    let n = files.len();
    println!("\n| field | ok | of | % |\n|---|---|---|---|");
    for (i, f) in FIELDS.iter().enumerate() {
        println!(
            "| {f} | {} | {n} | {:.2} |",
            ok[i],
            100.0 * ok[i] as f64 / n as f64
        );
    }
    let gn = gfiles.len().max(1);
    println!(
        "| guilty file | {gok} | {} | {:.2} |",
        gfiles.len(),
        100.0 * gok as f64 / gn as f64
    );
    if let Some(k) = folds {
        print!("\n| fold | files |");
        for f in FIELDS {
            print!(" {f} |");
        }
        print!("\n|---|---|");
        for _ in FIELDS {
            print!("---|");
        }
        println!();
        for (fi, counts) in fold_ok.iter().enumerate() {
            let mark = if holdout == Some(fi as u64) {
                " (held out)"
            } else {
                ""
            };
            print!("| {fi}/{k}{mark} | {} |", fold_n[fi]);
            for c in counts {
                print!(" {:.2} |", 100.0 * *c as f64 / fold_n[fi].max(1) as f64);
            }
            println!();
        }
    }
    println!("\nfailing files:");
    for f in &failures {
        println!("{f}");
    }
    if hidden_failures > 0 {
        println!("({hidden_failures} failing files of the held-out fold not listed)");
    }
    println!("\n{passed} passed, {failed} failed");
    let pct = |i: usize| 100.0 * ok[i] as f64 / n as f64;
    assert!(pct(0) >= 100.0, "detect {:.2}% < 100%", pct(0));
    assert!(pct(1) >= 99.0, "title {:.2}% < 99%", pct(1));
    assert!(pct(2) >= 99.5, "type {:.2}% < 99.5%", pct(2));
    assert!(pct(3) >= 99.5, "corrupted {:.2}% < 99.5%", pct(3));
    assert!(pct(4) >= 100.0, "suppressed {:.2}% < 100%", pct(4));
    assert!(pct(6) >= 99.0, "alt {:.2}% < 99%", pct(6));
    assert!(
        100.0 * gok as f64 / gn as f64 >= 92.5,
        "guilty file below 92.5%"
    );
}
