//! The CloudEvents `time` attribute: an RFC 3339 timestamp, in any UTC offset. tidings writes
//! UTC (`2026-11-21T18:00:00.123Z`), but other producers write local offsets
//! (`2026-11-21T19:00:00.123+01:00`, as Python's `datetime.isoformat()` does), which humantime
//! alone refuses: it reads UTC only.
//!
//! Every time tidings reads must be one it can write again (a dead letter re-encodes it), so
//! the reader refuses what the writer cannot express: before 1970 or after year 9999 in UTC.
//! humantime's writer panics on those, which inside a worker's settle killed the worker.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last instant RFC 3339 (four-digit years) and humantime can write:
/// `9999-12-31T23:59:59.999Z`.
const LATEST_SECONDS: u64 = 253_402_300_799;

fn latest() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(LATEST_SECONDS) + Duration::from_millis(999)
}

/// Reads an RFC 3339 timestamp (or humantime's laxer UTC form); the error says what is wrong.
pub(crate) fn parse(text: &str) -> Result<SystemTime, String> {
    let Some((local, offset)) = split_offset(text)? else {
        return humantime::parse_rfc3339_weak(text)
            .map_err(|e| e.to_string())
            .and_then(writable);
    };
    let local = humantime::parse_rfc3339_weak(local).map_err(|e| e.to_string())?;
    // UTC is the local time minus its offset.
    let utc = if offset >= 0 {
        local.checked_sub(Duration::from_secs(offset.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset.unsigned_abs()))
    };
    utc.ok_or_else(|| "time out of range".to_owned())
        .and_then(writable)
}

/// `time` if RFC 3339 can write it back in UTC, else why not.
pub(crate) fn writable(time: SystemTime) -> Result<SystemTime, String> {
    if time < UNIX_EPOCH {
        Err(
            "before 1970-01-01T00:00:00Z once its UTC offset is applied; \
             tidings reads times from 1970 to year 9999 in UTC"
                .to_owned(),
        )
    } else if time > latest() {
        Err(
            "after 9999-12-31T23:59:59.999Z once its UTC offset is applied; \
             tidings reads times from 1970 to year 9999 in UTC"
                .to_owned(),
        )
    } else {
        Ok(time)
    }
}

/// `time` in RFC 3339 UTC with milliseconds. Never panics: a time outside what RFC 3339 can
/// write (only a `SystemTime` made in code can be, since [`parse`] refuses them) is written as
/// the nearest one it can.
pub fn format(time: SystemTime) -> String {
    let time = time.clamp(UNIX_EPOCH, latest());
    humantime::format_rfc3339_millis(time).to_string()
}

/// The local time and the offset in seconds, when `text` ends in a numeric offset `±HH:MM`.
/// One that is not valid is an error here: humantime would take any `+..:..` for UTC.
fn split_offset(text: &str) -> Result<Option<(&str, i64)>, String> {
    let Some((local, offset)) = text
        .len()
        .checked_sub(6)
        .and_then(|at| text.split_at_checked(at))
    else {
        return Ok(None);
    };
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return Ok(None),
    };
    // The date's `-` separators come before the time of day, never here.
    if local.len() < "2026-11-21T18:00:00".len() {
        return Ok(None);
    }
    let number = |part: &str, below: i64| {
        let valid = part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
        valid
            .then(|| part.parse::<i64>().ok())
            .flatten()
            .filter(|n| *n < below)
    };
    let (hours, minutes) = offset[1..]
        .split_once(':')
        .and_then(|(hours, minutes)| Some((number(hours, 24)?, number(minutes, 60)?)))
        .ok_or_else(|| format!("UTC offset `{offset}` is not `±HH:MM`"))?;
    Ok(Some((local, sign * (hours * 3600 + minutes * 60))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_utc_offset_reads_as_the_same_instant() {
        let utc = parse("2026-11-21T18:00:00.123Z").unwrap();
        for text in [
            "2026-11-21T18:00:00.123+00:00",
            "2026-11-21T18:00:00.123-00:00",
            "2026-11-21T19:00:00.123+01:00",
            "2026-11-21T19:00:00.123000+01:00",
            "2026-11-21T13:00:00.123-05:00",
            "2026-11-22T03:30:00.123+09:30",
        ] {
            assert_eq!(parse(text), Ok(utc), "{text}");
        }
        assert_eq!(
            parse("2026-11-21T18:00:00+01:00"),
            Ok(parse("2026-11-21T17:00:00Z").unwrap())
        );
    }

    #[test]
    fn malformed_times_are_errors() {
        for text in [
            "2026-11-21T18:00:00.123+1:00",
            "2026-11-21T18:00:00.123+25:00",
            "2026-11-21T18:00:00.123+01:60",
            "2026-11-21T18:00:00+0100",
            "2026-11-21",
            "yesterday",
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn times_that_cannot_be_written_back_are_refused_with_why() {
        for (text, why) in [
            ("1970-01-01T00:00:00+01:00", "before 1970"),
            ("1970-01-01T00:59:59.999+01:00", "before 1970"),
            ("9999-12-31T23:59:59-23:59", "after 9999"),
            ("9999-12-31T23:59:59.999-00:01", "after 9999"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
        // The edges themselves are fine, and write back as they read.
        for text in ["1970-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(
            format(parse("1970-01-01T01:00:00+01:00").unwrap()),
            "1970-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn formatting_never_panics() {
        let before = UNIX_EPOCH - Duration::from_secs(3600);
        assert_eq!(format(before), "1970-01-01T00:00:00.000Z");
        let after = UNIX_EPOCH + Duration::from_secs(LATEST_SECONDS + 86_400);
        assert_eq!(format(after), "9999-12-31T23:59:59.999Z");
    }
}
