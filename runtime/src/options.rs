//! Subscriber options: retries, backoff, timeout, concurrency, ordering and rate.

use std::fmt;
use std::time::Duration;

/// How long to wait before retrying a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The same delay before every retry (`"fixed(100ms)"`; `"none"` is `fixed(0s)`).
    Fixed(Duration),
    /// `initial`, doubling per retry up to `max` (`"exponential(50ms, 5s)"`), each delay
    /// drawn uniformly from its upper half so that failing consumers do not retry in lockstep.
    Exponential {
        /// The base delay before the first retry.
        initial: Duration,
        /// The cap on the base delay.
        max: Duration,
    },
}

impl Backoff {
    /// A fixed delay.
    pub const fn fixed(delay: Duration) -> Self {
        Backoff::Fixed(delay)
    }

    /// An exponential backoff with jitter.
    pub const fn exponential(initial: Duration, max: Duration) -> Self {
        Backoff::Exponential { initial, max }
    }

    /// The delay after the `failed_attempt`-th attempt failed (1-based), jitter included.
    pub fn delay(&self, failed_attempt: u32) -> Duration {
        self.delay_with(failed_attempt, true)
    }

    /// The delay after the `failed_attempt`-th attempt failed; without `jitter`, the top of the
    /// jitter range (`initial` doubled per retry up to `max`), the same on every run.
    pub(crate) fn delay_with(&self, failed_attempt: u32, jitter: bool) -> Duration {
        match *self {
            Backoff::Fixed(delay) => delay,
            Backoff::Exponential { initial, max } => {
                let doublings = failed_attempt.saturating_sub(1).min(31);
                let top = initial.saturating_mul(1 << doublings).min(max);
                if !jitter {
                    return top;
                }
                let half = top / 2;
                half + half.mul_f64(fastrand::f64())
            }
        }
    }

    /// The longest delay this backoff can ask for.
    pub(crate) fn longest(&self) -> Duration {
        match *self {
            Backoff::Fixed(delay) => delay,
            Backoff::Exponential { max, .. } => max,
        }
    }
}

/// Written as `#[subscriber(backoff = "..")]` takes it: `exponential(50ms, 5s)`, `fixed(1s)`,
/// `none`.
impl fmt::Display for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Backoff::Fixed(Duration::ZERO) => f.write_str("none"),
            Backoff::Fixed(delay) => write!(f, "fixed({})", Written(delay)),
            Backoff::Exponential { initial, max } => {
                write!(f, "exponential({}, {})", Written(initial), Written(max))
            }
        }
    }
}

/// A cap on how many attempts per period a subscriber starts (`rate = "100/s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    per: Duration,
}

impl Rate {
    /// `count` attempts per `per`.
    ///
    /// # Panics
    /// If `count` is zero or `per` is zero: such a rate would never run anything.
    pub const fn new(count: u32, per: Duration) -> Self {
        assert!(
            count > 0 && !per.is_zero(),
            "a rate needs a positive count and period"
        );
        Rate { count, per }
    }

    /// `count` attempts per second.
    pub const fn per_second(count: u32) -> Self {
        Self::new(count, Duration::from_secs(1))
    }

    /// The spacing between two attempts.
    pub fn interval(&self) -> Duration {
        self.per / self.count
    }
}

/// Written as `#[subscriber(rate = "..")]` takes it: `100/s`, `5/m`, `10/250ms`.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.per.as_secs() {
            _ if self.per.subsec_nanos() != 0 => None,
            1 => Some("s"),
            60 => Some("m"),
            3600 => Some("h"),
            _ => None,
        };
        match unit {
            Some(unit) => write!(f, "{}/{unit}", self.count),
            None => write!(f, "{}/{}", self.count, Written(self.per)),
        }
    }
}

/// A duration in the coarsest unit that holds it exactly, the way the macros' options are
/// written (`250ms`, `2s`, `5m`), so that what is displayed can be pasted back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written(pub(crate) Duration);

impl fmt::Display for Written {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let duration = self.0;
        let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
        match (secs, nanos) {
            (0, 0) => f.write_str("0s"),
            (_, 0) if secs.is_multiple_of(3600) => write!(f, "{}h", secs / 3600),
            (_, 0) if secs.is_multiple_of(60) => write!(f, "{}m", secs / 60),
            (_, 0) => write!(f, "{secs}s"),
            _ if nanos.is_multiple_of(1_000_000) => write!(f, "{}ms", duration.as_millis()),
            _ if nanos.is_multiple_of(1_000) => write!(f, "{}us", duration.as_micros()),
            _ => write!(f, "{}ns", duration.as_nanos()),
        }
    }
}

pub(crate) const DEFAULT_RETRIES: u32 = 3;
pub(crate) const DEFAULT_BACKOFF: Backoff =
    Backoff::exponential(Duration::from_millis(100), Duration::from_secs(10));
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_CONCURRENCY: u32 = 8;

/// A subscriber's options with every default filled in.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// `None`: the group is the subscriber's name.
    pub(crate) group: Option<std::sync::Arc<str>>,
    pub(crate) retries: u32,
    pub(crate) backoff: Backoff,
    pub(crate) timeout: Duration,
    pub(crate) concurrency: u32,
    pub(crate) ordered: bool,
    pub(crate) rate: Option<Rate>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            group: None,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            ordered: false,
            rate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_doubles_within_jitter_and_caps() {
        let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_millis(350));
        for (attempt, base_ms) in [(1, 100), (2, 200), (3, 350), (10, 350), (u32::MAX, 350)] {
            let delay = backoff.delay(attempt);
            let base = Duration::from_millis(base_ms);
            assert!(
                delay >= base / 2 && delay <= base,
                "attempt {attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn without_jitter_the_delay_is_the_top_of_its_range() {
        let backoff = Backoff::exponential(Duration::from_secs(1), Duration::from_secs(5));
        let delays: Vec<u64> = (1..=5)
            .map(|attempt| backoff.delay_with(attempt, false).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
    }

    #[test]
    fn fixed_backoff_is_exact() {
        assert_eq!(
            Backoff::fixed(Duration::from_millis(7)).delay(5),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn options_display_as_the_macro_takes_them() {
        let ms = Duration::from_millis;
        let cases = [
            (Backoff::fixed(Duration::ZERO).to_string(), "none"),
            (Backoff::fixed(ms(1500)).to_string(), "fixed(1500ms)"),
            (DEFAULT_BACKOFF.to_string(), "exponential(100ms, 10s)"),
            (
                Backoff::exponential(Duration::from_micros(7), Duration::from_secs(7200))
                    .to_string(),
                "exponential(7us, 2h)",
            ),
            (Rate::per_second(100).to_string(), "100/s"),
            (Rate::new(5, Duration::from_secs(60)).to_string(), "5/m"),
            (Rate::new(1, Duration::from_secs(3600)).to_string(), "1/h"),
            (Rate::new(10, ms(250)).to_string(), "10/250ms"),
            (Rate::new(3, Duration::from_secs(90)).to_string(), "3/90s"),
            (
                Written(Duration::from_nanos(1_000_001)).to_string(),
                "1000001ns",
            ),
        ];
        for (shown, expected) in cases {
            assert_eq!(shown, expected);
        }
    }

    #[test]
    fn rate_interval() {
        assert_eq!(Rate::per_second(4).interval(), Duration::from_millis(250));
        assert_eq!(
            Rate::new(10, Duration::from_millis(100)).interval(),
            Duration::from_millis(10)
        );
    }
}
