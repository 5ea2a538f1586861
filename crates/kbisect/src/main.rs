//! kbisect: find the commit that introduced (or fixed) a Linux kernel crash.

mod cli;
mod cmd_clean;
mod cmd_demo;
mod cmd_parse_log;
mod cmd_report;
mod cmd_run;
mod cmd_simulate;
mod cmd_status;
mod demo_kernel;
mod demo_repo;
mod exit;
mod output;
mod progress;
mod run_args;

fn main() -> std::process::ExitCode {
    // Daemons a build or test leaves behind are reparented to kbisect (and
    // ended with their run) instead of escaping to init.
    if let Err(e) = kbisect_proc::become_subreaper() {
        tracing::debug!(error = %e, "cannot become a child subreaper");
    }
    cli::main()
}
