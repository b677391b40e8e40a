//! A merchant's callback server: receives `TRANSACTION.SUCCESS` callbacks
//! at `POST /notify/transaction`, checks and decrypts them, prints the paid
//! order and answers `204 No Content`.
//!
//! ```text
//! export WXPAY_PUBLIC_KEY_ID=PUB_KEY_ID_0114232134912410000000000000
//! export WXPAY_PUBLIC_KEY_FILE=/path/to/pub_key.pem        # the WeChat Pay public key
//! # or, for certificate mode (both may be set during a migration):
//! # export WXPAY_PLATFORM_CERT_FILE=/path/to/wechatpay_cert.pem
//! export WXPAY_APIV3_KEY=...                                # the 32-character APIv3 key
//! export WXPAY_NOTIFY_ADDR=0.0.0.0:8090                     # default 127.0.0.1:8090
//! cargo run --example merchant_server --features axum
//! ```
//!
//! WeChat Pay reaches the server at the `notify_url` given when the order
//! was placed (HTTPS, usually through a reverse proxy that must pass the
//! body and the `Wechatpay-*` headers through unchanged).
//!
//! A rejected callback (bad signature, signature probe, wrong APIv3 key, …)
//! is printed with its reason and answered with a failure, after which
//! WeChat Pay sends it again later.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::routing::post;
use wxpay::notification::resources::Transaction;
use wxpay::notification::{
    EventType, NotificationDecoder, NotificationRejection, NotificationReply, WechatpayNotification,
};
use wxpay::{ApiV3Key, PlatformCertificate, Verifier, VerifyingKey};

const DEFAULT_ADDR: &str = "127.0.0.1:8090";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let (decoder, addr) = configure()?;
    let app = Router::new()
        .route("/notify/transaction", post(transaction))
        .with_state(decoder);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr}: {error}"))?;
    let local = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    println!("listening for WeChat Pay callbacks on http://{local}/notify/transaction");
    axum::serve(listener, app)
        .await
        .map_err(|error| format!("server failed: {error}"))
}

/// Handles one callback. Taking the `Result` lets the handler print why a
/// callback was rejected; `WechatpayNotification<Transaction>` alone would
/// answer the failure without calling the handler.
async fn transaction(
    callback: Result<WechatpayNotification<Transaction>, NotificationRejection>,
) -> NotificationReply {
    let notification = match callback {
        Ok(WechatpayNotification(notification)) => notification,
        Err(rejection) => {
            let reply = rejection.reply();
            eprintln!("answered {}: {rejection}", reply.status());
            return reply;
        }
    };
    if notification.event_type != EventType::TransactionSuccess {
        println!(
            "notification {}: {} ignored at this URL",
            notification.id, notification.event_type
        );
        return NotificationReply::success();
    }
    let order = &notification.resource;
    // A real server records the payment here (idempotently: WeChat Pay may
    // deliver the same notification id more than once) and answers a
    // failure if that does not work out.
    println!(
        "notification {}: order {} paid, {} {} (payer paid {} {}), WeChat Pay transaction {}, state {}, at {}",
        notification.id,
        order.out_trade_no,
        order.amount.total,
        order.amount.currency,
        order.amount.payer_total,
        order.amount.payer_currency,
        order.transaction_id,
        order.trade_state,
        order.success_time,
    );
    NotificationReply::success()
}

/// Reads the keys and the address from the environment, listing every
/// problem at once.
fn configure() -> Result<(NotificationDecoder, SocketAddr), String> {
    let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let mut problems = Vec::new();
    let mut verifier = Verifier::new();

    match (var("WXPAY_PUBLIC_KEY_ID"), var("WXPAY_PUBLIC_KEY_FILE")) {
        (Some(id), Some(path)) => match VerifyingKey::from_public_key_pem_file(&path) {
            Ok(key) => verifier.add_public_key(id, key),
            Err(error) => problems.push(format!("WXPAY_PUBLIC_KEY_FILE: {error}")),
        },
        (Some(_), None) => problems.push(
            "WXPAY_PUBLIC_KEY_ID is set but WXPAY_PUBLIC_KEY_FILE is not: name the PEM file of that WeChat Pay public key".to_owned(),
        ),
        (None, Some(_)) => problems.push(
            "WXPAY_PUBLIC_KEY_FILE is set but WXPAY_PUBLIC_KEY_ID is not: give the key's id (PUB_KEY_ID_…), shown next to it in the merchant platform".to_owned(),
        ),
        (None, None) => {}
    }
    if let Some(path) = var("WXPAY_PLATFORM_CERT_FILE") {
        let certificate = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read {path}: {error}"))
            .and_then(|pem| PlatformCertificate::from_pem(&pem).map_err(|error| error.to_string()));
        match certificate {
            Ok(certificate) => verifier.add_certificate(&certificate),
            Err(error) => problems.push(format!("WXPAY_PLATFORM_CERT_FILE: {error}")),
        }
    }
    if verifier.is_empty() && problems.is_empty() {
        problems.push(
            "no key to check WeChat Pay's signatures: set WXPAY_PUBLIC_KEY_ID and WXPAY_PUBLIC_KEY_FILE (WeChat Pay public key), or WXPAY_PLATFORM_CERT_FILE (platform certificate)".to_owned(),
        );
    }

    let key = match var("WXPAY_APIV3_KEY") {
        Some(key) => match ApiV3Key::new(key) {
            Ok(key) => Some(key),
            Err(error) => {
                problems.push(format!("WXPAY_APIV3_KEY: {error}"));
                None
            }
        },
        None => {
            problems.push(
                "WXPAY_APIV3_KEY is not set: callbacks are encrypted with the APIv3 key set in the merchant platform".to_owned(),
            );
            None
        }
    };

    let addr_text = var("WXPAY_NOTIFY_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
    let addr = match addr_text.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problems.push(format!(
                "WXPAY_NOTIFY_ADDR `{addr_text}` is not an address to listen on, such as {DEFAULT_ADDR}"
            ));
            None
        }
    };

    match (key, addr) {
        (Some(key), Some(addr)) if problems.is_empty() => {
            Ok((NotificationDecoder::new(verifier, key), addr))
        }
        _ => Err(problems.join("\n       ")),
    }
}
