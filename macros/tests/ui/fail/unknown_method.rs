// The method is one of GET, POST, PUT, PATCH, DELETE, in capitals.

#[wxpay::endpoint(PSOT, "/v3/stocks")]
pub struct Misspelled {}

#[wxpay::endpoint(get, "/v3/stocks")]
pub struct Lowercase {}

#[wxpay::endpoint(HEAD, "/v3/stocks")]
pub struct Unsupported {}

fn main() {}
