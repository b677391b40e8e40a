// Each placeholder appears once: a field fills exactly one segment.

#[wxpay::endpoint(GET, "/v3/stocks/<stock_id>/copies/<stock_id>")]
pub struct CopyStock {
    pub stock_id: String,
}

fn main() {}
