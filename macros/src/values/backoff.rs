//! Retry backoff: `exponential(INITIAL, MAX)`, `fixed(DELAY)` or `none`.

use std::time::Duration;

use super::parse_duration;

/// A backoff as the macro emits it: the runtime's `tidings::Backoff`, built at compile time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backoff {
    Fixed(Duration),
    Exponential { initial: Duration, max: Duration },
}

pub(crate) fn parse_backoff(text: &str) -> Result<Backoff, String> {
    let form = || {
        format!("invalid backoff `{text}`: write `exponential(50ms, 5s)`, `fixed(100ms)` or `none`")
    };
    let in_backoff = |error: String| format!("in backoff `{text}`: {error}");
    let trimmed = text.trim();
    if trimmed == "none" {
        return Ok(Backoff::Fixed(Duration::ZERO));
    }
    if let Some(delay) = arguments(trimmed, "fixed") {
        return parse_duration(delay.trim())
            .map(Backoff::Fixed)
            .map_err(in_backoff);
    }
    let Some((initial_text, max_text)) =
        arguments(trimmed, "exponential").and_then(|args| args.split_once(','))
    else {
        return Err(form());
    };
    let (initial_text, max_text) = (initial_text.trim(), max_text.trim());
    let initial = parse_duration(initial_text).map_err(in_backoff)?;
    let max = parse_duration(max_text).map_err(in_backoff)?;
    if initial.is_zero() {
        return Err(format!(
            "invalid backoff `{text}`: the initial delay must be longer than zero (write `none` for no delay)"
        ));
    }
    if initial > max {
        return Err(format!(
            "invalid backoff `{text}`: the initial delay `{initial_text}` is longer than the maximum `{max_text}`"
        ));
    }
    Ok(Backoff::Exponential { initial, max })
}

/// The text between `function(` and the closing `)`.
fn arguments<'a>(text: &'a str, function: &str) -> Option<&'a str> {
    text.strip_prefix(function)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn every_form() {
        assert_eq!(parse_backoff("none"), Ok(Backoff::Fixed(Duration::ZERO)));
        assert_eq!(parse_backoff("fixed(100ms)"), Ok(Backoff::Fixed(MS(100))));
        assert_eq!(
            parse_backoff("fixed(0s)"),
            Ok(Backoff::Fixed(Duration::ZERO))
        );
        assert_eq!(
            parse_backoff("exponential(50ms, 5s)"),
            Ok(Backoff::Exponential {
                initial: MS(50),
                max: MS(5000)
            })
        );
        assert_eq!(
            parse_backoff(" exponential (1s,1s) "),
            Ok(Backoff::Exponential {
                initial: MS(1000),
                max: MS(1000)
            })
        );
    }

    #[test]
    fn explains_the_form() {
        let form =
            "invalid backoff `linear(1s)`: write `exponential(50ms, 5s)`, `fixed(100ms)` or `none`";
        assert_eq!(parse_backoff("linear(1s)"), Err(form.to_owned()));
        for bad in [
            "",
            "exponential(1s)",
            "exponential(1s, 2s, 3s)",
            "fixed",
            "fixed(1s",
            "None",
        ] {
            assert!(parse_backoff(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_the_delays() {
        assert_eq!(
            parse_backoff("exponential(5s, 50ms)"),
            Err("invalid backoff `exponential(5s, 50ms)`: the initial delay `5s` is longer than the maximum `50ms`"
                .to_owned())
        );
        assert!(
            parse_backoff("exponential(0ms, 1s)")
                .unwrap_err()
                .contains("longer than zero")
        );
        assert!(
            parse_backoff("fixed(1 sec)")
                .unwrap_err()
                .starts_with("in backoff `fixed(1 sec)`: invalid duration `1 sec`")
        );
    }
}
