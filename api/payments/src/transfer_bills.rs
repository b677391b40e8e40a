//! Which catalogue operations create merchant transfer bills (商家转账,
//! user-confirm mode) whose payee confirms with
//! `wx.requestMerchantTransfer`: they implement [`TransferBillCreate`], so
//! that [`Client::create_transfer_bill`](crate::Client::create_transfer_bill)
//! takes them and answers the payee's
//! [`MerchantTransferParams`](crate::payer::MerchantTransferParams) with
//! the create call's answer.
//!
//! The parameters name the client's merchant (`mchId`), the bill's
//! `appid` and `openid`, and the answer's `package_info`, which WeChat Pay
//! sends while the bill is `WAIT_USER_CONFIRM`.

#[cfg(feature = "fund-app")]
mod fund_app {
    use wxpay_core::payer::TransferBillCreate;

    use crate::api::v3::fund_app::mch_transfer::transfer_bills::{Post, PostResponse};

    impl TransferBillCreate for Post {
        fn payee_appid(&self) -> &str {
            &self.appid
        }

        fn payee_openid(&self) -> &str {
            &self.openid
        }

        fn package_info(response: &PostResponse) -> Option<&str> {
            response.package_info.as_deref()
        }
    }
}
