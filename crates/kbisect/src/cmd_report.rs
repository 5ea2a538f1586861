//! `kbisect report WORKDIR`: render a finished (or interrupted) bisection
//! from its work dir alone — the syzbot-format log and a summary, the
//! result as JSON, a syzbot-style e-mail, or one self-contained HTML page.
//! Nothing is built, run or written in the work dir; `--strategy` and
//! `--confidence` re-judge the recorded evidence.

use std::io::Write;
use std::path::{Path, PathBuf};

use kbisect_core::StrategyKind;
use kbisect_runner::report::{self, ReportOptions, email, html};
use kbisect_runner::session::JOURNAL_FILE;

use crate::exit::{CliError, Exit, fail};
use crate::output::note;

/// What to render.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The bisection log in syzbot's format, then a summary.
    Text,
    /// `result.json`'s format.
    Json,
    /// A plain-text e-mail in syzbot's layout (To/Cc from the recipients).
    Email,
    /// One self-contained HTML page with charts.
    Html,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The work dir of a `kbisect run` (a `kbisect demo --workdir DIR`'s DIR works too).
    pub workdir: PathBuf,
    /// What to render.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of stdout (HTML links to run logs are made relative to it).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Re-judge the recorded evidence with this strategy (syzkaller, plain, bayes).
    #[arg(long, value_name = "NAME")]
    pub strategy: Option<String>,
    /// Re-judge with this confidence target, between 0 and 1 (strategies that keep one).
    #[arg(long, value_name = "P")]
    pub confidence: Option<f64>,
    /// E-mail: the `Reported-by:` tag to add ("Name <address>").
    #[arg(long, value_name = "WHO")]
    pub reported_by: Option<String>,
}

/// The work dir itself, or a demo directory's `work/`.
fn work_dir(dir: &Path) -> PathBuf {
    let demo = dir.join("work");
    if !dir.join(JOURNAL_FILE).is_file() && demo.join(JOURNAL_FILE).is_file() {
        demo
    } else {
        dir.to_path_buf()
    }
}

fn options(args: &Args) -> Result<ReportOptions, CliError> {
    let strategy = match &args.strategy {
        None => None,
        Some(name) => Some(StrategyKind::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            fail(
                Exit::Usage,
                anyhow::anyhow!("unknown strategy '{name}' (known: {})", known.join(", ")),
            )
        })?),
    };
    if let Some(c) = args.confidence
        && !(c > 0.0 && c < 1.0)
    {
        return Err(fail(
            Exit::Usage,
            anyhow::anyhow!("--confidence must be between 0 and 1 (exclusive), got {c}"),
        ));
    }
    Ok(ReportOptions {
        strategy,
        confidence: args.confidence,
    })
}

/// Writes `text` to `path` whole (a temp file renamed over it).
fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    let cannot = |e: std::io::Error| {
        fail(
            Exit::Failure,
            anyhow::anyhow!("cannot write {}: {e}", path.display()),
        )
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let res = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(cannot(e));
    }
    Ok(())
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    let opts = options(&args)?;
    let dir = work_dir(&args.workdir);
    let r = report::load(&dir, &opts)
        .map_err(|e| fail(Exit::of_kind(e.kind()), anyhow::Error::new(e)))?;
    let text = match args.format {
        Format::Text => report::text(&r),
        Format::Json => report::json(&r),
        Format::Email => email::render(
            &r,
            &email::EmailOptions {
                reported_by: args.reported_by.clone(),
            },
        ),
        Format::Html => html::render(
            &r,
            &html::HtmlOptions::for_output(args.output.as_deref(), &r.workdir),
        ),
    };
    match &args.output {
        Some(p) => write_file(p, &text)?,
        None => crate::output::bytes(text.as_bytes())?,
    }
    if let report::Outcome::Partial(nr) = &r.outcome {
        note(&format!(
            "the report is partial: {}",
            nr.to_string().trim_start_matches("partial: ")
        ));
        return Ok(Exit::PartialReport);
    }
    Ok(Exit::Success)
}
