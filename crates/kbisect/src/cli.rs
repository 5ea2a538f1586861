//! Command line: parse arguments, dispatch, turn errors into one line and an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

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
    Run(Box<crate::job::RunArgs>),
    /// Bisect a generated C project with a planted, flaky crash, end to end.
    Demo(crate::cmd_demo::Args),
    /// Print where the bisection in a work dir stands.
    Status(crate::cmd_status::Args),
}

/// An error that knows its exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

pub fn fail(exit: Exit, error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        exit,
        error: error.into(),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::ParseLog(a) => crate::cmd_parse_log::run(a),
        Command::Run(a) => crate::cmd_run::run(*a),
        Command::Demo(a) => crate::cmd_demo::run(a),
        Command::Status(a) => crate::cmd_status::run(a),
    };
    match res {
        Ok(exit) => exit.into(),
        Err(f) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("kbisect: error: {:#}", f.error);
            }
            f.exit.into()
        }
    }
}
