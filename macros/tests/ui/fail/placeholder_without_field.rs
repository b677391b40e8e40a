// A placeholder must name a field; a near miss gets a suggestion.

#[wxpay::endpoint(POST, "/v3/marketing/favor/stocks/<stok_id>/start")]
pub struct StartStock {
    pub stock_id: String,
    pub stock_creator_mchid: String,
}

#[wxpay::endpoint(GET, "/v3/merchants/<sub_mchid>/bills")]
pub struct ListBills {
    pub bill_date: String,
}

fn main() {}
