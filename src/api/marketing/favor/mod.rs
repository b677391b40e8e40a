//! `/v3/marketing/favor/…`: coupon stocks (代金券).
//!
//! The lifecycle of a stock: [`CreateStock`] (state `unactivated`) →
//! [`StartStock`] (`running`) ⇄ [`PauseStock`] / [`RestartStock`]
//! (`paused`); [`QueryStock`] and [`ListStocks`] read it back.
//!
//! ```no_run
//! # async fn run(client: wxpay::Client) -> Result<(), wxpay::Error> {
//! use wxpay::api::marketing::favor::StartStock;
//!
//! let started = client
//!     .send(StartStock { stock_id: "98065001".into(), stock_creator_mchid: "1900009191".into() })
//!     .await?;
//! println!("running since {}", started.start_time);
//! # Ok(()) }
//! ```

mod stocks;
mod types;

pub use stocks::*;
pub use types::*;
