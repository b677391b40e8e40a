//! Request bodies of the coupon-stock endpoints, transcribed from the spec
//! (`definitions/FavorCouponStock.yaml`: `StockBase`, `StockExtra` and the
//! objects they use; `Enumerations.yaml` for the enums).
//!
//! One deliberate difference: the spec lists `use_method` among
//! `CouponUseRule`'s required fields but never defines it, and the official
//! documentation of this endpoint has no such field, so it is accepted
//! when present and not required.

use crate::validation::{Field, INTEGER, Kind, STRING};

/// `FavorStockType`.
pub(crate) const STOCK_TYPES: &[&str] =
    &["NORMAL", "DISCOUNT", "EXCHAHGE", "RANDOM", "DISCOUNT_CUT"];

/// `FavorStockStatus`.
pub(crate) const STOCK_STATUSES: &[&str] = &["unactivated", "audit", "running", "stoped", "paused"];

const BACKGROUND_COLORS: &[&str] = &[
    "Color010", "Color020", "Color030", "Color040", "Color050", "Color060", "Color070", "Color080",
    "Color090", "Color100",
];
const JUMP_TARGETS: &[&str] = &["PAYMENT_CODE", "MINI_PROGRAM", "DEFAULT_PAGE"];
const TRADE_TYPES: &[&str] = &["MICROAPP", "APPPAY", "PPAY", "CARD", "FACE", "OTHER"];
const WEEKDAYS: &[i64] = &[0, 1, 2, 3, 4, 5, 6];

const fn integer_at_least(min: i64) -> Kind {
    Kind::Integer {
        min: Some(min),
        max: None,
    }
}

const fn string_up_to(max: usize) -> Kind {
    Kind::String {
        min_len: None,
        max_len: Some(max),
    }
}

/// `StockUseRule`.
static STOCK_USE_RULE: &[Field] = &[
    Field::required("max_coupons", integer_at_least(1)),
    Field::required("max_amount", integer_at_least(1)),
    Field::optional("max_amount_by_day", INTEGER),
    Field::required("max_coupons_per_user", integer_at_least(1)),
    Field::required("natural_person_limit", Kind::Boolean),
    Field::required("prevent_api_abuse", Kind::Boolean),
];

/// `DisplayPatternInfo`, plus the create endpoint's own additions.
static PATTERN_INFO: &[Field] = &[
    Field::optional("description", STRING),
    Field::optional("merchant_logo", STRING),
    Field::optional("merchant_name", STRING),
    Field::optional("background_color", Kind::OneOf(BACKGROUND_COLORS)),
    Field::optional("coupon_image", STRING),
    Field::optional("jump_target", Kind::OneOf(JUMP_TARGETS)),
    Field::optional("mini_program_appid", STRING),
    Field::optional("mini_program_path", STRING),
];

/// `FixAvailableTime`.
static FIX_AVAILABLE_TIME: &[Field] = &[
    Field::optional(
        "available_week_day",
        Kind::Array {
            items: &Kind::IntegerOneOf(WEEKDAYS),
            max_items: None,
        },
    ),
    Field::optional(
        "begin_time",
        Kind::Integer {
            min: Some(0),
            max: Some(86400),
        },
    ),
    Field::optional(
        "end_time",
        Kind::Integer {
            min: Some(1),
            max: Some(86399),
        },
    ),
];

/// `CouponAvailableTime`.
static COUPON_AVAILABLE_TIME: &[Field] = &[
    Field::optional("available_begin_time", Kind::DateTime),
    Field::optional("available_end_time", Kind::DateTime),
    Field::optional("fix_available_time", Kind::Object(FIX_AVAILABLE_TIME)),
    Field::optional("second_day_available", Kind::Boolean),
    Field::optional("available_time_after_receive", INTEGER),
];

/// `FixedNormalCoupon`.
pub(crate) static FIXED_NORMAL_COUPON: &[Field] = &[
    Field::required("coupon_amount", integer_at_least(1)),
    Field::required("transaction_minimum", integer_at_least(0)),
];

/// `DiscountCoupon`.
static DISCOUNT_COUPON: &[Field] = &[
    Field::optional("discount_amount_max", INTEGER),
    Field::optional("discount_percent", INTEGER),
    Field::optional("transaction_minimum", INTEGER),
];

/// `ExchangeCoupon`.
static EXCHANGE_COUPON: &[Field] = &[
    Field::optional("exchange_price", INTEGER),
    Field::optional("transaction_minimum", INTEGER),
];

/// `LimitCard`.
static LIMIT_CARD: &[Field] = &[
    Field::optional("name", STRING),
    Field::optional(
        "bin",
        Kind::Array {
            items: &Kind::String {
                min_len: Some(6),
                max_len: Some(9),
            },
            max_items: Some(10),
        },
    ),
];

/// `CouponUseRule`, plus the create endpoint's `combine_use`.
static COUPON_USE_RULE: &[Field] = &[
    Field::required("coupon_available_time", Kind::Object(COUPON_AVAILABLE_TIME)),
    Field::optional("use_method", Kind::Any),
    Field::optional("fixed_normal_coupon", Kind::Object(FIXED_NORMAL_COUPON)),
    Field::optional("discount_coupon", Kind::Object(DISCOUNT_COUPON)),
    Field::optional("exchange_coupon", Kind::Object(EXCHANGE_COUPON)),
    Field::optional(
        "goods_tag",
        Kind::Array {
            items: &string_up_to(128),
            max_items: Some(50),
        },
    ),
    Field::optional(
        "limit_pay",
        Kind::Array {
            items: &STRING,
            max_items: None,
        },
    ),
    Field::optional("limit_card", Kind::Object(LIMIT_CARD)),
    Field::optional(
        "trade_type",
        Kind::Array {
            items: &Kind::OneOf(TRADE_TYPES),
            max_items: None,
        },
    ),
    Field::optional("combine_use", Kind::Boolean),
    Field::optional(
        "available_items",
        Kind::Array {
            items: &string_up_to(128),
            max_items: Some(50),
        },
    ),
    Field::optional(
        "unavailable_items",
        Kind::Array {
            items: &string_up_to(128),
            max_items: Some(50),
        },
    ),
    Field::optional(
        "available_merchants",
        Kind::Array {
            items: &string_up_to(20),
            max_items: Some(50),
        },
    ),
];

/// Body of `POST /v3/marketing/favor/coupon-stocks`: `StockBase` then
/// `StockExtra`, in the spec's order (the first problem is reported).
/// `stock_creator_mchid` is not in the spec's body but is accepted and
/// checked like `belong_merchant` when present.
pub(crate) static CREATE_STOCK: Kind = Kind::Object(&[
    Field::required("stock_name", STRING),
    Field::required("available_begin_time", Kind::DateTime),
    Field::required("available_end_time", Kind::DateTime),
    Field::required("stock_use_rule", Kind::Object(STOCK_USE_RULE)),
    Field::required("no_cash", Kind::Boolean),
    Field::required("stock_type", Kind::OneOf(STOCK_TYPES)),
    Field::optional("comment", STRING),
    Field::required("belong_merchant", STRING),
    Field::optional("stock_creator_mchid", STRING),
    Field::optional("pattern_info", Kind::Object(PATTERN_INFO)),
    Field::required("coupon_use_rule", Kind::Object(COUPON_USE_RULE)),
    Field::required("out_request_no", STRING),
    Field::optional("ext_info", STRING),
]);

/// Body of `POST …/stocks/{stock_id}/start`, `/pause` and `/restart`.
pub(crate) static STOCK_ACTION: Kind =
    Kind::Object(&[Field::required("stock_creator_mchid", STRING)]);
