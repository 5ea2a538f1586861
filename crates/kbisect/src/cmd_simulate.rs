//! `kbisect simulate`: the simulation benchmark. Plants a culprit in a
//! range of a real commit DAG, bisects it with each strategy through the
//! real engine over simulated builds and runs, and prints one table
//! (accuracy, builds, runs, cost, wall time, calibration) or JSON.

use std::path::PathBuf;

use kbisect_sim::{Cell, History, Prepared, SimConfig, Strat, Summary, pooled, pooled_lines};

use crate::exit::{CliError, Exit, fail};
use crate::output::line;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The commit DAG file (`shared/dags/git-history.dag.gz`).
    #[arg(long)]
    pub dag: PathBuf,
    /// The range(s) to bisect, `A..B` by tag names (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub range: Vec<String>,
    /// Chance a run on a revision with the bug crashes (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1.0, 0.7, 0.4, 0.2, 0.1])]
    pub repro_chance: Vec<f64>,
    /// Chance a run shows an unrelated crash (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.02])]
    pub unrelated: Vec<f64>,
    /// Fraction of commits that do not build, in stretches (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.1])]
    pub broken: Vec<f64>,
    /// Strategies to compare: plain, syzkaller, bayes.
    #[arg(long, value_delimiter = ',', default_value = "plain,syzkaller,bayes")]
    pub strategies: Vec<String>,
    /// Trials per cell (same culprits for every strategy).
    #[arg(long, default_value_t = 200)]
    pub trials: usize,
    /// Seed of the trials (the output is the same for a seed).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print `{"cells": [...], "calibration": [...]}` instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Threads over trials (default: the machine's cores); the output does
    /// not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fraction of unrelated crashes with the target's title (1: they all
    /// look like ours, the hard case).
    #[arg(long, default_value_t = 1.0)]
    pub same_title: f64,
    /// Ablation: builds do not say which files they used, so docs-only
    /// commits are built like any other.
    #[arg(long)]
    pub no_fold: bool,
    /// syzkaller and plain share evidence between equal binaries and fold
    /// commits that cannot change the binary (job key `share_evidence`).
    #[arg(long)]
    pub share_evidence: bool,
    /// Builds the simulated build farm makes at once (each takes the
    /// build's minutes; bayes then plans up to this many revisions a round).
    #[arg(long, default_value_t = 1)]
    pub build_slots: usize,
}

fn usage(msg: String) -> CliError {
    fail(Exit::Usage, anyhow::anyhow!(msg))
}

fn check(args: &Args) -> Result<Vec<Strat>, CliError> {
    let prob = |name: &str, v: &[f64], below_one: bool| -> Result<(), CliError> {
        match v
            .iter()
            .find(|x| !(0.0..=1.0).contains(*x) || (below_one && **x >= 1.0))
        {
            Some(x) => Err(usage(format!(
                "--{name} {x}: must be between 0 and {}",
                if below_one { "1 (excluded)" } else { "1" }
            ))),
            None => Ok(()),
        }
    };
    prob("repro-chance", &args.repro_chance, false)?;
    prob("unrelated", &args.unrelated, true)?;
    prob("broken", &args.broken, true)?;
    prob("same-title", &[args.same_title], false)?;
    if args.repro_chance.iter().any(|p| *p <= 0.0) {
        return Err(usage("--repro-chance 0: the bug would never show".into()));
    }
    if args.build_slots == 0 {
        return Err(usage("--build-slots must be at least 1".into()));
    }
    if args.trials == 0 {
        return Err(usage("--trials must be at least 1".into()));
    }
    args.strategies
        .iter()
        .map(|s| {
            Strat::parse(s).ok_or_else(|| {
                usage(format!(
                    "unknown strategy '{s}' (known: plain, syzkaller, bayes)"
                ))
            })
        })
        .collect()
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    let strats = check(&args)?;
    let history = History::load(&args.dag).map_err(|e| fail(Exit::BadJob, e))?;
    let sim = SimConfig {
        same_title: args.same_title,
        files_used: !args.no_fold,
        share_evidence: args.share_evidence,
        build_slots: args.build_slots,
        ..SimConfig::default()
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let ranges = args
        .range
        .iter()
        .map(|spec| history.range(spec).map(|r| (spec, r)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(Exit::BadRange, e))?;
    let mut rows = Vec::new();
    if !args.json {
        line(&Summary::header())?;
    }
    for (spec, range) in ranges {
        if !args.json {
            line(&format!(
                "# {spec}: {} commits, {} merges, {} docs-only",
                range.len(),
                range.merges(),
                range.docs_only()
            ))?;
        }
        let prep = Prepared::new(&history, range);
        for &s in &args.broken {
            for &q in &args.unrelated {
                for &p in &args.repro_chance {
                    let cell = Cell { p, q, s };
                    for &st in &strats {
                        let t = prep.cell(cell, st, args.trials, args.seed, &sim, threads);
                        let sum = Summary::new(spec, st, cell, &t);
                        if !args.json {
                            line(&sum.line())?;
                        }
                        rows.push(sum);
                    }
                }
            }
        }
    }
    let pool = pooled(&rows);
    if args.json {
        let doc = kbisect_sim::Report {
            cells: &rows,
            calibration: pool,
        };
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| fail(Exit::Failure, anyhow::anyhow!("cannot write JSON: {e}")))?;
        line(&text)?;
    } else {
        for l in pooled_lines(&pool) {
            line(&l)?;
        }
    }
    Ok(Exit::Success)
}
