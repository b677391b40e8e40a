// Only `query` and `body` go in `#[wxpay(...)]`.

#[wxpay::endpoint(POST, "/v3/stocks")]
pub struct Misspelled {
    #[wxpay(qurey)]
    pub limit: u32,
}

#[wxpay::endpoint(POST, "/v3/stocks")]
pub struct WithValue {
    #[wxpay(query = true)]
    pub limit: u32,
}

#[wxpay::endpoint(POST, "/v3/stocks")]
#[wxpay(query)]
pub struct OnTheStruct {
    pub limit: u32,
}

fn main() {}
