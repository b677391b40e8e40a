//! Placeholder; replaced below.
extern crate self as wxpay;
pub use wxpay_core::*;
pub use wxpay_macros::endpoint;
#[doc(hidden)]
pub mod __private {
    pub use wxpay_core::__macro_support::*;
}
