//! The results as a markdown table (stdout) and JSON (for tooling and history).

use std::fmt::Write as _;

use serde::Serialize;

use crate::harness::{Row, Unit};
use crate::scenarios::latency::Distribution;

#[derive(Debug, Serialize)]
pub(crate) struct Results {
    pub(crate) machine: Machine,
    pub(crate) mode: &'static str,
    pub(crate) rows: Vec<Row>,
    pub(crate) latency: Option<Distribution>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpu: String,
    pub(crate) cores: usize,
    pub(crate) os: String,
}

impl Machine {
    pub(crate) fn this_one() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| {
                line.strip_prefix("model name")
                    .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

pub(crate) fn markdown(results: &Results) -> String {
    let machine = &results.machine;
    let mut out = format!(
        "{} mode on {} ({} cores, {})\n\n| scenario | baseline | baseline | tidings | tidings cost (spread) | goal | met? |\n|---|---|---:|---:|---:|---|---|\n",
        results.mode, machine.cpu, machine.cores, machine.os
    );
    for row in &results.rows {
        let ratio = match (row.ratio, row.spread) {
            (Some(ratio), Some((lo, hi))) => format!("{ratio:.2}× ({lo:.2}–{hi:.2})"),
            (Some(ratio), None) => format!("{ratio:.2}×"),
            _ => "—".to_owned(),
        };
        let (goal, met) = match row.goal {
            Some(goal) => (
                goal.describe(row.unit),
                if goal.met(row) { "yes" } else { "**no**" },
            ),
            None => ("—".to_owned(), "—"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {ratio} | {goal} | {met} |",
            row.scenario,
            row.baseline,
            value(row.unit, row.baseline_value),
            value(row.unit, row.tidings_value)
        );
    }
    out
}

pub(crate) fn value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::PerSecond if value >= 1e6 => format!("{:.2} M/s", value / 1e6),
        Unit::PerSecond => format!("{:.0} k/s", value / 1e3),
        Unit::Micros => format!("{value:.1} µs"),
        Unit::AllocsPerEvent => format!("{value:.4}"),
    }
}
