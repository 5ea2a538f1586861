//! `kbisect demo`: generate a C project with a planted crash that reproduces
//! only part of the time, bisect it with real `cc` builds and real runs
//! through the same code path as `kbisect run`, and check the answer.

use std::path::{Path, PathBuf};

use kbisect_runner::{BuildSpec, Job, JobSpec, TestSpec};

use crate::demo_repo::DemoRepo;
use crate::exit::{CliError, Exit, fail};
use crate::output::line;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Draws the history: where the planted commit sits (same seed, same hashes).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the generated repository and work dir.
    #[arg(long)]
    pub keep: bool,
    /// Put the repository (`DIR/repo`) and work dir (`DIR/work`) here (kept;
    /// running again resumes).
    #[arg(long)]
    pub workdir: Option<PathBuf>,
    /// Chance that one run of a buggy build crashes.
    #[arg(long, default_value_t = 0.4)]
    pub repro_chance: f64,
    /// Runs made at the same time.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Search strategy: bayes (the default for a project like this one),
    /// syzkaller, plain.
    #[arg(long)]
    pub strategy: Option<String>,
    /// The kernel case instead: a Linux tree made from Debian's
    /// linux-source tarball with a planted WARN, built with the kernel
    /// builder and booted under qemu (see README: minutes, not seconds).
    #[arg(long)]
    pub kernel: bool,
    /// `--kernel`: the linux-source tarball (default: $KBISECT_LINUX_TARBALL,
    /// else /usr/src/linux-source-6.12.tar.xz).
    #[arg(long, requires = "kernel")]
    pub tarball: Option<PathBuf>,
    /// `--kernel`: keep the persistent kernel build dir, ccache and guest
    /// programs here, to be reused by later demos (default: in the work dir).
    #[arg(long, requires = "kernel")]
    pub cache_dir: Option<PathBuf>,
    /// `--kernel`: only make the tree, the config and `DIR/job.toml` (with
    /// --workdir DIR); `kbisect run DIR/job.toml` then bisects it.
    #[arg(long, requires = "kernel")]
    pub prepare: bool,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

/// The marker a complete demo repository carries: what it was generated with.
const MARKER: &str = ".git/kbisect-demo";

fn marker(seed: u64, chance: f64) -> String {
    format!("seed={seed} repro_chance={chance}\n")
}

/// Where the demo lives: a kept dir, or a temp dir removed at the end.
struct Place {
    base: PathBuf,
    temp: Option<tempfile::TempDir>,
}

/// Temp dirs of demos killed before they could remove them: named after
/// their pid, removed once that process is gone.
fn remove_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("kbisect-demo-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists();
        if !alive {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn place(args: &Args) -> Result<Place, CliError> {
    if let Some(d) = &args.workdir {
        return Ok(Place {
            base: d.clone(),
            temp: None,
        });
    }
    remove_stale_temp_dirs();
    let t = tempfile::Builder::new()
        .prefix(&format!("kbisect-demo-{}-", std::process::id()))
        .tempdir()
        .map_err(|e| {
            fail(
                Exit::WorkDir,
                anyhow::anyhow!("cannot create a temp dir: {e}"),
            )
        })?;
    Ok(Place {
        base: t.path().to_path_buf(),
        temp: Some(t),
    })
}

/// The demo repository in `base/repo`: generated into a scratch dir and
/// renamed into place only once complete, so a demo killed while generating
/// leaves nothing that looks like a kept demo.
fn repository(base: &Path, seed: u64, chance: f64) -> Result<DemoRepo, CliError> {
    let repo = base.join("repo");
    let want = marker(seed, chance);
    let generate = |dir: &Path| {
        crate::demo_repo::generate(dir, seed, chance).map_err(|e| fail(Exit::Infra, e))
    };
    if repo.join(".git").is_dir() {
        match std::fs::read_to_string(repo.join(MARKER)) {
            Ok(m) if m == want => {
                // A kept demo: regenerate elsewhere only to learn the answer
                // (same seed, same hashes).
                let probe = tempfile::tempdir().map_err(|e| fail(Exit::WorkDir, e))?;
                let d = generate(&probe.path().join("repo"))?;
                return Ok(DemoRepo { path: repo, ..d });
            }
            Ok(m) => {
                return Err(fail(
                    Exit::WorkDir,
                    anyhow::anyhow!(
                        "{} holds the demo of {}, not of seed={seed} repro_chance={chance}; give another --workdir",
                        base.display(),
                        m.trim()
                    ),
                ));
            }
            Err(_) => {
                return Err(fail(
                    Exit::WorkDir,
                    anyhow::anyhow!(
                        "{} is not a kbisect demo repository; give another --workdir",
                        repo.display()
                    ),
                ));
            }
        }
    }
    std::fs::create_dir_all(base).map_err(|e| fail(Exit::WorkDir, e))?;
    let scratch = base.join(format!("repo.generating-{}", std::process::id()));
    // Left by an earlier demo killed while generating.
    if let Ok(entries) = std::fs::read_dir(base) {
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("repo.generating-")
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let d = generate(&scratch)?;
    std::fs::write(scratch.join(MARKER), &want).map_err(|e| fail(Exit::WorkDir, e))?;
    std::fs::rename(&scratch, &repo).map_err(|e| fail(Exit::WorkDir, e))?;
    Ok(DemoRepo { path: repo, ..d })
}

/// The demo's job, through the same spec as a job file.
fn job(demo: &DemoRepo, base: &Path, args: &Args) -> Result<Job, CliError> {
    let spec = JobSpec {
        repo: Some(demo.path.clone()),
        branch: Some("master".into()),
        start: Some(demo.head.clone()),
        strategy: args.strategy.clone(),
        parallel: Some(args.parallel.max(1)),
        workdir: Some(base.join("work")),
        build: Some(BuildSpec {
            command: Some("make -s OUT=\"$KBISECT_OUT\"".into()),
            timeout: Some("2m".into()),
            compiler: Some("cc --version".into()),
            ..BuildSpec::default()
        }),
        test: Some(TestSpec {
            command: Some("\"$KBISECT_OUT/demo\" 'a,b;c' 'd;e'".into()),
            timeout: Some("10s".into()),
            ..TestSpec::default()
        }),
        ..JobSpec::default()
    };
    Ok(Job::resolve(spec, base)?)
}

/// The kernel case's job, written to `base/job.toml` too.
fn kernel_job(
    demo: &crate::demo_kernel::KernelDemo,
    base: &Path,
    args: &Args,
) -> Result<Job, CliError> {
    let cache = args.cache_dir.clone();
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    let mut toml = format!(
        "# kbisect demo --kernel: a cause bisection of a real Linux tree.\n\
         repo = {}\nstart = \"{}\"\nworkdir = {}\nconfig = {}\nparallel = {}\n\n\
         [build]\nbuilder = \"kernel\"\ntimeout = \"90m\"\n",
        q(&demo.repo),
        demo.head,
        q(&base.join("work")),
        q(&demo.config),
        args.parallel.clamp(1, 2),
    );
    if let Some(s) = &args.strategy {
        toml = toml.replace("\n\n[build]", &format!("\nstrategy = \"{s}\"\n\n[build]"));
    }
    if let Some(c) = &cache {
        toml.push_str(&format!(
            "dir = {}\nccache_dir = {}\n",
            q(&c.join("kbuild")),
            q(&c.join("ccache"))
        ));
    }
    toml.push_str("\n[test]\ntester = \"qemu\"\nrun_time = \"20s\"\n");
    if let Some(c) = &cache {
        toml.push_str(&format!("cache_dir = {}\n", q(&c.join("guest"))));
    }
    toml.push_str(&format!("\n[reproducer]\nfile = {}\n", q(&demo.repro)));
    let path = base.join("job.toml");
    std::fs::write(&path, &toml).map_err(|e| fail(Exit::WorkDir, e))?;
    Ok(Job::resolve(JobSpec::load(&path)?, base)?)
}

fn run_kernel(args: Args) -> Result<Exit, CliError> {
    let place = place(&args)?;
    if args.prepare && place.temp.is_some() {
        return Err(fail(
            Exit::Usage,
            anyhow::anyhow!("--prepare needs --workdir DIR (the case is kept there)"),
        ));
    }
    let tarball = args
        .tarball
        .clone()
        .unwrap_or_else(crate::demo_kernel::default_tarball);
    line(&format!(
        "kbisect demo --kernel: making a Linux tree from {} in {} (about a minute)",
        tarball.display(),
        place.base.display()
    ))?;
    let demo =
        crate::demo_kernel::prepare(&place.base, &tarball).map_err(|e| fail(Exit::BadJob, e))?;
    let job = kernel_job(&demo, &place.base, &args)?;
    line(&format!(
        "kbisect demo --kernel: {} commits on top of the release; one plants a WARN_ON_ONCE in prctl(PR_GET_AUXV)",
        demo.commits
    ))?;
    if args.prepare {
        line(&format!("planted: {} {}", demo.culprit, demo.culprit_title))?;
        line(&format!(
            "prepared: kbisect run {}",
            place.base.join("job.toml").display()
        ))?;
        return Ok(Exit::Success);
    }
    let f = crate::cmd_run::execute(job, false, !args.no_progress)?;
    line(&format!(
        "demo: {:.1}s wall, {} builds, {} runs",
        f.elapsed.as_secs_f64(),
        f.stats.builds_done,
        f.stats.runs_done
    ))?;
    let found = f.outcome.as_ref().ok().and_then(crate::cmd_run::culprit);
    let exit = crate::cmd_run::exit_of(&f)?;
    if exit == Exit::Success && found.as_deref() == Some(demo.culprit.as_str()) {
        line(&format!(
            "found the planted culprit {} {}",
            demo.culprit, demo.culprit_title
        ))?;
        return Ok(Exit::Success);
    }
    line(&format!(
        "MISSED: planted {}, found {}",
        demo.culprit,
        found.unwrap_or_else(|| "no culprit".into())
    ))?;
    Ok(if exit == Exit::Success {
        Exit::DemoMissed
    } else {
        exit
    })
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    if args.kernel {
        return run_kernel(args);
    }
    if !(0.0..=1.0).contains(&args.repro_chance) {
        return Err(fail(
            Exit::Usage,
            anyhow::anyhow!("--repro-chance must be between 0 and 1"),
        ));
    }
    let place = place(&args)?;
    let demo = repository(&place.base, args.seed, args.repro_chance)?;
    line(&format!(
        "kbisect demo: generated {} commits in {} (releases, merges, docs-only commits, {} commits that do not build); one of them plants a crash that each run hits with chance {:.2}",
        demo.commits,
        demo.path.display(),
        demo.broken.len(),
        args.repro_chance
    ))?;
    let job = job(&demo, &place.base, &args)?;
    let f = crate::cmd_run::execute(job, false, !args.no_progress)?;
    let s = f.stats;
    line(&format!(
        "demo: {:.1}s wall, {} builds, {} runs ({} builds and {} runs answered by the journal)",
        f.elapsed.as_secs_f64(),
        s.builds_done,
        s.runs_done,
        s.builds_replayed,
        s.runs_replayed
    ))?;
    let kept = match place.temp {
        Some(t) if args.keep => {
            let kept = t.keep();
            line(&format!(
                "demo: kept the repository and work dir in {}",
                kept.display()
            ))?;
            true
        }
        Some(_) => {
            line(&format!(
                "demo: work dir was {} (removed; --keep or --workdir keeps it)",
                f.workdir.display()
            ))?;
            false
        }
        None => {
            line(&format!("demo: work dir: {}", f.workdir.display()))?;
            true
        }
    };
    let exit = match crate::cmd_run::exit_of(&f) {
        Ok(Exit::Success) => {
            let found = f
                .outcome
                .as_ref()
                .ok()
                .and_then(crate::cmd_run::culprit)
                .unwrap_or_default();
            if found == demo.planted {
                line(&format!(
                    "found the planted culprit {} {}",
                    demo.planted, demo.planted_title
                ))?;
                return Ok(Exit::Success);
            }
            line(&format!("MISSED: planted {}, found {found}", demo.planted))?;
            Exit::DemoMissed
        }
        Ok(other) => {
            line(&format!(
                "MISSED: planted {}, the bisection ended {}",
                demo.planted,
                match other {
                    Exit::Inconclusive => "inconclusive",
                    Exit::Unsure => "unsure (no culprit reached the confidence target)",
                    _ => "without a culprit",
                }
            ))?;
            other
        }
        Err(e) if e.exit == Exit::Interrupted && !kept => {
            return Err(fail(
                Exit::Interrupted,
                anyhow::anyhow!(
                    "interrupted; the demo's temp dir is removed (give --workdir DIR to keep a demo resumable)"
                ),
            ));
        }
        Err(e) => {
            line(&format!("MISSED: planted {}", demo.planted))?;
            return Err(e);
        }
    };
    Ok(exit)
}
