//! `kbisect report` through the binary: the four formats of a real demo
//! bisection (text and e-mail snapshot-tested, JSON against result.json,
//! the HTML's structure), re-judging, escaping of what repositories and
//! consoles put in a page, and bad work dirs (a clear one-line error and
//! its exit code, or a partial report that says so).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use kbisect_testutil::TestRepo;

/// A demo bisection in `dir` (`dir/repo`, `dir/work`). A per-run crash
/// chance of 1 and syzbot's rules make every run, and so the log, the
/// same each time.
fn demo(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "demo",
        "--no-progress",
        "--repro-chance",
        "1",
        "--workdir",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = kbisect().args(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Report {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn report(args: &[&str]) -> Report {
    let out = kbisect().arg("report").args(args).output().unwrap();
    Report {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `text` with the temp dir, times, hashes, the compiler and the version
/// named, so a snapshot holds only what does not vary.
fn stable(text: &str, dir: &Path) -> String {
    let mut t = text.to_string();
    for d in [dir.canonicalize().unwrap(), dir.to_path_buf()] {
        t = t.replace(d.to_str().unwrap(), "[DIR]");
    }
    t
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\b[0-9a-f]{64}\b", "[SIG]"),
        (r"\b[0-9a-f]{40}\b", "[HASH]"),
        (r"\b[0-9a-f]{16}\b", "[CFG]"),
        (r"\b[0-9a-f]{12}\b", "[SHORT]"),
        (r"\b(\d+h)?(\d+m)?\d+(\.\d+)?s\b", "[T]"),
        (r"(?m) with cc .*$", " with [CC]"),
        (r"kbisect \d+\.\d+\.\d+", "kbisect [VERSION]"),
        // The shell's notice of the abort races the program's own output.
        (r"(?m)^Aborted.*\n", ""),
    ]
}

/// The log without its times, for comparing a replay with the original.
fn without_times(log: &str) -> String {
    regex::Regex::new(r"(\d+h)?(\d+m)?\d+(\.\d+)?s\b")
        .unwrap()
        .replace_all(log, "[T]")
        .into_owned()
}

/// The page as an XML document (it must be well-formed; `<!DOCTYPE html>` allowed).
fn parse(html: &str) -> roxmltree::Document<'_> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(html, opts).expect("the page is well-formed XML")
}

/// Every element with an `id`, and the document's `<svg>` count.
fn ids_and_svgs(html: &str) -> (Vec<String>, usize) {
    let doc = parse(html);
    let ids = doc
        .descendants()
        .filter_map(|n| n.attribute("id").map(str::to_string))
        .collect();
    let svgs = doc
        .descendants()
        .filter(|n| n.tag_name().name() == "svg")
        .count();
    (ids, svgs)
}

#[test]
fn the_demo_in_four_formats() {
    let t = tempfile::tempdir().unwrap();
    demo(t.path(), &["--strategy", "syzkaller"]);
    let dir = t.path().to_str().unwrap();
    let work = t.path().join("work");

    // Text: the replayed log is the bisection's own, then a summary.
    let text = report(&[dir, "--format", "text"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    let log = std::fs::read_to_string(work.join("bisect.log")).unwrap();
    let (replayed, summary) = text
        .stdout
        .split_once("\n--- kbisect report ---\n")
        .unwrap();
    assert_eq!(
        without_times(replayed),
        without_times(&log),
        "the replay asks the questions the bisection asked"
    );
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!("demo_text", stable(&text.stdout, t.path()));
    });
    assert!(summary.contains("strategy:     syzkaller"), "{summary}");

    // E-mail.
    let mail = report(&[
        dir,
        "--format",
        "email",
        "--reported-by",
        "Demo Bot <bot@example.org>",
    ]);
    assert_eq!(mail.code, Some(0), "{}", mail.stderr);
    assert!(mail.stdout.contains("kbisect has bisected this issue to:"));
    assert!(
        mail.stdout
            .contains("Reported-by: Demo Bot <bot@example.org>")
    );
    let result = read_json(&work.join("result.json"));
    let culprit = result["culprits"][0]["commit"].as_str().unwrap();
    assert!(
        mail.stdout.contains(&format!(
            "Fixes: {} (\"parse: reuse the record buffer after releasing it\")",
            &culprit[..12]
        )),
        "{}",
        mail.stdout
    );
    insta::with_settings!({filters => filters()}, {
        insta::assert_snapshot!("demo_email", stable(&mail.stdout, t.path()));
    });

    // JSON: result.json's format and content (times aside).
    let json = report(&[dir, "--format", "json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let got: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let want = read_json(&work.join("result.json"));
    assert_eq!(summary_of(&got), summary_of(&want));
    for key in [
        "schema",
        "kind",
        "strategy",
        "flags",
        "crash",
        "culprit_signature",
    ] {
        assert_eq!(got[key], want[key], "{key}");
    }

    // HTML, written next to the work dir: links to run logs resolve from there.
    let page = t.path().join("report.html");
    let html = report(&[dir, "--format", "html", "-o", page.to_str().unwrap()]);
    assert_eq!(html.code, Some(0), "{}", html.stderr);
    assert!(html.stdout.is_empty());
    let text = std::fs::read_to_string(&page).unwrap();
    let (ids, svgs) = ids_and_svgs(&text);
    for id in [
        "verdict",
        "flags",
        "verification",
        "timeline",
        "range",
        "posterior",
        "times",
        "culprit",
        "message",
        "diffstat",
        "crash",
        "revisions",
        "log",
    ] {
        assert!(
            ids.iter().any(|i| i == id),
            "section {id} is missing: {ids:?}"
        );
    }
    assert!(svgs >= 3, "{svgs} charts");
    assert!(!text.contains("<script"), "no script");
    assert!(!text.contains("http://") || !text.contains("src=\"http"));
    assert!(!text.contains("src="), "nothing is fetched");
    let doc = parse(&text);
    let links: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(links.len() >= 20, "{} run logs linked", links.len());
    for l in links {
        assert!(!l.starts_with('/') && !l.contains("://"), "{l} is relative");
        assert!(t.path().join(l).is_file(), "{l} resolves from the page");
    }
    assert!(text.contains("CULPRIT"), "the verdict is shown");
}

fn summary_of(v: &serde_json::Value) -> Summary {
    summary(v)
}

#[test]
fn rejudging_reuses_the_evidence_and_says_where_it_falls_short() {
    let t = tempfile::tempdir().unwrap();
    demo(t.path(), &["--strategy", "bayes"]);
    let dir = t.path().to_str().unwrap();
    // The same strategy: the bisection's own result.
    let same = report(&[dir, "--format", "json"]);
    assert_eq!(same.code, Some(0), "{}", same.stderr);
    let j: serde_json::Value = serde_json::from_str(&same.stdout).unwrap();
    assert_eq!(j["strategy"], "bayes");
    assert_eq!(j["kind"], "culprit");
    // A lower target needs no more than was gathered: a full result.
    let low = report(&[dir, "--confidence", "0.5"]);
    assert_eq!(low.code, Some(0), "{}", low.stderr);
    assert!(low.stdout.contains("at confidence 0.50"), "{}", low.stdout);
    assert!(low.stdout.contains("first bad commit: "), "{}", low.stdout);
    // syzbot's rules want 20 runs on the start commit, which bayes never made.
    let syz = report(&[dir, "--strategy", "syzkaller"]);
    assert_eq!(syz.code, Some(15), "{}", syz.stderr);
    assert!(
        syz.stdout.contains("This report is partial"),
        "{}",
        syz.stdout
    );
    assert!(syz.stdout.contains("re-judged"), "{}", syz.stdout);
    assert_eq!(syz.stderr.lines().count(), 1, "{}", syz.stderr);
    assert!(
        syz.stderr.contains("the report is partial"),
        "{}",
        syz.stderr
    );
    // The JSON of a partial report says so.
    let pj = report(&[dir, "--strategy", "syzkaller", "--format", "json"]);
    let pj: serde_json::Value = serde_json::from_str(&pj.stdout).unwrap();
    assert_eq!(pj["kind"], "partial");
    assert!(!pj["revisions"].as_array().unwrap().is_empty());
}

/// A repository whose culprit's message and crash carry markup.
fn markup_repo() -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.commit_file("state", "ok\n", "init");
    repo.tag("v1.0");
    repo.commit("one & two");
    let culprit = repo.commit_file(
        "state",
        "bug\n",
        "parse: <script>alert(1)</script> & more\n\nThe body has <b>tags</b> & \"quotes\" too.",
    );
    repo.commit("after");
    (repo, culprit)
}

#[test]
fn the_page_shows_markup_in_messages_and_consoles_as_text() {
    let (repo, culprit) = markup_repo();
    let t = tempfile::tempdir().unwrap();
    let wd = t.path().join("w");
    let out = kbisect()
        .args([
            "run",
            "--repo",
            repo.path().to_str().unwrap(),
            "--bad",
            "master",
            "--good",
            "v1.0",
            "--build",
            "cp state \"$KBISECT_OUT/state\"",
            "--test",
            "grep -q bug \"$KBISECT_OUT/state\" && echo 'BUG: <img src=x> & boom' && exit 1; exit 0",
            "--strategy",
            "syzkaller",
            "--workdir",
            wd.to_str().unwrap(),
            "--no-progress",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = report(&[wd.to_str().unwrap(), "--format", "html"]);
    assert_eq!(html.code, Some(0), "{}", html.stderr);
    let page = &html.stdout;
    assert!(!page.contains("<script"), "a commit message became markup");
    assert!(!page.contains("<img"), "console text became markup");
    assert!(!page.contains("<b>tags"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    assert!(page.contains("&lt;img src=x&gt; &amp; boom"));
    // As text, it reads as written.
    let doc = parse(page);
    let message = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("message"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        message.contains("parse: <script>alert(1)</script> & more"),
        "{message}"
    );
    assert!(message.contains("<b>tags</b> & \"quotes\""), "{message}");
    assert!(page.contains(&culprit[..12]));
    // The e-mail is plain text: as written.
    let mail = report(&[wd.to_str().unwrap(), "--format", "email"]);
    assert!(
        mail.stdout.contains(&format!(
            "Fixes: {} (\"parse: <script>alert(1)</script> & more\")",
            &culprit[..12]
        )),
        "{}",
        mail.stdout
    );
}

fn copy_journal(from: &Path, to: &Path, keep: impl Fn(&str) -> String) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    let text = std::fs::read_to_string(from.join("journal.jsonl")).unwrap();
    std::fs::write(to.join("journal.jsonl"), keep(&text)).unwrap();
    to.to_path_buf()
}

fn one_line_error(r: &Report, code: i32, words: &str) {
    assert_eq!(r.code, Some(code), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("kbisect: error: "), "{}", r.stderr);
    assert!(r.stderr.contains(words), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn bad_work_dirs_get_one_line_and_an_exit_code() {
    let t = tempfile::tempdir().unwrap();
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    one_line_error(&report(&[empty.to_str().unwrap()]), 8, "no bisection in");
    let missing = t.path().join("missing");
    one_line_error(&report(&[missing.to_str().unwrap()]), 8, "no bisection in");

    let newer = t.path().join("newer");
    std::fs::create_dir(&newer).unwrap();
    std::fs::write(
        newer.join("journal.jsonl"),
        "{\"kbisect_journal\":99,\"identity\":{},\"created\":0}\n",
    )
    .unwrap();
    one_line_error(
        &report(&[newer.to_str().unwrap()]),
        8,
        "written by a newer kbisect (format version 99",
    );

    let headless = t.path().join("headless");
    std::fs::create_dir(&headless).unwrap();
    std::fs::write(
        headless.join("journal.jsonl"),
        "{\"kbisect_journal\":2,\"iden",
    )
    .unwrap();
    one_line_error(&report(&[headless.to_str().unwrap()]), 8, "has no header");

    one_line_error(
        &report(&[empty.to_str().unwrap(), "--strategy", "nope"]),
        2,
        "unknown strategy 'nope'",
    );
    one_line_error(
        &report(&[empty.to_str().unwrap(), "--confidence", "1.5"]),
        2,
        "--confidence must be between 0 and 1",
    );
}

#[test]
fn a_truncated_journal_gives_a_partial_report_and_a_corrupt_one_an_error() {
    let t = tempfile::tempdir().unwrap();
    demo(t.path(), &["--strategy", "syzkaller"]);
    let work = t.path().join("work");

    // Cut in the middle of the bisection, the last line half written.
    let cut = copy_journal(&work, &t.path().join("cut"), |text| {
        let lines: Vec<&str> = text.lines().collect();
        let keep = lines.len() / 2;
        format!("{}\n{}", lines[..keep].join("\n"), &lines[keep][..10])
    });
    let r = report(&[cut.to_str().unwrap()]);
    assert_eq!(r.code, Some(15), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("partial: not recorded:"), "{}", r.stdout);
    assert!(r.stdout.contains("This report is partial"), "{}", r.stdout);
    assert!(r.stdout.contains("last line was cut short"), "{}", r.stdout);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let html = report(&[cut.to_str().unwrap(), "--format", "html"]);
    assert_eq!(html.code, Some(15));
    assert!(html.stdout.contains("PARTIAL"));
    parse(&html.stdout);
    let mail = report(&[cut.to_str().unwrap(), "--format", "email"]);
    assert!(
        mail.stdout
            .contains("kbisect has not finished bisecting this issue: this report is partial."),
        "{}",
        mail.stdout
    );

    // A line in the middle that does not parse is corruption, not a cut.
    let corrupt = copy_journal(&work, &t.path().join("corrupt"), |text| {
        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = "garbage";
        lines.join("\n") + "\n"
    });
    one_line_error(
        &report(&[corrupt.to_str().unwrap()]),
        8,
        "is corrupt at line 4",
    );

    // The repository the bisection ran on is gone.
    std::fs::rename(t.path().join("repo"), t.path().join("repo.moved")).unwrap();
    one_line_error(
        &report(&[work.to_str().unwrap()]),
        4,
        "cannot open the repository",
    );
}
