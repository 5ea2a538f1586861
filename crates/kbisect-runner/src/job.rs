//! The resolved job: every default applied, every path absolute, every
//! value checked. Its identity for the journal is derived from it (its
//! serialization), not from a hand-kept list of keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kbisect_core::{BuildConfig, StrategyKind, content_hash};
use kbisect_vm::VerdictMode;
use serde::Serialize;

use crate::error::JobError;
use crate::session::Identity;
use crate::spec::{BuilderChoice, JobSpec, Kind, TesterChoice};

/// A file the job reads, with the hash of its content (the identity uses
/// the hash, so a moved file with the same content is the same job).
#[derive(Debug, Clone, Serialize)]
pub struct FileRef {
    /// Where it is.
    pub path: PathBuf,
    /// Its content hash.
    pub sha: String,
}

impl FileRef {
    fn read(key: &'static str, path: &Path) -> Result<(FileRef, Vec<u8>), JobError> {
        let bytes = std::fs::read(path).map_err(|e| JobError::Invalid {
            key,
            msg: format!("{}: {e}", path.display()),
        })?;
        Ok((
            FileRef {
                path: path.to_path_buf(),
                sha: content_hash(&bytes),
            },
            bytes,
        ))
    }
}

/// `[build]`, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct BuildJob {
    /// The builder.
    pub builder: BuilderChoice,
    /// The build command; none: nothing to build (the artifact is the tree).
    pub command: Option<String>,
    /// Sign only this file of `$KBISECT_OUT`.
    pub hash: Option<String>,
    /// Time limit of one build.
    #[serde(with = "humantime_opt")]
    pub timeout: Option<Duration>,
    /// `command`: revisions built at once, each in a worktree of its own.
    pub slots: usize,
    /// `command`: names the compiler in the log; `kernel`: the compiler to build with.
    pub compiler: Option<String>,
    /// `kernel`: `gcc` or `clang`.
    pub compiler_family: Option<String>,
    /// `kernel`: `make -jN`.
    pub jobs: Option<usize>,
    /// `kernel`: the persistent build directory.
    pub dir: Option<PathBuf>,
    /// `kernel`: use ccache (`None`: when installed).
    pub ccache: Option<bool>,
    /// `kernel`: ccache's directory.
    pub ccache_dir: Option<PathBuf>,
    /// `kernel`: clean the build directory before every build.
    pub clean: bool,
    /// `kernel`: the user's toolchain table.
    pub toolchains: Option<FileRef>,
    /// `kernel`: config options disabled on every revision.
    pub disable: Vec<String>,
}

/// `[test]`, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct TestJob {
    /// The tester.
    pub tester: TesterChoice,
    /// The test command.
    pub command: String,
    /// Where it runs (`None`: `$KBISECT_OUT`).
    pub cwd: Option<PathBuf>,
    /// Time limit of one run.
    #[serde(with = "humantime_req")]
    pub timeout: Duration,
    /// Silence limit of one run.
    #[serde(with = "humantime_opt")]
    pub idle_timeout: Option<Duration>,
    /// The crash regexp.
    pub crash_regex: Option<String>,
    /// What decides a run's verdict.
    pub verdict: VerdictMode,
    /// `qemu`: the kernel command line (`None`: the tester's default).
    pub cmdline: Option<String>,
    /// `qemu`: guest memory, MiB.
    pub memory: Option<u64>,
    /// `qemu`: guest CPUs.
    pub cpus: Option<u32>,
    /// `qemu`: VMs at once.
    pub slots: Option<usize>,
    /// `qemu`: boot limit.
    #[serde(with = "humantime_opt")]
    pub boot_timeout: Option<Duration>,
    /// `qemu`: how long the reproducer runs.
    #[serde(with = "humantime_opt")]
    pub run_time: Option<Duration>,
    /// `qemu`: the guest programs' cache.
    pub cache_dir: Option<PathBuf>,
}

/// A job ready to run.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// The repository.
    pub repo: PathBuf,
    /// The branch under bisection.
    pub branch: String,
    /// The start commit as given.
    pub start: String,
    /// Its title.
    pub start_title: Option<String>,
    /// Fix bisection.
    pub fix: bool,
    /// Known-good (cause) or known-fixed (fix) commits.
    pub good: Vec<String>,
    /// The strategy.
    pub strategy: StrategyKind,
    /// After a cause bisection: the start commit with the culprit reverted
    /// must not crash.
    pub verify_revert: bool,
    /// Revisions that must have the same binary share their evidence: a
    /// commit that changes no file its built ancestor's build used is not
    /// built, equal signatures share runs. Part of the identity (it changes
    /// which runs a verdict rests on); left out of the serialization when
    /// off, so journals made before the key existed still resume.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub share_evidence: bool,
    /// Runs per revision.
    pub runs: usize,
    /// Runs at the same time.
    pub parallel: usize,
    /// The overall time limit.
    #[serde(with = "humantime_opt")]
    pub timeout: Option<Duration>,
    /// The work dir.
    pub workdir: PathBuf,
    /// The build config file.
    pub config: Option<FileRef>,
    /// The release tag scheme.
    pub release_tags: String,
    /// How revisions are built.
    pub build: BuildJob,
    /// How the reproducer is run.
    pub test: TestJob,
    /// The reproducer.
    pub reproducer: Option<FileRef>,
    /// The config's bytes (not part of the serialization: its hash is).
    #[serde(skip)]
    pub config_bytes: BuildConfig,
}

/// Keys that do not change what a recorded build or run means, so a
/// journal may be resumed with other values: where the work dir is, how
/// many runs and builds happen at once, the overall time limit, and the
/// build time limit (a build over it is a transient failure, retried, never
/// evidence).
/// For the kernel builder, likewise where and how fast it builds (the build
/// dir, make's jobs, ccache, cleaning: the binary's signature is what
/// counts), and for qemu how many VMs run at once and where guest programs
/// are cached.
// `verify_revert` only adds questions after the last one a journal holds:
// turning it on for a finished bisection resumes into the check.
const NOT_IDENTITY: &[&str] = &[
    "workdir",
    "verify_revert",
    "parallel",
    "timeout",
    "build.timeout",
    "build.slots",
    "build.jobs",
    "build.dir",
    "build.ccache",
    "build.ccache_dir",
    "build.clean",
    "test.slots",
    "test.cache_dir",
];

/// Keys that only one builder or tester reads: set for another, they
/// would be silently ignored, so they are refused.
fn refuse_foreign(keys: &[(&'static str, bool)], owner: &str) -> Result<(), JobError> {
    match keys.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(JobError::Invalid {
            key,
            msg: format!("is not read by {owner}"),
        }),
        None => Ok(()),
    }
}

fn default_parallel() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8)
}

fn duration(key: &'static str, v: Option<&str>) -> Result<Option<Duration>, JobError> {
    v.map(|s| {
        humantime::parse_duration(s.trim()).map_err(|e| JobError::Invalid {
            key,
            msg: format!("invalid duration '{s}': {e}"),
        })
    })
    .transpose()
}

/// The strategy a job gets when it names none: bayes for cause
/// bisections of any project, the kernel's included (its end-to-end case
/// found the planted commit on both runs, with 8 builds and 15-16 runs
/// where syzbot's rules took 7 and 80); syzbot's rules for fix bisections
/// (bayes has no guard for an old branch merged late). The builder stays
/// an argument: a default that depends on it again is one line.
fn default_strategy(_builder: BuilderChoice, fix: bool) -> StrategyKind {
    if fix {
        StrategyKind::Syzkaller
    } else {
        StrategyKind::Bayes
    }
}

impl Job {
    /// Applies defaults to `spec` and checks it. `cwd` is where relative
    /// defaults (the repository, the work dir) are taken from when the spec
    /// has none.
    pub fn resolve(spec: JobSpec, cwd: &Path) -> Result<Job, JobError> {
        let build = spec.build.unwrap_or_default();
        let test = spec.test.unwrap_or_default();
        let builder = build.builder.unwrap_or(BuilderChoice::Command);
        let tester = test.tester.unwrap_or(TesterChoice::Local);
        match builder {
            BuilderChoice::Command => refuse_foreign(
                &[
                    ("build.compiler_family", build.compiler_family.is_some()),
                    ("build.jobs", build.jobs.is_some()),
                    ("build.dir", build.dir.is_some()),
                    ("build.ccache", build.ccache.is_some()),
                    ("build.ccache_dir", build.ccache_dir.is_some()),
                    ("build.clean", build.clean.is_some()),
                    ("build.toolchains", build.toolchains.is_some()),
                    ("build.disable", build.disable.is_some()),
                ],
                "the command builder (builder = \"kernel\" reads it)",
            )?,
            BuilderChoice::Kernel => {
                refuse_foreign(
                    &[
                        ("build.command", build.command.is_some()),
                        ("build.hash", build.hash.is_some()),
                    ],
                    "the kernel builder (it runs make itself and signs vmlinux)",
                )?;
                if let Some(n) = build.slots.filter(|&n| n > 1) {
                    return Err(JobError::Invalid {
                        key: "build.slots",
                        msg: format!(
                            "{n} builds at once: the kernel builder builds one revision at a time (in one build directory); only the command builder has build slots"
                        ),
                    });
                }
                if spec.config.is_none() {
                    return Err(JobError::Missing {
                        key: "config",
                        hint: "the kernel .config to build with; flag --config",
                    });
                }
            }
        }
        match tester {
            TesterChoice::Local => refuse_foreign(
                &[
                    ("test.cmdline", test.cmdline.is_some()),
                    ("test.memory", test.memory.is_some()),
                    ("test.cpus", test.cpus.is_some()),
                    ("test.slots", test.slots.is_some()),
                    ("test.boot_timeout", test.boot_timeout.is_some()),
                    ("test.run_time", test.run_time.is_some()),
                    ("test.cache_dir", test.cache_dir.is_some()),
                ],
                "the local tester (tester = \"qemu\" reads it)",
            )?,
            TesterChoice::Qemu => {
                refuse_foreign(
                    &[
                        ("test.command", test.command.is_some()),
                        ("test.cwd", test.cwd.is_some()),
                        ("test.timeout", test.timeout.is_some()),
                        ("test.crash_regex", test.crash_regex.is_some()),
                        ("test.verdict", test.verdict.is_some()),
                    ],
                    "the qemu tester (it runs reproducer.file in the VM and reads the console)",
                )?;
                if spec
                    .reproducer
                    .as_ref()
                    .and_then(|r| r.file.as_ref())
                    .is_none()
                {
                    return Err(JobError::Missing {
                        key: "reproducer.file",
                        hint: "the C reproducer (or static binary) the VM runs; flag --reproducer",
                    });
                }
            }
        }
        let repo = spec.repo.unwrap_or_else(|| cwd.to_path_buf());
        let start = spec.start.ok_or(JobError::Missing {
            key: "start",
            hint: "the commit the crash is seen on; flag --bad",
        })?;
        let strategy = match spec.strategy.as_deref() {
            None => default_strategy(builder, spec.kind == Some(Kind::Fix)),
            Some(s) => StrategyKind::from_name(s).ok_or_else(|| JobError::Invalid {
                key: "strategy",
                msg: format!(
                    "unknown strategy '{s}' (known: {})",
                    StrategyKind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?,
        };
        let runs = spec.runs.unwrap_or(10);
        let min = strategy.min_runs();
        if runs < min {
            return Err(JobError::Invalid {
                key: "runs",
                msg: format!(
                    "{runs} is too few for the {strategy} strategy: it judges a revision bad only when at least {min} runs crash, so use runs >= {min} (or strategy = \"plain\", one run per revision)"
                ),
            });
        }
        let (config, config_bytes) = match &spec.config {
            Some(p) => {
                let (f, b) = FileRef::read("config", p)?;
                (Some(f), BuildConfig::new(b))
            }
            None => (None, BuildConfig::default()),
        };
        let reproducer = match spec.reproducer.and_then(|r| r.file) {
            Some(p) if !p.is_file() => {
                return Err(JobError::Invalid {
                    key: "reproducer.file",
                    msg: format!("{} does not exist", p.display()),
                });
            }
            Some(p) => Some(FileRef::read("reproducer.file", &p)?.0),
            None => None,
        };
        let test_command = match (test.command, &reproducer) {
            (Some(c), _) => c,
            (None, _) if tester == TesterChoice::Qemu => String::new(),
            (None, Some(r)) => {
                use std::os::unix::fs::PermissionsExt;
                let exec =
                    std::fs::metadata(&r.path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
                if exec {
                    "\"$KBISECT_REPRO\""
                } else {
                    "sh \"$KBISECT_REPRO\""
                }
                .to_string()
            }
            (None, None) => {
                return Err(JobError::Missing {
                    key: "test.command",
                    hint: "or reproducer.file; flag --test",
                });
            }
        };
        if let Some(re) = &test.crash_regex {
            regex::Regex::new(re).map_err(|e| JobError::Invalid {
                key: "test.crash_regex",
                msg: e.to_string(),
            })?;
        }
        let verdict = match test.verdict.as_deref() {
            None | Some("crash") => VerdictMode::Crash,
            Some("exit-code") => VerdictMode::ExitCode,
            Some(v) => {
                return Err(JobError::Invalid {
                    key: "test.verdict",
                    msg: format!("unknown verdict mode '{v}' (known: crash, exit-code)"),
                });
            }
        };
        let release_tags = spec.release_tags.unwrap_or_else(|| "kernel".into());
        kbisect_git::TagScheme::parse(&release_tags).map_err(|msg| JobError::Invalid {
            key: "release_tags",
            msg,
        })?;
        Ok(Job {
            repo,
            branch: spec.branch.unwrap_or_else(|| "HEAD".into()),
            start,
            start_title: spec.start_title,
            fix: spec.kind == Some(Kind::Fix),
            good: spec.good.unwrap_or_default(),
            strategy,
            verify_revert: spec.verify_revert.unwrap_or(false),
            share_evidence: spec.share_evidence.unwrap_or(false),
            runs,
            parallel: spec.parallel.unwrap_or_else(default_parallel).max(1),
            timeout: duration("timeout", spec.timeout.as_deref())?,
            workdir: spec.workdir.unwrap_or_else(|| cwd.join("kbisect-work")),
            config,
            release_tags,
            build: BuildJob {
                builder,
                command: build.command.filter(|c| !c.trim().is_empty()),
                hash: build.hash,
                timeout: duration("build.timeout", build.timeout.as_deref())?,
                slots: match build.slots {
                    Some(0) => {
                        return Err(JobError::Invalid {
                            key: "build.slots",
                            msg: "0 builds at once cannot build anything (use 1 or more)".into(),
                        });
                    }
                    n => n.unwrap_or(1),
                },
                compiler: build.compiler,
                compiler_family: match build.compiler_family.as_deref() {
                    None | Some("gcc") | Some("clang") => build.compiler_family,
                    Some(f) => {
                        return Err(JobError::Invalid {
                            key: "build.compiler_family",
                            msg: format!("unknown compiler family '{f}' (known: gcc, clang)"),
                        });
                    }
                },
                jobs: build.jobs,
                dir: build.dir,
                ccache: build.ccache,
                ccache_dir: build.ccache_dir,
                clean: build.clean.unwrap_or(false),
                toolchains: match &build.toolchains {
                    Some(p) => Some(FileRef::read("build.toolchains", p)?.0),
                    None => None,
                },
                disable: build.disable.unwrap_or_default(),
            },
            test: TestJob {
                tester,
                command: test_command,
                cwd: test.cwd,
                timeout: duration("test.timeout", test.timeout.as_deref())?
                    .unwrap_or(Duration::from_secs(300)),
                idle_timeout: duration("test.idle_timeout", test.idle_timeout.as_deref())?,
                crash_regex: test.crash_regex,
                verdict,
                cmdline: test.cmdline,
                memory: test.memory,
                cpus: test.cpus,
                slots: test.slots,
                boot_timeout: duration("test.boot_timeout", test.boot_timeout.as_deref())?,
                run_time: duration("test.run_time", test.run_time.as_deref())?,
                cache_dir: test.cache_dir,
            },
            reproducer,
            config_bytes,
        })
    }

    /// The job's identity: its serialization flattened to dotted keys,
    /// without [`NOT_IDENTITY`] and without file paths (their content
    /// hashes stay), the repository canonicalized.
    pub fn identity(&self) -> Identity {
        let mut out = BTreeMap::new();
        if let Ok(v) = serde_json::to_value(self) {
            flatten("", &v, &mut out);
        }
        out.retain(|k, _| !NOT_IDENTITY.contains(&k.as_str()) && !k.ends_with(".path"));
        let repo = self
            .repo
            .canonicalize()
            .unwrap_or_else(|_| self.repo.clone());
        out.insert("repo".into(), repo.display().to_string());
        out
    }
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                flatten(&key(k), v, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

mod humantime_opt {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }
}

mod humantime_req {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> JobSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn identity_is_derived_and_skips_what_does_not_change_outcomes() {
        let d = tempfile::tempdir().unwrap();
        let base = "start = \"HEAD\"\n[test]\ncommand = \"t\"\n";
        let a = Job::resolve(spec(base), d.path()).unwrap().identity();
        assert_eq!(a["test.command"], "t");
        assert_eq!(a["test.timeout"], "5m");
        assert!(!a.contains_key("parallel") && !a.contains_key("workdir"));
        let b = Job::resolve(
            spec(&format!("parallel = 3\ntimeout = \"1h\"\n{base}")),
            d.path(),
        )
        .unwrap()
        .identity();
        assert_eq!(a, b);
        let c = Job::resolve(
            spec("start = \"HEAD\"\n[test]\ncommand = \"t\"\ntimeout = \"10s\"\n"),
            d.path(),
        )
        .unwrap()
        .identity();
        assert_eq!(
            crate::session::differences(&a, &c),
            vec!["test.timeout".to_string()]
        );
    }

    #[test]
    fn build_slots_are_no_part_of_the_identity_and_only_the_command_builder_has_them() {
        let d = tempfile::tempdir().unwrap();
        let job = |build: &str| {
            Job::resolve(
                spec(&format!(
                    "start = \"HEAD\"\n[build]\n{build}\n[test]\ncommand = \"t\"\n"
                )),
                d.path(),
            )
        };
        let one = job("").unwrap();
        let three = job("slots = 3").unwrap();
        assert_eq!((one.build.slots, three.build.slots), (1, 3));
        assert_eq!(one.identity(), three.identity());
        let e = job("slots = 0").unwrap_err().to_string();
        assert!(e.starts_with("key 'build.slots': 0 builds"), "{e}");
        let e = job("builder = \"kernel\"\nslots = 2")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("build.slots") && e.contains("one revision at a time"),
            "{e}"
        );
    }

    #[test]
    fn bayes_is_the_default_but_for_kernels() {
        let d = tempfile::tempdir().unwrap();
        let j = Job::resolve(
            spec("start = \"x\"\nruns = 1\n[test]\ncommand = \"t\"\n"),
            d.path(),
        )
        .unwrap();
        assert_eq!(j.strategy, StrategyKind::Bayes);
        assert_eq!(
            default_strategy(BuilderChoice::Kernel, false),
            StrategyKind::Bayes
        );
        assert_eq!(
            default_strategy(BuilderChoice::Kernel, true),
            StrategyKind::Syzkaller
        );
    }

    #[test]
    fn too_few_runs_are_refused_naming_the_minimum() {
        let d = tempfile::tempdir().unwrap();
        let e = Job::resolve(
            spec("start = \"x\"\nruns = 1\nstrategy = \"syzkaller\"\n[test]\ncommand = \"t\"\n"),
            d.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("runs >= 2"), "{e}");
        Job::resolve(
            spec("start = \"x\"\nruns = 1\nstrategy = \"plain\"\n[test]\ncommand = \"t\"\n"),
            d.path(),
        )
        .unwrap();
    }
}
