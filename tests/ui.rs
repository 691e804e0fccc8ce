//! Compile-time behaviour of `#[derive(Event)]` and `#[subscriber]`: what compiles (and runs),
//! and, for each mistake, the error the user sees. Refresh the expected errors with
//! `TRYBUILD=overwrite cargo test -p tidings-tests --test ui`, then read every `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/*/pass/*.rs");
    t.compile_fail("ui/*/fail/*.rs");
}
