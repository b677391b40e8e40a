//! The coupon-stock operations.

use serde::{Deserialize, Serialize};

use super::types::{
    CouponUseRule, CutToMessage, PatternInfo, StockStatus, StockType, StockUseRule,
};

/// 创建代金券批次 — creates a coupon stock (`POST /v3/marketing/favor/coupon-stocks`).
///
/// The stock starts `unactivated`; activate it with [`StartStock`].
/// `out_request_no` makes the call idempotent.
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_1.shtml)
#[crate::endpoint(POST, "/v3/marketing/favor/coupon-stocks", response = CreateStockResponse)]
#[derive(Debug, Clone, PartialEq)]
pub struct CreateStock {
    /// 批次名称: the stock's name.
    pub stock_name: String,
    /// 批次备注: a private remark.
    pub comment: Option<String>,
    /// 归属商户号: the merchant the stock belongs to.
    pub belong_merchant: String,
    /// 开始时间 (RFC 3339).
    pub available_begin_time: String,
    /// 结束时间 (RFC 3339).
    pub available_end_time: String,
    /// 发放规则: how many coupons may be handed out.
    pub stock_use_rule: StockUseRule,
    /// 样式信息: how the coupon looks.
    pub pattern_info: Option<PatternInfo>,
    /// 核销规则: how the coupon may be used.
    pub coupon_use_rule: CouponUseRule,
    /// 是否无资金流: `true` for a stock without prepaid funds.
    pub no_cash: bool,
    /// 批次类型.
    pub stock_type: StockType,
    /// 商户单据号: the merchant's idempotency key for this creation.
    pub out_request_no: String,
    /// 扩展属性.
    pub ext_info: Option<String>,
}

/// The answer to [`CreateStock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreateStockResponse {
    /// 批次号: the new stock's id.
    pub stock_id: String,
    /// 创建时间 (RFC 3339).
    pub create_time: String,
}

/// 激活代金券批次 — activates a coupon stock
/// (`POST /v3/marketing/favor/stocks/{stock_id}/start`).
///
/// For a prepaid stock, activation locks the stock's budget in the
/// merchant's balance.
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_3.shtml)
#[crate::endpoint(POST, "/v3/marketing/favor/stocks/<stock_id>/start", response = StartStockResponse)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartStock {
    /// 批次号 (path).
    pub stock_id: String,
    /// 创建批次的商户号.
    pub stock_creator_mchid: String,
}

/// The answer to [`StartStock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartStockResponse {
    /// 生效时间 (RFC 3339).
    pub start_time: String,
    /// 批次号.
    pub stock_id: String,
}

/// 暂停代金券批次 — pauses a running coupon stock
/// (`POST /v3/marketing/favor/stocks/{stock_id}/pause`).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_13.shtml)
#[crate::endpoint(POST, "/v3/marketing/favor/stocks/<stock_id>/pause", response = PauseStockResponse)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseStock {
    /// 批次号 (path).
    pub stock_id: String,
    /// 创建批次的商户号.
    pub stock_creator_mchid: String,
}

/// The answer to [`PauseStock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PauseStockResponse {
    /// 暂停时间 (RFC 3339).
    pub pause_time: String,
    /// 批次号.
    pub stock_id: String,
}

/// 重启代金券批次 — restarts a paused coupon stock
/// (`POST /v3/marketing/favor/stocks/{stock_id}/restart`).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_14.shtml)
#[crate::endpoint(POST, "/v3/marketing/favor/stocks/<stock_id>/restart", response = RestartStockResponse)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartStock {
    /// 批次号 (path).
    pub stock_id: String,
    /// 创建批次的商户号.
    pub stock_creator_mchid: String,
}

/// The answer to [`RestartStock`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RestartStockResponse {
    /// 重启时间 (RFC 3339).
    pub restart_time: String,
    /// 批次号.
    pub stock_id: String,
}

/// 查询批次详情 — reads one coupon stock
/// (`GET /v3/marketing/favor/stocks/{stock_id}?stock_creator_mchid=…`).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_5.shtml)
#[crate::endpoint(GET, "/v3/marketing/favor/stocks/<stock_id>", response = Stock)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStock {
    /// 批次号 (path).
    pub stock_id: String,
    /// 创建批次的商户号 (query).
    pub stock_creator_mchid: String,
}

/// 条件查询批次列表 — lists coupon stocks, newest first, a page at a time
/// (`GET /v3/marketing/favor/stocks`).
///
/// [Official documentation](https://pay.weixin.qq.com/wiki/doc/apiv3/wxpay/marketing/convention/chapter3_4.shtml)
#[crate::endpoint(GET, "/v3/marketing/favor/stocks", response = StockList)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListStocks {
    /// 分页页码: the page offset, from 0.
    pub offset: u32,
    /// 分页大小: the page size, 1 to 10.
    pub limit: u32,
    /// 创建批次的商户号.
    pub stock_creator_mchid: String,
    /// 起始时间 (RFC 3339): only stocks created from then on.
    pub create_start_time: Option<String>,
    /// 终止时间 (RFC 3339): only stocks created until then.
    pub create_end_time: Option<String>,
    /// 批次状态: only stocks in this state.
    pub status: Option<StockStatus>,
}

/// One page of [`ListStocks`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StockList {
    /// 批次总数: how many stocks match, across pages.
    pub total_count: u64,
    /// 分页大小.
    pub limit: u32,
    /// 分页页码.
    pub offset: u32,
    /// 批次详情: this page's stocks.
    #[serde(default)]
    pub data: Vec<Stock>,
}

/// A coupon stock as [`QueryStock`] and [`ListStocks`] describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stock {
    /// 批次号.
    pub stock_id: String,
    /// 创建批次的商户号.
    pub stock_creator_mchid: String,
    /// 批次名称.
    pub stock_name: String,
    /// 批次状态.
    pub status: StockStatus,
    /// 创建时间 (RFC 3339).
    pub create_time: String,
    /// 使用说明.
    pub description: String,
    /// 开始时间 (RFC 3339).
    pub available_begin_time: String,
    /// 结束时间 (RFC 3339).
    pub available_end_time: String,
    /// 发放规则.
    pub stock_use_rule: StockUseRule,
    /// 是否无资金流.
    pub no_cash: bool,
    /// 批次类型.
    pub stock_type: StockType,
    /// 激活批次的时间 (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// 终止批次的时间 (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<String>,
    /// 是否单品优惠.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub singleitem: Option<bool>,
    /// 减至批次特定信息.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_to_message: Option<CutToMessage>,
    /// 已发券数量.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed_coupons: Option<u64>,
    /// 业务类型.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_type: Option<String>,
}
