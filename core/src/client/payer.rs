//! The payer's parameters signed with the client's key, and the one-call
//! path from an order to them (see [`crate::payer`]).

use super::Client;
use crate::error::{Error, Operation};
use crate::payer::{
    self, AppPayParams, AppPrepay, CreatedTransferBill, JsapiPayParams, JsapiPrepay,
    MerchantTransferParams, PayParamsError, TransferBillCreate,
};

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

    /// The parameters of `wx.requestMerchantTransfer` for a transfer bill
    /// of this client's merchant, created for app `appid`, that answered
    /// `package_info` (no `openId`: add it with
    /// [`MerchantTransferParams::with_open_id`]).
    ///
    /// ```
    /// # fn demo(client: &wxpay_core::Client) -> Result<(), wxpay_core::payer::PayParamsError> {
    /// let params = client
    ///     .merchant_transfer_params("wxf636efh567hg4356", "affffddafdfafddffda==")?
    ///     .with_open_id("o-MYE42l80oelYMDE34nYD456Xoy")?;
    /// assert_eq!(params.mch_id, client.mchid());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PayParamsError::InvalidField`] when `appid` or `package_info` is
    /// empty, too long or holds a line break or another character that
    /// does not belong.
    pub fn merchant_transfer_params(
        &self,
        appid: &str,
        package_info: &str,
    ) -> Result<MerchantTransferParams, PayParamsError> {
        MerchantTransferParams::new(self.mchid(), appid, package_info)
    }

    /// Creates a merchant transfer bill and, when it waits for its payee,
    /// builds the parameters the payee's page passes to
    /// `wx.requestMerchantTransfer` (this client's mchid, the bill's appid
    /// and openid, the answer's `package_info`): one call from a bill to
    /// what the front end needs.
    ///
    /// ```no_run
    /// # async fn run(client: wxpay_core::Client, bill: impl wxpay_core::payer::TransferBillCreate) -> Result<(), wxpay_core::Error> {
    /// let created = client.create_transfer_bill(bill).await?;
    /// if let Some(params) = created.params {
    ///     // Hand `params` to the page as JSON: {"mchId","appId","package","openId"}.
    ///     println!("{}", params.package);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::PayParams`] before anything is sent when the bill's appid
    /// or openid (or the client's mchid) could never be passed on, or
    /// after the bill was created when its `package_info` cannot be (the
    /// bill then exists: query it); otherwise every error of
    /// [`Client::send`].
    pub async fn create_transfer_bill<E: TransferBillCreate>(
        &self,
        bill: E,
    ) -> Result<CreatedTransferBill<E::Response>, Error> {
        let operation = operation_of::<E>();
        let appid = bill.payee_appid().to_owned();
        let openid = bill.payee_openid().to_owned();
        payer::check_transfer_bill(self.mchid(), &appid, &openid)
            .map_err(|source| Error::PayParams { operation, source })?;
        let answer = self.send(bill).await?;
        let params = match E::package_info(&answer) {
            Some(package_info) => Some(
                self.merchant_transfer_params(&appid, package_info)
                    .and_then(|params| params.with_open_id(&openid))
                    .map_err(|source| Error::PayParams { operation, source })?,
            ),
            None => None,
        };
        Ok(CreatedTransferBill { answer, params })
    }
}
