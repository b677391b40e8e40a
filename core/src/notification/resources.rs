//! Typed resources of the common callbacks, for direct merchants.
//!
//! | event types | resource |
//! |---|---|
//! | `TRANSACTION.SUCCESS` | [`Transaction`] |
//! | `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED` | [`RefundNotification`] |
//! | `COUPON.SEND`, `COUPON.USE` | [`CouponNotification`] |
//! | `MCHTRANSFER.BILL.FINISHED` | [`MchTransferBillNotification`] |
//!
//! Field names are WeChat Pay's. Fields WeChat Pay may leave out are
//! `Option`s; fields not listed here are ignored, so new ones do not break
//! decoding. Amounts are integers in the currency's smallest unit (fen,
//! 分, for CNY); times are RFC 3339 text as sent
//! (`2018-06-08T10:34:56+08:00`). Enumerated values (states, types) are
//! kept as text, since WeChat Pay adds values over time.
//!
//! Service providers (服务商) receive `sp_mchid`/`sub_mchid` shapes that these
//! types do not model: decode those into your own type or
//! [`serde_json::Value`].

use serde::{Deserialize, Serialize};

/// The resource of `TRANSACTION.SUCCESS`: a paid order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// The app id the order was placed under.
    pub appid: String,
    /// The merchant id.
    pub mchid: String,
    /// The merchant's order number.
    pub out_trade_no: String,
    /// WeChat Pay's order number.
    pub transaction_id: String,
    /// How the payment was made: `JSAPI`, `NATIVE`, `APP`, `MICROPAY`,
    /// `MWEB`, `FACEPAY`.
    pub trade_type: String,
    /// The order state: `SUCCESS` for this event (also `REFUND`, `NOTPAY`,
    /// `CLOSED`, `REVOKED`, `USERPAYING`, `PAYERROR` in queries).
    pub trade_state: String,
    /// A description of the state, for people.
    pub trade_state_desc: String,
    /// The payer's bank or funding source (`CMC`, `OTHERS`, …).
    pub bank_type: String,
    /// The merchant's `attach` text from the order, returned unchanged.
    #[serde(default)]
    pub attach: Option<String>,
    /// When the payment completed.
    pub success_time: String,
    /// Who paid.
    pub payer: Payer,
    /// How much.
    pub amount: TransactionAmount,
    /// The device the order was placed on, when the order said.
    #[serde(default)]
    pub scene_info: Option<SceneInfo>,
    /// The discounts applied to the payment, when any.
    #[serde(default)]
    pub promotion_detail: Option<Vec<PromotionDetail>>,
}

impl Transaction {
    /// Whether `trade_state` is `SUCCESS`.
    pub fn is_success(&self) -> bool {
        self.trade_state == "SUCCESS"
    }
}

/// The payer of a [`Transaction`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Payer {
    /// The payer's open id under the order's app id.
    pub openid: String,
}

/// The amounts of a [`Transaction`], in the smallest currency unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransactionAmount {
    /// The order's total.
    pub total: i64,
    /// What the payer actually paid (the total minus discounts).
    pub payer_total: i64,
    /// The order's currency (`CNY`).
    pub currency: String,
    /// The currency the payer paid in.
    pub payer_currency: String,
}

/// Where a [`Transaction`] was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SceneInfo {
    /// The merchant's device id.
    #[serde(default)]
    pub device_id: Option<String>,
}

/// One discount applied to a [`Transaction`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromotionDetail {
    /// The coupon's id.
    pub coupon_id: String,
    /// The discount's name.
    #[serde(default)]
    pub name: Option<String>,
    /// `GLOBAL` (the whole order) or `SINGLE` (single items).
    #[serde(default)]
    pub scope: Option<String>,
    /// `CASH` (funded in advance) or `NOCASH` (not funded in advance).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The discount's amount.
    pub amount: i64,
    /// The coupon stock (批次) the coupon belongs to.
    #[serde(default)]
    pub stock_id: Option<String>,
    /// The part of the discount WeChat Pay funded.
    #[serde(default)]
    pub wechatpay_contribute: Option<i64>,
    /// The part the merchant funded.
    #[serde(default)]
    pub merchant_contribute: Option<i64>,
    /// The part others funded.
    #[serde(default)]
    pub other_contribute: Option<i64>,
    /// The discount's currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// The items the discount applied to, for single-item discounts.
    #[serde(default)]
    pub goods_detail: Option<Vec<PromotionGoods>>,
}

/// An item a [`PromotionDetail`] applied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromotionGoods {
    /// The item's code.
    pub goods_id: String,
    /// How many.
    pub quantity: i64,
    /// The unit price.
    pub unit_price: i64,
    /// The discount on this item.
    pub discount_amount: i64,
    /// The merchant's remark on the item.
    #[serde(default)]
    pub goods_remark: Option<String>,
}

/// The resource of `REFUND.SUCCESS`, `REFUND.ABNORMAL` and `REFUND.CLOSED`:
/// a refund that reached a final state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundNotification {
    /// The merchant id.
    pub mchid: String,
    /// The merchant's order number of the refunded order.
    pub out_trade_no: String,
    /// WeChat Pay's order number of the refunded order.
    pub transaction_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat Pay's refund number.
    pub refund_id: String,
    /// `SUCCESS`, `CLOSED` or `ABNORMAL`.
    pub refund_status: String,
    /// When the refund completed (`REFUND.SUCCESS` only).
    #[serde(default)]
    pub success_time: Option<String>,
    /// Where the money went back to, in words (`招商银行信用卡0403`,
    /// `支付用户零钱`, …).
    #[serde(default)]
    pub user_received_account: Option<String>,
    /// How much.
    pub amount: RefundAmount,
}

impl RefundNotification {
    /// Whether `refund_status` is `SUCCESS`.
    pub fn is_success(&self) -> bool {
        self.refund_status == "SUCCESS"
    }
}

/// The amounts of a [`RefundNotification`], in the smallest currency unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundAmount {
    /// The original order's total.
    pub total: i64,
    /// The amount refunded.
    pub refund: i64,
    /// What the payer paid for the original order.
    pub payer_total: i64,
    /// What goes back to the payer.
    pub payer_refund: i64,
}

/// The resource of `COUPON.SEND` and `COUPON.USE`: a coupon of one of the
/// merchant's stocks, as it is after the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CouponNotification {
    /// The merchant that created the stock.
    pub stock_creator_mchid: String,
    /// The stock (批次) id.
    pub stock_id: String,
    /// The coupon's id.
    pub coupon_id: String,
    /// The coupon's name.
    pub coupon_name: String,
    /// The coupon's usage notes.
    #[serde(default)]
    pub description: Option<String>,
    /// The coupon's state: `SENDED` (received, usable), `USED`, `EXPIRED`.
    pub status: String,
    /// When the user received the coupon.
    pub create_time: String,
    /// `NORMAL` (fixed amount off above a threshold) or `CUT_TO` (price cut
    /// to a fixed amount).
    pub coupon_type: String,
    /// Whether the coupon is funded without prepayment (免充值).
    #[serde(default)]
    pub no_cash: Option<bool>,
    /// From when the coupon can be used.
    #[serde(default)]
    pub available_begin_time: Option<String>,
    /// Until when the coupon can be used.
    #[serde(default)]
    pub available_end_time: Option<String>,
    /// Whether the coupon applies to single items.
    #[serde(default)]
    pub singleitem: Option<bool>,
    /// The amount and threshold of a `NORMAL` coupon.
    #[serde(default)]
    pub normal_coupon_information: Option<NormalCouponInformation>,
    /// The price limits of a `CUT_TO` coupon.
    #[serde(default)]
    pub cut_to_message: Option<CutToMessage>,
    /// How the coupon was used (`COUPON.USE`).
    #[serde(default)]
    pub consume_information: Option<ConsumeInformation>,
}

/// The terms of a fixed-amount coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NormalCouponInformation {
    /// The amount off.
    pub coupon_amount: i64,
    /// The smallest order total the coupon applies to.
    pub transaction_minimum: i64,
}

/// The terms of a cut-to-price coupon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CutToMessage {
    /// The highest unit price the coupon applies to.
    #[serde(default)]
    pub single_price_max: Option<i64>,
    /// The unit price after the cut.
    #[serde(default)]
    pub cut_to_price: Option<i64>,
}

/// Where and when a coupon was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsumeInformation {
    /// When the coupon was used.
    pub consume_time: String,
    /// The merchant it was used at.
    pub consume_mchid: String,
    /// The payment it was used in.
    pub transaction_id: String,
    /// The items it applied to, for single-item coupons.
    #[serde(default)]
    pub goods_detail: Option<Vec<ConsumeGoods>>,
}

/// An item a used coupon applied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsumeGoods {
    /// The item's code.
    pub goods_id: String,
    /// How many.
    pub quantity: i64,
    /// The unit price.
    pub price: i64,
    /// The discount on this item.
    pub discount_amount: i64,
}

/// The resource of `MCHTRANSFER.BILL.FINISHED` (商家转账单据终态通知,
/// `original_type` `mch_payment`): a merchant transfer bill
/// (`/v3/fund-app/mch-transfer/transfer-bills`) that reached a final
/// state, `SUCCESS`, `FAIL` or `CANCELLED`.
///
/// ```
/// use wxpay_core::notification::resources::MchTransferBillNotification;
///
/// let bill: MchTransferBillNotification = serde_json::from_str(r#"{
///     "out_bill_no": "plfk2020042013", "transfer_bill_no": "1330000071100999991182020050700019480001",
///     "state": "FAIL", "mch_id": "1900001109", "transfer_amount": 2000,
///     "openid": "o-MYE42l80oelYMDE34nYD456Xoy", "fail_reason": "OVERDUE_CLOSE",
///     "create_time": "2025-01-01T12:00:00+08:00", "update_time": "2025-01-02T12:00:00+08:00"
/// }"#)?;
/// assert!(!bill.is_success());
/// assert_eq!(bill.fail_reason.as_deref(), Some("OVERDUE_CLOSE"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MchTransferBillNotification {
    /// The merchant's bill number (`out_bill_no` of the create call).
    pub out_bill_no: String,
    /// WeChat Pay's bill number.
    pub transfer_bill_no: String,
    /// The final state: `SUCCESS`, `FAIL` or `CANCELLED`.
    pub state: String,
    /// The merchant id (note the underscore: `mch_id`, not `mchid`).
    pub mch_id: String,
    /// The amount transferred, in fen.
    pub transfer_amount: i64,
    /// The payee, under the bill's appid.
    pub openid: String,
    /// Why the bill failed (`FAIL` only): `ACCOUNT_FROZEN`,
    /// `OVERDUE_CLOSE`, `TRANSFER_RISK`, ….
    #[serde(default)]
    pub fail_reason: Option<String>,
    /// When the bill was created.
    pub create_time: String,
    /// When its state last changed.
    pub update_time: String,
}

impl MchTransferBillNotification {
    /// Whether `state` is `SUCCESS`: the money reached the payee.
    pub fn is_success(&self) -> bool {
        self.state == "SUCCESS"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_bill_notification_decodes() {
        let text = r#"{"out_bill_no":"plfk2020042013","transfer_bill_no":"1330000071100999991182020050700019480001",
            "state":"SUCCESS","mch_id":"1900001109","transfer_amount":2000,
            "openid":"o-MYE42l80oelYMDE34nYD456Xoy","create_time":"2025-01-01T12:00:00+08:00",
            "update_time":"2025-01-01T12:05:00+08:00","a_field_added_later":1}"#;
        let bill: MchTransferBillNotification = serde_json::from_str(text).expect("decodes");
        assert!(bill.is_success());
        assert_eq!(bill.mch_id, "1900001109");
        assert_eq!(bill.transfer_amount, 2000);
        assert_eq!(bill.fail_reason, None);
        assert_eq!(bill.update_time, "2025-01-01T12:05:00+08:00");
    }
}
