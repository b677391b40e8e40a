//! Reviewed changes to the types the spec would give a few operations.
//!
//! Some answers are inputs of the runtime: the bill an application
//! answers is what [`Client::download_bill`] takes, the `media_id` of an
//! upload what other operations take. Their operations answer the
//! runtime's own types instead of generated look-alikes, and members with
//! a closed set of values the spec leaves as text take the hand-written
//! enums of `wxpay::api::bill`. The operations stay declared once, here
//! in the catalogue; `wxpay::api::bill` and `wxpay::api::media` name them
//! under their old names.
//!
//! Each entry names its operation as the spec keys it; the generator
//! fails when one no longer matches an operation, so that a change in the
//! spec is looked at rather than silently dropped.
//!
//! [`Client::download_bill`]: https://docs.rs/wxpay/latest/wxpay/struct.Client.html#method.download_bill

use std::collections::BTreeSet;

/// One operation's override.
pub struct Override {
    /// `METHOD /spec-path`.
    pub key: &'static str,
    /// The answer type, instead of a generated one.
    pub response: Option<&'static str>,
    /// Members whose type is a hand-written one: `(wire name, type)`.
    pub members: &'static [(&'static str, &'static str)],
}

const TRADE_BILL: &[(&str, &str)] = &[
    ("bill_type", "crate::api::bill::BillType"),
    ("tar_type", "crate::api::bill::BillTarType"),
];

const FUND_FLOW_BILL: &[(&str, &str)] = &[
    ("account_type", "crate::api::bill::BillAccountType"),
    ("tar_type", "crate::api::bill::BillTarType"),
];

/// Every override.
pub const OVERRIDES: &[Override] = &[
    // The bill applications answer what `Client::download_bill` takes.
    Override {
        key: "GET /v3/bill/tradebill",
        response: Some("crate::bill::BillInfo"),
        members: TRADE_BILL,
    },
    Override {
        key: "GET /v3/bill/fundflowbill",
        response: Some("crate::bill::BillInfo"),
        members: FUND_FLOW_BILL,
    },
    // Uploads answer the id (or URL) other operations take, one type for
    // all of them.
    Override {
        key: "POST /v3/merchant/media/upload",
        response: Some("crate::api::media::MediaUploaded"),
        members: &[],
    },
    Override {
        key: "POST /v3/merchant/media/video_upload",
        response: Some("crate::api::media::MediaUploaded"),
        members: &[],
    },
    Override {
        key: "POST /v3/merchant-service/images/upload",
        response: Some("crate::api::media::MediaUploaded"),
        members: &[],
    },
    Override {
        key: "POST /v3/marketing/favor/media/image-upload",
        response: Some("crate::api::media::MarketingImageUploaded"),
        members: &[],
    },
];

/// The override of the operation `key` (`METHOD /spec-path`), if any.
pub fn of(key: &str) -> Option<&'static Override> {
    OVERRIDES.iter().find(|o| o.key == key)
}

impl Override {
    /// The type a member takes instead of the spec's, if it has one.
    pub fn member(&self, wire: &str) -> Option<&'static str> {
        self.members
            .iter()
            .find(|(name, _)| *name == wire)
            .map(|(_, ty)| *ty)
    }
}

/// Fails naming every override whose operation is not among `keys`.
pub fn check(keys: &BTreeSet<String>) -> Result<(), String> {
    let stale: Vec<&str> = OVERRIDES
        .iter()
        .map(|o| o.key)
        .filter(|key| !keys.contains(*key))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "codegen/src/overrides.rs names operations the spec no longer has: {}",
            stale.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_entry_is_named() {
        let keys: BTreeSet<String> = OVERRIDES.iter().map(|o| o.key.to_owned()).collect();
        assert!(check(&keys).is_ok());
        let mut fewer = keys.clone();
        fewer.remove("GET /v3/bill/tradebill");
        let message = check(&fewer).unwrap_err();
        assert!(message.contains("GET /v3/bill/tradebill"), "{message}");
    }

    #[test]
    fn entries_are_found_by_key_and_member() {
        let bill = of("GET /v3/bill/tradebill").expect("the trade bill");
        assert_eq!(bill.response, Some("crate::bill::BillInfo"));
        assert_eq!(bill.member("bill_type"), Some("crate::api::bill::BillType"));
        assert_eq!(bill.member("bill_date"), None);
        assert!(of("GET /v3/nothing").is_none());
    }
}
