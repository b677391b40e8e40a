//! Generated code does not depend on names in the user's scope: shadowing
//! `Result`, `Ok`, `Option`, `serde` or `Body` changes nothing.
#![allow(dead_code, non_camel_case_types)]

type Result = ();
struct Ok;
struct Some;
struct None;
mod serde {}
struct Body;
struct Target;
trait Endpoint {}

#[wxpay::endpoint(POST, "/v3/a/<id>")]
struct Shadowed {
    id: String,
    value: ::std::option::Option<u32>,
    #[wxpay(query)]
    flag: bool,
}

fn main() {
    use wxpay::Endpoint as _;
    let endpoint = Shadowed {
        id: "x".into(),
        value: ::std::option::Option::None,
        flag: true,
    };
    let mut target = wxpay::Target::new();
    endpoint.render_target(&mut target).unwrap();
    assert_eq!(target.as_str(), "/v3/a/x?flag=true");
    assert_eq!(endpoint.body().unwrap().as_bytes(), b"{}");
}
