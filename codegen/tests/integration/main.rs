//! The generator's tests, one module per subject, in one test binary (each
//! test binary links the generator, `wxpay` and the sandbox again).
//!
//! - `crates`, `groups`, `shapes`: what the generator writes, from the spec;
//! - `catalogue` and `conformance` (with the `full` feature, which builds the
//!   whole catalogue): the generated types against the spec's examples, and
//!   every operation sent to the sandbox with its answer decoded.
//!
//! They say SKIPPED, loudly, when the spec is not there. Run one subject with
//! its module name as the filter, for example
//! `cargo test -p wxpay-codegen --test integration crates::`.
//!
//! The modules are public, as each file's items were when it was a binary's
//! root: items a module declares for its callers are not dead code.

pub mod common;

#[cfg(feature = "full")]
pub mod catalogue;
#[cfg(feature = "full")]
pub mod conformance;
pub mod crates;
pub mod groups;
pub mod shapes;
