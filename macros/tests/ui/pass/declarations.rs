//! The shapes an endpoint declaration may take.

use std::collections::HashMap;

use serde::Deserialize;
use wxpay::{Endpoint, Method, NoContent};

#[derive(Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
}

/// Every method; visibility, docs and derives of the user's choosing.
#[wxpay::endpoint(GET, "/v3/a/<id>", response = Page<String>)]
#[derive(Debug, Clone, Default)]
pub struct Get {
    /// Documented field.
    pub id: u64,
    pub(crate) limit: Option<u32>,
}

#[wxpay::endpoint(POST, "/v3/a", response = HashMap<String, Vec<u8>>)]
struct Post {
    name: String,
}

#[wxpay::endpoint(PUT, "/v3/a/<id>", response = (u8, u16))]
struct Put {
    id: String,
    #[wxpay(body)]
    value: i64,
}

#[wxpay::endpoint(PATCH, "/v3/a/<id>", response = "serde_json::Value")]
struct Patch {
    id: String,
    #[wxpay(query)]
    dry_run: bool,
}

#[wxpay::endpoint(DELETE, "/v3/a/<id>/<sub_id>")]
struct Delete {
    id: String,
    sub_id: String,
    #[wxpay(query)]
    reason: std::option::Option<String>,
    cascade: core::option::Option<bool>,
}

/// No parameters at all.
#[wxpay::endpoint(GET, "/v3/certificates")]
struct Certificates {}

/// A raw-identifier field, bound by its plain name.
#[wxpay::endpoint(GET, "/v3/kinds/<type>")]
struct Kind {
    r#type: String,
}

/// Trailing comma after the arguments.
#[wxpay::endpoint(POST, "/v3/trailing")]
struct Trailing {}

/// A raw string template.
#[wxpay::endpoint(GET, r"/v3/raw/<id>")]
struct Raw {
    id: u8,
}

fn method_of<E: Endpoint>(_: &E) -> Method {
    E::METHOD
}

fn no_content<E: Endpoint<Response = NoContent>>(_: &E) {}

fn main() {
    let get = Get { id: 1, limit: None };
    let _ = get.clone();
    assert_eq!(method_of(&get), Method::Get);
    assert_eq!(
        method_of(&Post {
            name: String::new()
        }),
        Method::Post
    );
    assert_eq!(
        method_of(&Put {
            id: String::new(),
            value: 1
        }),
        Method::Put
    );
    assert_eq!(
        method_of(&Patch {
            id: String::new(),
            dry_run: true
        }),
        Method::Patch
    );
    let delete = Delete {
        id: "a".into(),
        sub_id: "b".into(),
        reason: None,
        cascade: None,
    };
    assert_eq!(method_of(&delete), Method::Delete);
    no_content(&delete);
    no_content(&Certificates {});
    no_content(&Kind { r#type: "t".into() });
    no_content(&Trailing {});
    no_content(&Raw { id: 1 });
    assert_eq!(Raw::PATH_TEMPLATE, "/v3/raw/{id}");
    let _: Option<Page<String>> = None;
}
