//! Compile-time behaviour of `#[wxpay::endpoint]`: declarations that must
//! compile (`ui/pass`), and mistakes that must not, each pinned with the
//! exact error the user sees (`ui/fail/*.stderr`).
//!
//! After a deliberate change to a message, regenerate the expectations with
//! `TRYBUILD=overwrite cargo test -p wxpay-macros --test ui` and read the diff.
//!
//! The cases live with the macro rather than with `wxpay` for what trybuild
//! builds: it compiles every case against its own copy of the dependencies,
//! with the features this crate's dev-dependencies name. From here that is
//! `wxpay` with the pure-Rust backend and no catalogue area; from `wxpay`'s
//! own tests under `--all-features` it was the whole catalogue and aws-lc's
//! C library, built once more, for a macro whose output is the same either way.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
