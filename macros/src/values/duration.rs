//! Durations written `<integer><unit>`: `500us`, `250ms`, `2s`, `1m`, `1h`.

use std::time::Duration;

const FORM: &str =
    "write a number and a unit: `500ms`, `2s`, `1m` (units: `us`, `ms`, `s`, `m`, `h`)";

/// Parses a duration; zero is allowed here, callers that need a positive one say so.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!("invalid duration `{text}`: {FORM}"));
    }
    let too_long = || format!("invalid duration `{text}`: too long to represent");
    // Any digit string that does not fit a u64 is an overflow: the prefix holds only digits.
    let count: u64 = digits.parse().map_err(|_| too_long())?;
    let seconds = |per_unit: u64| {
        count
            .checked_mul(per_unit)
            .map(Duration::from_secs)
            .ok_or_else(too_long)
    };
    match unit {
        "us" => Ok(Duration::from_micros(count)),
        "ms" => Ok(Duration::from_millis(count)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "" => Err(format!(
            "invalid duration `{text}`: the unit is missing; {FORM}"
        )),
        _ if unit.chars().all(|c| c.is_ascii_alphabetic()) => Err(format!(
            "invalid duration `{text}`: unknown unit `{unit}`; {FORM}"
        )),
        // Spaces, signs, fractions: the form is wrong, not just the unit.
        _ => Err(format!("invalid duration `{text}`: {FORM}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit() {
        assert_eq!(parse_duration("7us"), Ok(Duration::from_micros(7)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn largest_values() {
        assert_eq!(
            parse_duration("18446744073709551615s"),
            Ok(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_duration("18446744073709551615us"),
            Ok(Duration::from_micros(u64::MAX))
        );
        assert!(
            parse_duration("18446744073709551616ms")
                .unwrap_err()
                .contains("too long")
        );
        assert!(
            parse_duration("18446744073709551615h")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn explains_the_form() {
        assert_eq!(
            parse_duration("2 seconds"),
            Err(
                "invalid duration `2 seconds`: write a number and a unit: `500ms`, `2s`, `1m` \
                 (units: `us`, `ms`, `s`, `m`, `h`)"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_duration("5sec"),
            Err(
                "invalid duration `5sec`: unknown unit `sec`; write a number and a unit: `500ms`, \
                 `2s`, `1m` (units: `us`, `ms`, `s`, `m`, `h`)"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_duration("fast"),
            Err(
                "invalid duration `fast`: write a number and a unit: `500ms`, `2s`, `1m` \
                 (units: `us`, `ms`, `s`, `m`, `h`)"
                    .to_owned()
            )
        );
        assert!(
            parse_duration("10")
                .unwrap_err()
                .contains("the unit is missing")
        );
        for bad in ["", "s", "-1s", "1.5s", "1d", "1 s", "1S", "+1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
