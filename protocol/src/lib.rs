//! Rules of the WeChat Pay protocol that three parts of wxpay apply: the
//! runtime (`wxpay-core`) when it builds a request, the attribute
//! (`wxpay-macros`) when it decides where a field goes, and the generator
//! (`wxpay-codegen`) when it writes a declaration. Each rule is written
//! here once, in a crate below all three, so that they cannot drift apart.
//!
//! Methods are named as on the wire: `"GET"`, `"POST"`, `"PUT"`,
//! `"PATCH"`, `"DELETE"` (upper case; anything else is no method of
//! WeChat Pay's).

#![no_std]

/// Whether a request of this method carries its parameters in a JSON body
/// unless a field says otherwise: `POST`, `PUT` and `PATCH`. `GET` and
/// `DELETE` put them in the query string.
///
/// ```
/// assert!(wxpay_protocol::body_by_default("POST"));
/// assert!(!wxpay_protocol::body_by_default("DELETE"));
/// ```
pub const fn body_by_default(method: &str) -> bool {
    matches!(method.as_bytes(), b"POST" | b"PUT" | b"PATCH")
}

/// Whether a request of this method may carry a body at all: every method
/// but `GET`. `DELETE` sends one only for the fields that ask for it (a
/// few WeChat Pay operations take a JSON body on `DELETE`).
///
/// ```
/// assert!(wxpay_protocol::body_allowed("DELETE"));
/// assert!(!wxpay_protocol::body_allowed("GET"));
/// ```
pub const fn body_allowed(method: &str) -> bool {
    matches!(method.as_bytes(), b"POST" | b"PUT" | b"PATCH" | b"DELETE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_one_answer() {
        for (method, by_default, allowed) in [
            ("GET", false, false),
            ("POST", true, true),
            ("PUT", true, true),
            ("PATCH", true, true),
            ("DELETE", false, true),
        ] {
            assert_eq!(body_by_default(method), by_default, "{method}");
            assert_eq!(body_allowed(method), allowed, "{method}");
        }
    }

    #[test]
    fn names_are_the_wire_names() {
        for other in ["post", "Get", "HEAD", "", "POST "] {
            assert!(!body_by_default(other) && !body_allowed(other), "{other:?}");
        }
    }
}
