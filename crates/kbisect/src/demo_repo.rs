//! The demo's project: a real git repository of a small C program (a record
//! parser) with releases, merges, docs-only commits, a short range that does
//! not build, and one commit that plants a crash reproducing only part of the
//! time. Deterministic: the same seed gives the same hashes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use kbisect_proc::Cmd;

/// What was generated, and the answer the bisection should find.
pub struct DemoRepo {
    pub path: PathBuf,
    pub planted: String,
    pub planted_title: String,
    /// The branch head (the bisection's start commit).
    pub head: String,
    pub commits: usize,
    pub broken: Vec<String>,
}

const AUTHORS: &[(&str, &str)] = &[
    ("Ada Lovelace", "ada@example.org"),
    ("Grace Hopper", "grace@example.org"),
    ("Ken Thompson", "ken@example.org"),
    ("Barbara Liskov", "barbara@example.org"),
];

const PLANTED_TITLE: &str = "parse: reuse the record buffer after releasing it";

/// The sources are named, not globbed: a new file then needs a Makefile
/// change, which the list of files used covers. Under kbisect the build
/// also writes that list (`$KBISECT_FILES_USED`), so a bisection that
/// shares evidence never builds the docs-only commits.
const MAKEFILE: &str = "OUT ?= .\nCC ?= cc\nCFLAGS ?= -O1\nSRCS = src/features.c src/main.c src/parse.c src/util.c\nHDRS = src/demo.h\n\n$(OUT)/demo: $(SRCS) $(HDRS) Makefile\n\t$(CC) $(CFLAGS) -o $(OUT)/demo $(SRCS)\n\t@if [ -n \"$$KBISECT_FILES_USED\" ]; then printf '%s\\n' Makefile $(SRCS) $(HDRS) > \"$$KBISECT_FILES_USED\"; fi\n";

const HEADER: &str = "#ifndef DEMO_H\n#define DEMO_H\nint parse_record(const char *rec);\nunsigned checksum(const char *s);\nint feature_total(void);\n#endif\n";

const MAIN_C: &str = r#"#include <stdio.h>
#include "demo.h"

int main(int argc, char **argv) {
	int fields = 0;
	for (int i = 1; i < argc; i++)
		fields += parse_record(argv[i]);
	printf("parsed %d records, %d fields, features %d\n", argc - 1, fields, feature_total());
	return 0;
}
"#;

const UTIL_C: &str = "#include \"demo.h\"\n\nunsigned checksum(const char *s) {\n\tunsigned h = 5381;\n\twhile (*s)\n\t\th = h * 33 + (unsigned char)*s++;\n\treturn h;\n}\n";

fn parse_c(broken: bool, planted_percent: Option<u32>) -> String {
    let mut s = String::from(
        "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include \"demo.h\"\n\n",
    );
    if let Some(p) = planted_percent {
        s.push_str(&format!(
            r#"#define REUSE_PER_10000 {p}

static unsigned demo_random(void) {{
	unsigned v = 0;
	FILE *f = fopen("/dev/urandom", "rb");
	if (f) {{
		if (fread(&v, sizeof(v), 1, f) != 1)
			v = 0;
		fclose(f);
	}}
	return v;
}}

static void report_use_after_free(void) {{
	printf("BUG: demo: use-after-free in parse_record\n");
	printf("Read of size 1 by task demo\n");
	printf("Call Trace:\n parse_record+0x4c/0x90 src/parse.c:40\n main+0x3a/0x70 src/main.c:7\n");
	fflush(stdout);
	abort();
}}

"#
        ));
    }
    s.push_str("int parse_record(const char *rec) {\n\tint fields = 1;\n");
    if broken {
        s.push_str("\tstatic const char seps[] = { ',', ';' ;\n");
    } else {
        s.push_str("\tstatic const char seps[] = { ',', ';' };\n");
    }
    s.push_str("\tchar *buf = strdup(rec);\n\tif (!buf)\n\t\treturn 0;\n");
    s.push_str("\tfor (char *p = buf; *p; p++)\n\t\tif (*p == seps[0] || *p == seps[1])\n\t\t\tfields++;\n");
    s.push_str("\tfree(buf);\n");
    if planted_percent.is_some() {
        // Decided once per run, so a run crashes with the chance asked for
        // however many records it parses.
        s.push_str("\tstatic int decided;\n\tif (!decided) {\n\t\tdecided = 1;\n\t\tif (demo_random() % 10000 < REUSE_PER_10000)\n\t\t\treport_use_after_free();\n\t}\n");
    }
    s.push_str("\treturn fields;\n}\n");
    s
}

/// One step of the history.
enum Step {
    Code(&'static str),
    Docs(&'static str),
    Tag(&'static str),
    Break(&'static str),
    Fix(&'static str),
    Plant,
    /// A topic branch with these commits, merged with `--no-ff`.
    Topic(&'static str, &'static [&'static str]),
}

/// Plain commits the seed places around the planted one.
const EXTRA: &[&str] = &[
    "util: inline the hash step",
    "features: add a trace mode",
    "main: check argc",
    "parse: count separators once",
    "features: add a sort mode",
    "util: add a clamp helper",
    "main: accept records from stdin",
    "features: add a unique mode",
    "parse: skip a leading separator",
    "util: add a min helper",
    "features: add a reverse mode",
    "main: exit non-zero on no records",
    "features: add a tail mode",
    "util: add a max helper",
];

fn history(seed: u64) -> Vec<Step> {
    use Step::*;
    let mut h = vec![
        Code("main: read records from the command line"),
        Docs("docs: describe the record format"),
        Code("util: add a checksum helper"),
        Code("parse: accept empty fields"),
        Tag("v1.0"),
        Code("features: add verbose mode"),
        Docs("docs: fix typos in the README"),
        Topic(
            "topic/cli",
            &["cli: add a count option", "cli: print the field count"],
        ),
        Code("util: speed up the checksum"),
        Code("parse: trim trailing whitespace"),
        Tag("v1.1"),
        Code("features: add quiet mode"),
        Docs("docs: add a changelog"),
        Code("main: report the number of fields"),
        Topic(
            "topic/stats",
            &["stats: count records", "stats: count fields per record"],
        ),
        Code("features: add a summary line"),
        Code("util: handle empty strings"),
        Tag("v1.2"),
        Code("features: add a dry-run mode"),
        Break("parse: split fields with a separator table"),
        Code("features: add a strict mode"),
        Fix("parse: fix the build of the separator table"),
        Docs("docs: document the separators"),
        Code("features: add an escape character"),
        Topic(
            "topic/io",
            &["io: read records in blocks", "io: handle short reads"],
        ),
        Code("features: add a record limit"),
    ];
    // The seed draws how many plain commits come before and after the
    // planted one, and which: each seed is a history of its own.
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let before = next() % 9;
    let after = next() % 6;
    let mut pool: Vec<&'static str> = EXTRA.to_vec();
    let mut take = |n: u64, h: &mut Vec<Step>| {
        for _ in 0..n {
            if pool.is_empty() {
                break;
            }
            let i = (next() % pool.len() as u64) as usize;
            h.push(Code(pool.swap_remove(i)));
        }
    };
    take(before, &mut h);
    // Docs-only commits right below the planted one: the search ends next
    // to them (the culprit's parent is always tested), so their builds are
    // the ones sharing evidence saves (folded into the last code commit).
    h.extend([
        Docs("docs: describe the record buffer"),
        Docs("docs: note the separator scan"),
    ]);
    h.push(Plant);
    take(after, &mut h);
    h.extend([
        Code("features: add a json mode"),
        Docs("docs: describe the json mode"),
        Code("util: add a string helper"),
        Tag("v1.3"),
        Topic(
            "topic/fmt",
            &["fmt: align columns", "fmt: add a header line"],
        ),
        Code("features: add colors"),
        Docs("docs: update the changelog"),
        Code("parse: allow tab separators"),
        Code("util: constify the helpers"),
        Topic(
            "topic/perf",
            &[
                "perf: avoid a copy",
                "perf: reuse the output buffer",
                "perf: document the numbers",
            ],
        ),
        Code("main: print the version"),
    ]);
    h
}

struct Gen {
    dir: PathBuf,
    n: u64,
    features: Vec<String>,
    broken: bool,
    planted: Option<u32>,
}

impl Gen {
    fn git(&self, args: &[&str]) -> Result<String> {
        let (name, email) = AUTHORS[(self.n as usize) % AUTHORS.len()];
        let date = format!("@{} +0000", 1_704_067_200 + self.n * 3_600);
        let out = Cmd::new("git")
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "core.hooksPath=/dev/null",
            ])
            .args(args)
            .cwd(&self.dir)
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .env("GIT_COMMITTER_NAME", name)
            .env("GIT_COMMITTER_EMAIL", email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .run_checked()
            .with_context(|| format!("git {}", args.join(" ")))?;
        Ok(out.stdout_str().trim().to_string())
    }

    fn write(&self, path: &str, text: &str) -> Result<()> {
        let p = self.dir.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, text).with_context(|| p.display().to_string())
    }

    fn write_sources(&self) -> Result<()> {
        self.write("src/parse.c", &parse_c(self.broken, self.planted))?;
        let mut f = String::from("#include \"demo.h\"\n\n");
        for (i, name) in self.features.iter().enumerate() {
            f.push_str(&format!(
                "/* {name} */\nstatic int feature_{i}(int x) {{ return x * {} + {}; }}\n",
                i + 2,
                i * 7 + 1
            ));
        }
        f.push_str("\nint feature_total(void) {\n\tint t = 0;\n");
        for i in 0..self.features.len() {
            f.push_str(&format!("\tt += feature_{i}(t);\n"));
        }
        f.push_str("\treturn t;\n}\n");
        self.write("src/features.c", &f)
    }

    fn commit(&mut self, msg: &str) -> Result<String> {
        self.n += 1;
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "-m", msg])?;
        kbisect_proc::failpoint::hit("demo-generate");
        self.git(&["rev-parse", "HEAD"])
    }

    fn code(&mut self, title: &str) -> Result<String> {
        self.features.push(title.to_string());
        self.write_sources()?;
        self.commit(title)
    }

    fn docs(&mut self, title: &str) -> Result<String> {
        let p = self.dir.join("docs/NOTES.md");
        let mut t = std::fs::read_to_string(&p).unwrap_or_else(|_| "# Notes\n".into());
        t.push_str(&format!("\n- {title}\n"));
        self.write("docs/NOTES.md", &t)?;
        self.commit(title)
    }
}

/// Creates the demo repository in `dir` (which must not exist or be empty).
pub fn generate(dir: &Path, seed: u64, repro_chance: f64) -> Result<DemoRepo> {
    if !(0.0..=1.0).contains(&repro_chance) {
        bail!("--repro-chance must be between 0 and 1");
    }
    std::fs::create_dir_all(dir)?;
    let mut g = Gen {
        dir: dir.to_path_buf(),
        n: 0,
        features: Vec::new(),
        broken: false,
        planted: None,
    };
    g.git(&["init", "-q", "-b", "master"])?;
    g.write("Makefile", MAKEFILE)?;
    g.write("src/demo.h", HEADER)?;
    g.write("src/main.c", MAIN_C)?;
    g.write("src/util.c", UTIL_C)?;
    g.write(
        "README.md",
        "# recparse\n\nA tiny record parser (the kbisect demo project).\n",
    )?;
    g.write_sources()?;
    g.commit("Initial commit: a record parser")?;
    let mut commits = 1;
    let (mut planted, mut broken) = (String::new(), Vec::new());
    let percent = (repro_chance * 10_000.0).round() as u32;
    for step in history(seed) {
        match step {
            Step::Code(t) => {
                let id = g.code(t)?;
                if g.broken {
                    broken.push(id);
                }
                commits += 1;
            }
            Step::Docs(t) => {
                g.docs(t)?;
                commits += 1;
            }
            Step::Tag(t) => {
                g.git(&["tag", t])?;
            }
            Step::Break(t) => {
                g.broken = true;
                broken.push(g.code(t)?);
                commits += 1;
            }
            Step::Fix(t) => {
                g.broken = false;
                g.code(t)?;
                commits += 1;
            }
            Step::Plant => {
                g.planted = Some(percent);
                g.write_sources()?;
                let msg = format!(
                    "{PLANTED_TITLE}\n\nKeep the record buffer around for the separator scan.\n\nSigned-off-by: Ken Thompson <ken@example.org>\nReviewed-by: Grace Hopper <grace@example.org>\n"
                );
                planted = g.commit(&msg)?;
                commits += 1;
            }
            Step::Topic(branch, titles) => {
                g.git(&["checkout", "-q", "-b", branch])?;
                for t in titles {
                    if t.contains("document") {
                        g.docs(t)?;
                    } else {
                        g.code(t)?;
                    }
                    commits += 1;
                }
                g.git(&["checkout", "-q", "master"])?;
                g.n += 1;
                g.git(&[
                    "merge",
                    "-q",
                    "--no-ff",
                    "-m",
                    &format!("Merge branch '{branch}'"),
                    branch,
                ])?;
                commits += 1;
            }
        }
    }
    let head = g.git(&["rev-parse", "HEAD"])?;
    Ok(DemoRepo {
        path: dir.to_path_buf(),
        planted,
        planted_title: PLANTED_TITLE.to_string(),
        head,
        commits,
        broken,
    })
}
