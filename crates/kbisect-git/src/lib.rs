//! Typed wrapper over the git CLI: commits, DAG of a range, ancestry, merge bases, release tags, owned worktree.
//!
//! Every git call goes through `kbisect-proc` (scrubbed environment, captured
//! output) with `GIT_OPTIONAL_LOCKS=0` and hooks disabled, so that reading the
//! user's repository never rewrites their index nor runs their hooks. Only a
//! [`Worktree`] that kbisect created is ever modified.

mod commit;
mod dag;
mod error;
mod export;
mod id;
mod repo;
mod revert;
mod scheme;
mod tags;
mod worktree;

pub use commit::{Commit, canonical_title};
pub use dag::Dag;
pub use error::GitError;
pub use id::CommitId;
pub use repo::Repo;
pub use scheme::{TagScheme, TagVersion};
pub use tags::{ReleaseTag, Version, parse_release_tag};
pub use worktree::Worktree;
