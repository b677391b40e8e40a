//! `wxpay pay-params`: the parameters a payer's front end hands to WeChat
//! for an order placed with a JSAPI, mini-program or APP endpoint, signed
//! with the merchant key (no network).

use clap::{Args, Subcommand};
use wxpay::payer::{self, PayParamsError};
use wxpay::signing::new_nonce;

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, MerchantArgs, Missing};

/// Arguments of `wxpay pay-params`.
#[derive(Args)]
pub struct PayParamsArgs {
    #[command(subcommand)]
    form: Form,

    #[command(flatten)]
    merchant: MerchantArgs,
}

/// Which front end the parameters are for.
#[derive(Subcommand)]
enum Form {
    /// JSAPI and mini-program: prints {appId, timeStamp, nonceStr, package, signType, paySign}
    /// for WeixinJSBridge.invoke('getBrandWCPayRequest', …) or wx.requestPayment(…)
    Jsapi(Order),
    /// APP: prints {appid, partnerid, prepayid, package, noncestr, timestamp, sign} for the OpenSDK's PayReq
    App(AppOrder),
}

/// The order the parameters pay.
#[derive(Args)]
struct Order {
    /// The appid that placed the order (for partner orders: the sub_appid when the order named one, else the sp_appid)
    #[arg(long)]
    appid: String,

    /// The prepay_id the order answered (without `prepay_id=`)
    #[arg(long)]
    prepay_id: String,

    /// The signature timestamp, Unix seconds (with --nonce); default now
    #[arg(long, requires = "nonce")]
    timestamp: Option<i64>,

    /// The nonce, 1 to 32 letters and digits (with --timestamp); default a fresh one
    #[arg(long, requires = "timestamp")]
    nonce: Option<String>,
}

/// An APP order: an [`Order`] and the merchant that placed it.
#[derive(Args)]
struct AppOrder {
    #[command(flatten)]
    order: Order,

    /// The merchant that placed the order (partner orders: the sub_mchid); default the merchant id (--mchid)
    #[arg(long)]
    partnerid: Option<String>,
}

/// Runs `wxpay pay-params`.
pub fn run(mut args: PayParamsArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    args.merchant.fill(profile.selected()?.as_ref());
    let mut missing = Missing::default();
    let key_file = missing.check(
        &args.merchant.private_key_file,
        "the merchant private key file",
        "--private-key-file",
        "WXPAY_PRIVATE_KEY_FILE",
    );
    let partnerid = match &args.form {
        Form::App(AppOrder {
            partnerid: Some(partnerid),
            ..
        }) => Some(partnerid.as_str()),
        Form::App(AppOrder {
            partnerid: None, ..
        }) => missing
            .check(
                &args.merchant.mchid,
                "the merchant id (the APP's partnerid)",
                "--mchid or --partnerid",
                "WXPAY_MCHID",
            )
            .map(String::as_str),
        Form::Jsapi(_) => None,
    };
    missing.into_result()?;
    let Some(key_file) = key_file else {
        return Err(Failure::usage("missing settings"));
    };
    let key = settings::merchant_key(key_file)?;
    let json = match &args.form {
        Form::Jsapi(order) => {
            let (timestamp, nonce) = when(order);
            let params = payer::sign_jsapi(&key, &order.appid, &order.prepay_id, timestamp, &nonce)
                .map_err(refused)?;
            serde_json::to_string_pretty(&params)
        }
        Form::App(AppOrder { order, .. }) => {
            let (timestamp, nonce) = when(order);
            let partnerid = partnerid.unwrap_or_default();
            let params = payer::sign_app(
                &key,
                &order.appid,
                partnerid,
                &order.prepay_id,
                timestamp,
                &nonce,
            )
            .map_err(refused)?;
            serde_json::to_string_pretty(&params)
        }
    };
    let json = json.map_err(|error| Failure::Other(format!("cannot write JSON: {error}")))?;
    output::line(&json)
}

/// The timestamp and nonce given, or now and a fresh nonce.
fn when(order: &Order) -> (i64, String) {
    match (order.timestamp, &order.nonce) {
        (Some(timestamp), Some(nonce)) => (timestamp, nonce.clone()),
        _ => (settings::unix_now(), new_nonce()),
    }
}

/// A bad value is the caller's to fix (exit 2); a key that cannot sign is
/// another failure.
fn refused(error: PayParamsError) -> Failure {
    match error {
        PayParamsError::InvalidField { field, .. } => {
            let flag = match field {
                "appId" => "--appid",
                "prepay_id" => "--prepay-id",
                "partnerid" => "--partnerid (or --mchid)",
                _ => "--nonce",
            };
            Failure::usage(format!("{flag}: {error}"))
        }
        other => Failure::Other(other.to_string()),
    }
}
