//! A crate that re-exports wxpay under another name points the attribute
//! at it with `crate = "..."`.

mod reexport {
    pub use wxpay as mywx;
}

use reexport::mywx;

#[mywx::endpoint(POST, "/v3/things/<id>", crate = "crate::reexport::mywx")]
struct CreateThing {
    id: String,
    note: Option<String>,
}

#[mywx::endpoint(GET, "/v3/things", response = Vec<u8>, crate = crate::reexport::mywx)]
struct ListThings {
    limit: Option<u32>,
}

fn main() {
    use mywx::Endpoint;
    let create = CreateThing {
        id: "1".into(),
        note: None,
    };
    let mut target = mywx::Target::new();
    create.render_target(&mut target).unwrap();
    assert_eq!(target.as_str(), "/v3/things/1");
    assert_eq!(create.body().unwrap().as_bytes(), b"{}");

    let mut target = mywx::Target::new();
    ListThings { limit: Some(5) }
        .render_target(&mut target)
        .unwrap();
    assert_eq!(target.as_str(), "/v3/things?limit=5");
}
