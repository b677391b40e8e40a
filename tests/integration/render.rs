//! What `#[wxpay::endpoint]` puts on the wire: the rendered target (path
//! and query) and the exact body bytes, for endpoints declared here.

use serde::{Deserialize, Serialize, Serializer};
use wxpay::{Body, BuildError, Endpoint, Method, NoContent, Target};

fn target<E: Endpoint>(endpoint: &E) -> Result<String, BuildError> {
    let mut out = Target::new();
    endpoint.render_target(&mut out)?;
    Ok(out.into_string())
}

fn body<E: Endpoint>(endpoint: &E) -> String {
    match endpoint.body() {
        Ok(Body::Json(bytes)) => String::from_utf8(bytes.to_vec()).unwrap(),
        Ok(other) => panic!("expected a JSON body, got {other:?}"),
        Err(error) => panic!("{error}"),
    }
}

// --- The seed endpoint -----------------------------------------------------

/// 激活代金券批次.
#[wxpay::endpoint(POST, "/v3/marketing/favor/stocks/<stock_id>/start", response = StartStockResponse)]
pub struct StartStock {
    /// 批次号: the path segment.
    pub stock_id: String,
    /// 创建批次的商户号: the body.
    pub stock_creator_mchid: String,
}

/// The answer to [`StartStock`].
#[derive(Debug, Deserialize)]
pub struct StartStockResponse {
    /// 生效时间.
    pub start_time: String,
    /// 批次号.
    pub stock_id: String,
}

#[test]
fn seed_endpoint() {
    let start = StartStock {
        stock_id: "98065001".into(),
        stock_creator_mchid: "1900009191".into(),
    };
    assert_eq!(StartStock::METHOD, Method::Post);
    assert_eq!(
        StartStock::PATH_TEMPLATE,
        "/v3/marketing/favor/stocks/{stock_id}/start"
    );
    assert_eq!(
        target(&start).unwrap(),
        "/v3/marketing/favor/stocks/98065001/start"
    );
    assert_eq!(body(&start), r#"{"stock_creator_mchid":"1900009191"}"#);

    fn response_type<E: Endpoint<Response = StartStockResponse>>(_: &E) {}
    response_type(&start);
}

// --- Path parameters -------------------------------------------------------

#[wxpay::endpoint(GET, "/v3/items/<item_id>/parts/<part>")]
struct GetPart {
    item_id: String,
    part: u32,
}

fn part_path(item_id: &str) -> Result<String, BuildError> {
    target(&GetPart {
        item_id: item_id.into(),
        part: 7,
    })
}

#[test]
fn path_values_are_one_encoded_segment_each() {
    let cases = [
        ("plain-ID_1.2~3", "/v3/items/plain-ID_1.2~3/parts/7"),
        ("with space", "/v3/items/with%20space/parts/7"),
        ("a/b", "/v3/items/a%2Fb/parts/7"),
        ("a/../b", "/v3/items/a%2F..%2Fb/parts/7"),
        ("x|y*z", "/v3/items/x%7Cy%2Az/parts/7"),
        (
            "a?b#c&d=e+f%g",
            "/v3/items/a%3Fb%23c%26d%3De%2Bf%25g/parts/7",
        ),
        ("批次", "/v3/items/%E6%89%B9%E6%AC%A1/parts/7"),
    ];
    for (value, expected) in cases {
        assert_eq!(part_path(value).unwrap(), expected, "{value:?}");
    }
}

#[test]
fn an_empty_path_value_is_an_error() {
    match part_path("") {
        Err(BuildError::EmptyPathParameter { name }) => assert_eq!(name, "item_id"),
        other => panic!("expected EmptyPathParameter, got {other:?}"),
    }
}

#[test]
fn get_has_an_empty_body_and_no_content_by_default() {
    let get = GetPart {
        item_id: "i".into(),
        part: 1,
    };
    assert!(matches!(get.body().unwrap(), Body::Empty));
    assert_eq!(GetPart::METHOD, Method::Get);
    assert_eq!(GetPart::PATH_TEMPLATE, "/v3/items/{item_id}/parts/{part}");

    fn no_content<E: Endpoint<Response = NoContent>>(_: &E) {}
    no_content(&get);
}

/// A placeholder may name a raw identifier field.
#[wxpay::endpoint(DELETE, "/v3/kinds/<type>")]
struct DeleteKind {
    r#type: String,
    reason: Option<String>,
}

#[test]
fn raw_identifier_fields_bind_by_their_plain_name() {
    let delete = DeleteKind {
        r#type: "coupon".into(),
        reason: None,
    };
    assert_eq!(DeleteKind::METHOD, Method::Delete);
    assert_eq!(DeleteKind::PATH_TEMPLATE, "/v3/kinds/{type}");
    assert_eq!(target(&delete).unwrap(), "/v3/kinds/coupon");
    assert!(matches!(delete.body().unwrap(), Body::Empty));
    let with_reason = DeleteKind {
        reason: Some("old".into()),
        ..delete
    };
    assert_eq!(target(&with_reason).unwrap(), "/v3/kinds/coupon?reason=old");
}

/// A few WeChat Pay operations take a JSON body on DELETE: the fields
/// marked `#[wxpay(body)]` go there, the rest stay in the query.
#[wxpay::endpoint(DELETE, "/v3/partners/<partner_id>")]
struct DeletePartner {
    partner_id: String,
    #[wxpay(body)]
    reason: String,
    #[wxpay(body)]
    note: Option<String>,
    sub_mchid: Option<String>,
}

#[test]
fn delete_sends_the_fields_marked_body_as_json_and_the_rest_in_the_query() {
    let delete = DeletePartner {
        partner_id: "p/1".into(),
        reason: "ended".into(),
        note: None,
        sub_mchid: Some("1900000109".into()),
    };
    assert_eq!(DeletePartner::METHOD, Method::Delete);
    assert_eq!(
        target(&delete).unwrap(),
        "/v3/partners/p%2F1?sub_mchid=1900000109"
    );
    assert_eq!(body(&delete), r#"{"reason":"ended"}"#);
}

// --- Query strings ---------------------------------------------------------

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Status {
    Running,
    Paused,
}

/// GET: every non-path field is a query parameter, in declaration order.
#[wxpay::endpoint(GET, "/v3/marketing/favor/stocks", response = serde_json::Value)]
struct ListStocks {
    offset: u32,
    limit: u32,
    stock_creator_mchid: String,
    create_start_time: Option<String>,
    status: Option<Status>,
    #[serde(rename = "q")]
    search: Option<String>,
}

fn list() -> ListStocks {
    ListStocks {
        offset: 0,
        limit: 10,
        stock_creator_mchid: "1900009191".into(),
        create_start_time: None,
        status: None,
        search: None,
    }
}

#[test]
fn get_fields_go_to_the_query_in_order_and_none_is_left_out() {
    assert_eq!(
        target(&list()).unwrap(),
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900009191"
    );
    let filtered = ListStocks {
        create_start_time: Some("2015-05-20T13:29:35+08:00".into()),
        status: Some(Status::Paused),
        ..list()
    };
    assert_eq!(
        target(&filtered).unwrap(),
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900009191\
         &create_start_time=2015-05-20T13%3A29%3A35%2B08%3A00&status=PAUSED"
    );
    let _ = Status::Running;
}

#[test]
fn query_values_are_encoded() {
    let search = ListStocks {
        search: Some("a&b=c d/e".into()),
        ..list()
    };
    assert_eq!(
        target(&search).unwrap(),
        "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=1900009191\
         &q=a%26b%3Dc%20d%2Fe"
    );
}

/// List query parameters, as the spec's array parameters are sent: one
/// comma-separated value.
#[wxpay::endpoint(GET, "/v3/invitations")]
struct Invitations {
    #[serde(serialize_with = "wxpay::target::comma_separated")]
    abilities: Option<Vec<Ability>>,
    #[serde(serialize_with = "wxpay::target::comma_separated")]
    ids: Vec<u32>,
    mode: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Ability {
    BaseAbility,
    RealEstateAbility,
}

#[test]
fn list_query_fields_marked_comma_separated_are_one_value() {
    let invitations = Invitations {
        abilities: Some(vec![Ability::BaseAbility, Ability::RealEstateAbility]),
        ids: vec![7, 8],
        mode: Some("x".into()),
    };
    assert_eq!(
        target(&invitations).unwrap(),
        "/v3/invitations?abilities=BASE_ABILITY%2CREAL_ESTATE_ABILITY&ids=7%2C8&mode=x"
    );
    // `None` and an empty list leave the parameter out.
    let none = Invitations {
        abilities: None,
        ids: Vec::new(),
        ..invitations
    };
    assert_eq!(target(&none).unwrap(), "/v3/invitations?mode=x");
}

/// `Option` is recognised however its path is written.
#[wxpay::endpoint(GET, "/v3/options")]
struct Options {
    a: std::option::Option<u8>,
    b: core::option::Option<u8>,
    c: ::std::option::Option<u8>,
    d: Option<u8>,
}

#[test]
fn every_spelling_of_option_is_left_out_when_none() {
    let none = Options {
        a: None,
        b: None,
        c: None,
        d: None,
    };
    assert_eq!(target(&none).unwrap(), "/v3/options");
    let some = Options {
        a: Some(1),
        b: Some(2),
        c: Some(3),
        d: Some(4),
    };
    assert_eq!(target(&some).unwrap(), "/v3/options?a=1&b=2&c=3&d=4");
}

/// POST with a query parameter next to the body.
#[wxpay::endpoint(POST, "/v3/orders/<order_id>/refunds", response = serde_json::Value)]
struct CreateRefund {
    order_id: String,
    #[wxpay(query)]
    sub_mchid: Option<String>,
    #[wxpay(query)]
    dry_run: bool,
    amount: u64,
    #[wxpay(body)]
    reason: Option<String>,
}

#[test]
fn post_sends_marked_fields_in_the_query_and_the_rest_in_the_body() {
    let refund = CreateRefund {
        order_id: "o 1".into(),
        sub_mchid: Some("1900000109".into()),
        dry_run: true,
        amount: 100,
        reason: None,
    };
    assert_eq!(
        target(&refund).unwrap(),
        "/v3/orders/o%201/refunds?sub_mchid=1900000109&dry_run=true"
    );
    assert_eq!(body(&refund), r#"{"amount":100}"#);

    let refund = CreateRefund {
        sub_mchid: None,
        reason: Some("damaged".into()),
        ..refund
    };
    assert_eq!(
        target(&refund).unwrap(),
        "/v3/orders/o%201/refunds?dry_run=true"
    );
    assert_eq!(body(&refund), r#"{"amount":100,"reason":"damaged"}"#);
}

/// Nested values have no query form: a run-time error naming the field.
#[wxpay::endpoint(GET, "/v3/search")]
struct Search {
    ids: Vec<u32>,
}

#[test]
fn structured_query_values_are_an_error() {
    match target(&Search { ids: vec![1, 2] }) {
        Err(BuildError::Query { name, reason }) => {
            assert_eq!(name, "ids");
            assert!(reason.contains("send it in the body or format it as a string"));
            assert!(reason.contains("comma_separated"), "{reason}");
        }
        other => panic!("expected a query error, got {other:?}"),
    }
}

// --- Bodies ----------------------------------------------------------------

#[derive(Debug, Serialize)]
struct Amount {
    total: u64,
    currency: &'static str,
}

// The exact `fn(&T, S)` shape serde documents for `serialize_with`: the view
// hands it `&&String`, which deref coercion turns into `&String`.
#[allow(clippy::ptr_arg)]
fn shout<S: Serializer>(value: &String, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_uppercase())
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

/// POST body with container and field serde attributes.
#[wxpay::endpoint(PUT, "/v3/profiles/<profile_id>", response = serde_json::Value)]
#[serde(rename_all = "camelCase")]
struct UpdateProfile {
    profile_id: String,
    display_name: String,
    #[serde(rename = "mchid")]
    merchant_id: String,
    #[serde(skip)]
    local_note: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(serialize_with = "shout")]
    level: String,
    #[serde(skip_serializing_if = "is_zero")]
    retries: u32,
    #[serde(flatten)]
    amount: Amount,
    nickname: Option<String>,
    /// A user rule replaces the implicit one: `None` is sent as `null`.
    #[serde(skip_serializing_if = "Option::is_some")]
    legacy: Option<String>,
}

fn profile() -> UpdateProfile {
    UpdateProfile {
        profile_id: "p1".into(),
        display_name: "Ann".into(),
        merchant_id: "1900009191".into(),
        local_note: "never sent".into(),
        tags: Vec::new(),
        level: "gold".into(),
        retries: 0,
        amount: Amount {
            total: 100,
            currency: "CNY",
        },
        nickname: None,
        legacy: None,
    }
}

#[test]
fn body_follows_serde_attributes() {
    let update = profile();
    assert_eq!(UpdateProfile::METHOD, Method::Put);
    assert_eq!(target(&update).unwrap(), "/v3/profiles/p1");
    assert_eq!(
        body(&update),
        r#"{"displayName":"Ann","mchid":"1900009191","level":"GOLD","total":100,"currency":"CNY","legacy":null}"#
    );
    assert!(!update.local_note.is_empty());

    let update = UpdateProfile {
        tags: vec!["vip".into()],
        retries: 2,
        nickname: Some("annie".into()),
        legacy: Some("kept out".into()),
        ..profile()
    };
    assert_eq!(
        body(&update),
        r#"{"displayName":"Ann","mchid":"1900009191","tags":["vip"],"level":"GOLD","retries":2,"total":100,"currency":"CNY","nickname":"annie"}"#
    );
}

/// POST with only a path field: the body is still a JSON object.
#[wxpay::endpoint(POST, "/v3/stocks/<stock_id>/pause")]
pub struct PauseStock {
    /// The path segment.
    pub stock_id: String,
}

/// PATCH with no fields at all.
#[wxpay::endpoint(PATCH, "/v3/ping")]
pub struct Ping {}

#[test]
fn bodies_without_fields_are_an_empty_object() {
    let pause = PauseStock {
        stock_id: "s".into(),
    };
    assert_eq!(body(&pause), "{}");
    assert_eq!(target(&pause).unwrap(), "/v3/stocks/s/pause");
    assert_eq!(body(&Ping {}), "{}");
    assert_eq!(Ping::METHOD, Method::Patch);
    assert_eq!(Ping::PATH_TEMPLATE, "/v3/ping");
    assert_eq!(target(&Ping {}).unwrap(), "/v3/ping");
}

/// `#[cfg]` on a field applies to what is generated for it too.
#[wxpay::endpoint(POST, "/v3/configured")]
struct Configured {
    kept: u8,
    #[cfg(not(test))]
    gone: u8,
    #[cfg(test)]
    #[wxpay(query)]
    present: u8,
}

/// Every field configured away: the views are empty.
#[wxpay::endpoint(POST, "/v3/configured-away")]
struct ConfiguredAway {
    #[cfg(not(test))]
    #[wxpay(query)]
    gone_from_query: u8,
    #[cfg(not(test))]
    gone_from_body: u8,
}

#[test]
fn cfg_on_fields_is_respected() {
    assert_eq!(target(&ConfiguredAway {}).unwrap(), "/v3/configured-away");
    assert_eq!(body(&ConfiguredAway {}), "{}");

    let configured = Configured {
        kept: 1,
        present: 2,
    };
    assert_eq!(target(&configured).unwrap(), "/v3/configured?present=2");
    assert_eq!(body(&configured), r#"{"kept":1}"#);
}

/// `#[serde(tag)]` on the container names the struct, not a generated view.
#[wxpay::endpoint(POST, "/v3/events")]
#[serde(tag = "kind")]
struct Event {
    id: u32,
}

#[test]
fn container_tag_uses_the_struct_name() {
    assert_eq!(body(&Event { id: 1 }), r#"{"kind":"Event","id":1}"#);
}

/// The struct keeps its own derives; with a serde derive of its own, its
/// serde attributes stay on it and mean the same thing there.
#[wxpay::endpoint(POST, "/v3/notes/<note_id>")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Note {
    note_id: String,
    #[serde(rename = "text")]
    note_text: String,
    #[wxpay(query)]
    draft: Option<bool>,
}

#[test]
fn the_struct_keeps_its_derives() {
    let note = Note {
        note_id: "n".into(),
        note_text: "hello".into(),
        draft: Some(false),
    };
    assert_eq!(note.clone(), note);
    assert_eq!(target(&note).unwrap(), "/v3/notes/n?draft=false");
    assert_eq!(body(&note), r#"{"text":"hello"}"#);
    // The struct's own serde derive sees every field.
    assert_eq!(
        serde_json::to_string(&note).unwrap(),
        r#"{"noteId":"n","text":"hello","draft":false}"#
    );
}

/// Endpoints can be sent by reference (`client.send(&endpoint)`).
#[test]
fn references_render_the_same() {
    let start = StartStock {
        stock_id: "98065001".into(),
        stock_creator_mchid: "1900009191".into(),
    };
    assert_eq!(target(&&start).unwrap(), target(&start).unwrap());
    assert_eq!(body(&&start), body(&start));
}
