// Template syntax errors, each pointing into the string literal.

#[wxpay::endpoint(GET, "/v3/stocks/<stock_id")]
pub struct Unclosed {
    pub stock_id: String,
}

#[wxpay::endpoint(GET, "/v3/stocks/<>")]
pub struct Empty {}

#[wxpay::endpoint(GET, "/v3/stocks/<1a>")]
pub struct StartsWithDigit {}

#[wxpay::endpoint(GET, "/v3/stocks/<stock-id>")]
pub struct NotAnIdentifier {}

#[wxpay::endpoint(GET, "/v3/stocks?limit=10")]
pub struct QueryInTemplate {}

#[wxpay::endpoint(GET, "/v3/stocks#top")]
pub struct FragmentInTemplate {}

#[wxpay::endpoint(GET, "v3/stocks")]
pub struct NoLeadingSlash {}

#[wxpay::endpoint(GET, "/v3/stocks>")]
pub struct StrayClose {}

#[wxpay::endpoint(GET, "/v3/stocks/{stock_id}")]
pub struct BracesFromTheDocs {
    pub stock_id: String,
}

#[wxpay::endpoint(GET, "/v3/stocks/id-<stock_id>")]
pub struct PartOfASegment {
    pub stock_id: String,
}

#[wxpay::endpoint(GET, "/v3/stock list")]
pub struct Whitespace {}

#[wxpay::endpoint(GET, "")]
pub struct EmptyTemplate {}

fn main() {}
