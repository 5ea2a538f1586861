//! Progress while a bisection runs, driven by the engine's events: a bar on
//! a terminal (step, revisions left, current revision, runs done, elapsed),
//! plain lines on stderr otherwise. Log lines go to stdout through it so the
//! bar never tears them.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kbisect_core::Event;

pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    started: Instant,
    step: usize,
    left: Option<usize>,
    steps: Option<usize>,
    current: String,
    runs_done: usize,
    runs_total: usize,
}

impl Progress {
    /// A bar when stderr is a terminal and `enabled`; plain lines when
    /// `enabled` only; nothing otherwise.
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress {
            plain: enabled && bar.is_none(),
            bar,
            started: Instant::now(),
            step: 0,
            left: None,
            steps: None,
            current: String::new(),
            runs_done: 0,
            runs_total: 0,
        }
    }

    pub fn event(&mut self, e: &Event) {
        match e {
            Event::TestingCommit { commit, title, .. } => {
                self.step += 1;
                self.current = format!("{} {}", commit.short(), title);
                self.runs_done = 0;
                self.runs_total = 0;
                self.plain_line();
            }
            Event::RunsStarted { runs, .. } => {
                self.runs_total = *runs;
            }
            Event::RunFinished { .. } => {
                self.runs_done += 1;
                if self.plain && self.runs_done == self.runs_total {
                    self.plain_line();
                }
            }
            Event::BisectNext { left, steps, .. } => {
                self.left = Some(*left);
                self.steps = Some(*steps);
            }
            _ => {}
        }
        self.redraw();
    }

    fn message(&self) -> String {
        let left = match (self.left, self.steps) {
            (Some(l), Some(s)) => format!(", {l} revisions left (~{s} steps)"),
            _ => String::new(),
        };
        let runs = if self.runs_total > 0 {
            format!(", runs {}/{}", self.runs_done, self.runs_total)
        } else {
            String::new()
        };
        format!("step {}{left}: {}{runs}", self.step, self.current)
    }

    fn redraw(&self) {
        if let Some(b) = &self.bar {
            b.set_message(self.message());
        }
    }

    #[allow(clippy::print_stderr)]
    fn plain_line(&self) {
        if self.plain {
            eprintln!(
                "progress: {} (elapsed {})",
                self.message(),
                humantime::format_duration(Duration::from_secs(self.started.elapsed().as_secs()))
            );
        }
    }

    /// Writes log text to stdout without tearing the bar.
    pub fn print(&self, text: &[u8]) -> std::io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let write = || {
            let mut out = std::io::stdout().lock();
            out.write_all(text).and_then(|()| out.flush())
        };
        match &self.bar {
            Some(b) => b.suspend(write),
            None => write(),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
