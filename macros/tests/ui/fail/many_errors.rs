// Every problem in one declaration is reported at once.

#[wxpay::endpoint(GET, "/v3/stocks/<stok_id>/<1x>?x", respnse = String)]
pub struct ManyErrors {
    pub stock_id: String,
    #[wxpay(body)]
    pub limit: u32,
    #[wxpay(qeury)]
    pub offset: u32,
}

fn main() {}
