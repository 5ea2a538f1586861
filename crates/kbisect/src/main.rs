//! kbisect: find the commit that introduced (or fixed) a Linux kernel crash.

mod cli;
mod cmd_parse_log;
mod exit;

fn main() -> std::process::ExitCode {
    cli::main()
}
