//! The `#[wxpay::endpoint]` attribute. Use it through the `wxpay` crate,
//! which documents it in full: generated code names `wxpay`'s hidden API, so
//! this crate is pinned to `wxpay`'s exact version and has no use on its own.
//!
//! Each macro lives in its own module and goes through three separate
//! stages: parse the tokens into a typed model, validate the model
//! (collecting every error, each at the token it is about), then generate
//! code from the validated model. The functions here are thin shims.

mod endpoint;
mod suggest;

use proc_macro::TokenStream;

/// *Implementation note:* this attribute is defined in the `wxpay-macros`
/// crate and used as `wxpay::endpoint`. The code it generates names
/// `wxpay`'s hidden support module, so the two crates are released together
/// at the same version.
#[proc_macro_attribute]
pub fn endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    endpoint::expand(args.into(), item.into()).into()
}
