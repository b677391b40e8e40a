// `#[wxpay(idempotency_key)]` marks the one number WeChat Pay recognises a
// repeat by: one field, always sent, and not together with `idempotent`.

#[wxpay::endpoint(POST, "/v3/refund/domestic/refunds")]
pub struct TwoKeys {
    #[wxpay(idempotency_key)]
    pub out_refund_no: String,
    #[wxpay(idempotency_key)]
    pub out_trade_no: String,
}

#[wxpay::endpoint(POST, "/v3/refund/domestic/refunds")]
pub struct OptionalKey {
    #[wxpay(idempotency_key)]
    pub out_refund_no: Option<String>,
}

#[wxpay::endpoint(POST, "/v3/refund/domestic/refunds", idempotent)]
pub struct KeyAndFlag {
    #[wxpay(idempotency_key)]
    pub out_refund_no: String,
}

#[wxpay::endpoint(POST, "/v3/refund/domestic/refunds", idempotent = "yes")]
pub struct NotABool {
    pub out_refund_no: String,
}

fn main() {}
