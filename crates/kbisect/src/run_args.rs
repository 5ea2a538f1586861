//! `kbisect run`'s flags. Each flag is one key of the job spec (the README
//! lists them side by side); [`RunArgs::to_spec`] turns the flags into a
//! [`JobSpec`] that is laid over the job file's, so the file and the flags
//! are one spec with two sources.

use std::path::{Path, PathBuf};

use kbisect_runner::{BuildSpec, JobSpec, Kind, ReproducerSpec, TestSpec};

use crate::exit::CliError;

/// Cause or fix, for `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Find the commit that introduced the crash.
    Cause,
    /// Find the commit that made it go away.
    Fix,
}

/// `kbisect run` flags: each overrides the job file's key of the same meaning.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RunArgs {
    /// Job file (TOML). Without it, flags alone describe the job.
    pub job: Option<PathBuf>,
    /// Git repository to bisect (key `repo`; default: the current directory).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// Branch under bisection (key `branch`; default: HEAD).
    #[arg(long)]
    pub branch: Option<String>,
    /// The commit the crash is seen on (key `start`).
    #[arg(long, visible_alias = "start")]
    pub bad: Option<String>,
    /// The start commit's title, to find it again if history was rewritten (key `start_title`).
    #[arg(long)]
    pub start_title: Option<String>,
    /// Known-good commit(s): skips the release walk (key `good`; repeatable).
    #[arg(long)]
    pub good: Vec<String>,
    /// Fix bisection: find the commit that made the crash go away (key `kind = "fix"`).
    #[arg(long)]
    pub fix: bool,
    /// Cause or fix (key `kind`).
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Search strategy: bayes (the default, but for the kernel builder),
    /// syzkaller (syzbot's rules; the kernel default), plain (key `strategy`).
    #[arg(long)]
    pub strategy: Option<String>,
    /// After a cause bisection, build the start commit with the culprit
    /// reverted and check the crash is gone (key `verify_revert`).
    #[arg(long)]
    pub verify_revert: bool,
    /// syzkaller, plain: revisions that must have the same binary share
    /// their evidence — a commit touching no file the build used is not
    /// built, equal build signatures share runs (key `share_evidence`;
    /// bayes always does).
    #[arg(long)]
    pub share_evidence: bool,
    /// Runs per revision (key `runs`).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Runs made at the same time (key `parallel`).
    #[arg(long)]
    pub parallel: Option<usize>,
    /// Overall time limit, e.g. `2h` (key `timeout`).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Work dir: lock, journal, worktree, artifacts, bisect.log, result.json (key `workdir`).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Config file handed to builds as `$KBISECT_CONFIG` (key `config`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which tags are releases: kernel, semver, any-version, or a regexp (key `release_tags`).
    #[arg(long)]
    pub release_tags: Option<String>,
    /// Build command, `sh -c` in kbisect's worktree (key `build.command`; none: nothing to build).
    #[arg(long)]
    pub build: Option<String>,
    /// Sign only this file of `$KBISECT_OUT` (key `build.hash`).
    #[arg(long)]
    pub build_hash: Option<String>,
    /// Time limit of one build (key `build.timeout`).
    #[arg(long)]
    pub build_timeout: Option<String>,
    /// Command builder: revisions built at once, each in a worktree of its own (key `build.slots`; default 1).
    #[arg(long)]
    pub build_slots: Option<usize>,
    /// Command whose first output line names the compiler in the log (key `build.compiler`).
    #[arg(long)]
    pub compiler: Option<String>,
    /// Test command, `sh -c` once per run (key `test.command`).
    #[arg(long)]
    pub test: Option<String>,
    /// Where the test runs (key `test.cwd`; default: `$KBISECT_OUT`).
    #[arg(long)]
    pub test_cwd: Option<PathBuf>,
    /// Time limit of one run (key `test.timeout`; default 5m).
    #[arg(long)]
    pub test_timeout: Option<String>,
    /// A run silent for this long is "no output" (key `test.idle_timeout`).
    #[arg(long)]
    pub idle_timeout: Option<String>,
    /// Regexp searched for in each output line; the first line it matches starts the crash (key `test.crash_regex`).
    #[arg(long)]
    pub crash_regex: Option<String>,
    /// What decides a run: crash (default) or exit-code, git bisect run's convention (key `test.verdict`).
    #[arg(long)]
    pub verdict: Option<String>,
    /// Builder: command (default) or kernel (key `build.builder`).
    #[arg(long)]
    pub builder: Option<String>,
    /// Kernel builder: gcc (default) or clang, for the toolchain table (key `build.compiler_family`).
    #[arg(long)]
    pub compiler_family: Option<String>,
    /// Kernel builder: `make -jN` (key `build.jobs`; default: the number of CPUs).
    #[arg(long)]
    pub build_jobs: Option<usize>,
    /// Kernel builder: the persistent build directory (key `build.dir`; default WORKDIR/kbuild).
    #[arg(long)]
    pub build_dir: Option<PathBuf>,
    /// Kernel builder: use ccache, true or false (key `build.ccache`; default: when installed).
    #[arg(long)]
    pub ccache: Option<bool>,
    /// Kernel builder: ccache's directory (key `build.ccache_dir`).
    #[arg(long)]
    pub ccache_dir: Option<PathBuf>,
    /// Kernel builder: clean the build directory before every build (key `build.clean`).
    #[arg(long)]
    pub clean_builds: bool,
    /// Kernel builder: a toolchain table extending the built-in one (key `build.toolchains`).
    #[arg(long)]
    pub toolchains: Option<PathBuf>,
    /// Kernel builder: a config option to disable on every revision (key `build.disable`; repeatable).
    #[arg(long)]
    pub disable_config: Vec<String>,
    /// Tester: local (default) or qemu (key `test.tester`).
    #[arg(long)]
    pub tester: Option<String>,
    /// qemu: the kernel command line (key `test.cmdline`).
    #[arg(long)]
    pub cmdline: Option<String>,
    /// qemu: guest memory in MiB (key `test.memory`; default 512).
    #[arg(long)]
    pub vm_memory: Option<u64>,
    /// qemu: guest CPUs (key `test.cpus`; default 1).
    #[arg(long)]
    pub vm_cpus: Option<u32>,
    /// qemu: VMs at once (key `test.slots`; default: --parallel).
    #[arg(long)]
    pub vm_slots: Option<usize>,
    /// qemu: time from qemu's start to the basic test passing (key `test.boot_timeout`).
    #[arg(long)]
    pub boot_timeout: Option<String>,
    /// qemu: how long the reproducer runs in the guest (key `test.run_time`).
    #[arg(long)]
    pub run_time: Option<String>,
    /// qemu: where compiled guest programs are cached (key `test.cache_dir`; default WORKDIR/guest).
    #[arg(long)]
    pub guest_cache_dir: Option<PathBuf>,
    /// Reproducer file, `$KBISECT_REPRO` (key `reproducer.file`).
    #[arg(long)]
    pub reproducer: Option<PathBuf>,
    /// Start over: move the work dir aside (kept as WORKDIR.old-N) instead of resuming it.
    #[arg(long)]
    pub fresh: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// A builder or tester name as the job file spells it (`None`: unknown,
/// refused by [`RunArgs::check_choices`]).
fn parse_choice<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

impl RunArgs {
    /// Refuses a `--builder`/`--tester` name that is not known.
    fn check_choices(&self) -> Result<(), CliError> {
        let bad = |key: &'static str, v: &str, known: &str| kbisect_runner::JobError::Invalid {
            key,
            msg: format!("unknown value '{v}' (known: {known})"),
        };
        if let Some(b) = &self.builder
            && parse_choice::<kbisect_runner::BuilderChoice>(b).is_none()
        {
            return Err(bad("build.builder", b, "command, kernel").into());
        }
        if let Some(t) = &self.tester
            && parse_choice::<kbisect_runner::TesterChoice>(t).is_none()
        {
            return Err(bad("test.tester", t, "local, qemu").into());
        }
        Ok(())
    }

    /// The flags as a job spec (relative paths against `cwd`).
    pub fn to_spec(&self, cwd: &Path) -> JobSpec {
        let kind = match (self.fix, self.kind) {
            (true, _) | (_, Some(KindArg::Fix)) => Some(Kind::Fix),
            (_, Some(KindArg::Cause)) => Some(Kind::Cause),
            _ => None,
        };
        let mut spec = JobSpec {
            repo: self.repo.clone(),
            branch: self.branch.clone(),
            start: self.bad.clone(),
            start_title: self.start_title.clone(),
            kind,
            good: (!self.good.is_empty()).then(|| self.good.clone()),
            strategy: self.strategy.clone(),
            verify_revert: self.verify_revert.then_some(true),
            share_evidence: self.share_evidence.then_some(true),
            runs: self.runs,
            parallel: self.parallel,
            timeout: self.timeout.clone(),
            workdir: self.workdir.clone(),
            config: self.config.clone(),
            release_tags: self.release_tags.clone(),
            build: Some(BuildSpec {
                builder: None,
                command: self.build.clone(),
                hash: self.build_hash.clone(),
                timeout: self.build_timeout.clone(),
                slots: self.build_slots,
                compiler: self.compiler.clone(),
                compiler_family: self.compiler_family.clone(),
                jobs: self.build_jobs,
                dir: self.build_dir.clone(),
                ccache: self.ccache,
                ccache_dir: self.ccache_dir.clone(),
                clean: self.clean_builds.then_some(true),
                toolchains: self.toolchains.clone(),
                disable: (!self.disable_config.is_empty()).then(|| self.disable_config.clone()),
            }),
            test: Some(TestSpec {
                tester: None,
                command: self.test.clone(),
                cwd: self.test_cwd.clone(),
                timeout: self.test_timeout.clone(),
                idle_timeout: self.idle_timeout.clone(),
                crash_regex: self.crash_regex.clone(),
                verdict: self.verdict.clone(),
                cmdline: self.cmdline.clone(),
                memory: self.vm_memory,
                cpus: self.vm_cpus,
                slots: self.vm_slots,
                boot_timeout: self.boot_timeout.clone(),
                run_time: self.run_time.clone(),
                cache_dir: self.guest_cache_dir.clone(),
            }),
            reproducer: Some(ReproducerSpec {
                file: self.reproducer.clone(),
            }),
        };
        if let Some(b) = &mut spec.build {
            b.builder = self.builder.as_deref().and_then(parse_choice);
        }
        if let Some(t) = &mut spec.test {
            t.tester = self.tester.as_deref().and_then(parse_choice);
        }
        spec.absolutize(cwd);
        spec
    }

    /// The job: the file's spec (if any) with the flags laid over it.
    pub fn resolve(&self) -> Result<kbisect_runner::Job, CliError> {
        self.check_choices()?;
        let cwd =
            std::env::current_dir().map_err(|e| crate::exit::fail(crate::exit::Exit::BadJob, e))?;
        // Defaults (the repository, the work dir) live beside the job file.
        let (file, base) = match &self.job {
            Some(p) => {
                let spec = JobSpec::load(p)?;
                let dir = cwd
                    .join(p)
                    .parent()
                    .map_or_else(|| cwd.clone(), Path::to_path_buf);
                (spec, dir)
            }
            None => (JobSpec::default(), cwd.clone()),
        };
        let spec = file.overlay(self.to_spec(&cwd));
        Ok(kbisect_runner::Job::resolve(spec, &base)?)
    }
}
