//! Transport URLs, through the common parser and each scheme's own options. Beyond not
//! panicking: a password never shows in the URL's `Display` or `Debug` or in any error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidings_core::transport::TransportUrl;

fuzz_target!(|text: &str| {
    let url = match TransportUrl::parse(text) {
        Ok(url) => url,
        Err(error) => return assert_hidden(text, None, &error.to_string()),
    };
    let password = url.password().map(str::to_owned);
    let password = password.as_deref();
    assert_hidden(text, password, &url.to_string());
    assert_hidden(text, password, &format!("{url:?}"));
    assert_hidden(text, password, &url.without_credentials_or_options());
    let parsed = [
        tidings_core::fuzzing::parse_file_url(&url),
        tidings_nats::fuzzing::parse_url(&url),
        tidings_amqp::fuzzing::parse_url(&url),
    ];
    for result in parsed {
        if let Err(error) = result {
            assert_hidden(text, password, &error.to_string());
            assert_hidden(text, password, &format!("{error:?}"));
        }
    }
});

/// Fails if `shown` contains the URL's password. Only a password that cannot be mistaken for
/// another part of the URL is checked: at least 8 letters or digits, found once in the input.
fn assert_hidden(input: &str, password: Option<&str>, shown: &str) {
    let Some(password) = password else { return };
    let distinct = password.len() >= 8
        && password.bytes().all(|b| b.is_ascii_alphanumeric())
        && input.matches(password).count() == 1;
    assert!(
        !distinct || !shown.contains(password),
        "the password `{password}` shows in `{shown}`"
    );
}
