//! The HTML report's SVG basics (escaping, colours) and its main chart:
//! the tested revisions in history order with the range shrinking under
//! them. Every text that comes from a repository or a console is escaped;
//! hovering a mark shows its `<title>`. The other charts are in `charts.rs`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use kbisect_core::{CommitId, RunOutcome, Verdict};

use super::Report;
use super::text::short;
use super::timeline::{Role, Row};

/// Text safe in HTML and XML: markup characters as entities, control
/// characters (which XML forbids) as U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// The colour of a verdict (`None`: built only).
pub fn verdict_colour(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Good) => "#1a7f37",
        Some(Verdict::Bad) => "#cf222e",
        Some(Verdict::Skip) => "#8c959f",
        None => "#ffffff",
    }
}

/// The colour of a revision: its verdict, else how likely it is to crash
/// (a posterior-keeping strategy's P(contains the culprit)), else white
/// (built only).
pub fn row_colour(row: &Row, fix: bool) -> String {
    if row.build_error.is_some() {
        return verdict_colour(Some(Verdict::Skip)).to_string();
    }
    match (row.verdict, row.contains) {
        (Some(v), _) => verdict_colour(Some(v)).to_string(),
        (None, Some(p)) => {
            let crash = if fix { 1.0 - p } else { p };
            mix(crash.clamp(0.0, 1.0))
        }
        (None, None) => verdict_colour(None).to_string(),
    }
}

/// A probability as a percentage that never rounds to a certainty.
pub fn pct(p: f64) -> String {
    if (0.9995..1.0).contains(&p) {
        ">99.9%".into()
    } else if p > 0.0 && p < 0.0005 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", p * 100.0)
    }
}

/// Green (0) through amber (0.5) to red (1).
fn mix(p: f64) -> String {
    let (g, a, r) = ((0x1a, 0x7f, 0x37), (0xd4, 0xa7, 0x2c), (0xcf, 0x22, 0x2e));
    let (from, to, t) = if p < 0.5 {
        (g, a, p * 2.0)
    } else {
        (a, r, (p - 0.5) * 2.0)
    };
    let ch = |x: i32, y: i32| (x as f64 + (y - x) as f64 * t).round() as i32;
    format!(
        "#{:02x}{:02x}{:02x}",
        ch(from.0, to.0),
        ch(from.1, to.1),
        ch(from.2, to.2)
    )
}

/// The colour of one run's outcome.
pub fn run_colour(o: &RunOutcome) -> &'static str {
    match o {
        RunOutcome::Ok => "#1a7f37",
        RunOutcome::Crashed(_) => "#cf222e",
        RunOutcome::BootFailed { .. } | RunOutcome::TestFailed { .. } => "#8c959f",
        RunOutcome::Infra { .. } => "#d4a72c",
    }
}

pub(super) fn open(s: &mut String, w: f64, h: f64, label: &str) {
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0} {h:.0}" width="100%" role="img" aria-label="{}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">"#,
        esc(label)
    );
}

/// What the hover text of a revision says.
fn hover(row: &Row, report: &Report) -> String {
    let mut t = format!("{} {}\n", short(row.commit.as_str()), row.title);
    let _ = write!(t, "#{} · {}", row.order, row.role.label());
    if let Some(v) = row.verdict {
        let _ = write!(t, " · verdict {v}");
    }
    if let Some(p) = row.contains {
        let _ = write!(t, "\nP(contains the culprit) {p:.3}");
    }
    if let Some(e) = &row.build_error {
        let _ = write!(t, "\nbuild failed: {e}");
    }
    if !row.runs.is_empty() {
        let (crashed, usable) = row.crashed_of(|c| report.transient(c));
        let _ = write!(
            t,
            "\nruns: {crashed}/{usable} crashed ({} made)",
            row.runs.len()
        );
    }
    let mut titles: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &row.runs {
        if let RunOutcome::Crashed(c) = &r.result.outcome {
            *titles.entry(c.title.as_str()).or_default() += 1;
        }
    }
    for (title, n) in titles {
        let _ = write!(t, "\ncrash ×{n}: {title}");
    }
    t
}

/// Column of each commit of the timeline (history order).
fn columns(report: &Report) -> HashMap<&CommitId, usize> {
    report
        .history
        .iter()
        .enumerate()
        .map(|(col, &i)| (&report.timeline.rows[i].commit, col))
        .collect()
}

/// The tested revisions in history order, oldest left, and under them the
/// range after each step of the bisection.
pub fn timeline(report: &Report, culprits: &[CommitId]) -> String {
    let rows = &report.timeline.rows;
    let n = report.history.len();
    let steps = &report.timeline.range;
    let (left, right) = (120.0, 60.0);
    let width: f64 = 1100.0;
    let dx = if n > 1 {
        ((width - left - right) / (n - 1) as f64).min(150.0)
    } else {
        0.0
    };
    // Few revisions: centred rather than crowded to the left.
    let x0 = left + ((width - left - right) - dx * n.saturating_sub(1) as f64) / 2.0;
    let x = |col: usize| x0 + dx * col as f64;
    let node_y = 58.0;
    let ladder_top = 160.0;
    let row_h = 22.0;
    let height = if steps.is_empty() {
        128.0
    } else {
        ladder_top + row_h * (steps.len() + usize::from(culprits.len() == 1)) as f64 + 8.0
    };
    let mut s = String::new();
    open(&mut s, width, height, "tested revisions in history order");
    let last = x(n.saturating_sub(1));
    let _ = write!(
        s,
        r##"<text x="{:.0}" y="16" fill="#59636e">← older</text><text x="{last:.0}" y="16" fill="#59636e" text-anchor="end">newer →</text>"##,
        x(0)
    );
    let _ = write!(
        s,
        r##"<line x1="{:.1}" y1="{node_y}" x2="{:.1}" y2="{node_y}" stroke="#d1d9e0" stroke-width="2"/>"##,
        x(0) - 20.0,
        last + 20.0
    );
    for (col, &i) in report.history.iter().enumerate() {
        let row = &rows[i];
        let cx = x(col);
        let fill = row_colour(row, report.fix());
        let stroke = if row.verdict.is_none() && row.contains.is_none() && row.build_error.is_none()
        {
            "#8c959f"
        } else {
            "#ffffff"
        };
        let _ = write!(s, "<g><title>{}</title>", esc(&hover(row, report)));
        if culprits.contains(&row.commit) {
            let _ = write!(
                s,
                r##"<circle cx="{cx:.1}" cy="{node_y}" r="15" fill="none" stroke="#1f2328" stroke-width="2"/>"##
            );
        }
        let _ = write!(
            s,
            r##"<circle cx="{cx:.1}" cy="{node_y}" r="10" fill="{fill}" stroke="{stroke}" stroke-width="2"/>"##
        );
        if row.build_error.is_some() {
            let _ = write!(
                s,
                r##"<path d="M{:.1} {:.1} l8 8 m0 -8 l-8 8" stroke="#ffffff" stroke-width="2"/>"##,
                cx - 4.0,
                node_y - 4.0
            );
        }
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="{:.0}" text-anchor="middle" fill="#59636e" font-size="11">#{}</text>"##,
            node_y - 20.0,
            row.order
        );
        let ratio = if row.runs.is_empty() {
            match (&row.build_error, row.role == Role::ParentBuild) {
                (Some(_), _) => "no build".to_string(),
                (None, true) => "built".to_string(),
                (None, false) => String::new(),
            }
        } else {
            let (c, u) = row.crashed_of(|t| report.transient(t));
            format!("{c}/{u}")
        };
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="{:.0}" text-anchor="middle" font-weight="600">{}</text>"##,
            node_y + 27.0,
            esc(&ratio)
        );
        let label = match &row.role {
            Role::Release(t) => t.clone(),
            Role::Start => "start".into(),
            Role::Head => "HEAD".into(),
            _ => short7(row.commit.as_str()).to_string(),
        };
        let ly = node_y + 42.0;
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="{ly:.0}" text-anchor="end" fill="#59636e" font-family="ui-monospace, Menlo, Consolas, monospace" font-size="11" transform="rotate(-30 {cx:.1} {ly:.0})">{}</text>"##,
            esc(&label)
        );
        if culprits.contains(&row.commit) {
            let _ = write!(
                s,
                r##"<text x="{cx:.1}" y="{:.0}" text-anchor="middle" font-weight="700" font-size="11">culprit</text>"##,
                node_y - 34.0
            );
        }
        s.push_str("</g>");
    }
    if !steps.is_empty() {
        let cols = columns(report);
        let _ = write!(
            s,
            r##"<text x="8" y="{:.0}" fill="#59636e" font-weight="600">range after each step</text>"##,
            ladder_top - 12.0
        );
        for (k, st) in steps.iter().enumerate() {
            let y = ladder_top + row_h * k as f64;
            let lo = st.goods.iter().filter_map(|g| cols.get(g)).max().copied();
            let hi = st.bads.iter().filter_map(|b| cols.get(b)).min().copied();
            let _ = write!(
                s,
                r##"<g><title>step {}: {} revisions left to test after testing {}</title><text x="8" y="{:.0}" fill="#59636e">step {}</text>"##,
                k + 1,
                st.left,
                short(st.commit.as_str()),
                y + 4.0,
                k + 1
            );
            if let (Some(lo), Some(hi)) = (lo, hi) {
                let (a, b) = (x(lo.min(hi)), x(lo.max(hi)));
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="10" rx="5" fill="#ffebe9" stroke="#ff818266"/>"##,
                    a,
                    y - 5.0,
                    (b - a).max(2.0)
                );
                let _ = write!(
                    s,
                    r##"<circle cx="{a:.1}" cy="{y:.1}" r="4" fill="#1a7f37"/><circle cx="{b:.1}" cy="{y:.1}" r="4" fill="#cf222e"/>"##
                );
            }
            if let Some(&c) = cols.get(&st.commit) {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{y:.1}" r="5" fill="#ffffff" stroke="#1f2328" stroke-width="2"/>"##,
                    x(c)
                );
            }
            let _ = write!(
                s,
                r##"<text x="{:.0}" y="{:.0}" fill="#59636e" text-anchor="end">{} left</text></g>"##,
                width - 4.0,
                y + 4.0,
                st.left
            );
        }
        // The end: the last good revision and the culprit next to it.
        if let (Some(last), [culprit]) = (steps.last(), culprits) {
            let y = ladder_top + row_h * steps.len() as f64;
            let mut goods = last.goods.clone();
            let mut bads = last.bads.clone();
            for r in rows {
                match r.mark {
                    Some(Verdict::Good) if !goods.contains(&r.commit) => {
                        goods.push(r.commit.clone())
                    }
                    Some(Verdict::Bad) if !bads.contains(&r.commit) => bads.push(r.commit.clone()),
                    _ => {}
                }
            }
            let lo = goods.iter().filter_map(|g| cols.get(g)).max().copied();
            if let (Some(lo), Some(&hi)) = (lo, cols.get(culprit)) {
                let (a, b) = (x(lo.min(hi)), x(lo.max(hi)));
                let _ = write!(
                    s,
                    r##"<g><title>the first bad commit: {}</title><text x="8" y="{:.0}" font-weight="600">result</text><rect x="{a:.1}" y="{:.1}" width="{:.1}" height="10" rx="5" fill="#ffebe9" stroke="#ff818266"/><circle cx="{a:.1}" cy="{y:.1}" r="4" fill="#1a7f37"/><circle cx="{b:.1}" cy="{y:.1}" r="6" fill="#cf222e" stroke="#1f2328" stroke-width="2"/><text x="{:.0}" y="{:.0}" text-anchor="end" font-weight="600">culprit</text></g>"##,
                    short(culprit.as_str()),
                    y + 4.0,
                    y - 5.0,
                    (b - a).max(2.0),
                    width - 4.0,
                    y + 4.0
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

pub(super) fn short7(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

pub(super) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(esc("a\u{1b}[0mb\tc\n"), "a\u{fffd}[0mb\tc\n");
    }

    #[test]
    fn percentages_never_round_to_a_certainty() {
        assert_eq!(pct(0.99999), ">99.9%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.00001), "<0.1%");
        assert_eq!(pct(0.5), "50.0%");
    }
}
