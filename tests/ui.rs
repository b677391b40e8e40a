//! Compile-time behaviour of `#[wxpay::endpoint]`: declarations that must
//! compile (`ui/pass`), and mistakes that must not, each pinned with the
//! exact error the user sees (`ui/fail/*.stderr`).
//!
//! After a deliberate change to a message, regenerate the expectations with
//! `TRYBUILD=overwrite cargo test -p wxpay --test ui` and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
