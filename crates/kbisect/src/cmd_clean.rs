//! `kbisect clean [WORKDIR]`: remove a work dir and the registration of
//! kbisect's worktrees (one per build slot) in the user's repository (only
//! those: the user's own worktrees are left alone).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use kbisect_git::{Repo, Worktree};
use kbisect_runner::session::{JOURNAL_FILE, WORKTREE_DIR, holder, read, worktree_dirs};

use crate::exit::{CliError, Exit, fail};
use crate::output::line;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The work dir (default: ./kbisect-work).
    pub workdir: Option<PathBuf>,
    /// Do not ask.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub fn run(args: Args) -> Result<Exit, CliError> {
    let dir = args
        .workdir
        .unwrap_or_else(|| PathBuf::from("kbisect-work"));
    if !dir.join(JOURNAL_FILE).is_file() && !dir.join(WORKTREE_DIR).exists() {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!(
                "{} is not a kbisect work dir (no {JOURNAL_FILE})",
                dir.display()
            ),
        ));
    }
    if let Some(pid) = holder(&dir) {
        return Err(fail(
            Exit::WorkDir,
            anyhow::anyhow!("work dir {} is in use by pid {pid}", dir.display()),
        ));
    }
    let repo = read(&dir.join(JOURNAL_FILE))
        .ok()
        .and_then(|c| c.header)
        .and_then(|h| h.identity.get("repo").cloned())
        .map(PathBuf::from);
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(fail(
                Exit::Usage,
                anyhow::anyhow!("refusing to remove {} without --yes", dir.display()),
            ));
        }
        crate::output::note(&format!(
            "remove {} and kbisect's worktree registration{}? [y/N]",
            dir.display(),
            repo.as_ref()
                .map(|r| format!(" in {}", r.display()))
                .unwrap_or_default()
        ));
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            line("nothing removed")?;
            return Ok(Exit::Success);
        }
    }
    if let Some(r) = repo.as_ref().and_then(|r| Repo::open(r).ok()) {
        // Every build slot's worktree is registered in the repository too.
        for wt in worktree_dirs(&dir) {
            Worktree::remove_at(&r, &wt).map_err(|e| fail(Exit::Failure, e))?;
        }
    }
    std::fs::remove_dir_all(&dir).map_err(|e| {
        fail(
            Exit::WorkDir,
            anyhow::anyhow!("cannot remove {}: {e}", dir.display()),
        )
    })?;
    line(&format!("removed {}", dir.display()))?;
    Ok(Exit::Success)
}
