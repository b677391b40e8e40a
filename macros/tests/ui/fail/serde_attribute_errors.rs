// Field serde attributes are checked by serde, at the user's tokens. The
// second error follows from the first: after rejecting an attribute, serde's
// derive emits no `Serialize` impl for the generated body view.

#[wxpay::endpoint(POST, "/v3/things")]
pub struct Misspelled {
    #[serde(renam = "v")]
    pub value: String,
}

fn main() {}
