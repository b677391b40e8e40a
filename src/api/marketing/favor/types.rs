//! The data types shared by the coupon-stock operations.

use serde::{Deserialize, Serialize};

string_enum! {
    /// 批次状态: where a stock is in its lifecycle.
    pub enum StockStatus {
        /// 未激活: created, not activated yet.
        Unactivated = "unactivated",
        /// 审核中: under review.
        Audit = "audit",
        /// 运行中: coupons can be handed out.
        Running = "running",
        /// 已停止: stopped for good (WeChat Pay spells it `stoped`).
        Stopped = "stoped",
        /// 暂停发放: paused.
        Paused = "paused",
    }
}

string_enum! {
    /// 批次类型: what kind of coupon the stock hands out.
    pub enum StockType {
        /// 固定面额满减券: a fixed amount off above a threshold.
        Normal = "NORMAL",
        /// 折扣券: a percentage off.
        Discount = "DISCOUNT",
        /// 换购券: an exchange price (WeChat Pay spells it `EXCHAHGE`).
        Exchange = "EXCHAHGE",
        /// 千人千面券: per-user amounts.
        Random = "RANDOM",
        /// 立减与折扣.
        DiscountCut = "DISCOUNT_CUT",
    }
}

string_enum! {
    /// 背景颜色: the coupon's background colour.
    pub enum BackgroundColor {
        /// `Color010`.
        Color010 = "Color010",
        /// `Color020`.
        Color020 = "Color020",
        /// `Color030`.
        Color030 = "Color030",
        /// `Color040`.
        Color040 = "Color040",
        /// `Color050`.
        Color050 = "Color050",
        /// `Color060`.
        Color060 = "Color060",
        /// `Color070`.
        Color070 = "Color070",
        /// `Color080`.
        Color080 = "Color080",
        /// `Color090`.
        Color090 = "Color090",
        /// `Color100`.
        Color100 = "Color100",
    }
}

string_enum! {
    /// 支付方式: a way of paying a coupon can be limited to.
    pub enum TradeType {
        /// 小程序支付.
        MicroApp = "MICROAPP",
        /// APP支付.
        AppPay = "APPPAY",
        /// 免密支付.
        PasswordFree = "PPAY",
        /// 刷卡支付.
        Card = "CARD",
        /// 人脸支付.
        Face = "FACE",
        /// 其他支付.
        OtherPayment = "OTHER",
    }
}

/// 发放规则: how many coupons a stock may hand out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StockUseRule {
    /// 发放总上限: coupons in total.
    pub max_coupons: u64,
    /// 总预算 (fen): the total budget.
    pub max_amount: u64,
    /// 单天发放上限金额 (fen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_amount_by_day: Option<u64>,
    /// 单个用户可领个数.
    pub max_coupons_per_user: u32,
    /// 是否开启自然人限制.
    pub natural_person_limit: bool,
    /// api发券防刷.
    pub prevent_api_abuse: bool,
}

/// 样式信息: how the coupon is shown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PatternInfo {
    /// 使用说明.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 商户logo (a media URL from the image upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_logo: Option<String>,
    /// 商户名称.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    /// 背景颜色.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<BackgroundColor>,
    /// 券详情图片 (a media URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_image: Option<String>,
}

/// 核销规则: how and where a coupon may be used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CouponUseRule {
    /// 券可核销时间.
    pub coupon_available_time: CouponAvailableTime,
    /// 固定面额满减券使用规则 (for `NORMAL` stocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_normal_coupon: Option<FixedNormalCoupon>,
    /// 订单优惠标记.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goods_tag: Option<Vec<String>>,
    /// 指定支付方式.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_pay: Option<Vec<String>>,
    /// 支付方式.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<Vec<TradeType>>,
    /// 是否可叠加其他优惠.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine_use: Option<bool>,
    /// 可核销商品编码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_items: Option<Vec<String>>,
    /// 不参与优惠商品编码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable_items: Option<Vec<String>>,
    /// 可核销商户号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_merchants: Option<Vec<String>>,
}

/// 券可核销时间: when a coupon may be used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CouponAvailableTime {
    /// 开始时间 (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_begin_time: Option<String>,
    /// 结束时间 (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_end_time: Option<String>,
    /// 领取第二天生效.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_day_available: Option<bool>,
    /// 领取后有效时间 (minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_time_after_receive: Option<u32>,
}

/// 固定面额满减券使用规则: a fixed amount off above a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FixedNormalCoupon {
    /// 面额 (fen).
    pub coupon_amount: u64,
    /// 门槛 (fen).
    pub transaction_minimum: u64,
}

/// 减至批次特定信息.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CutToMessage {
    /// 可用优惠的商品最高单价 (fen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_price_max: Option<u64>,
    /// 减至后的优惠单价 (fen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_to_price: Option<u64>,
}
