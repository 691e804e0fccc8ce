//! Runs a baseline and tidings in alternating rounds and summarises them as one table row.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

/// One line of the results table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Row {
    pub(crate) scenario: String,
    pub(crate) baseline: String,
    pub(crate) unit: Unit,
    /// Median of the baseline's rounds, in `unit`.
    pub(crate) baseline_value: f64,
    /// Median of tidings' rounds, in `unit`.
    pub(crate) tidings_value: f64,
    /// Median over rounds of tidings' cost over the baseline's (time, latency or allocations):
    /// 1.0 is parity, above is slower.
    pub(crate) ratio: Option<f64>,
    /// The lowest and highest per-round ratio.
    pub(crate) spread: Option<(f64, f64)>,
    pub(crate) goal: Option<Goal>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub(crate) enum Unit {
    /// Events (or deliveries) per second: higher is better.
    PerSecond,
    /// Microseconds of latency: lower is better.
    Micros,
    /// Allocations per event: lower is better.
    AllocsPerEvent,
}

/// What a row must show to meet its goal.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) enum Goal {
    /// tidings' cost at most this many times the baseline's.
    RatioAtMost(f64),
    /// tidings' value at most this (in the row's unit).
    ValueAtMost(f64),
}

impl Goal {
    pub(crate) fn met(&self, row: &Row) -> bool {
        match *self {
            Goal::RatioAtMost(max) => row.ratio.is_some_and(|ratio| ratio <= max),
            Goal::ValueAtMost(max) => row.tidings_value <= max,
        }
    }

    pub(crate) fn describe(&self, unit: Unit) -> String {
        match (*self, unit) {
            (Goal::RatioAtMost(max), _) => format!("≤ {}×", (max * 100.0).round() / 100.0),
            (Goal::ValueAtMost(max), Unit::AllocsPerEvent) => format!("≤ {max} per event"),
            (Goal::ValueAtMost(max), _) => format!("≤ {max}"),
        }
    }
}

/// Times both sides for `rounds` rounds; rounds alternate so that drift in the machine's speed
/// hits both alike.
pub(crate) async fn compare<B, BF, T, TF>(
    rounds: usize,
    mut baseline: B,
    mut tidings: T,
) -> (Vec<Duration>, Vec<Duration>)
where
    B: FnMut() -> BF,
    BF: Future<Output = Duration>,
    T: FnMut() -> TF,
    TF: Future<Output = Duration>,
{
    // One untimed round each warms caches, the allocator and the runtime's threads.
    let _ = (baseline().await, tidings().await);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        theirs.push(baseline().await);
        ours.push(tidings().await);
    }
    (theirs, ours)
}

/// The row for two sets of round timings over `items` items each.
pub(crate) fn throughput_row(
    scenario: &str,
    baseline: &str,
    items: u64,
    (theirs, ours): (Vec<Duration>, Vec<Duration>),
    goal: Option<Goal>,
) -> Row {
    let rate = |d: &Duration| items as f64 / d.as_secs_f64();
    let ratios: Vec<f64> = theirs
        .iter()
        .zip(&ours)
        .map(|(b, t)| t.as_secs_f64() / b.as_secs_f64())
        .collect();
    Row {
        scenario: scenario.to_owned(),
        baseline: baseline.to_owned(),
        unit: Unit::PerSecond,
        baseline_value: median(theirs.iter().map(rate).collect()),
        tidings_value: median(ours.iter().map(rate).collect()),
        ratio: Some(median(ratios.clone())),
        spread: Some(min_max(&ratios)),
        goal,
    }
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

pub(crate) fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        })
}
