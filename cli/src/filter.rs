//! Which dead letters a command means: by subscriber, event and time of the last failure.

use std::time::SystemTime;

use clap::Args;
use tidings::DeadLetterSummary;

#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Filter {
    /// Only this subscriber's dead letters.
    #[arg(long)]
    subscriber: Option<String>,
    /// Only dead letters of this group.
    #[arg(long)]
    group: Option<String>,
    /// Only dead letters of this event name.
    #[arg(long)]
    event: Option<String>,
    /// Only those that last failed at or after this time: a duration ago (`90s`, `2h`,
    /// `1day`) or an RFC 3339 time (`2026-11-21T18:00:00Z`).
    #[arg(long, value_parser = parse_time)]
    since: Option<SystemTime>,
    /// Only those that last failed before this time (same forms as `--since`).
    #[arg(long, value_parser = parse_time)]
    until: Option<SystemTime>,
}

impl Filter {
    /// Whether any condition was given.
    pub(crate) fn is_set(&self) -> bool {
        self.subscriber.is_some()
            || self.group.is_some()
            || self.event.is_some()
            || self.since.is_some()
            || self.until.is_some()
    }

    pub(crate) fn matches(&self, letter: &DeadLetterSummary) -> bool {
        let equal =
            |wanted: &Option<String>, actual: &str| wanted.as_deref().is_none_or(|w| w == actual);
        equal(&self.subscriber, &letter.subscriber)
            && equal(&self.group, &letter.group)
            && equal(&self.event, &letter.event_name)
            && self
                .since
                .is_none_or(|since| letter.last_failed_at >= since)
            && self.until.is_none_or(|until| letter.last_failed_at < until)
    }
}

/// `2h` (that long ago) or an RFC 3339 time.
fn parse_time(text: &str) -> Result<SystemTime, String> {
    if let Ok(ago) = humantime::parse_duration(text) {
        return SystemTime::now()
            .checked_sub(ago)
            .ok_or_else(|| format!("`{text}` ago is before the epoch"));
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!(
            "`{text}` is neither a duration ago (`90s`, `2h`, `1day`) nor an RFC 3339 time \
             (`2026-11-21T18:00:00Z`)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_durations_ago_or_rfc3339() {
        let an_hour_ago = parse_time("1h").unwrap();
        let elapsed = SystemTime::now().duration_since(an_hour_ago).unwrap();
        assert!(elapsed.as_secs() >= 3600 && elapsed.as_secs() < 3700);
        assert_eq!(
            parse_time("1970-01-01T00:01:00Z").unwrap(),
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(60)
        );
        let error = parse_time("yesterday").unwrap_err();
        assert!(error.contains("neither a duration ago"), "{error}");
    }
}
