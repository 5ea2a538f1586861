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

#[test]
fn corpus_accuracy() {
    let Some(dir) = corpus_dir() else {
        println!("corpus not found (set KBISECT_SHARED); corpus test skipped");
        return;
    };
    let r = Reporter::new(&Config::default()).unwrap();
    let files = numbered(&dir.join("report"));
    assert!(!files.is_empty());
    let mut ok = vec![0usize; FIELDS.len()];
    let (mut passed, mut failed) = (0, 0);
    let mut failures = Vec::new();
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
        for (i, c) in checks.iter().enumerate() {
            ok[i] += usize::from(*c);
        }
        if checks.iter().all(|c| *c) {
            passed += 1;
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
    println!("\nfailing files:");
    for f in &failures {
        println!("{f}");
    }
    println!("\n{passed} passed, {failed} failed");
    let pct = |i: usize| 100.0 * ok[i] as f64 / n as f64;
    assert!(pct(0) >= 100.0, "detect {:.2}% < 100%", pct(0));
    assert!(pct(1) >= 95.0, "title {:.2}% < 95%", pct(1));
    assert!(pct(2) >= 97.0, "type {:.2}% < 97%", pct(2));
    assert!(pct(3) >= 95.0, "corrupted {:.2}% < 95%", pct(3));
    assert!(
        100.0 * gok as f64 / gn as f64 >= 90.0,
        "guilty file below 90%"
    );
}
