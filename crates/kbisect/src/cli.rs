//! Command line: parse arguments, dispatch, turn errors into one line and an exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::exit::Exit;

#[derive(Parser, Debug)]
#[command(name = "kbisect", version, about = "Find the commit that introduced (or fixed) a Linux kernel crash")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse a kernel console log and print the crash it holds.
    ParseLog(crate::cmd_parse_log::Args),
}

/// An error that knows its exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

pub fn fail(exit: Exit, error: impl Into<anyhow::Error>) -> Failure {
    Failure { exit, error: error.into() }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::ParseLog(a) => crate::cmd_parse_log::run(a),
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
