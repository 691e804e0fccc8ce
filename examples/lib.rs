//! Runnable tidings programs live in this package's `[[example]]` targets.
