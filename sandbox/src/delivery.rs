//! Callback delivery at work: the dispatcher that turns [`Event`]s (from
//! the flows) and notifications queued through `POST /_sandbox/notify`
//! into one task per notification, and those tasks, which encrypt, sign
//! and POST each callback to the merchant's `notify_url` on WeChat Pay's
//! schedule, writing every attempt to the log.
//!
//! The settings, the queue and the log are [`crate::callbacks`], part of
//! the shared state; this module needs the whole state (keys, faults) and
//! the APIv2 notification bodies of [`crate::handlers::v2`], so it sits
//! above both, beside the router. Nothing but the crate root imports it.

use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::{JoinHandle, JoinSet};

use crate::Faults;
use crate::callbacks::{
    Answered, CallbackAttempt, CallbackOutcome, Notification, error_chain, excerpt,
};
use crate::certificates::{self, EncryptedResource};
use crate::clock;
use crate::events::Event;
use crate::state::{AppState, SigningMode};

/// Starts the dispatcher: every event and every queued notification gets
/// its own delivery task. Abort the handle to stop all deliveries.
pub(crate) fn spawn(
    app: AppState,
    mut events: UnboundedReceiver<Event>,
    mut queued: UnboundedReceiver<Notification>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(app.0.callbacks.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| error_chain(&error));
        let mut running = JoinSet::new();
        loop {
            let notification = tokio::select! {
                Some(event) = events.recv() => Notification::from_event(event),
                Some(notification) = queued.recv() => notification,
                Some(_) = running.join_next(), if !running.is_empty() => continue,
                else => break,
            };
            running.spawn(deliver(app.clone(), client.clone(), notification));
        }
    })
}

/// `resource` of a callback body.
#[derive(Serialize)]
struct CallbackResource<'a> {
    algorithm: &'static str,
    original_type: &'a str,
    ciphertext: String,
    associated_data: String,
    nonce: String,
}

/// A callback body, as WeChat Pay sends it.
#[derive(Serialize)]
struct CallbackBody<'a> {
    id: &'a str,
    create_time: String,
    event_type: &'a str,
    resource_type: &'static str,
    summary: &'a str,
    resource: CallbackResource<'a>,
}

/// The JSON body: the resource encrypted under the APIv3 key with
/// `associated_data` = `original_type`. `None` if encryption fails.
fn body(app: &AppState, notification: &Notification) -> Option<Bytes> {
    if let Some(kind) = notification.v2 {
        return crate::handlers::v2::notification_body(app, kind, &notification.resource)
            .map(Bytes::from);
    }
    let plaintext = serde_json::to_vec(&notification.resource).ok()?;
    let EncryptedResource {
        algorithm,
        nonce,
        associated_data,
        ciphertext,
    } = certificates::encrypt(
        &app.0.credentials.apiv3_key,
        &notification.original_type,
        &plaintext,
    )?;
    let body = CallbackBody {
        id: &notification.id,
        create_time: clock::format_rfc3339(clock::unix_now()),
        event_type: &notification.event_type,
        resource_type: "encrypt-resource",
        summary: &notification.summary,
        resource: CallbackResource {
            algorithm,
            original_type: &notification.original_type,
            ciphertext,
            associated_data,
            nonce,
        },
    };
    serde_json::to_vec(&body).ok().map(Bytes::from)
}

/// Delivers one notification: attempts until delivered or out of delays.
async fn deliver(
    app: AppState,
    client: Result<reqwest::Client, String>,
    notification: Notification,
) {
    let deliveries = &app.0.callbacks;
    let total = deliveries.delays.len() + 1;
    let prepared = match (&client, reqwest::Url::parse(&notification.notify_url)) {
        (Err(error), _) => Err(format!("the sandbox cannot make HTTP requests: {error}")),
        (_, Err(error)) => Err(format!("notify_url is not a URL: {error}")),
        (Ok(_), Ok(url)) if !matches!(url.scheme(), "http" | "https") => Err(format!(
            "notify_url must be http or https, not {}",
            url.scheme()
        )),
        (Ok(client), Ok(url)) => match body(&app, &notification) {
            Some(body) => Ok((client, url, body)),
            None => Err("the sandbox could not encrypt the resource".to_owned()),
        },
    };
    let (client, url, body) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            tracing::warn!(id = %notification.id, %error, "callback not sent");
            deliveries.record(CallbackAttempt {
                notification_id: notification.id.clone(),
                event_type: notification.event_type.clone(),
                notify_url: notification.notify_url.clone(),
                out_trade_no: notification
                    .resource
                    .get("out_trade_no")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                attempt: 1,
                started_at: SystemTime::now(),
                duration: Duration::ZERO,
                status: None,
                error: Some(error),
                answer: None,
                outcome: CallbackOutcome::GaveUp,
            });
            return;
        }
    };

    for attempt in 1..=total {
        let started_at = SystemTime::now();
        let started = Instant::now();
        let result = if notification.v2.is_some() {
            crate::handlers::v2::post_notification(client, url.clone(), body.clone()).await
        } else {
            post(&app, client, url.clone(), body.clone()).await
        };
        let duration = started.elapsed();
        let delivered = match &result {
            Ok(answered) if notification.v2.is_some() => {
                answered.status == 200
                    && answered
                        .answer
                        .as_deref()
                        .is_some_and(crate::handlers::v2::is_success_reply)
            }
            Ok(answered) => answered.status == 200 || answered.status == 204,
            Err(_) => false,
        };
        let outcome = match deliveries.delays.get(attempt - 1) {
            _ if delivered => CallbackOutcome::Delivered,
            Some(&after) => CallbackOutcome::Retrying { after },
            None => CallbackOutcome::GaveUp,
        };
        let (status, error, answer) = match result {
            Ok(Answered { status, answer }) => (Some(status), None, answer),
            Err(error) => (None, Some(error), None),
        };
        tracing::debug!(
            id = %notification.id,
            event_type = %notification.event_type,
            attempt,
            ?status,
            ?error,
            outcome = outcome.as_str(),
            "callback attempt"
        );
        deliveries.record(CallbackAttempt {
            notification_id: notification.id.clone(),
            event_type: notification.event_type.clone(),
            notify_url: notification.notify_url.clone(),
            out_trade_no: notification
                .resource
                .get("out_trade_no")
                .and_then(Value::as_str)
                .map(str::to_owned),
            attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
            started_at,
            duration,
            status,
            error,
            answer,
            outcome,
        });
        match outcome {
            CallbackOutcome::Retrying { after } => tokio::time::sleep(after).await,
            CallbackOutcome::Delivered | CallbackOutcome::GaveUp => return,
        }
    }
}

/// One signed POST of `body`; signed afresh (new timestamp and nonce) for
/// each attempt, with the key of the moment, or with a SIGNTEST probe as
/// [`Faults::callback_signtest_share`] draws.
async fn post(
    app: &AppState,
    client: &reqwest::Client,
    url: reqwest::Url,
    body: Bytes,
) -> Result<Answered, String> {
    let mut headers = HeaderMap::new();
    let body = {
        // Callbacks are signed the way the merchant verifies answers: with
        // certificates in certificate mode, else with the public key.
        let mode = if app.0.certificate_mode {
            SigningMode::Certificate
        } else {
            SigningMode::PublicKey
        };
        let key = app.signing_key(mode);
        let faults = Faults {
            signtest_probe: app.faults().roll_callback_probe(&mut rand::rng()),
            ..Faults::default()
        };
        key.signer().sign(
            StatusCode::OK,
            &mut headers,
            body,
            &faults,
            clock::unix_now(),
        )
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // WeChat Pay's callbacks carry a Request-ID as its answers do (a
    // required header in its webhook spec); a fresh one per attempt.
    crate::signing::insert(
        &mut headers,
        crate::signing::HEADER_REQUEST_ID,
        &app.next_request_id(),
    );
    let response = client
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|error| error_chain(&error))?;
    let status = response.status().as_u16();
    let answer = response
        .bytes()
        .await
        .ok()
        .and_then(|bytes| excerpt(&bytes));
    Ok(Answered { status, answer })
}
