//! The payer's side of a payment: the parameters a JSAPI page, a
//! mini-program or an APP hands to WeChat to pay an order, signed with the
//! merchant key.
//!
//! Placing a JSAPI, mini-program or APP order answers only a `prepay_id`.
//! The payer's WeChat opens the cashier when the merchant's front end calls
//!
//! | where | call | parameters |
//! |---|---|---|
//! | a page in WeChat (JSAPI, 公众号) | `WeixinJSBridge.invoke('getBrandWCPayRequest', params, cb)` | [`JsapiPayParams`] |
//! | a mini-program (小程序) | `wx.requestPayment({...params, success, fail})` | [`JsapiPayParams`] (its `appId` is ignored there, but signed) |
//! | an APP (the OpenSDK's `PayReq`) | `api.sendReq(req)` | [`AppPayParams`] |
//!
//! Both types serialize to exactly the JSON keys those calls take, so a
//! handler can return them to the front end as they are.
//!
//! ```text
//! JSAPI: paySign = base64(SHA256withRSA(appId\ntimeStamp\nnonceStr\npackage\n))   package = prepay_id=…
//! APP:   sign    = base64(SHA256withRSA(appid\ntimestamp\nnoncestr\nprepayid\n))   package = Sign=WXPay
//! ```
//!
//! [`Client::prepay_jsapi`](crate::Client::prepay_jsapi) and
//! [`Client::prepay_app`](crate::Client::prepay_app) go from an order to
//! its parameters in one call (place the order, then sign), for every
//! order type that implements [`JsapiPrepay`] or [`AppPrepay`]: the
//! catalogue's direct, partner (服务商) and combined (合单) orders do.
//! [`Client::jsapi_pay_params`](crate::Client::jsapi_pay_params) and
//! [`Client::app_pay_params`](crate::Client::app_pay_params) sign for a
//! `prepay_id` the merchant already holds.
//!
//! The front end's "ok" is not proof of payment: trust only the
//! `TRANSACTION.SUCCESS` callback or an order query.
//!
//! H5 and Native orders need nothing signed: open the `h5_url` in the
//! payer's browser, or show the `code_url` as a QR code.
//!
//! Money goes the other way too. A merchant transfer (商家转账, user-confirm
//! mode) answers a `package_info`; the payee's page passes it to
//! `wx.requestMerchantTransfer` as [`MerchantTransferParams`], unsigned
//! (`package_info` is issued by WeChat Pay and names the bill).
//! [`Client::create_transfer_bill`](crate::Client::create_transfer_bill)
//! creates the bill and builds them in one call, for every create
//! endpoint that implements [`TransferBillCreate`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::endpoint::Endpoint;
use crate::keys::{CryptoError, MerchantKey};
use crate::signing::{new_nonce, unix_now};

/// `signType` of APIv3 JSAPI parameters.
pub const SIGN_TYPE_RSA: &str = "RSA";

/// `package` of APP parameters.
pub const APP_PACKAGE: &str = "Sign=WXPay";

/// The longest `appId`, `prepay_id` or `partnerid` accepted (WeChat Pay's
/// are 18, about 36 and 10 characters).
const MAX_FIELD_LEN: usize = 64;

/// The longest `nonceStr` WeChat accepts.
const MAX_NONCE_LEN: usize = 32;

/// The longest `package_info` or `openId` accepted (WeChat Pay's are a
/// few hundred and 28 characters).
const MAX_TRANSFER_FIELD_LEN: usize = 2048;

/// The parameters of `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` and
/// `wx.requestPayment(…)`, for an order placed through a JSAPI or
/// mini-program endpoint.
///
/// Serializes to `{"appId","timeStamp","nonceStr","package","signType","paySign"}`:
///
/// ```
/// # fn demo(client: &wxpay_core::Client) -> Result<(), wxpay_core::payer::PayParamsError> {
/// let params = client.jsapi_pay_params("wxd678efh567hg6787", "wx201410272009395522657a690389285100")?;
/// assert_eq!(params.package, "prepay_id=wx201410272009395522657a690389285100");
/// let json = serde_json::to_value(&params).unwrap_or_default();
/// assert_eq!(json["signType"], "RSA");
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiPayParams {
    /// The appid that placed the order (for partner orders the `sub_appid`
    /// where the order named one, else the `sp_appid`).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// Unix seconds, as a string.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// A random string of at most 32 letters and digits.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `prepay_id=<prepay_id>`.
    pub package: String,
    /// `RSA`.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// base64(SHA256withRSA(`appId\ntimeStamp\nnonceStr\npackage\n`)) under
    /// the merchant key.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

impl JsapiPayParams {
    /// The `prepay_id` inside `package`, if `package` has the
    /// `prepay_id=` form.
    pub fn prepay_id(&self) -> Option<&str> {
        self.package.strip_prefix("prepay_id=")
    }

    /// The exact text `paySign` signs.
    pub fn signing_message(&self) -> String {
        jsapi_message(
            &self.app_id,
            &self.time_stamp,
            &self.nonce_str,
            &self.package,
        )
    }
}

/// The parameters of the APP SDK's `PayReq`, for an order placed through
/// an APP endpoint.
///
/// Serializes to `{"appid","partnerid","prepayid","package","noncestr","timestamp","sign"}`
/// (the SDK's `appId`, `partnerId`, `prepayId`, `packageValue`,
/// `nonceStr`, `timeStamp`, `sign`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPayParams {
    /// The mobile application's appid that placed the order.
    pub appid: String,
    /// The merchant id (for partner orders the `sub_mchid`, for combined
    /// orders the `combine_mchid`).
    pub partnerid: String,
    /// The `prepay_id` the order answered.
    pub prepayid: String,
    /// `Sign=WXPay`.
    pub package: String,
    /// A random string of at most 32 letters and digits.
    pub noncestr: String,
    /// Unix seconds, as a string.
    pub timestamp: String,
    /// base64(SHA256withRSA(`appid\ntimestamp\nnoncestr\nprepayid\n`))
    /// under the merchant key.
    pub sign: String,
}

impl AppPayParams {
    /// The exact text `sign` signs.
    pub fn signing_message(&self) -> String {
        app_message(&self.appid, &self.timestamp, &self.noncestr, &self.prepayid)
    }
}

// The parameters go to the payer's device anyway; `Debug` still leaves the
// signatures out, as it does for requests.
impl fmt::Debug for JsapiPayParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsapiPayParams")
            .field("app_id", &self.app_id)
            .field("time_stamp", &self.time_stamp)
            .field("nonce_str", &self.nonce_str)
            .field("package", &self.package)
            .field("sign_type", &self.sign_type)
            .field("pay_sign", &"<signature>")
            .finish()
    }
}

impl fmt::Debug for AppPayParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppPayParams")
            .field("appid", &self.appid)
            .field("partnerid", &self.partnerid)
            .field("prepayid", &self.prepayid)
            .field("package", &self.package)
            .field("noncestr", &self.noncestr)
            .field("timestamp", &self.timestamp)
            .field("sign", &"<signature>")
            .finish()
    }
}

/// Why invocation parameters could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayParamsError {
    /// A value that goes into the signed message is unusable: a line break
    /// in it would let the signed text say something else.
    #[error("{field} {problem}; {hint}")]
    InvalidField {
        /// The parameter (`appId`, `prepay_id`, `partnerid`, `nonceStr`,
        /// `mchId`, `package`, `openId`).
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
        /// What to pass instead.
        hint: &'static str,
    },
    /// The merchant key could not sign.
    #[error("the merchant key could not sign the parameters")]
    Sign(#[from] CryptoError),
}

/// `appId\ntimeStamp\nnonceStr\npackage\n`: what `paySign` signs.
pub fn jsapi_message(app_id: &str, time_stamp: &str, nonce_str: &str, package: &str) -> String {
    lines(&[app_id, time_stamp, nonce_str, package])
}

/// `appid\ntimestamp\nnoncestr\nprepayid\n`: what an APP's `sign` signs.
pub fn app_message(appid: &str, timestamp: &str, noncestr: &str, prepayid: &str) -> String {
    lines(&[appid, timestamp, noncestr, prepayid])
}

fn lines(values: &[&str]) -> String {
    let mut message = String::with_capacity(values.iter().map(|v| v.len() + 1).sum());
    for value in values {
        message.push_str(value);
        message.push('\n');
    }
    message
}

/// Refuses a value that is empty, too long, or not printable ASCII without
/// spaces (appids, prepay ids and merchant ids are all of that kind).
fn check_token(
    field: &'static str,
    value: &str,
    max_len: usize,
    hint: &'static str,
) -> Result<(), PayParamsError> {
    let problem = if value.is_empty() {
        "is empty"
    } else if value.len() > max_len {
        "is too long"
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        "holds a space, a line break or a character that is not ASCII"
    } else {
        return Ok(());
    };
    Err(PayParamsError::InvalidField {
        field,
        problem,
        hint,
    })
}

fn check_nonce(nonce: &str) -> Result<(), PayParamsError> {
    if nonce.is_empty()
        || nonce.len() > MAX_NONCE_LEN
        || !nonce.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(PayParamsError::InvalidField {
            field: "nonceStr",
            problem: "must be 1 to 32 ASCII letters and digits",
            hint: "leave it to wxpay (a fresh 32-character nonce) or pass such a string",
        });
    }
    Ok(())
}

fn check_appid(appid: &str) -> Result<(), PayParamsError> {
    check_token(
        "appId",
        appid,
        MAX_FIELD_LEN,
        "pass the appid that placed the order (wx followed by 16 characters)",
    )
}

fn check_prepay_id(prepay_id: &str) -> Result<(), PayParamsError> {
    check_token(
        "prepay_id",
        prepay_id,
        MAX_FIELD_LEN,
        "pass the prepay_id the order answered, without the `prepay_id=` prefix",
    )
}

fn check_partnerid(partnerid: &str) -> Result<(), PayParamsError> {
    check_token(
        "partnerid",
        partnerid,
        MAX_FIELD_LEN,
        "pass the merchant id that placed the order (the sub_mchid for partner orders)",
    )?;
    if !partnerid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PayParamsError::InvalidField {
            field: "partnerid",
            problem: "is not all digits",
            hint: "pass the merchant id that placed the order (the sub_mchid for partner orders)",
        });
    }
    Ok(())
}

/// The parameters of `wx.requestMerchantTransfer({...params, success,
/// fail})` (and `WeixinJSBridge.invoke('requestMerchantTransfer', params,
/// cb)`), with which a payee confirms a merchant transfer bill that is
/// `WAIT_USER_CONFIRM`.
///
/// Nothing is signed: `package` is the bill's `package_info`, issued by
/// WeChat Pay. Serializes to `{"mchId","appId","package"}`, plus
/// `"openId"` when set:
///
/// ```
/// use wxpay_core::payer::MerchantTransferParams;
///
/// let params = MerchantTransferParams::new("1900001109", "wxf636efh567hg4356", "affffddafdfafddffda==")?
///     .with_open_id("o-MYE42l80oelYMDE34nYD456Xoy")?;
/// let json = serde_json::to_string(&params).unwrap_or_default();
/// assert_eq!(
///     json,
///     r#"{"mchId":"1900001109","appId":"wxf636efh567hg4356","package":"affffddafdfafddffda==","openId":"o-MYE42l80oelYMDE34nYD456Xoy"}"#
/// );
/// # Ok::<(), wxpay_core::payer::PayParamsError>(())
/// ```
///
/// The page's `ok` (`requestMerchantTransfer:ok`) is no proof that the
/// money moved: trust the `MCHTRANSFER.BILL.FINISHED` callback or a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MerchantTransferParams {
    /// The merchant that created the bill.
    #[serde(rename = "mchId")]
    pub mch_id: String,
    /// The appid the bill names (its `appid`).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// The bill's `package_info`, unchanged.
    pub package: String,
    /// The payee's openid under `app_id`; WeChat then checks that the user
    /// confirming is the payee. Left out of the JSON when `None`.
    #[serde(rename = "openId", default, skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
}

impl MerchantTransferParams {
    /// The parameters for the bill of merchant `mchid` and app `appid` that
    /// answered `package_info`.
    ///
    /// # Errors
    /// [`PayParamsError::InvalidField`] naming `mchId`, `appId` or
    /// `package` when one is empty, too long, or holds a space, a line
    /// break or a character that is not ASCII (`mchId` must be digits).
    pub fn new(
        mchid: &str,
        appid: &str,
        package_info: &str,
    ) -> Result<MerchantTransferParams, PayParamsError> {
        check_mch_id(mchid)?;
        check_appid(appid)?;
        check_token(
            "package",
            package_info,
            MAX_TRANSFER_FIELD_LEN,
            "pass the package_info the transfer bill's create call answered, unchanged",
        )?;
        Ok(MerchantTransferParams {
            mch_id: mchid.to_owned(),
            app_id: appid.to_owned(),
            package: package_info.to_owned(),
            open_id: None,
        })
    }

    /// The same with `openId` set to the bill's payee.
    ///
    /// # Errors
    /// [`PayParamsError::InvalidField`] naming `openId` when `openid` is
    /// empty, too long or holds a space, a line break or a character that
    /// is not ASCII.
    pub fn with_open_id(mut self, openid: &str) -> Result<MerchantTransferParams, PayParamsError> {
        check_open_id(openid)?;
        self.open_id = Some(openid.to_owned());
        Ok(self)
    }
}

fn check_mch_id(mchid: &str) -> Result<(), PayParamsError> {
    let hint = "pass the merchant id that created the transfer bill";
    check_token("mchId", mchid, MAX_FIELD_LEN, hint)?;
    if !mchid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PayParamsError::InvalidField {
            field: "mchId",
            problem: "is not all digits",
            hint,
        });
    }
    Ok(())
}

/// A merchant transfer bill's create endpoint (user-confirm mode): which
/// appid and payee the payee's parameters name, and where the answer
/// holds the `package_info`.
///
/// The catalogue's `fund_app::mch_transfer::transfer_bills::Post`
/// implements it; implement it for a create endpoint of your own to use
/// [`Client::create_transfer_bill`](crate::Client::create_transfer_bill).
pub trait TransferBillCreate: Endpoint {
    /// The bill's `appid`.
    fn payee_appid(&self) -> &str;

    /// The bill's `openid`, the payee.
    fn payee_openid(&self) -> &str;

    /// The answer's `package_info`; WeChat Pay sends one while the bill is
    /// `WAIT_USER_CONFIRM`.
    fn package_info(response: &Self::Response) -> Option<&str>;
}

/// What [`Client::create_transfer_bill`](crate::Client::create_transfer_bill)
/// answers: the create call's answer, and the payee's parameters when the
/// bill waits for its payee.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedTransferBill<R> {
    /// The create call's answer (`out_bill_no`, `transfer_bill_no`,
    /// `state`, …).
    pub answer: R,
    /// The parameters of `wx.requestMerchantTransfer`, with `openId`; `None`
    /// when the answer holds no `package_info` (the bill needs no
    /// confirmation, or already reached a final state).
    pub params: Option<MerchantTransferParams>,
}

/// Checks the fields of a transfer bill before it is created, so that a
/// bill whose parameters could never be built is not created.
pub(crate) fn check_transfer_bill(
    mchid: &str,
    appid: &str,
    openid: &str,
) -> Result<(), PayParamsError> {
    check_mch_id(mchid)?;
    check_appid(appid)?;
    check_open_id(openid)
}

fn check_open_id(openid: &str) -> Result<(), PayParamsError> {
    check_token(
        "openId",
        openid,
        MAX_TRANSFER_FIELD_LEN,
        "pass the bill's openid (the payee under the bill's appid)",
    )
}

/// Signs JSAPI / mini-program parameters for `prepay_id` with `key`, at
/// `timestamp` (Unix seconds) with `nonce`.
///
/// [`Client::jsapi_pay_params`](crate::Client::jsapi_pay_params) does this
/// with the client's key, the current time and a fresh nonce; this form is
/// for tools and known-answer tests.
///
/// # Errors
/// [`PayParamsError::InvalidField`] when `appid`, `prepay_id` or `nonce` is
/// empty, too long or holds a character that does not belong (a line break
/// above all); [`PayParamsError::Sign`] when the key fails to sign.
pub fn sign_jsapi(
    key: &MerchantKey,
    appid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<JsapiPayParams, PayParamsError> {
    check_appid(appid)?;
    check_prepay_id(prepay_id)?;
    check_nonce(nonce)?;
    let mut params = JsapiPayParams {
        app_id: appid.to_owned(),
        time_stamp: timestamp.to_string(),
        nonce_str: nonce.to_owned(),
        package: format!("prepay_id={prepay_id}"),
        sign_type: SIGN_TYPE_RSA.to_owned(),
        pay_sign: String::new(),
    };
    params.pay_sign = key.sign_sha256(params.signing_message().as_bytes())?;
    Ok(params)
}

/// Signs APP parameters for `prepay_id` with `key`, at `timestamp` (Unix
/// seconds) with `nonce`; `partnerid` is the merchant that placed the
/// order.
///
/// # Errors
/// As [`sign_jsapi`]; `partnerid` must be digits.
pub fn sign_app(
    key: &MerchantKey,
    appid: &str,
    partnerid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<AppPayParams, PayParamsError> {
    check_appid(appid)?;
    check_partnerid(partnerid)?;
    check_prepay_id(prepay_id)?;
    check_nonce(nonce)?;
    let mut params = AppPayParams {
        appid: appid.to_owned(),
        partnerid: partnerid.to_owned(),
        prepayid: prepay_id.to_owned(),
        package: APP_PACKAGE.to_owned(),
        noncestr: nonce.to_owned(),
        timestamp: timestamp.to_string(),
        sign: String::new(),
    };
    params.sign = key.sign_sha256(params.signing_message().as_bytes())?;
    Ok(params)
}

/// [`sign_jsapi`] now, with a fresh nonce.
pub(crate) fn sign_jsapi_now(
    key: &MerchantKey,
    appid: &str,
    prepay_id: &str,
) -> Result<JsapiPayParams, PayParamsError> {
    sign_jsapi(key, appid, prepay_id, unix_now(), &new_nonce())
}

/// [`sign_app`] now, with a fresh nonce.
pub(crate) fn sign_app_now(
    key: &MerchantKey,
    appid: &str,
    partnerid: &str,
    prepay_id: &str,
) -> Result<AppPayParams, PayParamsError> {
    sign_app(key, appid, partnerid, prepay_id, unix_now(), &new_nonce())
}

/// An order whose payer pays through a JSAPI page or a mini-program: the
/// order endpoint, which appid the payer's side names, and where its
/// answer holds the `prepay_id`.
///
/// The catalogue's JSAPI orders implement it (direct, partner and
/// combined); implement it for an order endpoint of your own to use
/// [`Client::prepay_jsapi`](crate::Client::prepay_jsapi) with it.
pub trait JsapiPrepay: Endpoint {
    /// The appid the parameters name: the order's `appid` (partner
    /// orders: `sub_appid` when set, else `sp_appid`; combined orders:
    /// `combine_appid`).
    fn payer_appid(&self) -> &str;

    /// The `prepay_id` in the order's answer.
    fn prepay_id(response: &Self::Response) -> &str;
}

/// An order whose payer pays in an APP: the order endpoint, which appid
/// and merchant the `PayReq` names, and where its answer holds the
/// `prepay_id`.
pub trait AppPrepay: Endpoint {
    /// The app's appid (partner orders: `sub_appid` when set, else
    /// `sp_appid`; combined orders: `combine_appid`).
    fn payer_appid(&self) -> &str;

    /// The `partnerid`: the order's `mchid` (partner orders: `sub_mchid`;
    /// combined orders: `combine_mchid`).
    fn partner_id(&self) -> &str;

    /// The `prepay_id` in the order's answer.
    fn prepay_id(response: &Self::Response) -> &str;
}

/// Checks the fields of an order before it is placed, so that an order
/// whose parameters could never be signed is not placed at all.
pub(crate) fn check_jsapi_order(appid: &str) -> Result<(), PayParamsError> {
    check_appid(appid)
}

/// As [`check_jsapi_order`], for APP orders.
pub(crate) fn check_app_order(appid: &str, partnerid: &str) -> Result<(), PayParamsError> {
    check_appid(appid)?;
    check_partnerid(partnerid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_four_terminated_lines() {
        assert_eq!(
            jsapi_message("wx1", "1554208460", "N0", "prepay_id=wx2"),
            "wx1\n1554208460\nN0\nprepay_id=wx2\n"
        );
        assert_eq!(
            app_message("wx1", "1554208460", "N0", "wx2"),
            "wx1\n1554208460\nN0\nwx2\n"
        );
    }

    #[test]
    fn line_breaks_and_empty_values_are_refused_by_name() {
        for (appid, field) in [
            ("", "appId"),
            ("wx1\nforged", "appId"),
            ("wx 1", "appId"),
            ("微信", "appId"),
        ] {
            let error = check_appid(appid).expect_err(appid);
            assert!(
                matches!(error, PayParamsError::InvalidField { field: f, .. } if f == field),
                "{error}"
            );
        }
        assert!(check_prepay_id(&"w".repeat(65)).is_err());
        assert!(check_prepay_id("wx201410272009395522657a690389285100").is_ok());
        assert!(check_partnerid("1900009191").is_ok());
        let error = check_partnerid("19000x").expect_err("letters");
        assert!(
            error.to_string().contains("partnerid is not all digits"),
            "{error}"
        );
        assert!(check_nonce(&"A".repeat(33)).is_err());
        assert!(check_nonce("abc-def").is_err());
        assert!(check_nonce("593BEC0C930BF1AFEB40B4A08C8FB242").is_ok());
    }

    #[test]
    fn params_serialize_to_the_front_end_keys() {
        let jsapi = JsapiPayParams {
            app_id: "a".into(),
            time_stamp: "1".into(),
            nonce_str: "n".into(),
            package: "prepay_id=p".into(),
            sign_type: "RSA".into(),
            pay_sign: "s".into(),
        };
        let json = serde_json::to_string(&jsapi).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"appId":"a","timeStamp":"1","nonceStr":"n","package":"prepay_id=p","signType":"RSA","paySign":"s"}"#
        );
        assert_eq!(jsapi.prepay_id(), Some("p"));
        assert!(!format!("{jsapi:?}").contains("\"s\""));
        let app = AppPayParams {
            appid: "a".into(),
            partnerid: "1".into(),
            prepayid: "p".into(),
            package: APP_PACKAGE.into(),
            noncestr: "n".into(),
            timestamp: "2".into(),
            sign: "s".into(),
        };
        let json = serde_json::to_string(&app).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"appid":"a","partnerid":"1","prepayid":"p","package":"Sign=WXPay","noncestr":"n","timestamp":"2","sign":"s"}"#
        );
        assert_eq!(app.signing_message(), "a\n2\nn\np\n");
    }

    #[test]
    fn transfer_params_serialize_and_refuse_bad_values() {
        let params = MerchantTransferParams::new("1900", "wx1", "pk+/=").expect("valid");
        assert_eq!(
            serde_json::to_string(&params).unwrap_or_default(),
            r#"{"mchId":"1900","appId":"wx1","package":"pk+/="}"#
        );
        let with = params.clone().with_open_id("o-1").expect("openid");
        assert_eq!(
            serde_json::to_value(&with).unwrap_or_default()["openId"],
            "o-1"
        );
        for (mchid, appid, package, field) in [
            ("", "wx1", "p", "mchId"),
            ("19x", "wx1", "p", "mchId"),
            ("1900", "wx1\n", "p", "appId"),
            ("1900", "wx1", "", "package"),
            ("1900", "wx1", "p\r\nq", "package"),
        ] {
            let error = MerchantTransferParams::new(mchid, appid, package).expect_err(field);
            assert!(
                matches!(error, PayParamsError::InvalidField { field: f, .. } if f == field),
                "{error}"
            );
        }
        let error = params.with_open_id("o 1").expect_err("space");
        assert!(error.to_string().starts_with("openId "), "{error}");
        assert!(check_transfer_bill("1900", "wx1", "").is_err());
    }
}
