//! No personal data in errors or debug output: a request full of it is
//! prepared, sent and answered in every way that fails, and every error's
//! `Display` and `Debug`, and the prepared request's `Debug`, are searched
//! for it (and for the request's signature).

use crate::support;

use support::{CANNED_SERIAL as SERIAL, Canned, CannedServer, canned_builder, keys};
use wxpay::{Error, RetryPolicy};

/// Values that must never appear in a log line.
const PHONE: &str = "13800138000";
const NAME: &str = "张三丰";
const OPENID: &str = "oPII-openid-4eb2a1";
const ID_CARD: &str = "110101199003074477";

/// An operation whose path, query and body all carry personal data.
#[wxpay::endpoint(POST, "/v3/people/<openid>/cards")]
struct AddCard {
    openid: String,
    #[wxpay(query)]
    phone: String,
    name: String,
    id_card: String,
}

/// Its answer: `score` is a number, which the servers below break.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Card {
    holder: String,
    score: i64,
}

#[wxpay::endpoint(POST, "/v3/people/<openid>/cards", response = Card)]
struct AddCardTyped {
    openid: String,
    #[wxpay(query)]
    phone: String,
    name: String,
    id_card: String,
}

fn request() -> AddCardTyped {
    AddCardTyped {
        openid: OPENID.into(),
        phone: PHONE.into(),
        name: NAME.into(),
        id_card: ID_CARD.into(),
    }
}

/// Fails the test when `text` holds any personal value or `secret`.
fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for value in [PHONE, NAME, OPENID, ID_CARD].iter().chain(secrets) {
        assert!(!text.contains(value), "{what} shows {value:?}:\n{text}");
    }
}

#[tokio::test]
async fn a_prepared_request_shows_names_not_values() {
    let keys = keys().await;
    let client = canned_builder(&keys, "https://api.mch.weixin.qq.com")
        .build()
        .expect("client");
    let plain = AddCard {
        openid: OPENID.into(),
        phone: PHONE.into(),
        name: NAME.into(),
        id_card: ID_CARD.into(),
    };
    let prepared = client.prepare(&plain).expect("prepared");
    let authorization = prepared.headers()["authorization"]
        .to_str()
        .expect("text")
        .to_owned();
    let signature = authorization
        .split("signature=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a signature");
    assert!(prepared.headers()["authorization"].is_sensitive());
    let shown = format!("{prepared:?}");
    // The query's name stays, the body's size is told.
    assert!(shown.contains("phone=…"), "{shown}");
    assert!(shown.contains("bytes>"), "{shown}");
    // The path segment is the caller's to keep out of URLs; the rest must
    // not show.
    let without_path = shown.replace(&format!("/v3/people/{OPENID}/cards"), "");
    assert_clean("PreparedRequest's Debug", &without_path, &[signature]);
}

#[tokio::test]
async fn decode_errors_name_the_path_and_the_kind_never_the_value() {
    let keys = keys().await;
    // Each answer is signed and breaks the type in a different way, with
    // personal data where the problem is.
    let answers = [
        format!(r#"{{"holder":"{NAME}","score":"{PHONE}"}}"#),
        format!(r#"{{"holder":{PHONE},"score":1}}"#),
        format!(r#"{{"holder":"{NAME}","score":{{"{ID_CARD}":1}}}}"#),
        format!(r#"{{"holder":"{NAME}","score":1}} "{OPENID}""#),
        format!(r#"{{"holder":"{NAME}","score":1,"holder":"{ID_CARD}"}}"#),
        format!(r#"{{"holder":"{NAME}","#),
    ];
    for answer in &answers {
        let server =
            CannedServer::start(vec![Canned::signed(200, answer, &keys.signer, SERIAL)]).await;
        let client = canned_builder(&keys, &server.base_url)
            .retry(RetryPolicy::none())
            .build()
            .expect("client");
        let error = client.send(request()).await.expect_err("does not decode");
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
        let shown = format!("{error}\n{error:?}");
        assert_clean("Error::Decode", &shown, &[]);
        if let Error::Decode { body, .. } = &error {
            // The body is there for a bug report, on purpose only.
            assert_eq!(body.as_bytes(), answer.as_bytes());
        }
    }
}

#[tokio::test]
async fn a_wrong_type_says_what_it_found_and_expected() {
    let keys = keys().await;
    let answer = format!(r#"{{"holder":"{NAME}","score":"{PHONE}"}}"#);
    let server =
        CannedServer::start(vec![Canned::signed(200, &answer, &keys.signer, SERIAL)]).await;
    let client = canned_builder(&keys, &server.base_url)
        .build()
        .expect("client");
    let error = client.send(request()).await.expect_err("does not decode");
    let Error::Decode { path, source, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(path, "score");
    assert_eq!(source.message(), "invalid type: string …, expected i64");
    assert_eq!(source.line(), 1);
}

#[tokio::test]
async fn error_answers_do_not_repeat_the_value_they_quote() {
    let keys = keys().await;
    // WeChat Pay quotes the offending value in `detail.value`.
    let answer = format!(
        r#"{{"code":"PARAM_ERROR","message":"参数错误","detail":{{"field":"/id_card","value":"{ID_CARD}","issue":"invalid","location":"body","more":[{{"value":"{PHONE}"}}]}}}}"#
    );
    let server =
        CannedServer::start(vec![Canned::signed(400, &answer, &keys.signer, SERIAL)]).await;
    let client = canned_builder(&keys, &server.base_url)
        .build()
        .expect("client");
    let error = client.send(request()).await.expect_err("an error answer");
    let shown = format!("{error}\n{error:?}");
    assert_clean("Error::Api", &shown, &[]);
    // What is safe to show stays: the field, the issue, the code.
    for kept in ["/id_card", "invalid", "PARAM_ERROR", "body"] {
        assert!(shown.contains(kept), "{kept}: {shown}");
    }
    // The program still reads everything.
    let api = error.as_api().expect("an API error");
    assert_eq!(api.detail.as_ref().unwrap()["value"], ID_CARD);
    assert_eq!(&api.body[..], answer.as_bytes());

    // A transport failure and a timeout name neither the path nor the query.
    let client = canned_builder(&keys, &support::refused_base_url())
        .build()
        .expect("client");
    let error = client.send(request()).await.expect_err("refused");
    assert_clean("Error::Transport", &format!("{error}\n{error:?}"), &[]);
}
