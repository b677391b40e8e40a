// The attribute's own arguments: `METHOD, "TEMPLATE"` then named ones.

#[wxpay::endpoint]
pub struct Nothing {}

#[wxpay::endpoint(POST)]
pub struct NoTemplate {}

#[wxpay::endpoint("/v3/stocks")]
pub struct NoMethod {}

#[wxpay::endpoint(POST, "/v3/stocks", "/v3/other")]
pub struct ExtraTemplate {}

#[wxpay::endpoint(POST, "/v3/stocks", respnse = String)]
pub struct MisspelledName {}

#[wxpay::endpoint(POST, "/v3/stocks", response = String, response = u8)]
pub struct RepeatedName {}

#[wxpay::endpoint(POST "/v3/stocks")]
pub struct MissingComma {}

fn main() {}
