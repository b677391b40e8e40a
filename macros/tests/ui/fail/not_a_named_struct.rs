// Only structs with named fields can be endpoints.

#[wxpay::endpoint(GET, "/v3/stocks/<stock_id>")]
pub struct Tuple(pub String);

#[wxpay::endpoint(GET, "/v3/stocks")]
pub struct Unit;

#[wxpay::endpoint(GET, "/v3/stocks")]
pub enum Choice {
    A,
    B,
}

#[wxpay::endpoint(GET, "/v3/stocks")]
pub union Overlay {
    a: u32,
    b: f32,
}

#[wxpay::endpoint(GET, "/v3/stocks")]
pub fn function() {}

fn main() {}
