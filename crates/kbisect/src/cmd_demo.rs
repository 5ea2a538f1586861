//! `kbisect demo`: generate a C project with a planted crash that reproduces
//! only part of the time, bisect it with real `cc` builds and real runs
//! through the same code path as `kbisect run`, and check the answer.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Failure, fail};
use crate::exit::Exit;
use crate::job::Job;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Moves the planted commit within the history (same seed, same hashes).
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
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

#[allow(clippy::print_stdout)]
pub fn run(args: Args) -> Result<Exit, Failure> {
    if !(0.0..=1.0).contains(&args.repro_chance) {
        return Err(fail(
            Exit::Usage,
            anyhow::anyhow!("--repro-chance must be between 0 and 1"),
        ));
    }
    let (base, tmp) = match &args.workdir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("kbisect-demo-")
                .tempdir()
                .map_err(|e| {
                    fail(
                        Exit::WorkDir,
                        anyhow::anyhow!("cannot create a temp dir: {e}"),
                    )
                })?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let repo_dir = base.join("repo");
    let demo = if repo_dir.join(".git").is_dir() {
        // A kept demo: regenerate elsewhere only to learn the answer (same seed, same hashes).
        let probe = tempfile::tempdir().map_err(|e| fail(Exit::WorkDir, e))?;
        let d =
            crate::demo_repo::generate(&probe.path().join("repo"), args.seed, args.repro_chance)
                .map_err(|e| fail(Exit::Infra, e))?;
        crate::demo_repo::DemoRepo {
            path: repo_dir.clone(),
            ..d
        }
    } else {
        crate::demo_repo::generate(&repo_dir, args.seed, args.repro_chance)
            .map_err(|e| fail(Exit::Infra, e))?
    };
    println!(
        "kbisect demo: generated {} commits in {} (releases, merges, docs-only commits, {} commits that do not build); one of them plants a crash that reproduces in ~{:.0}% of runs",
        demo.commits,
        demo.path.display(),
        demo.broken.len(),
        args.repro_chance * 100.0
    );
    let job = Job {
        repo: demo.path.clone(),
        branch: "master".into(),
        start: demo.head.clone(),
        start_title: None,
        fix: false,
        good: Vec::new(),
        strategy: kbisect_core::Strategy::Syzkaller,
        runs: 10,
        parallel: args.parallel.max(1),
        timeout: None,
        workdir: base.join("work"),
        config: kbisect_core::KernelConfig::default(),
        build_command: "make -s OUT=\"$KBISECT_OUT\"".into(),
        build_hash: None,
        build_timeout: Some(Duration::from_secs(120)),
        compiler: Some("cc --version".into()),
        test_command: "\"$KBISECT_OUT/demo\" 'a,b;c' 'd;e'".into(),
        test_cwd: demo.path.clone(),
        test_timeout: Duration::from_secs(10),
        idle_timeout: None,
        crash_regex: None,
        reproducer: None,
    };
    let f = crate::cmd_run::execute(&job, !args.no_progress)?;
    let s = f.stats;
    println!(
        "demo: {:.1}s wall, {} builds, {} runs ({} builds and {} runs answered by the journal)",
        f.elapsed.as_secs_f64(),
        s.builds_done,
        s.runs_done,
        s.builds_replayed,
        s.runs_replayed
    );
    let found: Vec<String> = f
        .result
        .as_ref()
        .map(|r| r.commits.iter().map(|c| c.id.to_string()).collect())
        .unwrap_or_default();
    let hit = f.exit == Exit::Culprit && found.len() == 1 && found[0] == demo.planted;
    if let Some(t) = tmp {
        if args.keep {
            let kept = t.keep();
            println!(
                "demo: kept the repository and work dir in {}",
                kept.display()
            );
        } else {
            println!(
                "demo: work dir was {} (removed; --keep keeps it)",
                f.workdir.display()
            );
        }
    } else {
        println!("demo: work dir: {}", f.workdir.display());
    }
    if hit {
        println!(
            "found the planted culprit {} {}",
            demo.planted, demo.planted_title
        );
        Ok(Exit::Culprit)
    } else {
        let what = match (&f.error, found.is_empty()) {
            (Some(e), _) => e.clone(),
            (None, true) => "no culprit".to_string(),
            (None, false) => found.join(" "),
        };
        println!("MISSED: planted {}, found {what}", demo.planted);
        Ok(Exit::DemoMissed)
    }
}
