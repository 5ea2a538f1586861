//! Conformance: every scenario of `conformance/scenarios.toml` (both passes:
//! real hash, and fake hash + title), run over the real fixture repository
//! with the scripted builder and tester, plus the verdict, representative
//! crash and release tag tables. Extra scenario files may be named in
//! `KBISECT_EXTRA_SCENARIOS` (colon-separated).
//!
//! Every strategy runs the scenarios it is held to: `tests/strategies.toml`
//! lists, per strategy other than syzkaller's, the scenarios left out and
//! why (they depend on syzkaller's per-revision arithmetic). Prints
//! `N passed, N failed` per strategy.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::runner::run_scenario_with;
use kbisect_core::representative::pick;
use kbisect_core::verdict::{Decision, RunCounts, decide};
use kbisect_core::{Crash, StrategyKind, Verdict, releases::pick_release_tags};
use kbisect_testutil::scripted::{Scenario, ScenarioFile};
use kbisect_testutil::shared_or_skip;
use serde::Deserialize;

fn scenario_files(shared: &Path) -> Vec<PathBuf> {
    let mut files = vec![shared.join("conformance/scenarios.toml")];
    if let Ok(extra) = std::env::var("KBISECT_EXTRA_SCENARIOS") {
        files.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    files
}

#[derive(Deserialize)]
struct VerdictCase {
    name: String,
    #[serde(default)]
    flaky: bool,
    total: usize,
    #[serde(default)]
    good: usize,
    #[serde(default)]
    bad: usize,
    #[serde(default)]
    infra: usize,
    #[serde(default)]
    skip: usize,
    #[serde(default)]
    abort: bool,
    verdict: Option<String>,
}

#[derive(Deserialize)]
struct RepresentativeCase {
    name: String,
    reports: Vec<[String; 2]>,
    types: Vec<String>,
    report: String,
    others: bool,
}

#[derive(Deserialize)]
struct ReleaseCase {
    name: String,
    tags: Vec<String>,
    picked: Vec<String>,
}

#[derive(Deserialize)]
struct Cases<T> {
    case: Vec<T>,
}

fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    let text = std::fs::read_to_string(path).unwrap();
    toml::from_str::<Cases<T>>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .case
}

fn table_cases(shared: &Path) -> Vec<(String, Result<(), String>)> {
    let mut out = Vec::new();
    for c in load::<VerdictCase>(&shared.join("conformance/verdicts.toml")) {
        assert_eq!(c.good + c.bad + c.infra + c.skip, c.total, "{}", c.name);
        let got = decide(
            RunCounts {
                total: c.total,
                good: c.good,
                bad: c.bad,
                infra: c.infra,
            },
            c.flaky,
        );
        let want = if c.abort {
            Decision::Abort
        } else {
            Decision::Verdict(match c.verdict.as_deref() {
                Some("good") => Verdict::Good,
                Some("bad") => Verdict::Bad,
                _ => Verdict::Skip,
            })
        };
        let r = if got == want {
            Ok(())
        } else {
            Err(format!("want {want:?}, got {got:?}"))
        };
        out.push((format!("verdict/{}", c.name), r));
    }
    for c in load::<RepresentativeCase>(&shared.join("conformance/representative.toml")) {
        let crashes: Vec<Crash> = c
            .reports
            .iter()
            .map(|[t, ty]| Crash {
                title: t.clone(),
                crash_type: ty.parse().unwrap(),
                report: String::new(),
            })
            .collect();
        let rep = pick(&crashes);
        let types: Vec<String> = rep.types.iter().map(|t| t.to_string()).collect();
        let want_types: Vec<String> = c
            .types
            .iter()
            .map(|t| t.parse::<kbisect_core::CrashType>().unwrap().to_string())
            .collect();
        let title = rep
            .index
            .map(|i| crashes[i].title.clone())
            .unwrap_or_default();
        let r = if types == want_types && title == c.report && rep.others == c.others {
            Ok(())
        } else {
            Err(format!(
                "want {want_types:?}/{}/{}, got {types:?}/{title}/{}",
                c.report, c.others, rep.others
            ))
        };
        out.push((format!("representative/{}", c.name), r));
    }
    for c in load::<ReleaseCase>(&shared.join("conformance/release_tags.toml")) {
        let got = pick_release_tags(&c.tags);
        let r = if got == c.picked {
            Ok(())
        } else {
            Err(format!("want {:?}, got {got:?}", c.picked))
        };
        out.push((format!("release_tags/{}", c.name), r));
    }
    out
}

/// Per strategy: scenario name → why the strategy is not held to it.
fn exclusions() -> BTreeMap<String, BTreeMap<String, String>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/strategies.toml");
    toml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// Runs `jobs` on two workers (scenarios are independent and mostly wait on git).
fn run_all(
    jobs: Vec<(String, Scenario, bool)>,
    strategy: StrategyKind,
) -> Vec<(String, Result<(), String>)> {
    let jobs = std::sync::Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let Some((i, (name, sc, fake))) = jobs.lock().unwrap().pop() else {
                        break;
                    };
                    let r = run_scenario_with(&sc, fake, strategy);
                    results.lock().unwrap().push((i, name, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _, _)| *i);
    results
        .into_iter()
        .map(|(_, n, r)| (format!("{strategy}/scenario/{n}"), r))
        .collect()
}

#[test]
fn conformance() {
    let Some(shared) = shared_or_skip("conformance") else {
        return;
    };
    let excluded = exclusions();
    let mut scenarios = Vec::new();
    for f in scenario_files(&shared) {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let file: ScenarioFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        scenarios.extend(file.scenario);
    }
    let mut all = Vec::new();
    for &strategy in StrategyKind::ALL {
        let skip = excluded.get(strategy.name()).cloned().unwrap_or_default();
        for name in skip.keys() {
            assert!(
                scenarios.iter().any(|s| &s.name == name),
                "tests/strategies.toml excludes {name} for {strategy}, which is no scenario"
            );
        }
        let mut jobs = Vec::new();
        for sc in &scenarios {
            let bound = match &sc.strategies {
                Some(s) => s.iter().any(|x| x == strategy.name()),
                None => !skip.contains_key(&sc.name),
            };
            if !bound {
                continue;
            }
            jobs.push((format!("{}/real-hash", sc.name), sc.clone(), false));
            if !sc.cross_tree && !sc.no_fake_hash {
                jobs.push((format!("{}/fake-hash", sc.name), sc.clone(), true));
            }
        }
        let results = run_all(jobs, strategy);
        let failed = results.iter().filter(|(_, r)| r.is_err()).count();
        println!(
            "conformance/{strategy}: {} passed, {failed} failed ({} scenarios left out, see tests/strategies.toml)",
            results.len() - failed,
            skip.len()
        );
        all.extend(results);
    }
    all.extend(table_cases(&shared));
    let failed: Vec<_> = all.iter().filter(|(_, r)| r.is_err()).collect();
    for (name, r) in &all {
        match r {
            Ok(()) => println!("PASS {name}"),
            Err(e) => println!("FAIL {name}: {e}"),
        }
    }
    println!(
        "conformance: {} passed, {} failed",
        all.len() - failed.len(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} conformance cases failed",
        failed.len()
    );
}
