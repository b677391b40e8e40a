// Endpoints have one concrete shape: no type parameters, no lifetimes.

#[wxpay::endpoint(POST, "/v3/things")]
pub struct Generic<T> {
    pub value: T,
}

#[wxpay::endpoint(POST, "/v3/things")]
pub struct Borrowed<'a> {
    pub value: &'a str,
}

#[wxpay::endpoint(POST, "/v3/things")]
pub struct Constrained
where
    u8: Copy,
{
    pub value: u8,
}

fn main() {}
