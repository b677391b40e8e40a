// `#[wxpay(encrypt)]` belongs on body or query fields that serialize
// through it alone.

fn custom<S: serde::Serializer>(value: &String, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value)
}

#[wxpay::endpoint(POST, "/v3/applyment4sub/applyment/<business_code>")]
pub struct Apply {
    #[wxpay(encrypt)]
    pub business_code: String,
    #[wxpay(encrypt)]
    #[serde(serialize_with = "custom")]
    pub contact_name: String,
}

fn main() {}
