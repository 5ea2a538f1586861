//! One kernel build, start to end: the revision's toolchain, fix-up
//! cherry-picks, the job's config adjusted and olddefconfig'd, make in the
//! persistent build dir, and the artifacts with their signature, compiler
//! identity and the files the build used.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kbisect_git::{CommitId, Repo, Worktree};
use kbisect_proc::CancelToken;

use crate::compiler::{compiler_from_compile_h, compiler_version_line};
use crate::deps::FilesUsed;
use crate::error::KernelError;
use crate::failure::BuildFailure;
use crate::kconfig::{ConfigValue, KernelConfig, canonical_name};
use crate::make::{MakeEnd, MakeSettings, reproducibility_changes};
use crate::signature::{KernelSignature, vmlinux_signature};
use crate::stamp::{BuildStamp, clean_build_dir};
use crate::toolchain::{CompilerFamily, CompilerLookup, Toolchain, ToolchainTable, is_installed};
use crate::version::KernelVersion;

/// Which options of the job's config must survive `make olddefconfig`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ConfigCheck {
    /// Every option the job's config sets (`=y`, `=m`, a value) or unsets,
    /// except those the toolchain table or the builder change on purpose.
    #[default]
    All,
    /// Only these (`KASAN` or `CONFIG_KASAN`).
    Listed(Vec<String>),
    /// None: whatever olddefconfig makes of the config is built.
    Off,
}

/// How kernels are built: the job's kernel settings.
#[derive(Clone, Debug)]
pub struct KernelSettings {
    /// gcc or clang: which column of the toolchain table.
    pub family: CompilerFamily,
    /// The compiler where the table says `default` (`gcc-12`); `None`: plain gcc/clang.
    pub compiler: Option<String>,
    /// Where versioned compilers are installed (`<dir>/gcc-8.1.0/bin/gcc`).
    pub toolchain_dirs: Vec<PathBuf>,
    /// Use the default compiler, noted, when the table's is not installed.
    pub compiler_fallback: bool,
    /// The toolchain table (built-in, or extended by the job's file).
    pub toolchains: ToolchainTable,
    /// `make -jN`.
    pub jobs: usize,
    /// Use ccache when it is installed.
    pub ccache: bool,
    /// `CCACHE_DIR`; `None` leaves ccache's default.
    pub ccache_dir: Option<PathBuf>,
    /// Empty the build dir before every build (`--clean-builds`).
    pub clean: bool,
    /// Options to disable on top of the table's.
    pub disable: Vec<String>,
    /// What must survive olddefconfig.
    pub config_check: ConfigCheck,
    /// `ARCH=`.
    pub arch: String,
    /// make targets (vmlinux is built on the way to bzImage).
    pub targets: Vec<String>,
    /// The boot image, relative to the build dir.
    pub kernel_image: String,
    /// Fixed `KERNELRELEASE`; `None`: `<VERSION>.<PATCHLEVEL>.0-kbisect`.
    pub kernel_release: Option<String>,
    /// Limit for the build's make.
    pub make_timeout: Duration,
    /// Limit for olddefconfig and `CC --version`.
    pub config_timeout: Duration,
    /// Run make under `nice -n N`.
    pub nice: Option<i32>,
    /// The make program.
    pub make: String,
}

impl KernelSettings {
    /// x86_64 defaults: gcc, bzImage, ccache when installed, all cores.
    pub fn new(toolchains: ToolchainTable) -> KernelSettings {
        KernelSettings {
            family: CompilerFamily::Gcc,
            compiler: None,
            toolchain_dirs: Vec::new(),
            compiler_fallback: false,
            toolchains,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ccache: true,
            ccache_dir: None,
            clean: false,
            disable: Vec::new(),
            config_check: ConfigCheck::All,
            arch: "x86_64".into(),
            targets: vec!["bzImage".into()],
            kernel_image: "arch/x86/boot/bzImage".into(),
            kernel_release: None,
            make_timeout: Duration::from_secs(3 * 3600),
            config_timeout: Duration::from_secs(600),
            nice: None,
            make: "make".into(),
        }
    }
}

/// What to build: a checked-out tree, where to build it, with what config.
#[derive(Clone, Copy, Debug)]
pub struct KernelBuildRequest<'a> {
    /// The checked-out sources (kbisect's worktree).
    pub source_dir: &'a Path,
    /// The persistent build dir (`make O=`), reused across revisions.
    pub build_dir: &'a Path,
    /// The job's kernel config (a full `.config` or a fragment).
    pub config: &'a [u8],
    /// Where the artifacts go (created if needed).
    pub out_dir: &'a Path,
    /// The repository and worktree, needed to apply fix-up cherry-picks.
    pub git: Option<(&'a Repo, &'a Worktree)>,
    /// Stops the build.
    pub cancel: Option<&'a CancelToken>,
}

/// A built kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelArtifacts {
    /// `<out>/bzImage` (the boot image, whatever the arch calls it).
    pub kernel_image: PathBuf,
    /// `<out>/vmlinux`.
    pub vmlinux: PathBuf,
    /// `<out>/config`: the `.config` it was built with.
    pub config: PathBuf,
    /// `<out>/build.log`: make's whole output.
    pub log: PathBuf,
    /// The signature of `vmlinux`.
    pub signature: KernelSignature,
    /// The compiler identity (compile.h's `LINUX_COMPILER`, linker cut off).
    pub compiler: String,
    /// Sources, headers and Kconfig files the build read.
    pub files_used: FilesUsed,
    /// What the revision was built with.
    pub toolchain: Toolchain,
    /// Fix-up commits that were applied (and undone afterwards).
    pub cherry_picked: Vec<CommitId>,
    /// Why the build dir was emptied first; `None` for an incremental build.
    pub cleaned: Option<String>,
    /// Wall time of the whole build.
    pub duration: Duration,
}

/// How a build ended, when it is not an infrastructure error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelOutcome {
    /// It built.
    Built(Box<KernelArtifacts>),
    /// The revision does not build: a skip.
    Failed(BuildFailure),
}

/// Builds kernels with one job's settings.
#[derive(Clone, Debug)]
pub struct KernelBuild {
    settings: KernelSettings,
}

impl KernelBuild {
    /// A builder with these settings.
    pub fn new(settings: KernelSettings) -> KernelBuild {
        KernelBuild { settings }
    }

    /// The settings.
    pub fn settings(&self) -> &KernelSettings {
        &self.settings
    }

    /// The toolchain for the revision checked out in `source_dir`.
    pub fn toolchain(&self, source_dir: &Path) -> Result<Toolchain, KernelError> {
        self.toolchain_for(&KernelVersion::read(source_dir)?)
    }

    /// The toolchain for a revision of `version` (from its Makefile, e.g.
    /// `git show REV:Makefile` when it is not checked out).
    pub fn toolchain_for(&self, version: &KernelVersion) -> Result<Toolchain, KernelError> {
        let s = &self.settings;
        let lookup = CompilerLookup {
            default_command: s.compiler.clone(),
            toolchain_dirs: s.toolchain_dirs.clone(),
            fallback_to_default: s.compiler_fallback,
        };
        Ok(s.toolchains.resolve(version, s.family, &lookup)?)
    }

    /// The compiler identity to log before building a revision of
    /// `version`: its compiler's `--version` line.
    pub fn compiler_id(&self, version: &KernelVersion) -> Result<String, KernelError> {
        let tc = self.toolchain_for(version)?;
        compiler_version_line(&tc.compiler, self.settings.config_timeout)
    }

    /// Builds the checked-out revision. Fix-ups are applied first and always
    /// undone, whatever the build's end.
    pub fn build(&self, req: &KernelBuildRequest<'_>) -> Result<KernelOutcome, KernelError> {
        let start = Instant::now();
        let toolchain = self.toolchain(req.source_dir)?;
        let picked = match apply_fix_ups(req, &toolchain.cherry_picks)? {
            Ok(p) => p,
            Err(f) => return Ok(KernelOutcome::Failed(f.with_duration(start.elapsed()))),
        };
        let result = self.build_prepared(req, toolchain, picked.clone(), start);
        if !picked.is_empty()
            && let Some((_, wt)) = req.git
        {
            wt.discard_changes()?;
        }
        result
    }

    fn build_prepared(
        &self,
        req: &KernelBuildRequest<'_>,
        toolchain: Toolchain,
        cherry_picked: Vec<CommitId>,
        start: Instant,
    ) -> Result<KernelOutcome, KernelError> {
        let s = &self.settings;
        let version = KernelVersion::read(req.source_dir)?;
        let release = s
            .kernel_release
            .clone()
            .unwrap_or_else(|| format!("{}-kbisect", version.release_line()));
        let cc = if s.ccache && is_installed("ccache") {
            format!("ccache {}", toolchain.compiler)
        } else {
            toolchain.compiler.clone()
        };
        let make = MakeSettings {
            make: s.make.clone(),
            jobs: s.jobs,
            arch: s.arch.clone(),
            cc: cc.clone(),
            hostcc: None,
            kernel_release: release.clone(),
            ccache_dir: s.ccache_dir.clone(),
            nice: s.nice,
            extra_env: Vec::new(),
            cancel: req.cancel.cloned(),
        };

        // The config: the job's, then the table's tweaks, the job's extra
        // disables, and what keeps builds reproducible.
        let job = KernelConfig::parse(req.config)?;
        let mut config = job.clone();
        let mut changed: Vec<String> = Vec::new();
        let mut change = |config: &mut KernelConfig, name: &str, v: ConfigValue| {
            changed.push(canonical_name(name));
            config.set(name, v);
        };
        for (name, v) in &toolchain.config_changes {
            change(&mut config, name, v.clone());
        }
        for name in &s.disable {
            change(&mut config, name, ConfigValue::No);
        }
        for (name, v) in reproducibility_changes() {
            change(&mut config, name, v);
        }
        let input = config.to_bytes();

        let compiler_line = compiler_version_line(&toolchain.compiler, s.config_timeout)?;
        let stamp = BuildStamp::new(&cc, &compiler_line, &input, &s.arch, &release);
        let cleaned = if s.clean {
            Some("clean builds requested".to_owned())
        } else {
            stamp.reason_to_clean(BuildStamp::read(req.build_dir).as_ref())
        };
        if let Some(why) = &cleaned {
            tracing::info!(build_dir = %req.build_dir.display(), why, "cleaning the build dir");
            clean_build_dir(req.build_dir)?;
        }
        stamp.write(req.build_dir)?;
        std::fs::create_dir_all(req.out_dir).map_err(|e| KernelError::io(req.out_dir, e))?;
        let log = req.out_dir.join("build.log");
        std::fs::write(&log, b"").map_err(|e| KernelError::io(&log, e))?;

        // Rewritten only when it differs, so that its mtime (and kbuild's
        // view of what changed) survives a revision with the same config.
        let dot_config = req.build_dir.join(".config");
        if std::fs::read(&dot_config).ok().as_deref() != Some(&input[..]) {
            std::fs::write(&dot_config, &input).map_err(|e| KernelError::io(&dot_config, e))?;
        }
        if let MakeEnd::Failed(f) = make.run(
            req.source_dir,
            req.build_dir,
            &["olddefconfig"],
            s.config_timeout,
            Some(&log),
        )? {
            return Ok(KernelOutcome::Failed(f.with_duration(start.elapsed())));
        }
        let final_config = KernelConfig::read(&dot_config)?;
        let mut wanted = job.clone();
        for name in &changed {
            wanted.remove(name);
        }
        let dropped = match &s.config_check {
            ConfigCheck::All => final_config.dropped_from(&wanted, None),
            ConfigCheck::Listed(names) => final_config.dropped_from(&wanted, Some(names)),
            ConfigCheck::Off => Vec::new(),
        };
        if !dropped.is_empty() {
            return Err(KernelError::ConfigDropped { options: dropped });
        }

        let targets: Vec<&str> = s.targets.iter().map(String::as_str).collect();
        if let MakeEnd::Failed(f) = make.run(
            req.source_dir,
            req.build_dir,
            &targets,
            s.make_timeout,
            Some(&log),
        )? {
            return Ok(KernelOutcome::Failed(f.with_duration(start.elapsed())));
        }
        let built_image = req.build_dir.join(&s.kernel_image);
        let built_vmlinux = req.build_dir.join("vmlinux");
        for p in [&built_image, &built_vmlinux] {
            if !p.is_file() {
                let rel = p
                    .strip_prefix(req.build_dir)
                    .unwrap_or(p)
                    .display()
                    .to_string();
                return Ok(KernelOutcome::Failed(BuildFailure {
                    title: format!("make succeeded but left no {rel}"),
                    error_lines: Vec::new(),
                    guilty_file: None,
                    duration: start.elapsed(),
                }));
            }
        }
        let image_name = Path::new(&s.kernel_image)
            .file_name()
            .map_or_else(|| "bzImage".into(), |n| n.to_owned());
        let kernel_image = copy(&built_image, &req.out_dir.join(image_name))?;
        let vmlinux = copy(&built_vmlinux, &req.out_dir.join("vmlinux"))?;
        let config_copy = copy(&dot_config, &req.out_dir.join("config"))?;
        let signature = vmlinux_signature(&vmlinux)?;
        let compiler = compiler_from_compile_h(req.build_dir).unwrap_or(compiler_line);
        let files_used = FilesUsed::from_build_dir(req.source_dir, req.build_dir)?;
        Ok(KernelOutcome::Built(Box::new(KernelArtifacts {
            kernel_image,
            vmlinux,
            config: config_copy,
            log,
            signature,
            compiler,
            files_used,
            toolchain,
            cherry_picked,
            cleaned,
            duration: start.elapsed(),
        })))
    }
}

/// Cherry-picks the fix-ups the revision lacks. The inner `Err` is a fix-up
/// that does not apply: the revision's problem, a skip.
fn apply_fix_ups(
    req: &KernelBuildRequest<'_>,
    fixes: &[CommitId],
) -> Result<Result<Vec<CommitId>, BuildFailure>, KernelError> {
    if fixes.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let Some((repo, wt)) = req.git else {
        return Err(KernelError::FixUp {
            commit: fixes[0].to_string(),
            detail: "fix-ups need kbisect's git worktree".into(),
        });
    };
    let picked = pick_all(repo, wt, fixes);
    if !matches!(picked, Ok(Ok(_))) {
        // Whatever was picked before the failure goes too; the first error wins.
        let undone = wt.discard_changes();
        let picked = picked?;
        undone?;
        return Ok(picked);
    }
    picked
}

fn pick_all(
    repo: &Repo,
    wt: &Worktree,
    fixes: &[CommitId],
) -> Result<Result<Vec<CommitId>, BuildFailure>, KernelError> {
    let head = wt.head()?;
    let mut picked = Vec::new();
    for fix in fixes {
        if !repo.has_commit(fix.as_str())? {
            return Err(KernelError::FixUp {
                commit: fix.to_string(),
                detail: "not in the repository".into(),
            });
        }
        if repo.is_ancestor(fix, &head)? {
            continue; // the revision has it already
        }
        if !wt.cherry_pick_no_commit(fix)? {
            return Ok(Err(BuildFailure {
                title: format!("fix-up commit {} does not apply", fix.short()),
                error_lines: Vec::new(),
                guilty_file: None,
                duration: Duration::ZERO,
            }));
        }
        picked.push(fix.clone());
    }
    Ok(Ok(picked))
}

fn copy(from: &Path, to: &Path) -> Result<PathBuf, KernelError> {
    // Never a hard link: the next build may rewrite the file in place.
    std::fs::copy(from, to).map_err(|e| KernelError::io(to, e))?;
    Ok(to.to_owned())
}

impl BuildFailure {
    fn with_duration(mut self, d: Duration) -> BuildFailure {
        self.duration = d;
        self
    }
}
