//! WeChat Pay's APIv3 error codes as a type: [`ErrorCode`], read from an
//! error answer's `code` by [`ApiError::error_code`](crate::ApiError::error_code).

use std::fmt;
use std::str::FromStr;

/// An APIv3 error answer's `code`, for matching on: the codes WeChat Pay
/// documents for every operation, and [`ErrorCode::Other`] for the rest
/// (operations have codes of their own, and WeChat Pay adds new ones).
///
/// ```
/// use wxpay_core::ErrorCode;
///
/// assert_eq!(ErrorCode::from("SYSTEM_ERROR"), ErrorCode::SystemError);
/// assert!(ErrorCode::SystemError.is_transient());
/// assert_eq!(ErrorCode::from("ORDER_CLOSED").as_str(), "ORDER_CLOSED");
/// assert_eq!(ErrorCode::from("RULE_LIMIT"), ErrorCode::Other("RULE_LIMIT".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `PARAM_ERROR` (400): a field is missing or malformed; `detail`
    /// names it.
    ParamError,
    /// `INVALID_REQUEST` (400): the request is well formed but not
    /// acceptable in the resource's state (an order already paid, …).
    InvalidRequest,
    /// `SIGN_ERROR` (401): the signature does not verify with the merchant
    /// certificate named by the serial.
    SignError,
    /// `NO_AUTH` (403): the merchant lacks the permission or product.
    NoAuth,
    /// `NOT_ENOUGH` (403): the balance or the amount left is not enough.
    NotEnough,
    /// `ORDER_CLOSED` (400/403): the order was closed.
    OrderClosed,
    /// `ORDER_NOT_EXIST` (404): no such order.
    OrderNotExist,
    /// `RESOURCE_NOT_EXISTS` (404): no such resource.
    ResourceNotExists,
    /// `NOT_FOUND` (404): no such resource.
    NotFound,
    /// `FREQUENCY_LIMITED` (429): too many requests; retry later.
    FrequencyLimited,
    /// `RATELIMIT_EXCEEDED` (429): too many requests; retry later.
    RatelimitExceeded,
    /// `SYSTEM_ERROR` (500): WeChat Pay failed; retry with the same
    /// parameters (the same `out_…` number).
    SystemError,
    /// `BANK_ERROR` (500): the bank failed; retry with the same parameters.
    BankError,
    /// Any other code, as WeChat Pay wrote it (empty when the answer had
    /// none).
    Other(String),
}

/// Each named code and its text, in one place.
const CODES: [(&str, ErrorCode); 13] = [
    ("PARAM_ERROR", ErrorCode::ParamError),
    ("INVALID_REQUEST", ErrorCode::InvalidRequest),
    ("SIGN_ERROR", ErrorCode::SignError),
    ("NO_AUTH", ErrorCode::NoAuth),
    ("NOT_ENOUGH", ErrorCode::NotEnough),
    ("ORDER_CLOSED", ErrorCode::OrderClosed),
    ("ORDER_NOT_EXIST", ErrorCode::OrderNotExist),
    ("RESOURCE_NOT_EXISTS", ErrorCode::ResourceNotExists),
    ("NOT_FOUND", ErrorCode::NotFound),
    ("FREQUENCY_LIMITED", ErrorCode::FrequencyLimited),
    ("RATELIMIT_EXCEEDED", ErrorCode::RatelimitExceeded),
    ("SYSTEM_ERROR", ErrorCode::SystemError),
    ("BANK_ERROR", ErrorCode::BankError),
];

impl ErrorCode {
    /// The code as WeChat Pay writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(code) => code,
            named => CODES
                .iter()
                .find(|(_, code)| code == named)
                .map_or("", |(text, _)| text),
        }
    }

    /// Whether the same request may succeed later: WeChat Pay's own
    /// failures and rate limits (`SYSTEM_ERROR`, `BANK_ERROR`,
    /// `FREQUENCY_LIMITED`, `RATELIMIT_EXCEEDED`). Send it again with the
    /// same parameters, never a new `out_…` number.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ErrorCode::SystemError
                | ErrorCode::BankError
                | ErrorCode::FrequencyLimited
                | ErrorCode::RatelimitExceeded
        )
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        CODES.iter().find(|(text, _)| *text == code).map_or_else(
            || ErrorCode::Other(code.to_owned()),
            |(_, named)| named.clone(),
        )
    }
}

impl FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::from(code))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_reads_back_as_itself() {
        for (text, code) in &CODES {
            assert_eq!(&ErrorCode::from(*text), code);
            assert_eq!(code.as_str(), *text);
            assert_eq!(code.to_string(), *text);
        }
        assert_eq!(ErrorCode::from(""), ErrorCode::Other(String::new()));
        assert_eq!(ErrorCode::from("system_error").as_str(), "system_error");
        assert!(!ErrorCode::ParamError.is_transient());
    }
}
