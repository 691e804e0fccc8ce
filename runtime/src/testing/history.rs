//! What the recorded attempts say about one subscriber: its [`Counts`], and the [`Trail`] of
//! attempts it made at one event.

use std::fmt;
use std::time::Duration;

use crate::recorder::{AttemptRecord, AttemptResult};

/// How a subscriber's attempts ended so far; see [`TestBus::counts`](super::TestBus::counts).
///
/// ```
/// # use tidings::testing::Counts;
/// let expected = Counts { handled: 1, retried: 4, dead_lettered: 1 };
/// assert_eq!(expected.to_string(), "handled 1, retried 4, dead-lettered 1");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Attempts that succeeded: one per handled event.
    pub handled: u64,
    /// Attempts that failed and were retried.
    pub retried: u64,
    /// Attempts that failed for the last time: one per dead letter.
    pub dead_lettered: u64,
}

impl Counts {
    pub(super) fn of<'a>(attempts: impl IntoIterator<Item = &'a AttemptRecord>) -> Self {
        let mut counts = Counts::default();
        for attempt in attempts {
            match attempt.result {
                AttemptResult::Handled => counts.handled += 1,
                AttemptResult::Retry { .. } => counts.retried += 1,
                AttemptResult::DeadLettered { .. } => counts.dead_lettered += 1,
            }
        }
        counts
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "handled {}, retried {}, dead-lettered {}",
            self.handled, self.retried, self.dead_lettered
        )
    }
}

/// One subscriber's attempts at one event, in order (a replay starts again at attempt 1).
pub(super) struct Trail(pub(super) Vec<AttemptRecord>);

/// How a subscriber's latest attempt at an event ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ending<'a> {
    Handled { attempt: u32 },
    DeadLettered { attempt: u32, error: &'a str },
    Retrying { attempt: u32, delay: Duration },
    NotReceived,
}

impl Trail {
    pub(super) fn attempts(&self) -> u32 {
        u32::try_from(self.0.len()).unwrap_or(u32::MAX)
    }

    pub(super) fn delays(&self) -> Vec<Duration> {
        self.0
            .iter()
            .filter_map(|attempt| match attempt.result {
                AttemptResult::Retry { delay } => Some(delay),
                _ => None,
            })
            .collect()
    }

    pub(super) fn ending(&self) -> Ending<'_> {
        let Some(last) = self.0.last() else {
            return Ending::NotReceived;
        };
        let attempt = last.attempt;
        match &last.result {
            AttemptResult::Handled => Ending::Handled { attempt },
            AttemptResult::DeadLettered { error } => Ending::DeadLettered { attempt, error },
            AttemptResult::Retry { delay } => Ending::Retrying {
                attempt,
                delay: *delay,
            },
        }
    }
}

impl fmt::Display for Ending<'_> {
    /// Completes "…, but it {ending}".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Handled { attempt } => write!(f, "handled it on attempt {attempt}"),
            Ending::DeadLettered { attempt, error } => write!(
                f,
                "dead-lettered it after {} (last error: {error})",
                n_attempts(*attempt)
            ),
            Ending::Retrying { attempt, delay } => write!(
                f,
                "has not finished with it: attempt {attempt} failed and the next is due in {}; \
                 call `settle().await` before asserting",
                humantime::format_duration(*delay)
            ),
            Ending::NotReceived => write!(f, "never received it"),
        }
    }
}

/// "1 attempt", "5 attempts".
pub(super) fn n_attempts(n: u32) -> String {
    if n == 1 {
        "1 attempt".to_owned()
    } else {
        format!("{n} attempts")
    }
}
