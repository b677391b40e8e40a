// `#[wxpay(body)]` has no place on GET (DELETE may carry a body), and a
// path field takes no marker.

#[wxpay::endpoint(GET, "/v3/stocks")]
pub struct BodyOnGet {
    #[wxpay(body)]
    pub filter: String,
}

#[wxpay::endpoint(POST, "/v3/stocks/<stock_id>/start")]
pub struct QueryOnPathField {
    #[wxpay(query)]
    pub stock_id: String,
}

#[wxpay::endpoint(POST, "/v3/stocks")]
pub struct QueryAndBody {
    #[wxpay(query, body)]
    pub stock_id: String,
}

fn main() {}
