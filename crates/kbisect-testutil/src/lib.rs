//! Test-only helpers: git fixture repos, scripted fakes.
