//! `wxpay`'s integration tests, one module per subject, in one test binary.
//!
//! Each file under `tests/` used to be a test binary of its own, and each of
//! those linked the whole dependency tree (with `--all-features`, the full
//! catalogue and the sandbox): some 70 MB and several seconds of linking
//! apiece, thirty times over for every build of the tests. One binary links
//! once. Run one subject with its module name as the filter, for example
//! `cargo test -p wxpay --all-features --test integration sandbox_flow::`.
//!
//! The modules are public, as each file's items were when it was a binary's
//! root: items a module declares for its callers are not dead code.

pub mod support;

pub mod bill;
pub mod bill_digests;
pub mod bill_limits;
pub mod browser;
pub mod callback_replay;
pub mod certificate_trust;
pub mod certificates;
pub mod client;
pub mod conformance;
pub mod encryption;
pub mod handwritten;
pub mod hardening_limits;
pub mod hosts;
pub mod logs;
pub mod notifications;
pub mod old_paths;
pub mod payer;
pub mod personal_data;
pub mod properties;
pub mod render;
pub mod retry;
pub mod sandbox_callback_flows;
pub mod sandbox_faults;
pub mod sandbox_flow;
pub mod sandbox_v2;
pub mod soak;
pub mod transfer_bills;
pub mod upload;
pub mod v2_client;
pub mod v2_protocol;
pub mod wire_vectors;
