//! The payer's parameters signed with the client's key, and the one-call
//! path from an order to them (see [`crate::payer`]).

use super::Client;
use crate::error::{Error, Operation};
use crate::payer::{self, AppPayParams, AppPrepay, JsapiPayParams, JsapiPrepay, PayParamsError};

fn operation_of<E: crate::Endpoint>() -> Operation {
    Operation {
        method: E::METHOD,
        template: E::PATH_TEMPLATE,
    }
}

impl Client {
    /// The parameters of `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`
    /// or `wx.requestPayment(…)` for an order of `appid` that answered
    /// `prepay_id`, signed with this client's merchant key now, with a
    /// fresh nonce.
    ///
    /// For a partner (服务商) order, `appid` is the order's `sub_appid` when
    /// it named one, else its `sp_appid`; the service provider's client
    /// signs.
    ///
    /// # Errors
    /// [`PayParamsError::InvalidField`] when `appid` or `prepay_id` is
    /// empty, too long or holds a line break or another character that
    /// does not belong; [`PayParamsError::Sign`] when the key fails.
    pub fn jsapi_pay_params(
        &self,
        appid: &str,
        prepay_id: &str,
    ) -> Result<JsapiPayParams, PayParamsError> {
        payer::sign_jsapi_now(self.inner.signer.key(), appid, prepay_id)
    }

    /// The parameters of an APP's `PayReq` for an order of this client's
    /// merchant placed by the app `appid`, which answered `prepay_id`.
    ///
    /// # Errors
    /// As [`Client::jsapi_pay_params`].
    pub fn app_pay_params(
        &self,
        appid: &str,
        prepay_id: &str,
    ) -> Result<AppPayParams, PayParamsError> {
        payer::sign_app_now(self.inner.signer.key(), appid, self.mchid(), prepay_id)
    }

    /// [`Client::app_pay_params`] for an order of another merchant than the
    /// client's: `partnerid` is the `sub_mchid` of a partner order or the
    /// `combine_mchid` of a combined order.
    ///
    /// # Errors
    /// As [`Client::jsapi_pay_params`]; `partnerid` must be digits.
    pub fn app_pay_params_for(
        &self,
        appid: &str,
        partnerid: &str,
        prepay_id: &str,
    ) -> Result<AppPayParams, PayParamsError> {
        payer::sign_app_now(self.inner.signer.key(), appid, partnerid, prepay_id)
    }

    /// Places a JSAPI or mini-program order and signs the parameters its
    /// payer's page passes to WeChat: one call from an order to what the
    /// front end needs.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client, order: impl wxpay_core::payer::JsapiPrepay) -> Result<(), wxpay_core::Error> {
    /// let params = client.prepay_jsapi(order).await?;
    /// // Hand `params` to the page as JSON: {"appId","timeStamp","nonceStr","package","signType","paySign"}.
    /// println!("{}", params.package);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::PayParams`] before anything is sent when the order's appid
    /// could never be signed, or after the order was placed when its
    /// answer's `prepay_id` cannot be (the order then exists: sign again
    /// with [`Client::jsapi_pay_params`] once resolved); otherwise every
    /// error of [`Client::send`].
    pub async fn prepay_jsapi<E: JsapiPrepay>(&self, order: E) -> Result<JsapiPayParams, Error> {
        let operation = operation_of::<E>();
        let appid = order.payer_appid().to_owned();
        payer::check_jsapi_order(&appid)
            .map_err(|source| Error::PayParams { operation, source })?;
        let answer = self.send(order).await?;
        self.jsapi_pay_params(&appid, E::prepay_id(&answer))
            .map_err(|source| Error::PayParams { operation, source })
    }

    /// Places an APP order and signs the `PayReq` parameters the app
    /// passes to the OpenSDK.
    ///
    /// # Errors
    /// As [`Client::prepay_jsapi`].
    pub async fn prepay_app<E: AppPrepay>(&self, order: E) -> Result<AppPayParams, Error> {
        let operation = operation_of::<E>();
        let appid = order.payer_appid().to_owned();
        let partnerid = order.partner_id().to_owned();
        payer::check_app_order(&appid, &partnerid)
            .map_err(|source| Error::PayParams { operation, source })?;
        let answer = self.send(order).await?;
        self.app_pay_params_for(&appid, &partnerid, E::prepay_id(&answer))
            .map_err(|source| Error::PayParams { operation, source })
    }
}
