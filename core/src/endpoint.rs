//! The contract between an endpoint declaration and the runtime.
//!
//! [`Endpoint`] is open: `#[wxpay::endpoint]` implements it for you, and any
//! type may implement it by hand. The runtime only ever talks to this trait,
//! so a hand-written implementation produces the same bytes on the wire as a
//! generated one.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::host::Host;
use crate::target::{BuildError, Target};

// The request body is built in `crate::body` (which this module imports
// and which imports nothing of this one); re-exported so that
// `wxpay_core::endpoint::Body` keeps working.
pub use crate::body::Body;

/// An HTTP method that WeChat Pay APIv3 uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: parameters travel in the query string, the body is empty.
    Get,
    /// `POST`: parameters travel in a JSON body.
    Post,
    /// `PUT`: parameters travel in a JSON body.
    Put,
    /// `PATCH`: parameters travel in a JSON body.
    Patch,
    /// `DELETE`: parameters travel in the query string; the body is empty
    /// unless the endpoint puts fields in it (`#[wxpay(body)]`).
    Delete,
}

impl Method {
    /// The method's name as it appears on the wire and in the signing message.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether requests with this method carry a JSON body (the rule the
    /// attribute and the generator apply too: [`wxpay_protocol::body_by_default`]).
    pub const fn has_body(self) -> bool {
        wxpay_protocol::body_by_default(self.as_str())
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Method> for http::Method {
    fn from(method: Method) -> Self {
        match method {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
        }
    }
}

/// Whether a request may be sent again after the first attempt may have
/// reached WeChat Pay: the property that decides which failures a retry
/// follows (see [`crate::retry`]).
///
/// WeChat Pay's rule after a timeout or a 5xx is to send the same request
/// again. That is safe only where a repeat cannot act twice: the operation
/// changes nothing ([`Idempotency::Natural`]: queries, and writes whose
/// second run finds the work done, such as closing an order), or the
/// request carries the number WeChat Pay recognises a repeat by
/// ([`Idempotency::Keyed`]: `out_trade_no`, `out_refund_no`, …). Any other
/// write ([`Idempotency::NotIdempotent`]) is sent again only when the first
/// attempt provably never left: the connection was refused, the name did not
/// resolve, the TLS handshake failed or the connection was not opened in time.
///
/// ```
/// use wxpay_core::{Idempotency, Method};
///
/// assert_eq!(Idempotency::of_method(Method::Get), Idempotency::Natural);
/// assert_eq!(Idempotency::of_method(Method::Post), Idempotency::NotIdempotent);
/// assert!(Idempotency::Keyed("out_refund_no").allows_resend());
/// assert!(!Idempotency::NotIdempotent.allows_resend());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Idempotency {
    /// Sending the request twice has the effect of sending it once, by the
    /// operation's nature: reads, deletions, closing, cancelling or
    /// starting something whose second run finds it done.
    Natural,
    /// The request carries the number WeChat Pay recognises a repeat by;
    /// the string names that member on the wire (`"out_refund_no"`). A
    /// repeat with the same number answers what the first one did.
    Keyed(&'static str),
    /// A repeat may act twice: the request is resent only when the first
    /// attempt provably never reached the server.
    NotIdempotent,
}

impl Idempotency {
    /// What the method alone says: `GET`, `PUT` and `DELETE` are idempotent
    /// by HTTP's definition; `POST` and `PATCH` are not. The default of
    /// [`Endpoint::IDEMPOTENCY`].
    pub const fn of_method(method: Method) -> Self {
        match method {
            Method::Get | Method::Put | Method::Delete => Idempotency::Natural,
            Method::Post | Method::Patch => Idempotency::NotIdempotent,
        }
    }

    /// Whether the request may be sent again after it may have arrived
    /// (after a timeout, a broken connection or a retryable status).
    pub const fn allows_resend(self) -> bool {
        !matches!(self, Idempotency::NotIdempotent)
    }

    /// A short label for logs: `natural`, `keyed` or `not idempotent`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Idempotency::Natural => "natural",
            Idempotency::Keyed(_) => "keyed",
            Idempotency::NotIdempotent => "not idempotent",
        }
    }
}

/// One WeChat Pay APIv3 operation: how to render its request, and what it
/// answers.
///
/// `#[wxpay::endpoint]` implements this trait; implement it by hand for
/// anything the attribute cannot express. The runtime renders the target
/// and the body exactly once, signs those bytes and sends them unchanged.
pub trait Endpoint {
    /// The HTTP method.
    const METHOD: Method;
    /// The path with `{name}` placeholders, for docs, tracing and errors
    /// (never the rendered path, which may carry personal data).
    const PATH_TEMPLATE: &'static str;
    /// What a successful call decodes into; [`NoContent`] for operations
    /// that answer `204 No Content`.
    type Response: DeserializeOwned;
    /// Whether the request always announces `Wechatpay-Serial` (the key
    /// sensitive fields are encrypted with), as operations whose spec
    /// takes that header require even when no field was encrypted. Set by
    /// `#[wxpay::endpoint(…, serial)]`; requests with an encrypted field
    /// announce it anyway.
    const WECHATPAY_SERIAL: bool = false;
    /// Whether the request may be sent again after it may have arrived,
    /// which decides what a retry follows (see [`Idempotency`]). By default
    /// what the method says ([`Idempotency::of_method`]); set by
    /// `#[wxpay::endpoint(…, idempotent)]` or an `#[wxpay(idempotency_key)]`
    /// field. Every catalogue operation sets it from its fields and a
    /// reviewed list.
    const IDEMPOTENCY: Idempotency = Idempotency::of_method(Self::METHOD);
    /// The host that serves the operation: [`Host::Api`] unless the
    /// operation lives elsewhere (the Hong Kong and global operations are
    /// on [`Host::HongKong`]). Set by `#[wxpay::endpoint(…, host = HongKong)]`;
    /// the client sends the request to its URL for that host.
    const HOST: Host = Host::Api;

    /// Writes the request target (path, then query string) into `out`,
    /// percent-encoding each path parameter as exactly one segment.
    fn render_target(&self, out: &mut Target) -> Result<(), BuildError>;

    /// The request body, serialized once.
    fn body(&self) -> Result<Body, BuildError>;
}

/// The response of an operation that answers with an empty body
/// (`204 No Content`).
///
/// Decoding a non-empty body into `NoContent` fails, so a server that
/// unexpectedly answers with data is noticed rather than ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct NoContent;

impl<'de> Deserialize<'de> for NoContent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The runtime decodes an empty body as JSON `null`.
        <()>::deserialize(deserializer)
            .map(|()| NoContent)
            .map_err(|_| serde::de::Error::custom("expected an empty body (204 No Content)"))
    }
}

/// A borrowed endpoint is the same request: `client.send(&endpoint)` lets
/// the caller keep (and resend) the value.
impl<E: Endpoint + ?Sized> Endpoint for &E {
    const METHOD: Method = E::METHOD;
    const PATH_TEMPLATE: &'static str = E::PATH_TEMPLATE;
    type Response = E::Response;
    const WECHATPAY_SERIAL: bool = E::WECHATPAY_SERIAL;
    const IDEMPOTENCY: Idempotency = E::IDEMPOTENCY;
    const HOST: Host = E::HOST;

    fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
        (**self).render_target(out)
    }

    fn body(&self) -> Result<Body, BuildError> {
        (**self).body()
    }
}
