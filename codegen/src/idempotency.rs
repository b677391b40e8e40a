//! Which catalogue operations may be sent again after a request may have
//! reached WeChat Pay: the rules the generator marks every operation by
//! (`#[wxpay::endpoint(…, idempotent)]` or an `#[wxpay(idempotency_key)]`
//! field), and the reviewed exceptions to them.
//!
//! The runtime resends a request after a timeout, a broken connection or a
//! 5xx only when a repeat cannot act twice (see `wxpay_core::Idempotency`).
//! The spec does not say which operations those are, so this module
//! decides, in this order:
//!
//! 1. [`EXCEPTIONS`], each reviewed with its reason;
//! 2. `GET`, `PUT` and `DELETE`: idempotent by HTTP's definition (the
//!    runtime's default for them, so nothing is written);
//! 3. a required top-level body member that is the merchant's own number
//!    for the request ([`is_key`]: `out_trade_no`, `out_refund_no`,
//!    `out_request_no`, `business_code`, …): WeChat Pay recognises a repeat
//!    by it and answers what the first request did;
//! 4. a last path segment that names an action whose second run finds it
//!    done ([`NATURAL_ACTIONS`]: close, cancel, terminate, …) or a read
//!    sent as `POST` (query, check, …);
//! 5. a media upload: a repeat stores the same file again, nothing else;
//! 6. anything else (`POST`, `PATCH`) is not idempotent: sent again only
//!    when the first attempt provably never left.

use std::collections::BTreeSet;

/// What the generator writes for an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Naturally idempotent: `idempotent` on the attribute, unless the
    /// method already says so.
    Natural,
    /// Keyed by this body member: `#[wxpay(idempotency_key)]` on its field.
    Keyed(String),
    /// Not idempotent: only a never-sent request is sent again.
    NotIdempotent,
}

impl Decision {
    /// The `wxpay::Idempotency` value this decision declares, as Rust.
    pub fn rust(&self) -> proc_macro2::TokenStream {
        match self {
            Decision::Natural => quote::quote! { Idempotency::Natural },
            Decision::Keyed(key) => quote::quote! { Idempotency::Keyed(#key) },
            Decision::NotIdempotent => quote::quote! { Idempotency::NotIdempotent },
        }
    }
}

/// One reviewed exception: the operation (`METHOD /template`), what it is,
/// and why the rules below would decide it wrongly.
pub struct Exception {
    /// `POST /v3/…`.
    pub key: &'static str,
    /// Whether a repeat is harmless.
    pub natural: bool,
    /// Why.
    pub why: &'static str,
}

/// Operations the rules would get wrong, each reviewed against WeChat
/// Pay's documentation of the operation.
pub const EXCEPTIONS: &[Exception] = &[
    Exception {
        key: "POST /v3/profitsharing/receivers/add",
        natural: true,
        why: "adding a receiver that is already added answers success and changes nothing",
    },
    Exception {
        key: "POST /v3/ecommerce/profitsharing/receivers/add",
        natural: true,
        why: "adding a receiver that is already added answers success and changes nothing",
    },
    Exception {
        key: "POST /v3/brand/profitsharing/receivers/add",
        natural: true,
        why: "adding a receiver that is already added answers success and changes nothing",
    },
    Exception {
        key: "POST /v3/ecommerce/refunds/{refund_id}/return-advance",
        natural: true,
        why: "a refund's advance is returned once; a repeat answers the same return",
    },
    Exception {
        key: "POST /v3/webhooks",
        natural: false,
        why: "describes the callback WeChat Pay sends, not a request a merchant resends",
    },
];

/// Last path segments naming an action whose second run finds the work
/// done (the object is closed, cancelled, stopped, … already), or a read
/// that WeChat Pay takes as `POST`.
pub const NATURAL_ACTIONS: &[&str] = &[
    // Ending or undoing something identified in the path or body.
    "close",
    "cancel",
    "cancel-applyment",
    "revoke",
    "reverse",
    "terminate",
    "terminate-contract",
    "stop",
    "delete",
    "invalidate",
    "deactivate",
    "unbind",
    "unbind-card-link",
    "unbindrecipient",
    // Switching a state on or off.
    "start",
    "pause",
    "restart",
    "resume",
    "lock",
    "unlock",
    // Reads sent as POST.
    "query",
    "query-day",
    "query-risk-trades",
    "check",
    "check-opened",
    "exposure",
    "assess-user-risk-level",
    "echo",
];

/// Member names that are the merchant's own number for a request besides
/// the `out_…_no` / `out_…_id` / `out_…_code` pattern of [`is_key`].
const OTHER_KEYS: &[&str] = &[
    // Onboarding applications: one per business code.
    "business_code",
    // Pay-score plans and sign plans: the merchant's plan numbers.
    "merchant_plan_no",
    "merchant_sign_plan_no",
    // Pay-score pre-authorisation: the merchant's authorisation number.
    "authorization_code",
    // Transaction-block appeals: the merchant's submission id.
    "merchant_submit_id",
];

/// Whether a body member named `name` is the merchant's own number for the
/// request, by which WeChat Pay recognises a repeat.
pub fn is_key(name: &str) -> bool {
    let pattern = name
        .strip_prefix("combine_out_")
        .or_else(|| name.strip_prefix("out_"))
        .is_some_and(|rest| {
            ["_no", "_id", "_code"]
                .iter()
                .any(|end| rest.ends_with(end) && rest.len() > end.len())
                || rest == "no"
        });
    pattern || OTHER_KEYS.contains(&name)
}

/// Decides an operation. `key`: `METHOD /template`; `last_segment`: the
/// template's last literal segment; `required`: the required top-level
/// body members, in order; `multipart`: a media upload.
pub fn decide(
    key: &str,
    method: &str,
    last_segment: &str,
    required: &[String],
    multipart: bool,
) -> Decision {
    if let Some(exception) = EXCEPTIONS.iter().find(|e| e.key == key) {
        return if exception.natural {
            Decision::Natural
        } else {
            Decision::NotIdempotent
        };
    }
    if matches!(method, "GET" | "PUT" | "DELETE") {
        return Decision::Natural;
    }
    if let Some(name) = required.iter().find(|name| is_key(name)) {
        return Decision::Keyed(name.clone());
    }
    if NATURAL_ACTIONS.contains(&last_segment) || multipart {
        return Decision::Natural;
    }
    Decision::NotIdempotent
}

/// APIv2 member names that are the merchant's own number for a request,
/// besides [`is_key`]'s: red packets' `mch_billno`, transfers'
/// `partner_trade_no`.
const V2_KEYS: &[&str] = &["mch_billno", "partner_trade_no"];

/// Decides an APIv2 operation (`key`: `METHOD /v2/…`). The APIv3 rules
/// apply ([`decide`]: exceptions, `GET`, a required merchant number, the
/// [`NATURAL_ACTIONS`], uploads), with APIv2's own keys (`V2_KEYS`) and
/// names: APIv2 writes its actions as one word, so a last segment that
/// reads (`…query…`, `get…`, `download…`) or ends or undoes something
/// (`…close…`, `…reverse…`, `cancel…`, `delete…`) is naturally idempotent.
pub fn decide_v2(
    key: &str,
    method: &str,
    last_segment: &str,
    required: &[String],
    multipart: bool,
) -> Decision {
    if EXCEPTIONS.iter().any(|e| e.key == key) || method != "POST" {
        return decide(key, method, last_segment, required, multipart);
    }
    // The order's number identifies a payment, but also every refund or
    // return of it: a request's own number (`out_refund_no`, …) comes
    // first.
    let keys: Vec<&String> = required
        .iter()
        .filter(|name| is_key(name) || V2_KEYS.contains(&name.as_str()))
        .collect();
    if let Some(name) = keys
        .iter()
        .find(|name| !matches!(name.as_str(), "out_trade_no" | "combine_out_trade_no"))
        .or(keys.first())
    {
        return Decision::Keyed((*name).clone());
    }
    let segment = last_segment.to_ascii_lowercase();
    if segment.contains("query")
        || segment.starts_with("get")
        || segment.starts_with("download")
        || segment.contains("close")
        || segment.contains("reverse")
        || segment.starts_with("cancel")
        || segment.starts_with("delete")
    {
        return Decision::Natural;
    }
    decide(key, method, last_segment, required, multipart)
}

/// Checks that every exception still names an operation of the spec, so a
/// renamed operation does not leave a stale entry behind.
pub fn check_exceptions(keys: &BTreeSet<String>) -> Result<(), String> {
    let stale: Vec<&str> = EXCEPTIONS
        .iter()
        .map(|e| e.key)
        .filter(|key| !keys.contains(*key))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "codegen/src/idempotency.rs: exceptions for operations the spec no longer has: {stale:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merchant_numbers_are_keys() {
        for name in [
            "out_trade_no",
            "out_refund_no",
            "out_request_no",
            "out_bill_no",
            "combine_out_trade_no",
            "out_contract_code",
            "out_batch_id",
            "business_code",
        ] {
            assert!(is_key(name), "{name}");
        }
        for name in [
            "transaction_id",
            "out_",
            "out_no_thing",
            "stock_id",
            "amount",
        ] {
            assert!(!is_key(name), "{name}");
        }
    }

    #[test]
    fn rules_apply_in_order() {
        let none: &[String] = &[];
        let refund = ["out_refund_no".to_owned(), "amount".to_owned()];
        assert_eq!(
            decide(
                "POST /v3/refund/domestic/refunds",
                "POST",
                "refunds",
                &refund,
                false
            ),
            Decision::Keyed("out_refund_no".to_owned())
        );
        assert_eq!(decide("GET /x", "GET", "x", none, false), Decision::Natural);
        assert_eq!(
            decide("POST /a/{id}/close", "POST", "close", none, false),
            Decision::Natural
        );
        assert_eq!(
            decide("POST /a/b", "POST", "b", none, false),
            Decision::NotIdempotent
        );
        assert_eq!(
            decide("PATCH /a/b", "PATCH", "b", none, false),
            Decision::NotIdempotent
        );
        assert_eq!(
            decide("POST /a/upload", "POST", "upload", none, true),
            Decision::Natural
        );
        assert_eq!(
            decide(
                "POST /v3/webhooks",
                "POST",
                "webhooks",
                &["out_x_no".to_owned()],
                false
            ),
            Decision::NotIdempotent
        );
    }

    #[test]
    fn apiv2_rules() {
        let none: &[String] = &[];
        let key = |name: &str| [name.to_owned(), "total_fee".to_owned()];
        assert_eq!(
            decide_v2(
                "POST /v2/pay/micropay",
                "POST",
                "micropay",
                &key("out_trade_no"),
                false
            ),
            Decision::Keyed("out_trade_no".to_owned())
        );
        assert_eq!(
            decide_v2(
                "POST /v2/secapi/pay/refund",
                "POST",
                "refund",
                &["out_trade_no".to_owned(), "out_refund_no".to_owned()],
                false
            ),
            Decision::Keyed("out_refund_no".to_owned())
        );
        assert_eq!(
            decide_v2(
                "POST /v2/x",
                "POST",
                "sendredpack",
                &key("mch_billno"),
                false
            ),
            Decision::Keyed("mch_billno".to_owned())
        );
        assert_eq!(
            decide_v2(
                "POST /v2/x",
                "POST",
                "transfers",
                &key("partner_trade_no"),
                false
            ),
            Decision::Keyed("partner_trade_no".to_owned())
        );
        for natural in [
            "orderquery",
            "gethbinfo",
            "downloadbill",
            "closeorder",
            "reverse",
            "facepayreverse",
            "cancelbill",
            "deletecontract",
        ] {
            assert_eq!(
                decide_v2("POST /v2/x", "POST", natural, none, false),
                Decision::Natural,
                "{natural}"
            );
        }
        assert_eq!(
            decide_v2("GET /v2/papay/entrustweb", "GET", "entrustweb", none, false),
            Decision::Natural
        );
        assert_eq!(
            decide_v2("POST /v2/x", "POST", "modifymchinfo", none, false),
            Decision::NotIdempotent
        );
    }
}
