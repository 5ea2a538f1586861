//! The job file (TOML) and the `run` flags that override it: what to bisect,
//! how to build and test it, and where to keep the work.
//!
//! Unknown keys and wrong types are refused with the key's name; relative
//! paths in a job file are relative to the file's directory, those given as
//! flags to the current directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_core::{KernelConfig, Strategy};
use serde::Deserialize;

use crate::cli::{Failure, fail};
use crate::exit::Exit;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    pub repo: Option<PathBuf>,
    pub branch: Option<String>,
    pub start: Option<String>,
    pub start_title: Option<String>,
    pub kind: Option<Kind>,
    pub good: Option<Vec<String>>,
    pub strategy: Option<Strategy>,
    pub runs: Option<usize>,
    pub parallel: Option<usize>,
    pub timeout: Option<String>,
    pub workdir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub build: Option<BuildSection>,
    pub test: Option<TestSection>,
    pub reproducer: Option<ReproducerSection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cause,
    Fix,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    pub builder: Option<BuilderKind>,
    pub command: Option<String>,
    pub hash: Option<String>,
    pub timeout: Option<String>,
    pub compiler: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuilderKind {
    Command,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    pub tester: Option<TesterKind>,
    pub command: Option<String>,
    pub timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub crash_regex: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TesterKind {
    Local,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReproducerSection {
    pub file: PathBuf,
}

/// `kbisect run` flags: each overrides the job file's key of the same meaning.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RunArgs {
    /// Job file (TOML). Without it, flags alone describe the job.
    pub job: Option<PathBuf>,
    /// Git repository to bisect (default: the current directory).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// Branch under bisection (default: HEAD).
    #[arg(long)]
    pub branch: Option<String>,
    /// The commit the crash is seen on (the bad end; `start` in the job file).
    #[arg(long, visible_alias = "start")]
    pub bad: Option<String>,
    /// The start commit's title (to find it again if history was rewritten).
    #[arg(long)]
    pub start_title: Option<String>,
    /// Known-good commit(s): skips the release walk (repeatable).
    #[arg(long)]
    pub good: Vec<String>,
    /// Fix bisection: find the commit that made the crash go away.
    #[arg(long)]
    pub fix: bool,
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// Search strategy (only `syzkaller` so far).
    #[arg(long)]
    pub strategy: Option<String>,
    /// Runs per revision (doubled on the first revision and once flaky).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Runs made at the same time.
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Overall time limit (e.g. `2h`).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Work dir: lock, journal, worktree, artifacts, bisect.log, result.json.
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Config file handed to builds (`$KBISECT_CONFIG`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Build command (`sh -c`, in kbisect's worktree).
    #[arg(long)]
    pub build: Option<String>,
    /// Hash only this file of `$KBISECT_OUT` for the signature.
    #[arg(long)]
    pub build_hash: Option<String>,
    #[arg(long)]
    pub build_timeout: Option<String>,
    /// Command whose first output line names the compiler in the log.
    #[arg(long)]
    pub compiler: Option<String>,
    /// Test command (`sh -c`, once per run).
    #[arg(long)]
    pub test: Option<String>,
    /// Time limit of one run (default 5m).
    #[arg(long)]
    pub test_timeout: Option<String>,
    /// A run silent for this long is "no output" (default: none).
    #[arg(long)]
    pub idle_timeout: Option<String>,
    /// Regexp of the output line that starts a crash.
    #[arg(long)]
    pub crash_regex: Option<String>,
    /// Reproducer file (`$KBISECT_REPRO`; the test command defaults to running it).
    #[arg(long)]
    pub reproducer: Option<PathBuf>,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// A job with every default applied and every path absolute.
#[derive(Debug, Clone)]
pub struct Job {
    pub repo: PathBuf,
    pub branch: String,
    pub start: String,
    pub start_title: Option<String>,
    pub fix: bool,
    pub good: Vec<String>,
    pub strategy: Strategy,
    pub runs: usize,
    pub parallel: usize,
    pub timeout: Option<Duration>,
    pub workdir: PathBuf,
    pub config: KernelConfig,
    pub build_command: String,
    pub build_hash: Option<String>,
    pub build_timeout: Option<Duration>,
    pub compiler: Option<String>,
    pub test_command: String,
    /// Directory test commands run in (the job file's, or the current one).
    pub test_cwd: PathBuf,
    pub test_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub crash_regex: Option<String>,
    pub reproducer: Option<PathBuf>,
}

fn bad_job(msg: impl std::fmt::Display) -> Failure {
    fail(Exit::BadJob, anyhow::anyhow!("{msg}"))
}

/// Reads and checks a job file.
pub fn load(path: &Path) -> Result<JobFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad_job(format_args!("job file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        bad_job(format_args!(
            "job file {}: {}",
            path.display(),
            describe(&text, &e)
        ))
    })
}

/// One line for a TOML error: line number, the key involved, the message.
fn describe(text: &str, e: &toml::de::Error) -> String {
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

fn duration(key: &str, v: Option<&str>) -> Result<Option<Duration>, Failure> {
    v.map(|s| {
        humantime::parse_duration(s.trim())
            .map_err(|e| bad_job(format_args!("key '{key}': invalid duration '{s}': {e}")))
    })
    .transpose()
}

fn abs(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The job from an optional file and the flags (flags win).
pub fn resolve(args: &RunArgs) -> Result<Job, Failure> {
    let cwd =
        std::env::current_dir().map_err(|e| bad_job(format_args!("current directory: {e}")))?;
    let (file, base) = match &args.job {
        Some(p) => {
            let f = load(p)?;
            let dir = abs(&cwd, p)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| cwd.clone());
            (f, dir)
        }
        None => (JobFile::default(), cwd.clone()),
    };
    let build = file.build.unwrap_or_default();
    let test = file.test.unwrap_or_default();
    // One kind of each so far; the keys exist so job files can say so.
    match (
        build.builder.unwrap_or(BuilderKind::Command),
        test.tester.unwrap_or(TesterKind::Local),
    ) {
        (BuilderKind::Command, TesterKind::Local) => {}
    }
    // A path from a flag is relative to the current directory, from the file to the file's.
    let path = |flag: &Option<PathBuf>, key: &Option<PathBuf>| -> Option<PathBuf> {
        flag.as_ref()
            .map(|p| abs(&cwd, p))
            .or_else(|| key.as_ref().map(|p| abs(&base, p)))
    };

    let repo = path(&args.repo, &file.repo).unwrap_or_else(|| base.clone());
    let start = args.bad.clone().or(file.start).ok_or_else(|| {
        bad_job("missing key 'start' (the commit the crash is seen on; flag --bad)")
    })?;
    let fix = args.fix || args.kind.or(file.kind) == Some(Kind::Fix);
    let strategy = match args.strategy.as_deref() {
        None => file.strategy.unwrap_or_default(),
        Some("syzkaller") => Strategy::Syzkaller,
        Some(s) => {
            return Err(bad_job(format_args!(
                "key 'strategy': unknown strategy '{s}' (known: syzkaller)"
            )));
        }
    };
    let runs = args.runs.or(file.runs).unwrap_or(10);
    if runs == 0 {
        return Err(bad_job("key 'runs': must be at least 1"));
    }
    let parallel = args
        .parallel
        .or(file.parallel)
        .unwrap_or_else(default_parallel)
        .max(1);
    let timeout = duration(
        "timeout",
        args.timeout.as_deref().or(file.timeout.as_deref()),
    )?;
    let workdir = path(&args.workdir, &file.workdir).unwrap_or_else(|| base.join("kbisect-work"));
    let config = match path(&args.config, &file.config) {
        Some(p) => KernelConfig::new(
            std::fs::read(&p)
                .map_err(|e| bad_job(format_args!("key 'config': {}: {e}", p.display())))?,
        ),
        None => KernelConfig::default(),
    };
    let build_command = args
        .build
        .clone()
        .or(build.command)
        .ok_or_else(|| bad_job("missing key 'build.command' (flag --build)"))?;
    let reproducer = path(&args.reproducer, &file.reproducer.map(|r| r.file));
    if let Some(r) = &reproducer
        && !r.is_file()
    {
        return Err(bad_job(format_args!(
            "key 'reproducer.file': {} does not exist",
            r.display()
        )));
    }
    let test_command = match (args.test.clone().or(test.command), &reproducer) {
        (Some(c), _) => c,
        (None, Some(r)) => {
            use std::os::unix::fs::PermissionsExt;
            let exec = std::fs::metadata(r).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
            if exec {
                "\"$KBISECT_REPRO\""
            } else {
                "sh \"$KBISECT_REPRO\""
            }
            .to_string()
        }
        (None, None) => {
            return Err(bad_job(
                "missing key 'test.command' or 'reproducer.file' (flag --test)",
            ));
        }
    };
    let crash_regex = args.crash_regex.clone().or(test.crash_regex);
    if let Some(re) = &crash_regex {
        regex::Regex::new(re).map_err(|e| bad_job(format_args!("key 'test.crash_regex': {e}")))?;
    }
    Ok(Job {
        repo,
        branch: args
            .branch
            .clone()
            .or(file.branch)
            .unwrap_or_else(|| "HEAD".into()),
        start,
        start_title: args.start_title.clone().or(file.start_title),
        fix,
        good: if args.good.is_empty() {
            file.good.unwrap_or_default()
        } else {
            args.good.clone()
        },
        strategy,
        runs,
        parallel,
        timeout,
        workdir,
        config,
        build_command,
        build_hash: args.build_hash.clone().or(build.hash),
        build_timeout: duration(
            "build.timeout",
            args.build_timeout.as_deref().or(build.timeout.as_deref()),
        )?,
        compiler: args.compiler.clone().or(build.compiler),
        test_command,
        test_cwd: if args.test.is_some() || args.job.is_none() {
            cwd
        } else {
            base
        },
        test_timeout: duration(
            "test.timeout",
            args.test_timeout.as_deref().or(test.timeout.as_deref()),
        )?
        .unwrap_or(Duration::from_secs(300)),
        idle_timeout: duration(
            "test.idle_timeout",
            args.idle_timeout
                .as_deref()
                .or(test.idle_timeout.as_deref()),
        )?,
        crash_regex,
        reproducer,
    })
}

fn default_parallel() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let e = toml::from_str::<JobFile>(text).unwrap_err();
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
    fn the_readme_example_parses() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n").expect("README has a toml example") + 8;
        let end = start + readme[start..].find("```").unwrap();
        let f: JobFile = toml::from_str(&readme[start..end]).unwrap();
        assert!(f.build.is_some() && f.test.is_some());
    }
}
