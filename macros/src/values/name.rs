//! Event, subscriber and group names: `[A-Za-z0-9_.-]+`, so that every transport can use them
//! in subjects, queue names, URL paths and table keys without escaping.
//!
//! The runtime includes this file too (`runtime/src/name.rs`), so that a name typed at run
//! time (`tidings tail NAME`, `bus.tail(name)`) is held to the same rule.

/// Checks `name`; the error names `what` it is and shows an `example` of a good one.
pub(crate) fn check_name(name: &str, what: &str, example: &str) -> Result<(), String> {
    const RULE: &str = "use letters, digits, `_`, `.` and `-`";
    if name.is_empty() {
        return Err(format!("the {what} is empty: {RULE}, like `{example}`"));
    }
    // A URL path step, which HTTP clients resolve away (`tail ..` would reach another route).
    if name == "." || name == ".." {
        return Err(format!(
            "invalid {what} `{name}`: a name of only `.` or `..` is a path step; {RULE}, like \
             `{example}`"
        ));
    }
    match name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        None => Ok(()),
        Some(bad) => Err(format!(
            "invalid {what} `{name}`: {bad:?} is not allowed; {RULE}, like `{example}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn accepts_letters_digits_underscore_dot_dash() {
        for name in ["orders.placed", "a", "A-1_b.c", "order_placed", "v2", "..."] {
            assert_eq!(
                check_name(name, "event name", "orders.placed"),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(
            check_name("", "event name", "orders.placed"),
            Err("the event name is empty: use letters, digits, `_`, `.` and `-`, like `orders.placed`"
                .to_owned())
        );
    }

    #[test]
    fn rejects_the_first_bad_character() {
        assert_eq!(
            check_name("orders placed!", "group", "stock"),
            Err("invalid group `orders placed!`: ' ' is not allowed; use letters, digits, `_`, `.` \
                 and `-`, like `stock`"
                .to_owned())
        );
        for name in [
            "a/b", "a:b", "a*b", "ünï", "a\tb", "a>b", ".", "..", "../stats",
        ] {
            assert!(check_name(name, "event name", "x").is_err(), "{name}");
        }
    }
}
