//! Tests of the `wxpay` command, one module per subject, in one test binary.
//!
//! Each module runs the built binary (`CARGO_BIN_EXE_wxpay`) against a local
//! sandbox. They share one binary rather than one each because every test
//! binary links the whole dependency tree again: one link instead of eleven.
//! Run one subject with its module name as the filter, for example
//! `cargo test -p wxpay-cli --test integration doctor::`.
//!
//! The modules are public, as each file's items were when it was a binary's
//! root: items a module declares for its callers are not dead code.

pub mod support;

pub mod bench;
pub mod bill;
pub mod cli;
pub mod doctor;
pub mod hardening;
pub mod pay_params;
pub mod profiles;
pub mod retries;
pub mod sandbox_exposure;
pub mod sandbox_restart;
pub mod v2;
