// Type errors in what the attribute generates point at the user's types.
// (A `response` type without `Deserialize` is reported at that type, too;
// it is not pinned here because the compiler's list of candidate types
// depends on which serde_json features the workspace enables.)

pub struct NotDisplay;

pub struct NotSerialize;

#[wxpay::endpoint(GET, "/v3/things/<id>")]
pub struct PathNotDisplay {
    pub id: NotDisplay,
}

#[wxpay::endpoint(POST, "/v3/things")]
pub struct BodyNotSerialize {
    pub value: NotSerialize,
}

fn main() {}
