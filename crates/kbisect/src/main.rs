//! kbisect: find the commit that introduced (or fixed) a Linux kernel crash.

mod cli;
mod cmd_demo;
mod cmd_parse_log;
mod cmd_run;
mod cmd_status;
mod demo_repo;
mod exit;
mod job;
mod progress;
mod render_log;
mod result_json;

fn main() -> std::process::ExitCode {
    cli::main()
}
