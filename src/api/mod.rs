//! The built-in endpoint catalogue: WeChat Pay APIv3 operations declared
//! with [`#[wxpay::endpoint]`](macro@crate::endpoint), request and response types
//! included.
//!
//! Every operation is a struct: fill it in and pass it to
//! [`Client::send`](crate::Client::send). Modules follow the API's path
//! (`/v3/marketing/favor/…` lives in [`marketing::favor`]).

#[macro_use]
mod string_enum;

pub mod bill;
pub mod marketing;
pub mod media;
