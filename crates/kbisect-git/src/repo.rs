//! A repository opened read-only: revision lookups, ancestry, history queries.

use std::path::{Path, PathBuf};

use kbisect_proc::{Cmd, Output};

use crate::commit::canonical_title;
use crate::error::GitError;
use crate::id::CommitId;

/// Git output is data, not a log: never truncate it (a truncated rev-list
/// would be a wrong answer, not a shorter one).
const GIT_OUTPUT_CAP: usize = 1 << 30;
/// How far back `find_by_title` looks, as syzbot does.
const TITLE_SEARCH_SECS: i64 = 5 * 365 * 24 * 3600;

/// A git repository (work tree or bare) that kbisect reads but never writes.
#[derive(Clone, Debug)]
pub struct Repo {
    path: PathBuf,
    /// Canonical common git dir, to recognise our own worktrees.
    common_dir: PathBuf,
}

/// A git invocation in `dir` with the settings every call needs.
pub(crate) fn git_cmd(dir: &Path) -> Cmd {
    Cmd::new("git")
        .cwd(dir)
        // Reads must not refresh and rewrite the user's index.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output_cap(GIT_OUTPUT_CAP)
        .args(["-c", "core.hooksPath=/dev/null", "-c", "color.ui=false"])
}

/// Runs `cmd`, failing with the argv and stderr when git does not exit 0.
pub(crate) fn run_ok(cmd: &Cmd) -> Result<Output, GitError> {
    let out = cmd.run()?;
    if !out.success() {
        return Err(git_failed(cmd, &out));
    }
    Ok(out)
}

pub(crate) fn git_failed(cmd: &Cmd, out: &Output) -> GitError {
    GitError::Git {
        argv: cmd.argv_string(),
        status: out.status,
        stderr_tail: out.stderr_tail(20),
    }
}

/// Non-empty lines of stdout.
pub(crate) fn lines(out: &Output) -> Vec<String> {
    out.stdout_str()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Repo {
    /// Opens the repository at `path` (its work tree, a subdirectory, or a bare repository).
    pub fn open(path: &Path) -> Result<Repo, GitError> {
        let not_a_repo = || GitError::NotARepo {
            path: path.to_owned(),
        };
        if !path.is_dir() {
            return Err(not_a_repo());
        }
        let out = git_cmd(path)
            .args(["rev-parse", "--git-common-dir"])
            .run()?;
        if !out.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("dubious ownership") {
                // Git's message says why and how to allow it; keep it whole.
                let reason = err
                    .lines()
                    .map(|l| l.trim_start_matches("fatal:").trim())
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                return Err(GitError::Unsafe {
                    path: path.to_owned(),
                    reason,
                });
            }
            return Err(not_a_repo());
        }
        let common = path.join(out.stdout_str().trim());
        let common_dir = common.canonicalize().map_err(|source| GitError::Io {
            path: common.clone(),
            source,
        })?;
        Ok(Repo {
            path: path.to_owned(),
            common_dir,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    pub(crate) fn git(&self) -> Cmd {
        git_cmd(&self.path)
    }

    /// The commit `rev` names, or `None` when it names no commit.
    pub fn resolve(&self, rev: &str) -> Result<Option<CommitId>, GitError> {
        let cmd = self.git().args([
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ]);
        let out = cmd.run()?;
        match out.status {
            kbisect_proc::Status::Exited(0) => {
                Ok(Some(CommitId::from_git(out.stdout_str().trim())?))
            }
            kbisect_proc::Status::Exited(1) => Ok(None),
            _ => Err(git_failed(&cmd, &out)),
        }
    }

    /// Whether `id` (a hash, possibly abbreviated) names a commit present locally.
    pub fn has_commit(&self, id: &str) -> Result<bool, GitError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let out = self.git().args(["cat-file", "-t", id]).run()?;
        Ok(out.success() && out.stdout_str().trim() == "commit")
    }

    /// Best effort `git fetch remote id`; whether the commit is present afterwards.
    pub fn fetch_commit(&self, remote: &str, id: &str) -> Result<bool, GitError> {
        let out = self
            .git()
            .args([
                "fetch",
                "--quiet",
                "--no-tags",
                "--end-of-options",
                remote,
                id,
            ])
            .run()?;
        if !out.success() {
            tracing::debug!(remote, id, stderr = %out.stderr_tail(5), "fetch failed");
            return Ok(false);
        }
        self.has_commit(id)
    }

    /// The tip of `branch`: a local branch, else a remote-tracking branch
    /// (`origin` first), else whatever revision the name resolves to.
    pub fn branch_head(&self, branch: &str) -> Result<CommitId, GitError> {
        if let Some(id) = self.resolve(&format!("refs/heads/{branch}"))? {
            return Ok(id);
        }
        let cmd = self.git().args([
            "for-each-ref",
            "--format=%(refname)",
            &format!("refs/remotes/*/{branch}"),
        ]);
        let mut remote_refs = lines(&run_ok(&cmd)?);
        remote_refs.sort_by_key(|r| (!r.starts_with("refs/remotes/origin/"), r.clone()));
        for r in remote_refs {
            if let Some(id) = self.resolve(&r)? {
                return Ok(id);
            }
        }
        self.resolve(branch)?
            .ok_or_else(|| GitError::UnknownRevision {
                rev: branch.to_owned(),
            })
    }

    /// Whether `ancestor` is reachable from `descendant` (true when equal).
    pub fn is_ancestor(
        &self,
        ancestor: &CommitId,
        descendant: &CommitId,
    ) -> Result<bool, GitError> {
        let cmd = self.git().args([
            "merge-base",
            "--is-ancestor",
            ancestor.as_str(),
            descendant.as_str(),
        ]);
        let out = cmd.run()?;
        match out.status {
            kbisect_proc::Status::Exited(0) => Ok(true),
            kbisect_proc::Status::Exited(1) => Ok(false),
            _ => Err(git_failed(&cmd, &out)),
        }
    }

    /// All best common ancestors of `a` and `b`, sorted.
    pub fn merge_bases(&self, a: &CommitId, b: &CommitId) -> Result<Vec<CommitId>, GitError> {
        let cmd = self
            .git()
            .args(["merge-base", "--all", a.as_str(), b.as_str()]);
        let out = cmd.run()?;
        // Exit 1 with no output: unrelated histories.
        if out.status == kbisect_proc::Status::Exited(1) && out.stdout.is_empty() {
            return Ok(Vec::new());
        }
        if !out.success() {
            return Err(git_failed(&cmd, &out));
        }
        let mut ids = lines(&out)
            .iter()
            .map(|l| CommitId::from_git(l))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The newest commit of `branch`, within five years of its tip, whose
    /// title matches `title` once both are canonicalised.
    ///
    /// The five years count back from the branch tip rather than from now,
    /// so the answer does not depend on the day it is asked.
    pub fn find_by_title(&self, branch: &str, title: &str) -> Result<Option<CommitId>, GitError> {
        let head = self.branch_head(branch)?;
        let cmd = self
            .git()
            .args(["log", "-1", "--format=%ct", head.as_str(), "--"]);
        let out = run_ok(&cmd)?;
        let tip_time: i64 = out
            .stdout_str()
            .trim()
            .parse()
            .map_err(|e| GitError::parse("commit time", format!("{e}")))?;
        let since = tip_time - TITLE_SEARCH_SECS;
        let cmd = self.git().args([
            "log",
            "--no-show-signature",
            "--format=%H%x00%s",
            &format!("--since=@{since}"),
            head.as_str(),
            "--",
        ]);
        let out = run_ok(&cmd)?;
        let want = canonical_title(title);
        for line in out.stdout_str().lines() {
            if let Some((hash, subject)) = line.split_once('\0')
                && canonical_title(subject) == want
            {
                return Ok(Some(CommitId::from_git(hash)?));
            }
        }
        Ok(None)
    }

    /// Paths the commit changes relative to its first parent (all of them for a root commit), sorted.
    pub fn changed_files(&self, id: &CommitId) -> Result<Vec<String>, GitError> {
        let commit = self.commit_parents(id)?;
        let mut cmd = self.git().args([
            "diff-tree",
            "-r",
            "-z",
            "--name-only",
            "--no-renames",
            "--no-commit-id",
        ]);
        cmd = match commit.first() {
            Some(p) => cmd.args([p.as_str(), id.as_str()]),
            None => cmd.args(["--root", id.as_str()]),
        };
        let out = run_ok(&cmd)?;
        let mut files: Vec<String> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }

    /// Exactly what `git show --stat --format= id` prints.
    pub fn diffstat(&self, id: &CommitId) -> Result<String, GitError> {
        let cmd = self.git().args([
            "show",
            "--no-color",
            "--stat",
            "--format=",
            id.as_str(),
            "--",
        ]);
        Ok(run_ok(&cmd)?.stdout_str())
    }

    /// Whether tracked files differ from HEAD (untracked files do not count).
    pub fn is_dirty(&self) -> Result<bool, GitError> {
        let cmd = self
            .git()
            .args(["status", "--porcelain", "--untracked-files=no"]);
        Ok(!run_ok(&cmd)?.stdout.is_empty())
    }

    pub(crate) fn commit_parents(&self, id: &CommitId) -> Result<Vec<CommitId>, GitError> {
        let cmd = self
            .git()
            .args(["rev-list", "--no-walk", "--parents", id.as_str(), "--"]);
        let out = cmd.run()?;
        if !out.success() {
            return Err(self.unknown_or(id.as_str(), &cmd, &out));
        }
        let text = out.stdout_str();
        let mut words = text.split_whitespace();
        words.next();
        words.map(CommitId::from_git).collect()
    }

    /// The error for a failed call about `rev`: unknown revision when it is,
    /// git's own error otherwise.
    pub(crate) fn unknown_or(&self, rev: &str, cmd: &Cmd, out: &Output) -> GitError {
        match self.has_commit(rev) {
            Ok(false) => GitError::UnknownRevision {
                rev: rev.to_owned(),
            },
            _ => git_failed(cmd, out),
        }
    }
}
