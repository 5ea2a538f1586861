//! The HTML report: one self-contained page (inline CSS, inline SVG, no
//! script, nothing fetched) that lets a kernel developer trust or reject
//! the culprit in a minute — the verdict and how sure it is, what makes it
//! suspect, the parent-vs-culprit table, the tested revisions in history
//! order with the range shrinking, the posterior (strategies that keep
//! one), time per revision, the culprit's message and diffstat, the crash,
//! every run's console log, and the whole log. The page is well-formed XML
//! (polyglot XHTML) so it can be checked by any XML parser.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use kbisect_core::{CommitId, OutcomeKind, RunOutcome, humanize};

use super::charts;
use super::svg::{self, esc};
use super::text::{log, outcome_line, short};
use super::{Outcome, Report};

/// Where the page will live, for its links into the work dir.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// Prefix of links to work dir files: empty when the page is saved in
    /// the work dir, else the relative path from the page's directory.
    pub link_base: String,
}

impl HtmlOptions {
    /// Links for a page saved as `output` (`None`: in the work dir).
    pub fn for_output(output: Option<&Path>, workdir: &Path) -> HtmlOptions {
        let base = output
            .and_then(|o| {
                let dir = o.parent().filter(|p| !p.as_os_str().is_empty())?;
                let dir = dir.canonicalize().ok()?;
                relative(&dir, workdir)
            })
            .map(|p| {
                let s = p.to_string_lossy().into_owned();
                if s.is_empty() { s } else { format!("{s}/") }
            });
        HtmlOptions {
            link_base: match (output, base) {
                (_, Some(b)) => b,
                // Saved in the current directory: relative to it.
                (Some(_), None) => std::env::current_dir()
                    .ok()
                    .and_then(|d| relative(&d, workdir))
                    .map(|p| {
                        let s = p.to_string_lossy().into_owned();
                        if s.is_empty() { s } else { format!("{s}/") }
                    })
                    .unwrap_or_default(),
                (None, None) => String::new(),
            },
        }
    }
}

/// The path from directory `from` to `to` (both absolute).
fn relative(from: &Path, to: &Path) -> Option<PathBuf> {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut p = PathBuf::new();
    for _ in common..from.len() {
        p.push("..");
    }
    for c in &to[common..] {
        p.push(c.as_os_str());
    }
    Some(p)
}

/// Percent-encodes what a relative URL must not hold raw.
fn url_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// The page's style (inline: the page fetches nothing).
const CSS: &str = include_str!("report.css");

fn verdict_style(report: &Report) -> (&'static str, &'static str) {
    match &report.outcome {
        Outcome::Partial(_) => ("PARTIAL", "#9a6700"),
        Outcome::Failed(_) => ("NO RESULT", "#59636e"),
        Outcome::Finished(r) => match r.kind {
            OutcomeKind::Culprit if r.unreliable() => ("SUSPECT CULPRIT", "#9a6700"),
            OutcomeKind::Culprit => ("CULPRIT", "#1a7f37"),
            OutcomeKind::Inconclusive => ("INCONCLUSIVE", "#59636e"),
            OutcomeKind::Unsure => ("UNSURE", "#9a6700"),
            OutcomeKind::Horizon => ("HORIZON", "#59636e"),
        },
    }
}

fn stat(s: &mut String, value: &str, label: &str) {
    let _ = write!(
        s,
        "<div class=\"stat\"><b>{}</b><span>{}</span></div>",
        esc(value),
        esc(label)
    );
}

fn header(s: &mut String, report: &Report) {
    let (pill, colour) = verdict_style(report);
    let kind = if report.fix() { "fix" } else { "cause" };
    let _ = write!(
        s,
        "<header class=\"verdict\" id=\"verdict\" style=\"--c:{colour}\"><div class=\"eyebrow\">kbisect report · {kind} bisection · strategy {}{}</div>",
        esc(report.strategy.name()),
        if report.rejudged {
            format!(" (re-judged; ran with {})", esc(report.ran_with.name()))
        } else {
            String::new()
        }
    );
    let headline = match report.result() {
        Some(r) if r.kind == OutcomeKind::Culprit && !r.commits.is_empty() => {
            let c = &r.commits[0];
            format!(
                "first {} commit <code>{}</code> {}",
                if report.fix() { "good" } else { "bad" },
                esc(short(c.id.as_str())),
                esc(&c.title)
            )
        }
        _ => esc(&outcome_line(report)),
    };
    let _ = write!(s, "<h1><span class=\"pill\">{pill}</span>{headline}</h1>");
    if let Some(t) = report
        .result()
        .and_then(|r| r.report.as_ref().map(|c| c.title.clone()))
        .or_else(|| report.timeline.target.clone())
    {
        let _ = write!(s, "<p class=\"sub\">crash: <b>{}</b></p>", esc(&t));
    }
    s.push_str("<div class=\"stats\">");
    if let Some(r) = report
        .result()
        .filter(|r| matches!(r.kind, OutcomeKind::Culprit | OutcomeKind::Unsure))
    {
        stat(
            s,
            &svg::pct(r.confidence),
            &format!("confidence ({})", report.strategy),
        );
        if r.repro_chance < 1.0 {
            stat(
                s,
                &format!("{:.0}%", r.repro_chance * 100.0),
                if r.flaky {
                    "repro chance (flaky)"
                } else {
                    "repro chance per run"
                },
            );
        }
    }
    let tested = report
        .timeline
        .rows
        .iter()
        .filter(|r| !r.runs.is_empty())
        .count();
    stat(s, &tested.to_string(), "revisions tested");
    stat(s, &report.runs_used.to_string(), "runs used");
    stat(s, &humanize(report.build_time), "building (recorded)");
    stat(s, &humanize(report.test_time), "testing (estimated)");
    s.push_str("</div>");
    if let Some(w) = report.confidence_words() {
        let _ = write!(
            s,
            "<p class=\"sub\" style=\"margin-top:12px\">confidence {}</p>",
            esc(&w)
        );
    }
    let flags = report.flags();
    s.push_str("<ul class=\"flags\" id=\"flags\">");
    if !flags.iter().any(|f| f.suspect)
        && report
            .result()
            .is_some_and(|r| r.kind == OutcomeKind::Culprit)
    {
        s.push_str("<li class=\"ok\">Nothing makes this result suspect: the culprit is not a merge or a release, it changes the built binary, and no other crash was seen.</li>");
    }
    for f in &flags {
        let _ = write!(
            s,
            "<li class=\"{}\" data-flag=\"{}\">{}</li>",
            if f.suspect { "suspect" } else { "note" },
            f.key,
            esc(&f.text)
        );
    }
    s.push_str("</ul></header>");
}

fn verification(s: &mut String, report: &Report) {
    let lines = report.verify_lines();
    s.push_str("<section id=\"verification\"><h2>Culprit vs parent</h2>");
    if lines.is_empty() {
        s.push_str("<p class=\"sub\">No single culprit: nothing to compare.</p></section>");
        return;
    }
    let posteriors = lines.iter().any(|l| l.posterior.is_some());
    let _ = write!(
        s,
        "<p class=\"sub\">Runs that showed the crash on the culprit and on its parent: a culprit that crashes and a parent that does not is what a right answer looks like.</p><table><tr><th></th><th>commit</th><th>title</th><th class=\"num\">crashed / runs</th>{}<th></th></tr>",
        if posteriors {
            "<th>P(has culprit)</th>"
        } else {
            ""
        }
    );
    for l in &lines {
        let title = report
            .timeline
            .row(&l.commit)
            .map(|r| r.title.clone())
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td><b>{}</b></td><td><code>{}</code></td><td>{}</td><td class=\"num\"><b>{}</b> / {}</td>{}<td>{}</td></tr>",
            l.role,
            esc(short(l.commit.as_str())),
            esc(&title),
            l.crashed,
            l.runs,
            match (posteriors, l.posterior) {
                (false, _) => String::new(),
                (true, Some(p)) => format!("<td>{p:.3}</td>"),
                (true, None) => "<td>–</td>".into(),
            },
            esc(&l.note)
        );
    }
    s.push_str("</table></section>");
}

fn culprits(report: &Report) -> Vec<CommitId> {
    match report.result() {
        Some(r) if r.kind == OutcomeKind::Culprit => {
            r.commits.iter().map(|c| c.id.clone()).collect()
        }
        _ => Vec::new(),
    }
}

fn timeline(s: &mut String, report: &Report) {
    let _ = write!(
        s,
        "<section id=\"timeline\"><h2>Tested revisions, in history order</h2><p class=\"sub\">Each dot is a revision (older on the left); the number under it is runs crashed / runs that counted, #n the order it was tested{}. Hover for its runs and crash titles.{}</p>",
        if report.timeline.rounds.is_empty() {
            ""
        } else {
            ", its colour how likely it is to contain the culprit"
        },
        if report.timeline.range.is_empty() {
            ""
        } else {
            " Below: the range left after each step of the bisection (green: last good end, red: first bad end, ring: the revision tested)."
        }
    );
    if report.timeline.rows.is_empty() {
        s.push_str("<p>No revision was tested.</p>");
    } else {
        s.push_str(&svg::timeline(report, &culprits(report)));
        s.push_str("<div class=\"legend\"><i style=\"background:#cf222e\"></i>crashes<i style=\"background:#1a7f37\"></i>does not crash<i style=\"background:#8c959f\"></i>skipped (build, boot or test errors)<i style=\"background:#fff;border:1px solid #8c959f\"></i>built only</div>");
    }
    s.push_str("</section>");
}

fn range(s: &mut String, report: &Report) {
    if report.timeline.range.is_empty() {
        return;
    }
    s.push_str("<section id=\"range\"><h2>The range shrinking</h2><p class=\"sub\">Revisions left to test after each step (log scale).</p>");
    s.push_str(&charts::range_chart(report));
    s.push_str("</section>");
}

fn posterior(s: &mut String, report: &Report) {
    s.push_str("<section id=\"posterior\"><h2>Posterior over the candidates</h2>");
    let rounds = &report.timeline.rounds;
    let final_probs: Vec<(String, f64)> = report
        .result()
        .map(|r| {
            r.candidates
                .iter()
                .take(12)
                .map(|c| {
                    let label = match &c.commit {
                        Some(id) => format!("{} {}", short(id.as_str()), c.title),
                        None => "(no commit of the range)".to_string(),
                    };
                    (label, c.posterior)
                })
                .collect()
        })
        .unwrap_or_default();
    if rounds.is_empty() && final_probs.is_empty() {
        let _ = write!(
            s,
            "<p class=\"sub\">The {} strategy keeps no posterior over candidates (the bayes strategy does: <code>kbisect report DIR --strategy bayes --format html</code> re-judges this evidence with it).</p></section>",
            esc(report.strategy.name())
        );
        return;
    }
    if !rounds.is_empty() {
        let _ = write!(
            s,
            "<p class=\"sub\">The most likely culprit's posterior after each round of runs{} (purple: the final culprit; grey: another commit led; hollow: the runner-up). The search stops at the dashed target.</p>",
            report
                .timeline
                .search_commits
                .map(|n| format!(" over {n} commits"))
                .unwrap_or_default()
        );
        let culprit = report
            .result()
            .filter(|r| r.kind == OutcomeKind::Culprit)
            .and_then(|r| r.commits.first())
            .map(|c| c.id.clone());
        s.push_str(&charts::rounds_chart(
            rounds,
            culprit.as_ref(),
            report.confidence_target,
        ));
    }
    if !final_probs.is_empty() {
        s.push_str("<p class=\"sub\">At the end: the top candidates.</p>");
        s.push_str(&charts::posterior_chart(
            &final_probs,
            report.confidence_target,
        ));
    }
    s.push_str("</section>");
}

fn times(s: &mut String, report: &Report) {
    if report.timeline.rows.is_empty() {
        return;
    }
    s.push_str("<section id=\"times\"><h2>Build and test time per revision</h2><p class=\"sub\">Build times as recorded; test time is the runs' recorded durations over the slots they ran in.</p>");
    s.push_str(&charts::times_chart(report));
    s.push_str("</section>");
}

fn revisions(s: &mut String, report: &Report, opts: &HtmlOptions) {
    s.push_str("<section id=\"revisions\"><h2>Every revision tested</h2><p class=\"sub\">In the order tested. Each square is one run (red: crashed, green: OK, grey: boot or test failure, yellow: lost to the infrastructure) and links to its console log.</p><table><tr><th>#</th><th>commit</th><th>title</th><th>why</th><th>verdict</th><th class=\"num\">crashed</th><th>runs</th></tr>");
    for row in &report.timeline.rows {
        let (crashed, usable) = row.crashed_of(|t| report.transient(t));
        let verdict = match (&row.build_error, row.verdict, row.contains) {
            (Some(_), _, _) => "build failed".to_string(),
            (None, Some(v), _) => v.to_string(),
            (None, None, Some(p)) => format!("P(has culprit) {p:.3}"),
            (None, None, None) => "built".to_string(),
        };
        let _ = write!(
            s,
            "<tr><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td><td class=\"nw\">{}</td><td class=\"nw\"><span class=\"dot\" style=\"background:{};border:1px solid #8c959f\"></span>{}</td><td class=\"num\">{}</td><td>",
            row.order,
            esc(short(row.commit.as_str())),
            esc(&row.title),
            esc(&row.role.label()),
            svg::row_colour(row, report.fix()),
            esc(&verdict),
            if row.runs.is_empty() {
                "–".to_string()
            } else {
                format!("{crashed}/{usable}")
            }
        );
        for (k, run) in row.runs.iter().enumerate() {
            let what = match &run.result.outcome {
                RunOutcome::Ok => "OK".to_string(),
                RunOutcome::Crashed(c) => format!("crashed: {}", c.title),
                RunOutcome::BootFailed { reason } => format!("boot failed: {reason}"),
                RunOutcome::TestFailed { reason } => format!("test failed: {reason}"),
                RunOutcome::Infra { reason } => format!("infra problem: {reason}"),
            };
            let rel = run.log_path();
            let tip = format!(
                "run #{k} (recorded as {}-{}), {}: {what}",
                run.occurrence,
                run.index,
                humanize(run.result.duration)
            );
            let colour = svg::run_colour(&run.result.outcome);
            if report.path(&rel).is_file() {
                let href = format!("{}{}", opts.link_base, rel.to_string_lossy());
                let _ = write!(
                    s,
                    "<a class=\"run\" style=\"background:{colour}\" href=\"{}\" title=\"{}\"></a>",
                    esc(&url_path(&href)),
                    esc(&tip)
                );
            } else {
                let _ = write!(
                    s,
                    "<span class=\"run\" style=\"background:{colour}\" title=\"{} (log not kept)\"></span>",
                    esc(&tip)
                );
            }
        }
        if let Some(e) = &row.build_error {
            let _ = write!(s, "<span class=\"mono\">{}</span>", esc(e));
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</table></section>");
}

fn culprit(s: &mut String, report: &Report) {
    let Some(r) = report.result() else {
        return;
    };
    let title = match r.kind {
        OutcomeKind::Culprit => "The culprit",
        OutcomeKind::Unsure => "The most likely candidate",
        OutcomeKind::Inconclusive | OutcomeKind::Horizon => return,
    };
    let Some(c) = r.commits.first() else {
        return;
    };
    let _ = write!(
        s,
        "<section id=\"culprit\"><h2>{title}</h2><dl class=\"kv\"><dt>commit</dt><dd><code>{}</code></dd><dt>author</dt><dd>{} &lt;{}&gt;</dd><dt>date</dt><dd>{}</dd>",
        esc(c.id.as_str()),
        esc(&c.author_name),
        esc(&c.author_email),
        esc(&c.author_date)
    );
    if c.parents.len() > 1 {
        let p: Vec<String> = c.parents.iter().map(|p| esc(short(p.as_str()))).collect();
        let _ = write!(s, "<dt>merge of</dt><dd><code>{}</code></dd>", p.join(" "));
    }
    if !r.recipients.to.is_empty() {
        let _ = write!(
            s,
            "<dt>to</dt><dd>{}</dd>",
            esc(&r.recipients.to.join(", "))
        );
    }
    if !r.recipients.cc.is_empty() {
        let _ = write!(
            s,
            "<dt>cc</dt><dd>{}</dd>",
            esc(&r.recipients.cc.join(", "))
        );
    }
    if let (Some(a), Some(b)) = (&r.culprit_signature, &r.parent_signature) {
        let _ = write!(
            s,
            "<dt>signatures</dt><dd class=\"mono\">{} (culprit)<br/>{} (parent)</dd>",
            esc(&a.0),
            esc(&b.0)
        );
    }
    let _ = write!(
        s,
        "</dl><pre id=\"message\">{}</pre>",
        esc(c.body.trim_end())
    );
    if let Some(d) = &report.diffstat {
        let _ = write!(s, "<pre id=\"diffstat\">{}</pre>", esc(d.trim_end()));
    }
    s.push_str("</section>");
}

/// Inconclusive and unsure results: every candidate (with its posterior
/// when the strategy keeps one).
fn candidates(s: &mut String, report: &Report) {
    let Some(r) = report
        .result()
        .filter(|r| matches!(r.kind, OutcomeKind::Inconclusive | OutcomeKind::Unsure))
    else {
        return;
    };
    let first = if report.fix() { "good" } else { "bad" };
    let posteriors = !r.candidates.is_empty();
    let _ = write!(
        s,
        "<section id=\"candidates\"><h2>Candidates</h2><p class=\"sub\">The first {first} commit is one of these{}.</p><table><tr><th>commit</th><th>title</th><th>author</th>{}</tr>",
        if r.kind == OutcomeKind::Inconclusive {
            ": the revisions between them could not be tested"
        } else {
            ", none at the confidence target"
        },
        if posteriors {
            "<th class=\"num\">posterior</th>"
        } else {
            ""
        }
    );
    for c in &r.commits {
        let p = r
            .candidates
            .iter()
            .find(|k| k.commit.as_ref() == Some(&c.id))
            .map(|k| svg::pct(k.posterior))
            .unwrap_or_else(|| "–".into());
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td>{}</tr>",
            esc(short(c.id.as_str())),
            esc(&c.title),
            esc(&c.author_name),
            if posteriors {
                format!("<td class=\"num\">{p}</td>")
            } else {
                String::new()
            }
        );
    }
    if let Some(k) = r.candidates.iter().find(|k| k.commit.is_none()) {
        let _ = write!(
            s,
            "<tr><td>–</td><td>no commit of the range (it predates the clean end)</td><td></td><td class=\"num\">{}</td></tr>",
            svg::pct(k.posterior)
        );
    }
    s.push_str("</table></section>");
}

fn crash(s: &mut String, report: &Report, opts: &HtmlOptions) {
    let Some(rep) = report.result().and_then(|r| r.report.as_ref()) else {
        return;
    };
    let _ = write!(
        s,
        "<section id=\"crash\"><h2>The crash report</h2><p class=\"sub\"><b>{}</b> ({})</p>",
        esc(&rep.title),
        esc(&rep.crash_type.to_string())
    );
    let culprit = report.result().and_then(|r| r.commits.first());
    if let Some(row) = culprit.and_then(|c| report.timeline.row(&c.id))
        && let Some(run) = row.runs.iter().find(|r| {
            matches!(&r.result.outcome, RunOutcome::Crashed(c) if c.title == rep.title)
                && report.path(r.log_path()).is_file()
        })
    {
        let href = format!("{}{}", opts.link_base, run.log_path().to_string_lossy());
        let _ = write!(
            s,
            "<p class=\"sub\">console output: <a href=\"{}\">{}</a></p>",
            esc(&url_path(&href)),
            esc(&run.log_path().to_string_lossy())
        );
    }
    let _ = write!(s, "<pre>{}</pre></section>", esc(rep.text.trim_end()));
}

/// The whole page.
pub fn render(report: &Report, opts: &HtmlOptions) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let title = format!("kbisect: {}", outcome_line(report));
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><meta name=\"generator\" content=\"kbisect {}\"/><title>{}</title><style>{CSS}</style></head><body><main>",
        env!("CARGO_PKG_VERSION"),
        esc(&title)
    );
    header(&mut s, report);
    verification(&mut s, report);
    timeline(&mut s, report);
    range(&mut s, report);
    posterior(&mut s, report);
    times(&mut s, report);
    candidates(&mut s, report);
    culprit(&mut s, report);
    crash(&mut s, report, opts);
    revisions(&mut s, report, opts);
    let _ = write!(
        s,
        "<section id=\"log\"><h2>The bisection log</h2><details><summary>syzbot's format, replayed from the journal</summary><pre>{}</pre></details></section>",
        esc(&log(report))
    );
    let _ = write!(
        s,
        "<footer>Generated by kbisect {} from the work dir <code>{}</code> ({} builds and {} runs recorded; nothing was rebuilt or rerun).</footer></main></body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&report.workdir.display().to_string()),
        report.recorded.0,
        report.recorded.1
    );
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_page() {
        let rel = |a: &str, b: &str| relative(Path::new(a), Path::new(b)).unwrap();
        assert_eq!(rel("/t/demo", "/t/demo/work"), PathBuf::from("work"));
        assert_eq!(rel("/t/out", "/t/demo/work"), PathBuf::from("../demo/work"));
        assert_eq!(rel("/t/w", "/t/w"), PathBuf::new());
        assert_eq!(
            url_path("artifacts/a b/run-0-1.log"),
            "artifacts/a%20b/run-0-1.log"
        );
    }
}
