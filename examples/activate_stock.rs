//! Activates a coupon stock: the seed flow of wxpay, end to end.
//!
//! With no environment it starts the embedded sandbox (a local WeChat Pay
//! that checks signatures and signs its answers), creates a stock there,
//! activates it and prints the decoded answer as one JSON line:
//!
//! ```text
//! cargo run --example activate_stock
//! ```
//!
//! Against another server (the real API or a sandbox started elsewhere),
//! set `WXPAY_BASE_URL`, `WXPAY_MCHID`, `WXPAY_SERIAL`,
//! `WXPAY_PRIVATE_KEY_FILE`, `WXPAY_PUBLIC_KEY_ID` and
//! `WXPAY_PUBLIC_KEY_FILE`, and name the stock:
//!
//! ```text
//! cargo run --example activate_stock -- <stock_id> <stock_creator_mchid>
//! ```
//!
//! Any failure, a signature that does not verify included, exits non-zero
//! with the error's message.

use std::process::ExitCode;

use wxpay::Client;
use wxpay::api::types::{
    CouponAvailableTime, FavorStockType as StockType, FixedNormalCoupon, StockUseRule,
};
use wxpay::api::v3::marketing::favor::coupon_stocks::{
    Post as CreateStock, PostCouponUseRule as CouponUseRule,
};
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::{
    Post as StartStock, PostResponse as StartStockResponse,
};
use wxpay_sandbox::Sandbox;

const ENV: [&str; 6] = [
    "WXPAY_BASE_URL",
    "WXPAY_MCHID",
    "WXPAY_SERIAL",
    "WXPAY_PRIVATE_KEY_FILE",
    "WXPAY_PUBLIC_KEY_ID",
    "WXPAY_PUBLIC_KEY_FILE",
];

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(started) => {
            // Answers derive `Deserialize` only (what the client needs):
            // the line is written from the fields.
            let line = serde_json::json!({
                "start_time": started.start_time.to_string(),
                "stock_id": started.stock_id,
            });
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<StartStockResponse, String> {
    let set: Vec<&str> = ENV
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some())
        .collect();
    if set.is_empty() {
        return against_embedded_sandbox().await;
    }
    if set.len() != ENV.len() {
        let missing: Vec<&str> = ENV
            .iter()
            .copied()
            .filter(|name| !set.contains(name))
            .collect();
        return Err(format!(
            "{} set but {} missing: set all six variables, or none to use the embedded sandbox",
            set.join(", "),
            missing.join(", ")
        ));
    }
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not valid UTF-8"));
    let mut args = std::env::args().skip(1);
    let (Some(stock_id), Some(stock_creator_mchid), None) = (args.next(), args.next(), args.next())
    else {
        return Err("usage: activate_stock <stock_id> <stock_creator_mchid>".to_owned());
    };
    let client = Client::builder()
        .base_url(var("WXPAY_BASE_URL")?)
        .mchid(var("WXPAY_MCHID")?)
        .merchant_key_file(var("WXPAY_SERIAL")?, var("WXPAY_PRIVATE_KEY_FILE")?)
        .wechatpay_public_key_file(var("WXPAY_PUBLIC_KEY_ID")?, var("WXPAY_PUBLIC_KEY_FILE")?)
        .build()
        .map_err(|error| error.report().to_string())?;
    client
        .send(StartStock {
            stock_id,
            stock_creator_mchid,
        })
        .await
        .map_err(|error| error.report().to_string())
}

async fn against_embedded_sandbox() -> Result<StartStockResponse, String> {
    let sandbox = Sandbox::start()
        .await
        .map_err(|error| format!("could not start the embedded sandbox: {error}"))?;
    let credentials = sandbox.credentials();
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .mchid(&credentials.mchid)
        .merchant_key_pem(
            &credentials.merchant_serial,
            &credentials.merchant_private_key_pem,
        )
        .wechatpay_public_key_pem(
            &credentials.public_key_id,
            &credentials.platform_public_key_pem,
        )
        .build()
        .map_err(|error| error.report().to_string())?;

    // The required members go to `new`, in the spec's order; the optional
    // ones are `None` unless a `with_…` method sets them.
    let coupon_use_rule = CouponUseRule::new(CouponAvailableTime::default())
        .with_fixed_normal_coupon(FixedNormalCoupon {
            coupon_amount: 100,
            transaction_minimum: 100,
        });
    let stock_use_rule = StockUseRule {
        max_coupons: 100,
        max_amount: 10_000,
        max_amount_by_day: None,
        max_coupons_per_user: 1,
        natural_person_limit: false,
        prevent_api_abuse: false,
    };
    let created = client
        .send(CreateStock::new(
            "wxpay demo stock",
            date_time("2026-12-01T00:00:00+08:00")?,
            date_time("2026-12-31T23:59:59+08:00")?,
            stock_use_rule,
            false, // no_cash
            StockType::Normal,
            &credentials.mchid, // belong_merchant
            coupon_use_rule,
            format!("demo-{}", std::process::id()), // out_request_no
        ))
        .await
        .map_err(|error| error.report().to_string())?;

    let started = client
        .send(StartStock {
            stock_id: created.stock_id,
            stock_creator_mchid: credentials.mchid.clone(),
        })
        .await
        .map_err(|error| error.report().to_string())?;
    sandbox.shutdown().await;
    Ok(started)
}

fn date_time(text: &str) -> Result<wxpay::DateTime, String> {
    text.parse()
        .map_err(|error: wxpay::InvalidDateTime| error.to_string())
}
