//! APIv2 operations and operations on other hosts declare their protocol
//! and host in the attribute; the constants say what was declared.

use wxpay::v2::{Signing, V2Endpoint};
use wxpay::{Endpoint, Host, Idempotency};

#[derive(Debug, serde::Deserialize)]
pub struct OrderQueried {
    pub trade_state: Option<String>,
    pub total_fee: Option<i64>,
}

#[wxpay::endpoint(POST, "/pay/orderquery", v2, sign = either, merchant = "mch_id", response = OrderQueried)]
pub struct OrderQuery {
    pub appid: String,
    #[wxpay(idempotency_key)]
    pub out_trade_no: String,
}

#[wxpay::endpoint(
    POST,
    "/secapi/pay/refund",
    v2,
    client_cert,
    merchant = "mch_id",
    unsigned_answer,
    idempotent
)]
pub struct Refund {
    pub appid: String,
    pub out_refund_no: String,
    pub total_fee: i64,
    pub refund_desc: Option<String>,
}

#[wxpay::endpoint(POST, "/risk/getpublickey", v2, sign = hmac_sha256, host = Fraud)]
pub struct PublicKey {}

#[wxpay::endpoint(GET, "/v3/transactions/id/<transaction_id>", host = HongKong)]
pub struct HongKongQuery {
    pub transaction_id: String,
}

fn main() {
    const {
        assert!(matches!(
            <OrderQuery as V2Endpoint>::SIGNING,
            Signing::Either
        ))
    };
    const { assert!(!<OrderQuery as V2Endpoint>::CLIENT_CERT) };
    const { assert!(<OrderQuery as V2Endpoint>::SIGNED_ANSWER) };
    const { assert!(matches!(<OrderQuery as V2Endpoint>::HOST, Host::Api)) };
    const { assert!(<Refund as V2Endpoint>::CLIENT_CERT) };
    const { assert!(!<Refund as V2Endpoint>::SIGNED_ANSWER) };
    const { assert!(matches!(<Refund as V2Endpoint>::SIGNING, Signing::Md5Only)) };
    const {
        assert!(matches!(
            <Refund as V2Endpoint>::IDEMPOTENCY,
            Idempotency::Natural
        ))
    };
    const { assert!(matches!(<PublicKey as V2Endpoint>::HOST, Host::Fraud)) };
    const {
        assert!(matches!(
            <PublicKey as V2Endpoint>::SIGNING,
            Signing::HmacSha256Only
        ))
    };
    const { assert!(matches!(<PublicKey as V2Endpoint>::MERCHANT_FIELD, None)) };
    const { assert!(matches!(<HongKongQuery as Endpoint>::HOST, Host::HongKong)) };
    assert_eq!(<OrderQuery as V2Endpoint>::PATH, "/pay/orderquery");
    assert_eq!(
        <OrderQuery as V2Endpoint>::IDEMPOTENCY,
        Idempotency::Keyed("out_trade_no")
    );
    assert_eq!(<OrderQuery as V2Endpoint>::MERCHANT_FIELD, Some("mch_id"));

    let fields = OrderQuery {
        appid: "wx8888888888888888".into(),
        out_trade_no: "1217752501201407033233368018".into(),
    }
    .fields()
    .expect("plain strings serialize");
    assert_eq!(
        fields.get("out_trade_no"),
        Some("1217752501201407033233368018")
    );
    let fields = Refund {
        appid: "wx8888888888888888".into(),
        out_refund_no: "R1".into(),
        total_fee: 888,
        refund_desc: None,
    }
    .fields()
    .expect("numbers serialize");
    assert_eq!(fields.get("total_fee"), Some("888"));
    assert_eq!(fields.get("refund_desc"), None);
}
