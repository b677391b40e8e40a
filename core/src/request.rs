//! A request that is built and signed but not sent yet.

use std::fmt;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use reqwest::Url;

use crate::endpoint::{Body, Idempotency, Method};
use crate::error::{Error, Operation};
use crate::signing::{RequestSigner, signing_message};
use crate::target::BuildError;

/// A fully built, signed request: exactly what [`Client::send`] puts on the
/// wire. Build one with [`Client::prepare`] to inspect or log it, or to send
/// it later with [`Client::send_prepared`]. When a call is retried (see
/// [`crate::retry`]), each further attempt is signed again with a fresh
/// timestamp and nonce over the same target and body bytes.
///
/// [`Client::send`]: crate::Client::send
/// [`Client::prepare`]: crate::Client::prepare
/// [`Client::send_prepared`]: crate::Client::send_prepared
#[derive(Clone)]
pub struct PreparedRequest {
    pub(crate) operation: Operation,
    pub(crate) target: String,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) timestamp: i64,
    pub(crate) nonce: String,
    pub(crate) idempotency: Idempotency,
    /// The host the request goes to; only [`Host::Api`] fails over to
    /// the backup base URL.
    pub(crate) host: crate::Host,
}

impl PreparedRequest {
    /// Signs the request with its own timestamp and nonce and sets the
    /// `Authorization` header.
    pub(crate) fn authorize(&mut self, signer: &RequestSigner) -> Result<(), Error> {
        let operation = self.operation;
        let authorization = signer
            .authorization(
                operation.method,
                &self.target,
                self.body.as_bytes(),
                self.timestamp,
                &self.nonce,
            )
            .map_err(|source| Error::Sign { operation, source })?;
        // Every part is checked or produced as ASCII before this point, so
        // this only fails on a bug; report it rather than panic.
        let mut authorization = HeaderValue::try_from(authorization).map_err(|_| Error::Build {
            operation,
            source: BuildError::InvalidNonce,
        })?;
        // A signature: kept out of HTTP-level logs and debug output.
        authorization.set_sensitive(true);
        self.headers.insert(AUTHORIZATION, authorization);
        Ok(())
    }

    /// The same request signed again with a new timestamp and nonce, for a
    /// retry: same target, same URL, same body bytes (shared, not copied,
    /// never serialized again).
    pub(crate) fn resigned(
        &self,
        signer: &RequestSigner,
        timestamp: i64,
        nonce: String,
    ) -> Result<PreparedRequest, Error> {
        let mut request = PreparedRequest {
            timestamp,
            nonce,
            ..self.clone()
        };
        request.authorize(signer)?;
        Ok(request)
    }

    /// Whether the request may be sent again after it may have arrived:
    /// the endpoint's [`Endpoint::IDEMPOTENCY`](crate::Endpoint::IDEMPOTENCY),
    /// or for a raw request what its method says, unless
    /// [`PreparedRequest::with_idempotency`] changed it.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
    }

    /// The same request, retried as `idempotency` says. For a raw request
    /// whose body carries the operation's number
    /// (`Idempotency::Keyed("out_trade_no")`), or to forbid resending a
    /// request that the server might act on twice. The signature does not
    /// change.
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// The operation (method and path template).
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The HTTP method.
    pub fn method(&self) -> Method {
        self.operation.method
    }

    /// The request target (path and query) exactly as signed and sent.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The full URL: the client's base URL followed by the target.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The headers sent: `Authorization`, `Accept`, `User-Agent`, and
    /// `Content-Type` / `Wechatpay-Serial` where they apply.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body: [`Body::as_bytes`] is what the signature covers,
    /// [`Body::wire_bytes`] what is sent (they differ only for uploads,
    /// where the meta JSON is signed and the multipart payload sent).
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The signature timestamp (Unix seconds).
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The signature nonce.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The exact bytes the `Authorization` signature covers.
    pub fn signing_message(&self) -> Vec<u8> {
        signing_message(
            self.method(),
            &self.target,
            self.timestamp,
            &self.nonce,
            self.body.as_bytes(),
        )
    }
}

/// `Debug` keeps personal data and credentials out of logs: the URL without
/// its query values (the names stay), the headers with `Authorization`
/// redacted, and only the body's size.
impl fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'a>(&'a HeaderMap);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut map = f.debug_map();
                for (name, value) in self.0 {
                    if value.is_sensitive() || name == AUTHORIZATION {
                        map.entry(&name.as_str(), &"<redacted>");
                    } else {
                        map.entry(&name.as_str(), &value.to_str().unwrap_or("<not text>"));
                    }
                }
                map.finish()
            }
        }
        f.debug_struct("PreparedRequest")
            .field("operation", &self.operation)
            .field("url", &without_query_values(self.url.as_str()))
            .field("headers", &Headers(&self.headers))
            .field(
                "body",
                &format_args!("<{} bytes>", self.body.as_bytes().len()),
            )
            .finish()
    }
}

/// `url` with every query value replaced by `…`: the names say what was
/// asked, the values may be an openid or an order number.
fn without_query_values(url: &str) -> String {
    let Some((path, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let names: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}=…"),
            None => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", names.join("&"))
}
