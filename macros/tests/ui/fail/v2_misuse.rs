// APIv2 settings belong to `v2` operations, whose members all travel in
// the signed XML: no placeholders, no placement or encryption markers, no
// member the runtime writes, and a host WeChat Pay has.

#[wxpay::endpoint(POST, "/v3/pay/transactions/jsapi", sign = md5, client_cert)]
pub struct V2SettingsOnV3 {
    pub out_trade_no: String,
}

#[wxpay::endpoint(POST, "/pay/orderquery/<out_trade_no>", v2)]
pub struct Placeholder {
    pub out_trade_no: String,
}

#[wxpay::endpoint(PUT, "/pay/orderquery", v2, serial)]
pub struct MethodAndSerial {
    pub out_trade_no: String,
}

#[wxpay::endpoint(POST, "/pay/orderquery", v2, merchant = "mch_id")]
pub struct RuntimeMembers {
    pub mch_id: String,
    pub nonce_str: String,
    #[wxpay(encrypt)]
    pub out_trade_no: String,
}

#[wxpay::endpoint(POST, "/pay/orderquery", v2, sign = sha1)]
pub struct UnknownSign {
    pub out_trade_no: String,
}

#[wxpay::endpoint(POST, "/v3/transactions/jsapi", host = HongKnog)]
pub struct UnknownHost {
    pub out_trade_no: String,
}

fn main() {}
