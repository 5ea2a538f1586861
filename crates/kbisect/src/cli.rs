//! Command line: parse arguments, dispatch, turn errors into one line and an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::{CliError, Exit};

#[derive(Parser, Debug)]
#[command(
    name = "kbisect",
    version,
    about = "Find the commit that introduced (or fixed) a Linux kernel crash"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse a kernel console log and print the crash it holds.
    ParseLog(crate::cmd_parse_log::Args),
    /// Bisect a git project from a job file and/or flags (resumes a work dir with a journal).
    Run(Box<crate::run_args::RunArgs>),
    /// Bisect a generated C project with a planted, flaky crash, end to end.
    Demo(crate::cmd_demo::Args),
    /// Print where the bisection in a work dir stands.
    Status(crate::cmd_status::Args),
    /// Remove a work dir and kbisect's worktree registration in the repository.
    Clean(crate::cmd_clean::Args),
    /// Compare strategies on simulated bisections of a real commit DAG (the real engine runs every trial).
    Simulate(crate::cmd_simulate::Args),
    /// Render a bisection from its work dir: text, json, e-mail or HTML (nothing is rebuilt or rerun).
    Report(crate::cmd_report::Args),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let res: Result<Exit, CliError> = match cli.command {
        Command::ParseLog(a) => crate::cmd_parse_log::run(a),
        Command::Run(a) => crate::cmd_run::run(*a),
        Command::Demo(a) => crate::cmd_demo::run(a),
        Command::Status(a) => crate::cmd_status::run(a),
        Command::Clean(a) => crate::cmd_clean::run(a),
        Command::Simulate(a) => crate::cmd_simulate::run(a),
        Command::Report(a) => crate::cmd_report::run(a),
    };
    match res {
        Ok(exit) => exit.into(),
        Err(f) => {
            if let Some(e) = &f.error {
                crate::output::note(&format!("error: {}", one_line(e)));
            }
            f.exit.into()
        }
    }
}

/// The error and its causes on one line, each cause once (a cause whose
/// text the message already holds is not repeated).
fn one_line(e: &anyhow::Error) -> String {
    let mut s = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
    }
    s.replace('\n', " ")
}
