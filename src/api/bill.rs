//! `/v3/bill/…`: applying for the daily trade and fund flow bills.
//!
//! Both answer a [`BillInfo`]: a download URL (valid five minutes) and the
//! bill's hash (SHA-1 for these; SHA-256 or SM3 for some other files).
//! [`Client::download_bill`](crate::Client::download_bill) fetches it,
//! checks the hash with the announced algorithm and decompresses it;
//! [`bill::parse_trade_bill`](crate::bill::parse_trade_bill) reads it.
//!
//! The operations are the catalogue's (`wxpay::api::v3::bill`, feature
//! `bill`), named here as before; the catalogue's declarations take this
//! module's enums and answer [`BillInfo`] (`codegen/src/overrides.rs`).

pub use crate::bill::BillInfo;

pub use wxpay_api_types::bill::{BillAccountType, BillTarType, BillType};

/// 申请交易账单 — applies for the trade bill of one day
/// (`GET /v3/bill/tradebill`): the catalogue's
/// [`tradebill::Get`](crate::api::v3::bill::tradebill::Get).
///
/// Bills are ready from 10:00 the next day (China time) and kept for
/// three months.
///
/// ```no_run
/// # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use wxpay::api::bill::{ApplyTradeBill, BillTarType, BillType};
///
/// let info = client
///     .send(
///         ApplyTradeBill::new("2019-06-11")
///             .with_bill_type(BillType::All)
///             .with_tar_type(BillTarType::Gzip),
///     )
///     .await?;
/// let bill = client.download_bill(&info).await?;
/// for row in bill.parse_trade_bill()?.rows {
///     println!("{} {} {}", row.trade_time, row.out_trade_no, row.settlement_amount);
/// }
/// # Ok(()) }
/// ```
#[cfg(feature = "bill")]
pub type ApplyTradeBill = crate::api::v3::bill::tradebill::Get;

/// 申请资金账单 — applies for the fund flow bill of one day
/// (`GET /v3/bill/fundflowbill`): the catalogue's
/// [`fundflowbill::Get`](crate::api::v3::bill::fundflowbill::Get).
///
/// Read the downloaded bill with
/// [`Bill::parse`](crate::bill::Bill::parse): its rows are
/// `记账时间, 微信支付业务单号, 资金流水单号, …` by column name.
#[cfg(feature = "bill")]
pub type ApplyFundFlowBill = crate::api::v3::bill::fundflowbill::Get;
