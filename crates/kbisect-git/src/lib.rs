//! Typed wrapper over the git CLI: commits, DAG of a range, ancestry, merge bases, release tags, owned worktree.
