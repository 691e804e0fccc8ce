//! Rate limits: `N/UNIT` with a bare unit (`100/s`, `5/m`, `1/h`) or a duration (`10/250ms`).

use std::time::Duration;

use super::parse_duration;

/// At most `count` attempts start per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    pub(crate) count: u32,
    pub(crate) per: Duration,
}

pub(crate) fn parse_rate(text: &str) -> Result<Rate, String> {
    let form = || {
        format!(
            "invalid rate `{text}`: write a count per period: `100/s`, `5/m`, `1/h` or `10/250ms`"
        )
    };
    let (count_text, per_text) = text.split_once('/').ok_or_else(form)?;
    let (count_text, per_text) = (count_text.trim(), per_text.trim());
    if count_text.is_empty() || !count_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(form());
    }
    let count: u32 = count_text.parse().map_err(|_| {
        format!(
            "invalid rate `{text}`: the count `{count_text}` is larger than {}",
            u32::MAX
        )
    })?;
    if count == 0 {
        return Err(format!(
            "invalid rate `{text}`: the count must be at least 1"
        ));
    }
    // A bare unit means one of it: `100/s` is `100/1s`.
    let per = if per_text.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(per_text)
    } else {
        parse_duration(&format!("1{per_text}"))
    };
    let per = per.map_err(|_| form())?;
    if per.is_zero() {
        return Err(format!(
            "invalid rate `{text}`: the period must be longer than zero"
        ));
    }
    Ok(Rate { count, per })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(count: u32, per: Duration) -> Result<Rate, String> {
        Ok(Rate { count, per })
    }

    #[test]
    fn bare_units_and_durations() {
        assert_eq!(parse_rate("100/s"), rate(100, Duration::from_secs(1)));
        assert_eq!(parse_rate("5/m"), rate(5, Duration::from_secs(60)));
        assert_eq!(parse_rate("1/h"), rate(1, Duration::from_secs(3600)));
        assert_eq!(parse_rate("10/250ms"), rate(10, Duration::from_millis(250)));
        assert_eq!(parse_rate("3/2s"), rate(3, Duration::from_secs(2)));
        assert_eq!(parse_rate(" 7 / ms "), rate(7, Duration::from_millis(1)));
        assert_eq!(
            parse_rate("4294967295/s"),
            rate(u32::MAX, Duration::from_secs(1))
        );
    }

    #[test]
    fn explains_the_form() {
        assert_eq!(
            parse_rate("100 per second"),
            Err("invalid rate `100 per second`: write a count per period: `100/s`, `5/m`, `1/h` or `10/250ms`"
                .to_owned())
        );
        for bad in [
            "", "/s", "100", "100/", "100/d", "-1/s", "1.5/s", "100/s/s", "x/s",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_count_and_period() {
        assert_eq!(
            parse_rate("0/s"),
            Err("invalid rate `0/s`: the count must be at least 1".to_owned())
        );
        assert_eq!(
            parse_rate("1/0ms"),
            Err("invalid rate `1/0ms`: the period must be longer than zero".to_owned())
        );
        assert!(
            parse_rate("4294967296/s")
                .unwrap_err()
                .contains("larger than 4294967295")
        );
    }
}
