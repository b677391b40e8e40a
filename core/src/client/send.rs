//! The send loop: attempt → classify the failure → wait → re-sign → attempt
//! again (on the backup host after a network failure), then verify and
//! decode the answer. Classifying, waiting and choosing the host are
//! [`Attempts`]' (shared with the certificate download); re-signing and
//! the attempt itself are here.
//!
//! Logged through `tracing`: one `wxpay.call` span per call (method, path
//! template, attempts), one debug event per attempt (attempt number, host,
//! status, `Request-ID`, elapsed time), a debug event per retry (reason,
//! wait) and a warning when retries give up. Never logged: the rendered
//! path, query values, bodies, headers, keys.

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};
use reqwest::Url;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use super::{CallOptions, Client, join};
use crate::error::{ApiError, DecodeProblem, Error, Operation, RawBody};
use crate::request::PreparedRequest;
use crate::retry::{Attempts, Patience, Reason, millis, parse_retry_after};
use crate::signing::{new_nonce, unix_now};
use crate::verification::{SignatureHeaders, Verifier, VerifyError, header};

impl Client {
    /// Sends `request` under the call's retry policy and decodes the answer.
    pub(super) async fn call<R: DeserializeOwned>(
        &self,
        request: PreparedRequest,
        options: &CallOptions,
    ) -> Result<R, Error> {
        let operation = request.operation;
        let span = tracing::info_span!(
            "wxpay.call",
            method = operation.method.as_str(),
            template = operation.template,
            attempts = Empty,
        );
        self.attempts(request, options, &span)
            .instrument(span.clone())
            .await
    }

    /// The attempts of one call, recorded on its `span`.
    async fn attempts<R: DeserializeOwned>(
        &self,
        mut request: PreparedRequest,
        options: &CallOptions,
        span: &tracing::Span,
    ) -> Result<R, Error> {
        let policy = options.retry.as_ref().unwrap_or(&self.inner.retry);
        let timeout = options.timeout.unwrap_or(self.inner.timeout);
        let idempotency = options.idempotency.unwrap_or(request.idempotency);
        let mut attempts = Attempts::start(policy, self.backup_for(request.host), idempotency);
        loop {
            span.record("attempts", attempts.number());
            let patience = attempts.patience();
            match self
                .attempt(
                    &request,
                    attempts.base(),
                    timeout,
                    attempts.number(),
                    patience,
                )
                .await
            {
                Ok(value) => return Ok(value),
                Err(error) => attempts.after_failure(error).await?,
            }
            request = request.resigned(&self.inner.signer, unix_now(), new_nonce())?;
        }
    }

    /// One attempt: send to `base` (the primary base URL when `None`),
    /// receive, verify, decode (waiting, within `patience`, for a failed
    /// certificate download's back-off when the answer names a new serial).
    async fn attempt<R: DeserializeOwned>(
        &self,
        request: &PreparedRequest,
        base: Option<&Url>,
        timeout: Duration,
        attempt: u32,
        patience: Option<Patience>,
    ) -> Result<R, Error> {
        let operation = request.operation;
        let url = request_url(request, base)?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let started = Instant::now();
        let answer = self.transmit(request, url, timeout).await;
        let elapsed_ms = millis(started.elapsed());
        match answer {
            Err(error) => {
                let failure = Reason::of(&error).map_or("transport error", Reason::as_str);
                tracing::debug!(attempt, host, elapsed_ms, failure, "no answer");
                Err(error)
            }
            Ok(answer) => {
                let request_id = answer.request_id();
                tracing::debug!(
                    attempt,
                    host,
                    elapsed_ms,
                    status = answer.status.as_u16(),
                    request_id = request_id.as_deref().unwrap_or_default(),
                    "answer"
                );
                let result = answer.to_result(operation, &self.inner.keys.snapshot(), unix_now());
                match result {
                    Err(Error::Verification {
                        source: VerifyError::UnknownSerial { ref serial, .. },
                        ..
                    }) if self.refresh_for_unknown_serial(serial, patience).await => {
                        answer.to_result(operation, &self.inner.keys.snapshot(), unix_now())
                    }
                    other => other,
                }
            }
        }
    }

    pub(super) async fn transmit(
        &self,
        request: &PreparedRequest,
        url: Url,
        timeout: Duration,
    ) -> Result<Answer, Error> {
        let mut http_request = reqwest::Request::new(request.operation.method.into(), url);
        *http_request.headers_mut() = request.headers.clone();
        // The wire bytes: the JSON that was signed, or an upload's
        // multipart payload (around the meta JSON that was signed).
        if let Some(bytes) = request.body.wire_payload() {
            *http_request.body_mut() = Some(reqwest::Body::from(bytes));
        }
        exchange(
            &self.inner.http,
            http_request,
            request.operation,
            timeout,
            self.inner.max_response_bytes,
        )
        .await
    }
}

/// Sends `http_request` on `http` within `timeout` and reads the answer,
/// at most `limit` bytes of its body: the transport step APIv3 and APIv2
/// calls share.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    mut http_request: reqwest::Request,
    operation: Operation,
    timeout: Duration,
    limit: u64,
) -> Result<Answer, Error> {
    let transport = |source: reqwest::Error| {
        // A connect timeout is a connect error first: the request never
        // left, which decides whether a write may be sent again.
        if source.is_timeout() && !source.is_connect() {
            Error::Timeout {
                operation,
                after: timeout,
                attempts: 1,
            }
        } else {
            // The URL holds the rendered path and query, which may carry
            // order numbers or personal data: keep it out of messages.
            Error::Transport {
                operation,
                source: source.without_url(),
                attempts: 1,
            }
        }
    };
    *http_request.timeout_mut() = Some(timeout);
    let response = http.execute(http_request).await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let too_large = |announced| Error::ResponseTooLarge {
        operation,
        status,
        request_id: headers
            .get(header::REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        limit,
        announced,
    };
    let body = match read_bounded(response, limit).await {
        Ok(body) => body,
        Err(Bounded::Transport(source)) => return Err(transport(source)),
        Err(Bounded::TooLarge { announced }) => {
            tracing::debug!(
                status = status.as_u16(),
                limit,
                announced,
                "answer refused: larger than the limit"
            );
            return Err(too_large(announced));
        }
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Why an answer's body was not read whole.
enum Bounded {
    /// The body stopped arriving.
    Transport(reqwest::Error),
    /// It is larger than the limit: `Content-Length` announced this many
    /// bytes, or (`None`) the body went past the limit as it arrived.
    TooLarge { announced: Option<u64> },
}

/// Reads `response`'s body, at most `limit` bytes of it: an announced
/// `Content-Length` above the limit is refused before a byte of the body
/// is read, and a body that goes past the limit is dropped (its connection
/// with it) at the piece that crosses it, so no more than `limit` bytes are
/// ever held.
async fn read_bounded(mut response: reqwest::Response, limit: u64) -> Result<Bytes, Bounded> {
    let announced = response.content_length();
    if let Some(length) = announced
        && length > limit
    {
        return Err(Bounded::TooLarge {
            announced: Some(length),
        });
    }
    // Trust the announced length for the first allocation only up to a
    // point: the server may announce the limit and send nothing.
    let capacity = announced.unwrap_or(0).min(64 * 1024);
    let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(Bounded::Transport)? {
        let total = u64::try_from(body.len().saturating_add(chunk.len())).unwrap_or(u64::MAX);
        if total > limit {
            return Err(Bounded::TooLarge { announced: None });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Where `request` goes: its own URL, or the same target on `base` (the
/// backup host).
pub(super) fn request_url(request: &PreparedRequest, base: Option<&Url>) -> Result<Url, Error> {
    match base {
        Some(base) => join(base, &request.target).map_err(|source| Error::Build {
            operation: request.operation,
            source,
        }),
        None => Ok(request.url.clone()),
    }
}

/// An answer as received, before any check.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(super) fn request_id(&self) -> Option<String> {
        self.headers
            .get(header::REQUEST_ID)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    fn to_result<R: DeserializeOwned>(
        &self,
        operation: Operation,
        verifier: &Verifier,
        now: i64,
    ) -> Result<R, Error> {
        let status = self.status;
        if !self.status.is_success() {
            return Err(self.api_error(operation, verifier, now));
        }
        verifier
            .verify(&self.headers, &self.body, now)
            .map_err(|source| Error::Verification {
                operation,
                status,
                request_id: self.request_id(),
                source,
            })?;
        let json: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let decoded = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|error| (error.path().to_string(), error.into_inner()))
            .and_then(|value| {
                deserializer
                    .end()
                    .map_err(|error| (".".to_owned(), error))?;
                Ok(value)
            });
        decoded.map_err(|(path, source)| Error::Decode {
            operation,
            status,
            request_id: self.request_id(),
            path,
            source: DecodeProblem::of(&source),
            body: RawBody(self.body.clone()),
        })
    }

    pub(crate) fn api_error(&self, operation: Operation, verifier: &Verifier, now: i64) -> Error {
        #[derive(serde::Deserialize)]
        struct Shape {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default)]
            detail: Option<serde_json::Value>,
        }
        let authenticated = SignatureHeaders::any_present(&self.headers)
            && verifier.verify(&self.headers, &self.body, now).is_ok();
        let shape = serde_json::from_slice::<Shape>(&self.body).unwrap_or_else(|_| Shape {
            code: String::new(),
            message: String::from_utf8_lossy(&self.body)
                .chars()
                .take(512)
                .collect(),
            detail: None,
        });
        let retry_after = self
            .headers
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, SystemTime::now()));
        Error::Api(Box::new(ApiError {
            operation,
            status: self.status,
            code: shape.code,
            message: shape.message,
            detail: shape.detail.filter(|d| !d.is_null()),
            request_id: self.request_id(),
            authenticated,
            body: self.body.clone(),
            attempts: 1,
            retry_after,
        }))
    }
}
