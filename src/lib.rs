//! # wxpay: WeChat Pay APIv3 for Rust, typed end to end
//!
//! Every WeChat Pay operation is a plain struct; [`Client::send`] signs it,
//! sends it, checks WeChat Pay's signature on the answer and decodes it into
//! the operation's response type.
//!
//! ```no_run
//! # async fn run() -> Result<(), wxpay::Error> {
//! use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;
//!
//! let client = wxpay::Client::builder()
//!     .mchid("1900009191")
//!     .merchant_key_file("5F1C72E2A8931B72A2E13AF8DEE92471EB397115", "apiclient_key.pem")
//!     .wechatpay_public_key_file("PUB_KEY_ID_0114232134912410000000000000", "pub_key.pem")
//!     .build()?;
//! let started = client
//!     .send(StartStock { stock_id: "98065001".into(), stock_creator_mchid: "1900009191".into() })
//!     .await?;
//! println!("{} runs since {}", started.stock_id, started.start_time);
//! # Ok(()) }
//! ```
//!
//! Anything the [catalogue](api) lacks is four lines away with
//! [`#[wxpay::endpoint]`](macro@endpoint):
//!
//! ```
//! #[derive(Debug, serde::Deserialize)]
//! pub struct CloseResponse {}
//!
//! /// 关闭订单 — closes an unpaid order.
//! #[wxpay::endpoint(POST, "/v3/pay/transactions/out-trade-no/<out_trade_no>/close")]
//! pub struct CloseOrder {
//!     pub out_trade_no: String,
//!     pub mchid: String,
//! }
//! ```
//!
//! # Crates
//! - `wxpay` (this crate): the facade, the attribute and the catalogue.
//! - [`wxpay_core`]: the runtime (signing, verification, keys, errors),
//!   re-exported here.
//! - `wxpay-macros`: the attribute's implementation; use it through this crate.
//! - `wxpay-sandbox`: a local WeChat Pay for tests and examples.
//!
//! # Features
//! - `aws-lc` (default): RSA and AES-GCM through aws-lc-rs.
//! - `rust-crypto`: the same through the pure-Rust RustCrypto crates. With
//!   both enabled, [`CryptoBackend`] picks one at run time.

extern crate self as wxpay;

pub use wxpay_core::*;

#[doc = include_str!("endpoint_docs.md")]
pub use wxpay_macros::endpoint;

pub mod api;

#[doc(hidden)]
pub mod __private {
    pub use wxpay_core::__macro_support::*;
}
