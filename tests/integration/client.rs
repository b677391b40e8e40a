//! The client's answer handling against a loopback server with canned
//! answers: verification is mandatory for 2xx, errors are decoded, 204 is
//! understood, decoding failures name the JSON path.

use crate::support;

use support::{CANNED_SERIAL as SERIAL, Canned, CannedServer, Keys, canned_builder, keys};
use wxpay::api::v3::marketing::favor::stocks::_stock_id_::start::Post as StartStock;
use wxpay::{Client, Error, NoContent, VerifyError};

fn client(keys: &Keys, server: &CannedServer) -> Client {
    canned_builder(keys, &server.base_url).build().unwrap()
}

fn start() -> StartStock {
    StartStock {
        stock_id: "98065001".into(),
        stock_creator_mchid: "1900009191".into(),
    }
}

#[wxpay::endpoint(DELETE, "/v3/things/<id>")]
struct DeleteThing {
    id: String,
}

#[tokio::test]
async fn signed_success_is_decoded_and_request_is_sent_as_signed() {
    let keys = keys().await;
    let body = r#"{"start_time":"2015-05-20T13:29:35.120+08:00","stock_id":"98065001","extra":1}"#;
    let server = CannedServer::start(vec![Canned::signed(200, body, &keys.signer, SERIAL)]).await;
    let client = client(&keys, &server);
    let started = client.send(start()).await.expect("verified answer decodes");
    assert_eq!(started.stock_id, "98065001");
    assert_eq!(started.start_time.as_str(), "2015-05-20T13:29:35.120+08:00");

    let received = server.received.lock().unwrap();
    let (uri, headers, sent_body) = &received[0];
    assert_eq!(uri, "/v3/marketing/favor/stocks/98065001/start");
    assert_eq!(&sent_body[..], br#"{"stock_creator_mchid":"1900009191"}"#);
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["wechatpay-serial"], SERIAL);
    assert!(
        headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("wxpay-rust/")
    );
    let authorization = headers["authorization"].to_str().unwrap();
    assert!(authorization.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\","));
    assert!(authorization.contains("serial_no=\"ABCDEF0123456789\""));
}

#[tokio::test]
async fn no_content_is_understood_and_a_body_where_none_belongs_is_an_error() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::signed(204, "", &keys.signer, SERIAL),
        Canned::signed(200, r#"{"unexpected":true}"#, &keys.signer, SERIAL),
        Canned::signed(204, "", &keys.signer, SERIAL),
    ])
    .await;
    let client = client(&keys, &server);
    let done: NoContent = client.send(DeleteThing { id: "a".into() }).await.unwrap();
    assert_eq!(done, NoContent);

    let err = client
        .send(DeleteThing { id: "a".into() })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                status: wxpay::http::StatusCode::OK,
                ..
            }
        ),
        "{err}"
    );

    // An operation that promises a body cannot accept a 204.
    let err = client.send(start()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Decode {
                status: wxpay::http::StatusCode::NO_CONTENT,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn decode_errors_name_the_operation_and_json_path() {
    let keys = keys().await;
    let body = r#"{"start_time":5,"stock_id":"98065001"}"#;
    let server = CannedServer::start(vec![Canned::signed(200, body, &keys.signer, SERIAL)]).await;
    let err = client(&keys, &server).send(start()).await.unwrap_err();
    let Error::Decode {
        path,
        body: raw,
        request_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(path, "start_time");
    assert_eq!(&raw[..], body.as_bytes());
    assert_eq!(request_id.as_deref(), Some("canned-request-id"));
    let text = err.to_string();
    assert!(
        text.contains("POST /v3/marketing/favor/stocks/{stock_id}/start"),
        "{text}"
    );
    assert!(text.contains("`start_time`"), "{text}");
}

#[tokio::test]
async fn success_without_signature_is_rejected_as_forged() {
    let keys = keys().await;
    let body = r#"{"start_time":"x","stock_id":"98065001"}"#;
    let server = CannedServer::start(vec![Canned::unsigned(200, body)]).await;
    let err = client(&keys, &server).send(start()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verification {
                source: VerifyError::MissingHeader { .. },
                status: wxpay::http::StatusCode::OK,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.report().to_string().contains("forged"), "{err}");
}

#[tokio::test]
async fn signature_over_another_body_is_rejected() {
    let keys = keys().await;
    let mut canned = Canned::signed(
        200,
        r#"{"start_time":"x","stock_id":"1"}"#,
        &keys.signer,
        SERIAL,
    );
    canned.body = br#"{"start_time":"x","stock_id":"2"}"#.to_vec();
    let server = CannedServer::start(vec![canned]).await;
    let err = client(&keys, &server).send(start()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Verification {
                source: VerifyError::Mismatch { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn api_errors_are_decoded_signed_or_not() {
    let keys = keys().await;
    let param_error = r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","value":0,"issue":"must be >= 1","location":"body"}}"#;
    let server = CannedServer::start(vec![
        Canned::signed(400, param_error, &keys.signer, SERIAL),
        Canned::unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"系统错误"}"#),
        Canned::unsigned(502, "<html>bad gateway</html>"),
    ])
    .await;
    let client = client(&keys, &server);

    let err = client.send(start()).await.unwrap_err();
    let api = err.as_api().expect("an API error");
    assert_eq!(
        (api.status.as_u16(), api.code.as_str(), api.message.as_str()),
        (400, "PARAM_ERROR", "参数错误")
    );
    assert_eq!(api.field(), Some("/amount/total"));
    assert!(api.authenticated);
    assert!(!api.is_retryable());
    assert_eq!(api.request_id.as_deref(), Some("canned-request-id"));
    assert_eq!(&api.body[..], param_error.as_bytes());
    let text = err.to_string();
    assert!(text.contains("HTTP 400 PARAM_ERROR: 参数错误"), "{text}");
    assert!(
        text.contains("/amount/total") && text.contains("canned-request-id"),
        "{text}"
    );

    let err = client.send(start()).await.unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!(
        (api.status.as_u16(), api.code.as_str()),
        (500, "SYSTEM_ERROR")
    );
    assert!(!api.authenticated && api.is_retryable());
    assert!(err.to_string().contains("not authenticated"), "{err}");

    let err = client.send(start()).await.unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!((api.status.as_u16(), api.code.as_str()), (502, ""));
    assert!(api.message.contains("bad gateway"));
}

#[tokio::test]
async fn unreachable_server_is_a_transport_error_and_slow_one_a_timeout() {
    let keys = keys().await;
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .build()
        .unwrap();
    let err = client.send(start()).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");

    // A server that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder()
        .base_url(format!("http://{addr}"))
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let err = client.send(start()).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.to_string().contains("query its state before retrying"),
        "{err}"
    );
    hold.abort();
}

#[tokio::test]
async fn builder_lists_every_problem_and_debug_hides_keys() {
    let keys = keys().await;
    let err = Client::builder()
        .mchid("19000x")
        .merchant_key_pem(
            "not hex!",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .wechatpay_public_key_pem("KEY_1", &keys.public_pem)
        .base_url("https://example.com/prefix")
        .build()
        .unwrap_err();
    let text = err.to_string();
    for expected in [
        "mchid `19000x`",
        "`not hex!`",
        "merchant private key",
        "PUB_KEY_ID_",
        "path prefix",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in: {text}");
    }

    let err = Client::builder()
        .mchid("1")
        .merchant_key_pem("AB", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .apiv3_key("too short")
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("APIv3 key") && err.contains('9'), "{err}");
    let err = Client::builder()
        .apiv3_key("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")
        .build();
    assert!(err.is_err());

    let err = Client::builder().build().unwrap_err().to_string();
    assert!(
        err.contains("mchid is not set") && err.contains("merchant key is not set"),
        "{err}"
    );

    let err = Client::builder()
        .mchid("1")
        .merchant_key_file("AB", "/nonexistent/apiclient_key.pem")
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/apiclient_key.pem"), "{err}");

    let client = Client::builder()
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF", &keys.private_pem)
        .wechatpay_public_key_pem(SERIAL, &keys.public_pem)
        .apiv3_key("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")
        .build()
        .unwrap();
    assert!(client.apiv3_key().is_some());
    let debug = format!("{client:?} {:?}", client.verifier());
    let key_body: String = keys
        .private_pem
        .lines()
        .nth(1)
        .unwrap()
        .chars()
        .take(24)
        .collect();
    let pub_body: String = keys
        .public_pem
        .lines()
        .nth(1)
        .unwrap()
        .chars()
        .take(24)
        .collect();
    assert!(
        !debug.contains(&key_body) && !debug.contains(&pub_body),
        "{debug}"
    );
    assert!(
        debug.contains("1900009191") && debug.contains(SERIAL),
        "{debug}"
    );
}

#[tokio::test]
async fn prepared_requests_can_be_inspected_without_sending() {
    let keys = keys().await;
    let server = CannedServer::start(vec![]).await;
    let client = client(&keys, &server);
    let prepared = client
        .prepare(&DeleteThing {
            id: "a b/../c".into(),
        })
        .unwrap();
    assert_eq!(prepared.target(), "/v3/things/a%20b%2F..%2Fc");
    assert_eq!(
        prepared.url(),
        format!("{}/v3/things/a%20b%2F..%2Fc", server.base_url)
    );
    assert_eq!(prepared.body().as_bytes(), b"");
    assert!(prepared.headers().get("content-type").is_none());
    assert_eq!(prepared.nonce().len(), 32);
    let message = String::from_utf8(prepared.signing_message()).unwrap();
    assert_eq!(
        message,
        format!(
            "DELETE\n/v3/things/a%20b%2F..%2Fc\n{}\n{}\n\n",
            prepared.timestamp(),
            prepared.nonce()
        )
    );
    // Nothing was sent.
    assert!(server.received.lock().unwrap().is_empty());

    for bad in ["", ".", ".."] {
        let err = client.prepare(&DeleteThing { id: bad.into() }).unwrap_err();
        assert!(matches!(err, Error::Build { .. }), "{bad:?}: {err:?}");
    }
}
