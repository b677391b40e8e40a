//! The `event_type` of a notification.

use std::borrow::Borrow;
use std::convert::Infallible;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a notification reports (`event_type`).
///
/// The common events have a variant; any other value is kept as it came in
/// [`EventType::Other`], so a new event type never makes a genuine callback
/// fail. Two values are equal when their strings are:
/// `EventType::Other("REFUND.SUCCESS".into()) == EventType::RefundSuccess`.
///
/// ```
/// use wxpay_core::notification::EventType;
///
/// let event: EventType = "TRANSACTION.SUCCESS".parse().unwrap();
/// assert_eq!(event, EventType::TransactionSuccess);
/// assert_eq!(EventType::from("PAYSCORE.USER_PAID").as_str(), "PAYSCORE.USER_PAID");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventType {
    /// `TRANSACTION.SUCCESS`: a payment succeeded
    /// ([`Transaction`](super::resources::Transaction)).
    TransactionSuccess,
    /// `REFUND.SUCCESS`: a refund reached the payer
    /// ([`RefundNotification`](super::resources::RefundNotification)).
    RefundSuccess,
    /// `REFUND.ABNORMAL`: a refund could not be credited (the payer's card
    /// was cancelled, for one); it needs handling by the merchant
    /// ([`RefundNotification`](super::resources::RefundNotification)).
    RefundAbnormal,
    /// `REFUND.CLOSED`: a refund was closed
    /// ([`RefundNotification`](super::resources::RefundNotification)).
    RefundClosed,
    /// `COUPON.SEND`: a user received a coupon
    /// ([`CouponNotification`](super::resources::CouponNotification)).
    CouponSend,
    /// `COUPON.USE`: a coupon was used in a payment
    /// ([`CouponNotification`](super::resources::CouponNotification)).
    CouponUse,
    /// `MCHTRANSFER.BILL.FINISHED`: a merchant transfer reached a final state
    /// ([`MchTransferBillNotification`](super::resources::MchTransferBillNotification)).
    MchTransferBillFinished,
    /// `PROFITSHARING.SUCCESS`: a profit-sharing order was settled.
    ProfitSharingSuccess,
    /// Any other event type, as sent.
    Other(String),
}

impl EventType {
    /// The event type as WeChat Pay writes it.
    pub fn as_str(&self) -> &str {
        match self {
            EventType::TransactionSuccess => "TRANSACTION.SUCCESS",
            EventType::RefundSuccess => "REFUND.SUCCESS",
            EventType::RefundAbnormal => "REFUND.ABNORMAL",
            EventType::RefundClosed => "REFUND.CLOSED",
            EventType::CouponSend => "COUPON.SEND",
            EventType::CouponUse => "COUPON.USE",
            EventType::MchTransferBillFinished => "MCHTRANSFER.BILL.FINISHED",
            EventType::ProfitSharingSuccess => "PROFITSHARING.SUCCESS",
            EventType::Other(other) => other,
        }
    }

    /// Whether this is one of the refund events (`REFUND.*`).
    pub fn is_refund(&self) -> bool {
        self.as_str().starts_with("REFUND.")
    }

    /// Whether this is one of the coupon events (`COUPON.*`).
    pub fn is_coupon(&self) -> bool {
        self.as_str().starts_with("COUPON.")
    }

    /// The variant named by `value`, when it is one of the known events.
    fn known(value: &str) -> Option<Self> {
        Some(match value {
            "TRANSACTION.SUCCESS" => EventType::TransactionSuccess,
            "REFUND.SUCCESS" => EventType::RefundSuccess,
            "REFUND.ABNORMAL" => EventType::RefundAbnormal,
            "REFUND.CLOSED" => EventType::RefundClosed,
            "COUPON.SEND" => EventType::CouponSend,
            "COUPON.USE" => EventType::CouponUse,
            "MCHTRANSFER.BILL.FINISHED" => EventType::MchTransferBillFinished,
            "PROFITSHARING.SUCCESS" => EventType::ProfitSharingSuccess,
            _ => return None,
        })
    }
}

impl From<&str> for EventType {
    fn from(value: &str) -> Self {
        EventType::known(value).unwrap_or_else(|| EventType::Other(value.to_owned()))
    }
}

impl From<String> for EventType {
    fn from(value: String) -> Self {
        EventType::known(&value).unwrap_or(EventType::Other(value))
    }
}

impl FromStr for EventType {
    type Err = Infallible;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(value.into())
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for EventType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for EventType {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for EventType {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for EventType {}

impl PartialEq<str> for EventType {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Hash for EventType {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(EventType::from)
    }
}
