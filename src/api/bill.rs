//! `/v3/bill/…`: applying for the daily trade and fund flow bills.
//!
//! Both answer a [`BillInfo`]: a download URL (valid five minutes) and the
//! bill's hash (SHA-1 for these; SHA-256 or SM3 for some other files).
//! [`Client::download_bill`](crate::Client::download_bill) fetches it,
//! checks the hash with the announced algorithm and decompresses it;
//! [`bill::parse_trade_bill`](crate::bill::parse_trade_bill) reads it.
//!
//! ```no_run
//! # async fn run(client: wxpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use wxpay::api::bill::{ApplyTradeBill, BillTarType, BillType};
//!
//! let info = client
//!     .send(ApplyTradeBill {
//!         bill_date: "2019-06-11".into(),
//!         sub_mchid: None,
//!         bill_type: Some(BillType::All),
//!         tar_type: Some(BillTarType::Gzip),
//!     })
//!     .await?;
//! let bill = client.download_bill(&info).await?;
//! for row in bill.parse_trade_bill()?.rows {
//!     println!("{} {} {}", row.trade_time, row.out_trade_no, row.settlement_amount);
//! }
//! # Ok(()) }
//! ```

pub use crate::bill::BillInfo;

string_enum! {
    /// 账单类型: which orders a trade bill lists.
    pub enum BillType {
        /// 当日所有订单 (the default): payments and refunds, recharge
        /// refunds excluded.
        All = "ALL",
        /// 当日成功支付的订单.
        Success = "SUCCESS",
        /// 当日退款订单.
        Refund = "REFUND",
        /// 充值退款订单.
        RechargeRefund = "RECHARGE_REFUND",
        /// 所有订单 (特殊).
        AllSpecial = "ALL_SPECIAL",
        /// 成功订单 (特殊).
        SuccessSpecial = "SUC_SPECIAL",
        /// 退款订单 (特殊).
        RefundSpecial = "REF_SPECIAL",
    }
}

string_enum! {
    /// 压缩类型: how the bill file is compressed.
    pub enum BillTarType {
        /// gzip; the download is decompressed by
        /// [`Client::download_bill`](crate::Client::download_bill).
        Gzip = "GZIP",
    }
}

string_enum! {
    /// 资金账户类型: which account a fund flow bill covers.
    pub enum BillAccountType {
        /// 基本账户 (the default).
        Basic = "BASIC",
        /// 运营账户.
        Operation = "OPERATION",
        /// 手续费账户.
        Fees = "FEES",
    }
}

/// 申请交易账单 — applies for the trade bill of one day
/// (`GET /v3/bill/tradebill`).
///
/// Bills are ready from 10:00 the next day (China time) and kept for
/// three months.
///
/// [Official documentation](https://pay.weixin.qq.com/docs/merchant/apis/bill-download/trade-bill/get-trade-bill.html)
#[crate::endpoint(GET, "/v3/bill/tradebill", response = BillInfo)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyTradeBill {
    /// 账单日期: `YYYY-MM-DD`.
    pub bill_date: String,
    /// 二级商户号 (e-commerce platforms and service providers only).
    pub sub_mchid: Option<String>,
    /// 账单类型; `ALL` when `None`.
    pub bill_type: Option<BillType>,
    /// 压缩类型; uncompressed when `None`.
    pub tar_type: Option<BillTarType>,
}

/// 申请资金账单 — applies for the fund flow bill of one day
/// (`GET /v3/bill/fundflowbill`).
///
/// Read the downloaded bill with
/// [`Bill::parse`](crate::bill::Bill::parse): its rows are
/// `记账时间, 微信支付业务单号, 资金流水单号, …` by column name.
///
/// [Official documentation](https://pay.weixin.qq.com/docs/merchant/apis/bill-download/fund-bill/get-fund-bill.html)
#[crate::endpoint(GET, "/v3/bill/fundflowbill", response = BillInfo)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFundFlowBill {
    /// 账单日期: `YYYY-MM-DD`.
    pub bill_date: String,
    /// 二级商户号 (e-commerce platforms and service providers only).
    pub sub_mchid: Option<String>,
    /// 资金账户类型; `BASIC` when `None`.
    pub account_type: Option<BillAccountType>,
    /// 压缩类型; uncompressed when `None`.
    pub tar_type: Option<BillTarType>,
}
