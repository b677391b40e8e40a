//! Hostile servers: answers larger than the client's limit are refused
//! (announced or streamed) without being held in memory and without
//! retries, and plain `http://` off this machine is refused for base URLs
//! and bill download URLs unless the client opted in.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{CANNED_SERIAL, Canned, CannedServer, Keys, canned_builder, keys};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use wxpay::bill::{BillInfo, DownloadError};
use wxpay::client::DEFAULT_MAX_RESPONSE_BYTES;
use wxpay::{Client, ConfigError, Error, Method, RetryPolicy};

/// What the raw server answers each request with.
#[derive(Clone)]
enum Answer {
    /// This head (status line and headers, without the blank line), then
    /// `sent` bytes of body, then the connection is held open.
    Head { head: String, sent: usize },
    /// This head, then `total` bytes as chunks of `piece` bytes
    /// (`Transfer-Encoding: chunked`), then the last chunk.
    Chunked {
        head: String,
        total: usize,
        piece: usize,
    },
}

/// A loopback server answering every connection with `answer`: its base
/// URL, the number of connections it accepted and the body bytes it
/// managed to write.
struct RawServer {
    base_url: String,
    connections: Arc<AtomicUsize>,
    written: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn raw_server(answer: Answer) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn({
        let connections = connections.clone();
        let written = written.clone();
        async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, answer.clone(), written.clone()));
            }
        }
    });
    RawServer {
        base_url,
        connections,
        written,
        task,
    }
}

async fn serve(mut stream: TcpStream, answer: Answer, written: Arc<AtomicU64>) {
    // The request's head (the tests send no body).
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
    match answer {
        Answer::Head { head, sent } => {
            if stream
                .write_all(format!("{head}\r\n\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
            if stream.write_all(&vec![b' '; sent]).await.is_ok() {
                written.fetch_add(sent as u64, Ordering::SeqCst);
            }
            // Hold the connection: the rest never comes.
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Answer::Chunked { head, total, piece } => {
            let head = format!("{head}\r\nTransfer-Encoding: chunked\r\n\r\n");
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = format!("{piece:x}\r\n").into_bytes();
            chunk.extend(std::iter::repeat_n(b' ', piece));
            chunk.extend_from_slice(b"\r\n");
            let mut sent = 0;
            while sent < total {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += piece;
                written.fetch_add(piece as u64, Ordering::SeqCst);
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }
}

fn client(keys: &Keys, base_url: &str) -> Client {
    canned_builder(keys, base_url)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn an_announced_content_length_over_the_limit_is_refused_before_the_body() {
    let keys = keys().await;
    let server = raw_server(Answer::Head {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRequest-ID: big-1\r\nContent-Length: 9000000".to_owned(),
        sent: 1024,
    })
    .await;
    let client = client(&keys, &server.base_url);
    assert_eq!(client.max_response_bytes(), DEFAULT_MAX_RESPONSE_BYTES);
    assert_eq!(DEFAULT_MAX_RESPONSE_BYTES, 8 * 1024 * 1024);

    // Through `send` (typed) and `send_raw` alike.
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let started = Instant::now();
    let error = client
        .send_prepared::<serde_json::Value>(request)
        .await
        .unwrap_err();
    // The body never completes: only refusing on the header ends the call
    // this fast (the client's timeout is a minute).
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                status: wxpay::http::StatusCode::OK,
                limit: 8_388_608,
                announced: Some(9_000_000),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.request_id(), Some("big-1"));
    let text = error.to_string();
    assert!(
        text.contains("announced 9000000 bytes")
            && text.contains("limit of 8388608 bytes")
            && text.contains("ClientBuilder::max_response_bytes"),
        "{text}"
    );

    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client.send_raw(&request).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                announced: Some(9_000_000),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_chunked_answer_is_cut_off_at_the_limit() {
    let keys = keys().await;
    // 64 MiB in 64 KiB chunks, no Content-Length.
    let server = raw_server(Answer::Chunked {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/json".to_owned(),
        total: 64 * MIB,
        piece: 64 * 1024,
    })
    .await;
    let client = client(&keys, &server.base_url);
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client.send_raw(&request).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                status: wxpay::http::StatusCode::OK,
                limit: 8_388_608,
                announced: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("went past the client's limit of 8388608 bytes"),
        "{error}"
    );
    // The client hung up: the server could not push the 64 MiB through
    // (what it wrote is the limit plus what the sockets' buffers took).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = server.written.load(Ordering::SeqCst);
    assert!(written < 40 * MIB as u64, "{written} bytes went out");
}

#[tokio::test]
async fn the_limit_is_configurable_and_exact() {
    let keys = keys().await;
    let body = r#"{"stock_id":"98065001","padding":"xxxxxxxxxxxxxxxxxxxxxxxx"}"#;
    let signed = || Canned::signed(200, body, &keys.signer, CANNED_SERIAL);
    let server = CannedServer::start(vec![signed(), signed()]).await;
    let exact = body.len() as u64;

    let client = canned_builder(&keys, &server.base_url)
        .max_response_bytes(exact)
        .build()
        .unwrap();
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let answer = client.send_raw(&request).await.expect("exactly the limit");
    assert_eq!(answer.body, body.as_bytes());

    let client = canned_builder(&keys, &server.base_url)
        .max_response_bytes(exact - 1)
        .build()
        .unwrap();
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client
        .send_prepared::<serde_json::Value>(request)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { limit, announced: Some(n), .. } if limit == exact - 1 && n == exact),
        "{error:?}"
    );

    // Streamed, several pieces: cut off at the limit too.
    let streamed = raw_server(Answer::Chunked {
        head: "HTTP/1.1 200 OK\r\nContent-Type: application/json".to_owned(),
        total: 64 * 1024,
        piece: 1000,
    })
    .await;
    let client = canned_builder(&keys, &streamed.base_url)
        .max_response_bytes(10_000)
        .build()
        .unwrap();
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client.send_raw(&request).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                limit: 10_000,
                announced: None,
                ..
            }
        ),
        "{error:?}"
    );

    let error = canned_builder(&keys, &server.base_url)
        .max_response_bytes(0)
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("max_response_bytes"), "{error}");
}

#[tokio::test]
async fn an_error_answer_over_the_limit_is_refused_and_not_retried() {
    let keys = keys().await;
    let server = raw_server(Answer::Head {
        head: "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 2000".to_owned(),
        sent: 2000,
    })
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .max_response_bytes(1024)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_max_elapsed(Duration::from_secs(30)),
        )
        .build()
        .unwrap();
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client
        .send_prepared::<serde_json::Value>(request)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                status: wxpay::http::StatusCode::INTERNAL_SERVER_ERROR,
                limit: 1024,
                announced: Some(2000),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "retried");

    // Streamed error answers too.
    let server = raw_server(Answer::Chunked {
        head: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json".to_owned(),
        total: 16 * MIB,
        piece: 16 * 1024,
    })
    .await;
    let client = canned_builder(&keys, &server.base_url)
        .max_response_bytes(64 * 1024)
        .retry(RetryPolicy::default())
        .build()
        .unwrap();
    let request = client.prepare_raw(Method::Get, "/v3/x", None).unwrap();
    let error = client.send_raw(&request).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::ResponseTooLarge {
                status: wxpay::http::StatusCode::SERVICE_UNAVAILABLE,
                announced: None,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 1, "retried");
}

#[tokio::test]
async fn plain_http_base_urls_off_this_machine_are_refused() {
    let keys = keys().await;
    let error = canned_builder(&keys, "http://example.com")
        .build()
        .unwrap_err();
    let Error::Config(ConfigError::Invalid(problems)) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    let text = error.to_string();
    assert!(
        text.contains("base URL `http://example.com` is plain http to `example.com`")
            && text.contains("use https://")
            && text.contains(".allow_insecure_http(true)"),
        "{text}"
    );

    let error = canned_builder(&keys, "https://example.com")
        .backup_base_url("http://10.1.2.3:8080")
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("backup base URL `http://10.1.2.3:8080` is plain http"),
        "{error}"
    );

    for base_url in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:8080",
        "http://[::1]:8080",
        "https://example.com",
    ] {
        canned_builder(&keys, base_url)
            .build()
            .unwrap_or_else(|error| panic!("{base_url}: {error}"));
    }
    let client = canned_builder(&keys, "http://example.com")
        .backup_base_url("http://10.1.2.3:8080")
        .allow_insecure_http(true)
        .build()
        .expect("opted in");
    assert_eq!(client.base_url(), "http://example.com");
}

/// A loopback "proxy" that answers every request 404 and counts
/// connections: with it as the HTTP client's proxy, any connection the
/// client makes to any http:// host shows up here.
async fn counting_proxy() -> (reqwest::Client, RawServer) {
    let proxy = raw_server(Answer::Head {
        head: "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close".to_owned(),
        sent: 2,
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .proxy(reqwest::Proxy::http(&proxy.base_url).unwrap())
        .build()
        .unwrap();
    (http, proxy)
}

#[tokio::test]
async fn plain_http_download_urls_off_this_machine_are_refused_before_connecting() {
    let keys = keys().await;
    let info = BillInfo::new(
        "SHA1",
        "00",
        "http://example.com/v3/billdownload/file?token=secret",
    );

    let (http, proxy) = counting_proxy().await;
    let client = canned_builder(&keys, "http://127.0.0.1:1")
        .http_client(http)
        .build()
        .unwrap();
    let error = client.download_bill(&info).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Download {
                source: DownloadError::InvalidUrl { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.report().to_string();
    assert!(
        text.contains("plain http to `example.com`")
            && text.contains(".allow_insecure_http(true)")
            && !text.contains("secret"),
        "{text}"
    );
    let path = std::env::temp_dir().join(format!("hardening-limits-{}.csv", std::process::id()));
    let error = client
        .download_bill_to_file(&info, &path)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Download {
                source: DownloadError::InvalidUrl { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!path.exists());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 0);

    // Opted in, the same URL is fetched (the proxy answers 404).
    let (http, proxy) = counting_proxy().await;
    let client = canned_builder(&keys, "http://127.0.0.1:1")
        .http_client(http)
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let error = client.download_bill(&info).await.unwrap_err();
    assert_eq!(
        error.as_api().map(|api| api.status.as_u16()),
        Some(404),
        "{error:?}"
    );
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 1);
}
