// After an error in the attribute the struct still exists, so code using it
// reports nothing more: the only error is the placeholder's.

#[wxpay::endpoint(POST, "/v3/stocks/<stok_id>/start")]
#[derive(Debug, Clone)]
pub struct StartStock {
    pub stock_id: String,
    #[wxpay(query)]
    pub dry_run: bool,
}

fn use_it(stock: &StartStock) -> String {
    format!("{:?} {}", stock.clone(), stock.dry_run)
}

fn main() {
    let stock = StartStock {
        stock_id: "1".into(),
        dry_run: false,
    };
    println!("{}", use_it(&stock));
}
