//! SVG charts drawn by hand: two small, dependency-free pictures of the results.

use std::fmt::Write as _;

use crate::harness::{Row, Unit};
use crate::report::value;
use crate::scenarios::latency::Distribution;

const BASELINE: &str = "#9aa0a6";
const TIDINGS: &str = "#1a73e8";
const FONT: &str = "font-family=\"sans-serif\" font-size=\"12\"";

/// Baseline and tidings throughput side by side, one pair of bars per scenario, each pair
/// scaled to its own larger value (scenarios differ by orders of magnitude).
pub(crate) fn throughput(rows: &[Row]) -> String {
    let rows: Vec<&Row> = rows
        .iter()
        .filter(|row| row.unit == Unit::PerSecond)
        .collect();
    let (label_width, bar_width, pair_height) = (300.0, 420.0, 46.0);
    let height = 40.0 + pair_height * rows.len() as f64 + 20.0;
    let mut svg = open(label_width + bar_width + 120.0, height);
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" {FONT} font-weight=\"bold\">Throughput: raw baseline (grey) vs tidings (blue), longer is faster</text>"
    );
    for (i, row) in rows.iter().enumerate() {
        let top = 40.0 + pair_height * i as f64;
        let max = row.baseline_value.max(row.tidings_value);
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{}\" {FONT}>{}</text>",
            top + 22.0,
            escape(&row.scenario)
        );
        for (j, (v, color)) in [(row.baseline_value, BASELINE), (row.tidings_value, TIDINGS)]
            .into_iter()
            .enumerate()
        {
            let y = top + 4.0 + 18.0 * j as f64;
            let width = bar_width * v / max;
            let _ = writeln!(
                svg,
                "<rect x=\"{label_width}\" y=\"{y}\" width=\"{width:.1}\" height=\"15\" fill=\"{color}\"/>"
            );
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" {FONT}>{}</text>",
                label_width + width + 6.0,
                y + 12.0,
                value(row.unit, v)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Latency by percentile, log scale, baseline and tidings as two lines.
pub(crate) fn latency(distribution: &Distribution, rate: u64) -> String {
    let (left, top, width, height) = (70.0, 40.0, 560.0, 300.0);
    let mut svg = open(left + width + 70.0, top + height + 60.0);
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" {FONT} font-weight=\"bold\">Publish → handle latency at {rate} events/s: raw mpsc (grey) vs tidings (blue)</text>"
    );
    let values = distribution.points.iter().flat_map(|&(_, b, t)| [b, t]);
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v.max(0.1)), hi.max(v))
    });
    let (log_lo, log_hi) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let y = |v: f64| top + height - height * (v.max(0.1).log10() - log_lo) / (log_hi - log_lo);
    let step = width / (distribution.points.len().saturating_sub(1).max(1)) as f64;
    let _ = writeln!(
        svg,
        "<rect x=\"{left}\" y=\"{top}\" width=\"{width}\" height=\"{height}\" fill=\"none\" stroke=\"#ccc\"/>"
    );
    for decade in log_lo as i32..=log_hi as i32 {
        let (v, x_end, label_x) = (10f64.powi(decade), left + width, left - 6.0);
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{x_end}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/>\
             <text x=\"{label_x}\" y=\"{label_y:.1}\" {FONT} text-anchor=\"end\">{v} µs</text>",
            y = y(v),
            label_y = y(v) + 4.0,
        );
    }
    for (i, (percentile, ..)) in distribution.points.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" {FONT} text-anchor=\"middle\">p{percentile}</text>",
            left + step * i as f64,
            top + height + 18.0
        );
    }
    for (pick, color) in [(0, BASELINE), (1, TIDINGS)] {
        let points: Vec<String> = distribution
            .points
            .iter()
            .enumerate()
            .map(|(i, &(_, b, t))| {
                format!(
                    "{:.1},{:.1}",
                    left + step * i as f64,
                    y(if pick == 0 { b } else { t })
                )
            })
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
            points.join(" ")
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" {FONT} text-anchor=\"middle\">percentile (latency counted from when each event was due)</text>",
        left + width / 2.0,
        top + height + 42.0
    );
    svg.push_str("</svg>\n");
    svg
}

fn open(width: f64, height: f64) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
