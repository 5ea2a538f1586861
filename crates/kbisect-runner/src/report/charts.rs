//! The HTML report's charts other than the timeline: revisions left per
//! step, the posterior (after each round, and the final candidates), and
//! build/test time per revision. Inline SVG; every text escaped.

use std::fmt::Write as _;
use std::time::Duration;

use kbisect_core::{CommitId, humanize};

use super::Report;
use super::svg::{esc, open, short7, truncate};
use super::text::short;
use super::timeline::{Round, Row};

/// Candidates left to test after each step, as bars (log scale).
pub fn range_chart(report: &Report) -> String {
    let steps = &report.timeline.range;
    let width = 1100.0;
    let height = 170.0;
    let (left, bottom, top) = (50.0, 30.0, 20.0);
    let mut s = String::new();
    open(&mut s, width, height, "revisions left after each step");
    let max = steps.iter().map(|st| st.left).max().unwrap_or(1).max(1);
    let scale = |v: usize| ((v + 1) as f64).log2() / ((max + 1) as f64).log2();
    let n = steps.len().max(1);
    let slot = ((width - left - 10.0) / n as f64).min(110.0);
    let base = height - bottom;
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{base}" x2="{:.0}" y2="{base}" stroke="#d1d9e0"/>"##,
        left + slot * n as f64
    );
    for (k, st) in steps.iter().enumerate() {
        let h = (base - top) * scale(st.left);
        let bx = left + slot * k as f64 + slot * 0.2;
        let _ = write!(
            s,
            r##"<g><title>step {}: {} left (roughly {} more steps)</title><rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill="#0969da"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="600">{}</text><text x="{:.1}" y="{:.0}" text-anchor="middle" fill="#59636e">{}</text></g>"##,
            k + 1,
            st.left,
            st.steps,
            base - h.max(1.0),
            slot * 0.6,
            h.max(1.0),
            bx + slot * 0.3,
            base - h.max(1.0) - 4.0,
            st.left,
            bx + slot * 0.3,
            base + 16.0,
            k + 1
        );
    }
    let _ = write!(
        s,
        r##"<text x="4" y="{top}" fill="#59636e">left</text><text x="4" y="{:.0}" fill="#59636e">step</text></svg>"##,
        base + 16.0
    );
    s
}

/// The top candidates' posterior at the end, as bars, with the target.
pub fn posterior_chart(probs: &[(String, f64)], target: f64) -> String {
    let width = 1100.0;
    let label_w = 420.0;
    let row_h = 24.0;
    let height = 30.0 + row_h * probs.len() as f64;
    let mut s = String::new();
    open(&mut s, width, height, "posterior over the candidates");
    let bar_w = width - label_w - 80.0;
    for (k, (label, p)) in probs.iter().enumerate() {
        let y = 10.0 + row_h * k as f64;
        let _ = write!(
            s,
            r##"<g><title>{}: {:.4}</title><text x="{:.0}" y="{:.0}" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.0}" width="{bar_w:.0}" height="16" rx="3" fill="#eaeef2"/><rect x="{label_w}" y="{y:.0}" width="{:.1}" height="16" rx="3" fill="{}"/><text x="{:.0}" y="{:.0}">{:.1}%</text></g>"##,
            esc(label),
            p,
            label_w - 8.0,
            y + 12.0,
            esc(&truncate(label, 60)),
            bar_w * p.clamp(0.0, 1.0),
            if k == 0 { "#8250df" } else { "#c297ff" },
            label_w + bar_w + 8.0,
            y + 12.0,
            p * 100.0
        );
    }
    let tx = label_w + bar_w * target;
    let _ = write!(
        s,
        r##"<line x1="{tx:.1}" y1="4" x2="{tx:.1}" y2="{:.0}" stroke="#1f2328" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{:.0}" text-anchor="middle" fill="#59636e">target {:.2}</text></svg>"##,
        height - 14.0,
        height - 2.0,
        target
    );
    s
}

/// The best candidate's (and the runner-up's) posterior after each round
/// of a posterior-keeping strategy; purple where the best is the final
/// culprit, grey where it was another commit.
pub fn rounds_chart(rounds: &[Round], culprit: Option<&CommitId>, target: f64) -> String {
    let width = 1100.0;
    let height = 240.0;
    let (left, right, top, bottom) = (56.0, 24.0, 16.0, 40.0);
    let mut s = String::new();
    open(&mut s, width, height, "posterior after each round");
    let n = rounds.len().max(1);
    let dx = if n > 1 {
        (width - left - right) / (n - 1) as f64
    } else {
        0.0
    };
    let x = |k: usize| left + dx * k as f64;
    let y = |p: f64| top + (height - top - bottom) * (1.0 - p.clamp(0.0, 1.0));
    for g in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{:.1}" x2="{:.0}" y2="{:.1}" stroke="#eaeef2"/><text x="{:.0}" y="{:.1}" text-anchor="end" fill="#59636e">{:.0}%</text>"##,
            y(g),
            width - right,
            y(g),
            left - 8.0,
            y(g) + 4.0,
            g * 100.0
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{:.1}" x2="{:.0}" y2="{:.1}" stroke="#1f2328" stroke-dasharray="4 3"/><text x="{:.0}" y="{:.1}" fill="#59636e">target {:.2}</text>"##,
        y(target),
        width - right,
        y(target),
        left + 6.0,
        y(target) - 6.0,
        target
    );
    let points: Vec<String> = rounds
        .iter()
        .enumerate()
        .map(|(k, r)| format!("{:.1},{:.1}", x(k), y(r.best.posterior)))
        .collect();
    let _ = write!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#8250df" stroke-width="2"/>"##,
        points.join(" ")
    );
    let name = |c: &kbisect_core::Candidate| match &c.commit {
        Some(id) => format!("{} {}", short(id.as_str()), c.title),
        None => "(no commit of the range)".into(),
    };
    for (k, r) in rounds.iter().enumerate() {
        let is_culprit = r.best.commit.as_ref().is_some_and(|c| Some(c) == culprit);
        let tip = format!(
            "round {}: best {} ({:.3}){}; repro chance {:.2}; {} builds, {} runs",
            k + 1,
            name(&r.best),
            r.best.posterior,
            r.runner_up
                .as_ref()
                .map(|u| format!(", runner-up {} ({:.3})", name(u), u.posterior))
                .unwrap_or_default(),
            r.repro_chance,
            r.builds,
            r.runs
        );
        let _ = write!(s, "<g><title>{}</title>", esc(&tip));
        if let Some(u) = &r.runner_up {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="#ffffff" stroke="#8c959f" stroke-width="2"/>"##,
                x(k),
                y(u.posterior)
            );
        }
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="6" fill="{}" stroke="#ffffff" stroke-width="2"/><text x="{:.1}" y="{:.0}" text-anchor="middle" fill="#59636e">{}</text></g>"##,
            x(k),
            y(r.best.posterior),
            if is_culprit { "#8250df" } else { "#8c959f" },
            x(k),
            height - bottom + 18.0,
            k + 1
        );
    }
    let _ = write!(
        s,
        r##"<text x="{left}" y="{:.0}" fill="#59636e">round</text></svg>"##,
        height - 6.0
    );
    s
}

/// Build and test time per revision, in the order tested.
pub fn times_chart(report: &Report) -> String {
    let rows = &report.timeline.rows;
    let width = 1100.0;
    let row_h = 22.0;
    let label_w = 300.0;
    let height = 40.0 + row_h * rows.len() as f64;
    let parallel = report.job.parallel;
    let total = |r: &Row| r.build_time + r.test_time(parallel);
    let max = rows
        .iter()
        .map(total)
        .max()
        .unwrap_or_default()
        .max(Duration::from_millis(1));
    let bar_w = width - label_w - 170.0;
    let px = |d: Duration| bar_w * d.as_secs_f64() / max.as_secs_f64();
    let mut s = String::new();
    open(&mut s, width, height, "build and test time per revision");
    for (k, r) in rows.iter().enumerate() {
        let y = 8.0 + row_h * k as f64;
        let (b, t) = (px(r.build_time), px(r.test_time(parallel)));
        let _ = write!(
            s,
            r##"<g><title>{} {}&#10;build {} · test {}</title><text x="{:.0}" y="{:.0}" text-anchor="end"><tspan fill="#59636e">#{} </tspan><tspan font-family="ui-monospace, Menlo, Consolas, monospace">{}</tspan> {}</text><rect x="{label_w}" y="{y:.0}" width="{b:.1}" height="14" fill="#0969da"/><rect x="{:.1}" y="{y:.0}" width="{t:.1}" height="14" fill="#8250df"/><text x="{:.1}" y="{:.0}" fill="#59636e">{} + {}</text></g>"##,
            short(r.commit.as_str()),
            esc(&r.title),
            humanize(r.build_time),
            humanize(r.test_time(parallel)),
            label_w - 8.0,
            y + 11.0,
            r.order,
            short7(r.commit.as_str()),
            esc(&truncate(&r.role.label(), 18)),
            label_w + b,
            label_w + b + t + 6.0,
            y + 11.0,
            humanize(r.build_time),
            humanize(r.test_time(parallel))
        );
    }
    let ly = height - 14.0;
    let _ = write!(
        s,
        r##"<rect x="{label_w}" y="{:.0}" width="12" height="12" fill="#0969da"/><text x="{:.0}" y="{ly:.0}">build</text><rect x="{:.0}" y="{:.0}" width="12" height="12" fill="#8250df"/><text x="{:.0}" y="{ly:.0}">test (run time over {} slot(s))</text></svg>"##,
        ly - 10.0,
        label_w + 16.0,
        label_w + 70.0,
        ly - 10.0,
        label_w + 86.0,
        parallel.max(1)
    );
    s
}
