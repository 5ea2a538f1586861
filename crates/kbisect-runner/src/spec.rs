//! The job spec: one shape for the job file (TOML) and the command line.
//! Every flag of `kbisect run` is a key of this spec; the binary turns its
//! flags into a [`JobSpec`] and lays it over the file's (flags win), then
//! [`crate::Job::resolve`] applies defaults and checks everything.
//!
//! Relative paths are made absolute per layer before the overlay: a job
//! file's against the file's directory, flags' against the current one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::JobError;

/// Cause or fix bisection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Find the commit that introduced the crash.
    Cause,
    /// Find the commit that made it go away.
    Fix,
}

/// Which builder builds revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuilderChoice {
    /// The user's build command (or nothing to build).
    Command,
    /// A Linux kernel: `.config`, toolchain per revision, `make` into a
    /// persistent build directory, the `vmlinux` signature.
    Kernel,
}

/// Which tester runs the reproducer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TesterChoice {
    /// Local processes.
    Local,
    /// The kernel booted under qemu with the reproducer in an initramfs.
    Qemu,
}

/// The job file's (and flags') top level. Every field is optional here;
/// defaults are applied when the job is resolved.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The repository (default: the job file's directory, or the current one).
    pub repo: Option<PathBuf>,
    /// The branch under bisection (default: HEAD).
    pub branch: Option<String>,
    /// The commit the crash is seen on.
    pub start: Option<String>,
    /// Its title, to find it again if history was rewritten.
    pub start_title: Option<String>,
    /// Cause (default) or fix.
    pub kind: Option<Kind>,
    /// Known-good commits (cause) or known-fixed ones (fix).
    pub good: Option<Vec<String>>,
    /// The strategy's name.
    pub strategy: Option<String>,
    /// Build and run the start commit with the culprit reverted.
    pub verify_revert: Option<bool>,
    /// Revisions that must have the same binary share their evidence
    /// (syzkaller and plain; bayes always does).
    pub share_evidence: Option<bool>,
    /// Runs per revision.
    pub runs: Option<usize>,
    /// Runs made at the same time.
    pub parallel: Option<usize>,
    /// The overall time limit (humantime).
    pub timeout: Option<String>,
    /// The work dir.
    pub workdir: Option<PathBuf>,
    /// A config file handed to builds (`$KBISECT_CONFIG`).
    pub config: Option<PathBuf>,
    /// Which tags are releases: `kernel`, `semver`, `any-version`, or a
    /// regexp with a `version` capture.
    pub release_tags: Option<String>,
    /// How revisions are built.
    pub build: Option<BuildSpec>,
    /// How the reproducer is run.
    pub test: Option<TestSpec>,
    /// The reproducer.
    pub reproducer: Option<ReproducerSpec>,
}

/// `[build]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSpec {
    /// The builder.
    pub builder: Option<BuilderChoice>,
    /// The build command; none: nothing to build.
    pub command: Option<String>,
    /// Sign only this file of `$KBISECT_OUT`.
    pub hash: Option<String>,
    /// Time limit of one build (humantime).
    pub timeout: Option<String>,
    /// `command`: how many revisions are built at once, each in a worktree
    /// of its own (default 1).
    pub slots: Option<usize>,
    /// `command`: a command whose first output line names the compiler in
    /// the log. `kernel`: the compiler to build with (`gcc`, `gcc-12`,
    /// `clang`), instead of the toolchain table's choice for the revision.
    pub compiler: Option<String>,
    /// `kernel`: `gcc` (default) or `clang`, for the toolchain table.
    pub compiler_family: Option<String>,
    /// `kernel`: `make -jN` (default: the number of CPUs).
    pub jobs: Option<usize>,
    /// `kernel`: the persistent build directory, reused across revisions
    /// (default: `WORKDIR/kbuild`).
    pub dir: Option<PathBuf>,
    /// `kernel`: use ccache (default: when it is installed).
    pub ccache: Option<bool>,
    /// `kernel`: ccache's directory (default: ccache's own).
    pub ccache_dir: Option<PathBuf>,
    /// `kernel`: clean the build directory before every build.
    pub clean: Option<bool>,
    /// `kernel`: a toolchain table (TOML) that extends the built-in one.
    pub toolchains: Option<PathBuf>,
    /// `kernel`: config options to disable on every revision.
    pub disable: Option<Vec<String>>,
}

/// `[test]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// The tester.
    pub tester: Option<TesterChoice>,
    /// The test command.
    pub command: Option<String>,
    /// Where it runs (default: `$KBISECT_OUT`).
    pub cwd: Option<PathBuf>,
    /// Time limit of one run (humantime).
    pub timeout: Option<String>,
    /// Silence limit of one run (humantime).
    pub idle_timeout: Option<String>,
    /// Regexp searched for in each output line to find a crash.
    pub crash_regex: Option<String>,
    /// `crash` (default) or `exit-code`.
    pub verdict: Option<String>,
    /// `qemu`: the kernel command line.
    pub cmdline: Option<String>,
    /// `qemu`: guest memory, MiB (default 512).
    pub memory: Option<u64>,
    /// `qemu`: guest CPUs (default 1).
    pub cpus: Option<u32>,
    /// `qemu`: VMs at once (default: `parallel`), bounded by memory too.
    pub slots: Option<usize>,
    /// `qemu`: from qemu's start to the basic test passing (humantime).
    pub boot_timeout: Option<String>,
    /// `qemu`: how long the reproducer runs in the guest (humantime).
    pub run_time: Option<String>,
    /// `qemu`: where the compiled init, reproducer and initramfs are kept
    /// (default: `WORKDIR/guest`).
    pub cache_dir: Option<PathBuf>,
}

/// `[reproducer]`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReproducerSpec {
    /// The reproducer file (`$KBISECT_REPRO`).
    pub file: Option<PathBuf>,
}

fn abs(base: &Path, p: &mut Option<PathBuf>) {
    if let Some(x) = p
        && x.is_relative()
    {
        *x = base.join(&*x);
    }
}

/// `top` where it has a value, else `below`.
fn over<T>(below: Option<T>, top: Option<T>) -> Option<T> {
    top.or(below)
}

impl JobSpec {
    /// Reads and checks a job file; its relative paths become relative to its directory.
    pub fn load(path: &Path) -> Result<JobSpec, JobError> {
        let text = std::fs::read_to_string(path).map_err(|source| JobError::File {
            path: path.to_path_buf(),
            source,
        })?;
        let mut spec: JobSpec = toml::from_str(&text).map_err(|e| JobError::Parse {
            path: path.to_path_buf(),
            msg: describe(&text, &e),
        })?;
        let dir = path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        if spec.repo.is_none() {
            spec.repo = Some(dir.clone());
        }
        spec.absolutize(&dir);
        Ok(spec)
    }

    /// Makes every relative path absolute against `base`.
    pub fn absolutize(&mut self, base: &Path) {
        abs(base, &mut self.repo);
        abs(base, &mut self.workdir);
        abs(base, &mut self.config);
        if let Some(b) = &mut self.build {
            abs(base, &mut b.dir);
            abs(base, &mut b.ccache_dir);
            abs(base, &mut b.toolchains);
        }
        if let Some(t) = &mut self.test {
            abs(base, &mut t.cwd);
            abs(base, &mut t.cache_dir);
        }
        if let Some(r) = &mut self.reproducer {
            abs(base, &mut r.file);
        }
    }

    /// This spec with `top`'s values where it has them.
    pub fn overlay(self, top: JobSpec) -> JobSpec {
        let b = self.build.unwrap_or_default();
        let tb = top.build.unwrap_or_default();
        let t = self.test.unwrap_or_default();
        let tt = top.test.unwrap_or_default();
        let r = self.reproducer.unwrap_or_default();
        let tr = top.reproducer.unwrap_or_default();
        JobSpec {
            repo: over(self.repo, top.repo),
            branch: over(self.branch, top.branch),
            start: over(self.start, top.start),
            start_title: over(self.start_title, top.start_title),
            kind: over(self.kind, top.kind),
            good: over(self.good, top.good),
            strategy: over(self.strategy, top.strategy),
            verify_revert: over(self.verify_revert, top.verify_revert),
            share_evidence: over(self.share_evidence, top.share_evidence),
            runs: over(self.runs, top.runs),
            parallel: over(self.parallel, top.parallel),
            timeout: over(self.timeout, top.timeout),
            workdir: over(self.workdir, top.workdir),
            config: over(self.config, top.config),
            release_tags: over(self.release_tags, top.release_tags),
            build: Some(BuildSpec {
                builder: over(b.builder, tb.builder),
                command: over(b.command, tb.command),
                hash: over(b.hash, tb.hash),
                timeout: over(b.timeout, tb.timeout),
                slots: over(b.slots, tb.slots),
                compiler: over(b.compiler, tb.compiler),
                compiler_family: over(b.compiler_family, tb.compiler_family),
                jobs: over(b.jobs, tb.jobs),
                dir: over(b.dir, tb.dir),
                ccache: over(b.ccache, tb.ccache),
                ccache_dir: over(b.ccache_dir, tb.ccache_dir),
                clean: over(b.clean, tb.clean),
                toolchains: over(b.toolchains, tb.toolchains),
                disable: over(b.disable, tb.disable),
            }),
            test: Some(TestSpec {
                tester: over(t.tester, tt.tester),
                command: over(t.command, tt.command),
                cwd: over(t.cwd, tt.cwd),
                timeout: over(t.timeout, tt.timeout),
                idle_timeout: over(t.idle_timeout, tt.idle_timeout),
                crash_regex: over(t.crash_regex, tt.crash_regex),
                verdict: over(t.verdict, tt.verdict),
                cmdline: over(t.cmdline, tt.cmdline),
                memory: over(t.memory, tt.memory),
                cpus: over(t.cpus, tt.cpus),
                slots: over(t.slots, tt.slots),
                boot_timeout: over(t.boot_timeout, tt.boot_timeout),
                run_time: over(t.run_time, tt.run_time),
                cache_dir: over(t.cache_dir, tt.cache_dir),
            }),
            reproducer: Some(ReproducerSpec {
                file: over(r.file, tr.file),
            }),
        }
    }
}

/// One line for a TOML error: line number, the key involved, the message.
pub(crate) fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else { return msg };
    let before = &text[..span.start.min(text.len())];
    let line_no = before.matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    match line.split_once('=') {
        Some((k, _)) if !msg.starts_with("unknown field") => {
            let key = k.trim().trim_matches('"');
            let full = table.map_or(key.to_string(), |t| format!("{t}.{key}"));
            format!("line {line_no}: key '{full}': {msg}")
        }
        _ => match table {
            Some(t) if msg.starts_with("unknown field") => {
                format!("line {line_no}: in [{t}]: {msg}")
            }
            _ => format!("line {line_no}: {msg}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let e = toml::from_str::<JobSpec>(text).unwrap_err();
        describe(text, &e)
    }

    #[test]
    fn errors_name_the_key() {
        let e = err("repo = \".\"\nruns = \"ten\"\n");
        assert!(e.starts_with("line 2: key 'runs': invalid type"), "{e}");
        let e = err("repo = \".\"\n[test]\ncommand = \"x\"\ntimeout = 5\n");
        assert!(e.starts_with("line 4: key 'test.timeout'"), "{e}");
        let e = err("repo = \".\"\nbogus = 1\n");
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = err("[build]\ncomand = \"make\"\n");
        assert!(e.contains("[build]") && e.contains("`comand`"), "{e}");
        let e = err("repo = \n");
        assert!(e.starts_with("line 1"), "{e}");
    }

    #[test]
    fn flags_win_over_the_file_key_by_key() {
        let file: JobSpec =
            toml::from_str("runs = 5\nstart = \"a\"\n[test]\ncommand = \"t\"\ntimeout = \"1m\"\n")
                .unwrap();
        let flags = JobSpec {
            runs: Some(7),
            test: Some(TestSpec {
                timeout: Some("2m".into()),
                ..TestSpec::default()
            }),
            ..JobSpec::default()
        };
        let j = file.overlay(flags);
        assert_eq!(j.runs, Some(7));
        assert_eq!(j.start.as_deref(), Some("a"));
        let t = j.test.unwrap();
        assert_eq!(t.command.as_deref(), Some("t"));
        assert_eq!(t.timeout.as_deref(), Some("2m"));
    }

    #[test]
    fn the_readme_examples_parse_and_resolve() {
        let readme = include_str!("../../../README.md");
        let mut rest = readme;
        let mut seen = 0;
        while let Some(i) = rest.find("```toml\n") {
            let body = &rest[i + 8..];
            let end = body.find("```").unwrap();
            let f: JobSpec = toml::from_str(&body[..end]).unwrap_or_else(|e| panic!("{e}"));
            assert!(f.build.is_some() && f.test.is_some());
            seen += 1;
            rest = &body[end..];
        }
        assert!(seen >= 2, "the README shows a generic and a kernel job");
    }
}
