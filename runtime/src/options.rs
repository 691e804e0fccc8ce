//! Subscriber options: retries, backoff, timeout, concurrency, ordering and rate.

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
    fn rate_interval() {
        assert_eq!(Rate::per_second(4).interval(), Duration::from_millis(250));
        assert_eq!(
            Rate::new(10, Duration::from_millis(100)).interval(),
            Duration::from_millis(10)
        );
    }
}
