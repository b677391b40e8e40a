//! Every operation goes to the host that serves it: the Hong Kong and
//! global operations to `apihk.mch.weixin.qq.com` (or the URL given for
//! it), a client built for one host refuses the others before sending, and
//! a client pointed at a sandbox sends every host's operations there.

use crate::support;

use support::{Canned, CannedServer, canned_builder, keys};
use wxpay::{BuildError, Client, Error, Host};

#[derive(Debug, serde::Deserialize)]
struct Queried {
    trade_state: String,
}

#[wxpay::endpoint(GET, "/v3/transactions/id/<transaction_id>", host = HongKong, response = Queried)]
struct HongKongQuery {
    transaction_id: String,
    #[wxpay(query)]
    mchid: String,
}

#[wxpay::endpoint(GET, "/v3/pay/transactions/id/<transaction_id>", response = Queried)]
struct MainlandQuery {
    transaction_id: String,
    #[wxpay(query)]
    mchid: String,
}

const ANSWER: &str = r#"{"trade_state":"SUCCESS"}"#;

#[tokio::test]
async fn hong_kong_operations_go_to_the_hong_kong_url() {
    let keys = keys().await;
    let mainland = CannedServer::start(vec![]).await;
    let hong_kong = CannedServer::start(vec![Canned::signed(
        200,
        ANSWER,
        &keys.signer,
        support::CANNED_SERIAL,
    )])
    .await;
    let client = canned_builder(&keys, &mainland.base_url)
        .host_url(Host::HongKong, &hong_kong.base_url)
        .build()
        .unwrap();
    let answer = client
        .send(HongKongQuery {
            transaction_id: "4200000000000000".into(),
            mchid: "1900009191".into(),
        })
        .await
        .expect("the Hong Kong server answered");
    assert_eq!(answer.trade_state, "SUCCESS");
    assert!(mainland.received.lock().unwrap().is_empty());
    let received = hong_kong.received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].0,
        "/v3/transactions/id/4200000000000000?mchid=1900009191"
    );
}

#[tokio::test]
async fn a_sandbox_base_url_takes_every_host() {
    let keys = keys().await;
    let server = CannedServer::start(vec![Canned::signed(
        200,
        ANSWER,
        &keys.signer,
        support::CANNED_SERIAL,
    )])
    .await;
    let client = canned_builder(&keys, &server.base_url).build().unwrap();
    for host in Host::ALL {
        assert_eq!(
            client.host_url(host),
            Some(server.base_url.as_str()),
            "{host:?}"
        );
    }
    client
        .send(HongKongQuery {
            transaction_id: "4200000000000000".into(),
            mchid: "1900009191".into(),
        })
        .await
        .expect("the sandbox answered for Hong Kong");
    assert_eq!(server.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn production_clients_know_each_hosts_url() {
    let keys = keys().await;
    let client = canned_builder(&keys, "https://api.mch.weixin.qq.com")
        .build()
        .unwrap();
    for host in Host::ALL {
        assert_eq!(
            client.host_url(host),
            Some(host.production_url()),
            "{host:?}"
        );
    }
    assert_eq!(
        client.backup_base_url(),
        Some("https://api2.mch.weixin.qq.com")
    );
}

#[tokio::test]
async fn a_client_built_for_hong_kong_refuses_mainland_operations_unsent() {
    let keys = keys().await;
    let server = CannedServer::start(vec![Canned::signed(
        200,
        ANSWER,
        &keys.signer,
        support::CANNED_SERIAL,
    )])
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .home_host(Host::HongKong)
        .build()
        .unwrap();
    assert_eq!(client.home_host(), Some(Host::HongKong));
    assert_eq!(client.host_url(Host::Api), None);
    let error = client
        .send(MainlandQuery {
            transaction_id: "4200000000000000".into(),
            mchid: "1900009191".into(),
        })
        .await
        .expect_err("a mainland operation on a Hong Kong client");
    match &error {
        Error::Build {
            source: BuildError::HostNotServed { host, home },
            ..
        } => {
            assert_eq!((*host, *home), (Host::Api, Host::HongKong));
        }
        other => panic!("expected HostNotServed, got {other:?}"),
    }
    let message = error.report().to_string();
    assert!(message.contains("api.mch.weixin.qq.com"), "{message}");
    assert!(message.contains("home_host"), "{message}");
    assert!(
        server.received.lock().unwrap().is_empty(),
        "nothing was sent"
    );

    client
        .send(HongKongQuery {
            transaction_id: "4200000000000000".into(),
            mchid: "1900009191".into(),
        })
        .await
        .expect("its own host's operation goes through");
}

#[test]
fn host_urls_are_checked_like_base_urls() {
    let error = Client::builder()
        .host_url(Host::HongKong, "http://203.0.113.7")
        .build()
        .expect_err("plain http elsewhere than this machine");
    let message = error.to_string();
    assert!(
        message.contains("URL of host apihk.mch.weixin.qq.com"),
        "{message}"
    );
    assert!(message.contains("plain http"), "{message}");
    let error = Client::builder()
        .host_url(Host::Fraud, "https://fraud.example/prefix")
        .build()
        .expect_err("a path prefix");
    assert!(
        error.to_string().contains("scheme, host and port only"),
        "{error}"
    );
}

/// The catalogue's own Hong Kong declaration goes to the Hong Kong host.
#[cfg(feature = "hk")]
#[tokio::test]
async fn the_catalogues_hong_kong_operations_go_there() {
    use wxpay::api::hk::transactions::id::_transaction_id_::Get;

    assert_eq!(<Get as wxpay::Endpoint>::HOST, Host::HongKong);
    let keys = keys().await;
    let hong_kong = CannedServer::start(vec![Canned::signed(
        200,
        r#"{"id":"4200000000000000","trade_state":"SUCCESS"}"#,
        &keys.signer,
        support::CANNED_SERIAL,
    )])
    .await;
    let client = canned_builder(&keys, "https://api.mch.weixin.qq.com")
        .host_url(Host::HongKong, &hong_kong.base_url)
        .build()
        .unwrap();
    let query = Get {
        transaction_id: "4200000000000000".into(),
        mchid: "1900009191".into(),
        sub_mchid: "1900009192".into(),
        sp_mchid: "1900009191".into(),
    };
    let request = client.prepare(&query).unwrap();
    assert!(
        request.url().starts_with(&hong_kong.base_url),
        "{}",
        request.url()
    );
    // Whatever the canned answer decodes into, it was the Hong Kong
    // server that was asked.
    let _answer = client.send(query).await;
    let received = hong_kong.received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]
            .0
            .starts_with("/v3/transactions/id/4200000000000000?"),
        "{}",
        received[0].0
    );
}

#[tokio::test]
async fn a_plain_http_base_url_elsewhere_is_one_problem_not_one_per_host() {
    let keys = keys().await;
    let error = canned_builder(&keys, "http://203.0.113.7")
        .build()
        .expect_err("plain http elsewhere");
    let message = error.to_string();
    assert_eq!(message.matches("plain http").count(), 1, "{message}");
}
