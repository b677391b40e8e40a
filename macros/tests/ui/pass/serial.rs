//! `serial`: an operation whose spec takes `Wechatpay-Serial` announces it
//! even with no encrypted field set.

use wxpay::Endpoint;

#[derive(Debug, serde::Deserialize)]
pub struct Created {
    pub applyment_id: u64,
}

#[wxpay::endpoint(POST, "/v3/applyment4sub/applyment/", response = Created, serial)]
pub struct Submit {
    pub business_code: String,
    #[wxpay(encrypt)]
    pub contact_name: Option<String>,
}

#[wxpay::endpoint(GET, "/v3/certificates")]
pub struct Certificates {}

fn main() {
    const { assert!(<Submit as Endpoint>::WECHATPAY_SERIAL) };
    const { assert!(!<Certificates as Endpoint>::WECHATPAY_SERIAL) };
    const { assert!(<&Submit as Endpoint>::WECHATPAY_SERIAL) };
}
