//! `kbisect parse-log`: print the crash a console log holds.

use std::path::PathBuf;

use crate::cli::Failure;
use crate::exit::Exit;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Console log to parse (`-` or nothing: standard input).
    pub file: Option<PathBuf>,
    /// Print one JSON object (the corpus README's format).
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: Args) -> Result<Exit, Failure> {
    Err(crate::cli::fail(Exit::Failure, anyhow::anyhow!("parse-log is not implemented yet")))
}
