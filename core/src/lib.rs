//! Placeholder; replaced below.
#[cfg(not(any(feature = "aws-lc", feature = "rust-crypto")))]
compile_error!("wxpay-core needs a crypto backend: enable the `aws-lc` feature (the default) or `rust-crypto`");

pub mod crypto;
pub mod endpoint;
pub mod keys;
pub mod target;
#[doc(hidden)]
pub mod __macro_support;

pub use endpoint::{Body, Endpoint, Method, NoContent};
pub use target::{BuildError, Target};
