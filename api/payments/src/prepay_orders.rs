//! Which catalogue orders lead to the payer's parameters: the JSAPI,
//! mini-program and APP orders, direct, partner (服务商) and combined
//! (合单), implement [`JsapiPrepay`] or [`AppPrepay`], so that
//! [`Client::prepay_jsapi`](crate::Client::prepay_jsapi) and
//! [`Client::prepay_app`](crate::Client::prepay_app) take them.
//!
//! The rule for each kind of order, from WeChat Pay's documentation:
//! - direct orders name their own `appid` and `mchid`;
//! - partner orders sign for the `sub_appid` when the order named one
//!   (the payer is the sub-merchant's app's user), else the `sp_appid`;
//!   an APP's `partnerid` is the `sub_mchid`;
//! - combined orders name the `combine_appid` and `combine_mchid`.

#[allow(unused_imports)]
use wxpay_core::payer::{AppPrepay, JsapiPrepay};

/// `impl JsapiPrepay` (and `AppPrepay` with `app`) for catalogue orders
/// whose answer has a `prepay_id: String`.
#[allow(unused_macros)]
macro_rules! prepay {
    (jsapi $order:path, |$o:ident| $appid:expr) => {
        impl JsapiPrepay for $order {
            fn payer_appid(&self) -> &str {
                let $o = self;
                $appid
            }
            fn prepay_id(response: &Self::Response) -> &str {
                &response.prepay_id
            }
        }
    };
    (app $order:path, |$o:ident| $appid:expr, $partner:expr) => {
        impl AppPrepay for $order {
            fn payer_appid(&self) -> &str {
                let $o = self;
                $appid
            }
            fn partner_id(&self) -> &str {
                let $o = self;
                $partner
            }
            fn prepay_id(response: &Self::Response) -> &str {
                &response.prepay_id
            }
        }
    };
}

#[cfg(feature = "pay")]
mod pay {
    use super::*;
    use crate::api::v3::pay::partner::transactions as partner;
    use crate::api::v3::pay::transactions as direct;

    prepay!(jsapi direct::jsapi::Post, |o| &o.appid);
    prepay!(jsapi direct::jsapi_with_contract::Post, |o| &o.appid);
    prepay!(app direct::app::Post, |o| &o.appid, &o.mchid);
    prepay!(app direct::app_with_contract::Post, |o| &o.appid, &o.mchid);

    prepay!(jsapi partner::jsapi::Post, |o| o.sub_appid.as_deref().unwrap_or(&o.sp_appid));
    prepay!(jsapi partner::jsapi_with_contract::Post, |o| o.sub_appid.as_deref().unwrap_or(&o.sp_appid));
    prepay!(jsapi partner::miniprogram::Post, |o| o.sub_appid.as_deref().unwrap_or(&o.sp_appid));
    prepay!(app partner::app::Post, |o| o.sub_appid.as_deref().unwrap_or(&o.sp_appid), &o.sub_mchid);
    prepay!(app partner::app_with_contract::Post, |o| o.sub_appid.as_deref().unwrap_or(&o.sp_appid), &o.sub_mchid);
}

#[cfg(feature = "combine-transactions")]
mod combine {
    use super::*;
    use crate::api::v3::combine_transactions as combine;

    prepay!(jsapi combine::jsapi::Post, |o| &o.combine_appid);
    prepay!(jsapi combine::miniprogram::Post, |o| &o.combine_appid);
    prepay!(app combine::app::Post, |o| &o.combine_appid, &o.combine_mchid);
}
