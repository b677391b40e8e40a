//! Bill downloads against hostile servers: a gzip bomb stops at the
//! compression-ratio limit, an endless body at the size limit (announced or
//! streamed), a download to a file that stops leaves no file behind, and a
//! genuine bill of realistic size still passes the default limits.

use crate::support;

use std::io::Write as _;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha1::{Digest, Sha1};
use support::{Keys, canned_builder, entries, keys, scratch};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use wxpay::bill::{BillInfo, BillLimit, BillLimits, DownloadError};
use wxpay::{Client, Error};

const MIB: u64 = 1024 * 1024;

/// A loopback server answering every request with `body`, in chunks of
/// `piece` bytes (`Transfer-Encoding: chunked`), or with a
/// `Content-Length` header announcing `announce` bytes when it is set. It
/// counts the body bytes it managed to write.
struct BodyServer {
    base_url: String,
    written: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BodyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn body_server(body: Vec<u8>, piece: usize, announce: Option<u64>) -> BodyServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let written = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body);
    let task = tokio::spawn({
        let written = written.clone();
        async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(
                    stream,
                    body.clone(),
                    piece,
                    announce,
                    written.clone(),
                ));
            }
        }
    });
    BodyServer {
        base_url,
        written,
        task,
    }
}

async fn serve(
    mut stream: TcpStream,
    body: Arc<Vec<u8>>,
    piece: usize,
    announce: Option<u64>,
    written: Arc<AtomicU64>,
) {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
    let framing = match announce {
        Some(length) => format!("Content-Length: {length}"),
        None => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nRequest-ID: bill-limits\r\nConnection: close\r\n{framing}\r\n\r\n"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for part in body.chunks(piece) {
        let sent = match announce {
            Some(_) => stream.write_all(part).await,
            None => {
                let mut chunk = format!("{:x}\r\n", part.len()).into_bytes();
                chunk.extend_from_slice(part);
                chunk.extend_from_slice(b"\r\n");
                stream.write_all(&chunk).await
            }
        };
        if sent.is_err() {
            return;
        }
        written.fetch_add(part.len() as u64, Ordering::SeqCst);
    }
    if announce.is_none() {
        let _ = stream.write_all(b"0\r\n\r\n").await;
    }
    // Hold the connection a moment: the client closes it.
    tokio::time::sleep(Duration::from_secs(30)).await;
}

fn bill_client(keys: &Keys, base_url: &str) -> Client {
    canned_builder(keys, base_url)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn info(base_url: &str, bill: &[u8]) -> BillInfo {
    let hash: String = Sha1::digest(bill)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    BillInfo::new(
        "SHA1",
        hash,
        format!("{base_url}/v3/billdownload/file?token=limits"),
    )
}

fn gzip(data: &[u8], level: flate2::Compression) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A trade bill shaped like WeChat Pay's: `rows` lines of backticked
/// values, distinct numbers on every line, and the summary.
fn realistic_bill(rows: usize) -> Vec<u8> {
    let mut bill = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n",
    );
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for row in 0..rows {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let fen = state % 100_000;
        bill.push_str(&format!(
            "`2019-06-11 {:02}:{:02}:{:02},`wx2421b1c4370ec43b,`1900009191,`0,`,`42000000{:020},`order{row:010},`oUpF8uMuAJO_M2pxb1Q9zNjW{:06},`JSAPI,`SUCCESS,`CMC,`CNY,`{}.{:02},`0.00,`0,`0,`0.00,`0.00,`,`,`商品{},`,`{}.{:05},`0.60%,`{}.{:02},`0.00,`\n",
            row / 3600 % 24,
            row / 60 % 60,
            row % 60,
            state,
            state % 1_000_000,
            fen / 100,
            fen % 100,
            row % 97,
            fen / 10_000,
            fen * 6 % 100_000,
            fen / 100,
            fen % 100,
        ));
    }
    bill.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n");
    bill.push_str(&format!("`{rows},`1.00,`0.00,`0.00,`0.00600,`1.00,`0.00\n"));
    bill.into_bytes()
}

fn limit_of(error: &Error) -> (BillLimit, u64, u64) {
    match error {
        Error::Download {
            source:
                DownloadError::LimitExceeded {
                    limit,
                    received,
                    decompressed,
                },
            ..
        } => (*limit, *received, *decompressed),
        other => panic!("expected a bill limit error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_compression_ratio() {
    let keys = keys().await;
    // 64 MiB of zeros: about 64 KiB of gzip, well under the 1 GiB size
    // limit, so only the ratio can stop it.
    let plain = vec![0u8; 64 * MIB as usize];
    let bomb = gzip(&plain, flate2::Compression::best());
    assert!(bomb.len() < 100 * 1024, "{}", bomb.len());
    let server = body_server(bomb.clone(), 16 * 1024, None).await;
    let client = bill_client(&keys, &server.base_url);
    let info = info(&server.base_url, &plain);
    drop(plain);

    let error = client.download_bill(&info).await.unwrap_err();
    let (limit, received, decompressed) = limit_of(&error);
    assert_eq!(
        limit,
        BillLimit::Ratio {
            max_ratio: BillLimits::DEFAULT_MAX_RATIO,
            grace_bytes: BillLimits::DEFAULT_RATIO_GRACE_BYTES,
        }
    );
    // Stopped a little past the 1 MiB grace, not after inflating 64 MiB.
    assert!(
        decompressed > 100 * received,
        "{decompressed} from {received}"
    );
    assert!(decompressed < 4 * MIB, "{decompressed}");
    assert!(received < bomb.len() as u64, "{received}");
    assert_eq!(error.request_id(), Some("bill-limits"));
    let text = error.report().to_string();
    assert!(
        text.contains("more than 100 times")
            && text.contains("decompression bomb")
            && text.contains("BillLimits::with_max_ratio")
            && !text.contains("token=limits"),
        "{text}"
    );

    // Raising the ratio is how a (hypothetical) genuine bill this
    // compressible gets through; here, the size limit then takes over.
    let limits = BillLimits::default()
        .with_max_ratio(u64::MAX)
        .with_max_bytes(16 * MIB);
    let error = client
        .download_bill_with_limits(&info, limits)
        .await
        .unwrap_err();
    let (limit, _, decompressed) = limit_of(&error);
    assert_eq!(
        limit,
        BillLimit::Size {
            max_bytes: 16 * MIB
        }
    );
    assert!(
        decompressed > 16 * MIB && decompressed <= 17 * MIB,
        "{decompressed}"
    );
}

#[tokio::test]
async fn a_large_stream_stops_at_the_size_limit() {
    let keys = keys().await;
    // 64 MiB of plain bill text, streamed with no Content-Length.
    let plain =
        b"`2019-06-11 09:07:07,`wx2421b1c4370ec43b,`1900009191\n".repeat(64 * MIB as usize / 52);
    let server = body_server(plain.clone(), 64 * 1024, None).await;
    let client = bill_client(&keys, &server.base_url);
    let info = info(&server.base_url, &plain);
    let limits = BillLimits::default().with_max_bytes(8 * MIB);

    let error = client
        .download_bill_with_limits(&info, limits)
        .await
        .unwrap_err();
    let (limit, received, _) = limit_of(&error);
    assert_eq!(
        limit,
        BillLimit::DownloadSize {
            max_bytes: 8 * MIB,
            announced: None
        }
    );
    assert!(
        received > 8 * MIB && received <= 8 * MIB + 64 * 1024,
        "{received}"
    );
    let text = error.report().to_string();
    assert!(
        text.contains("limit of 8388608 bytes") && text.contains("BillLimits::with_max_bytes"),
        "{text}"
    );
    // The client hung up: the server could not push the whole 64 MiB.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let written = server.written.load(Ordering::SeqCst);
    assert!(written < 48 * MIB, "{written} bytes went out");

    // Announced too large: refused before a byte of the body is read.
    let announced = body_server(Vec::new(), 1, Some(9 * MIB)).await;
    let info = BillInfo::new(
        "SHA1",
        "00",
        format!("{}/v3/billdownload/file?token=limits", announced.base_url),
    );
    let client = canned_builder(&keys, &announced.base_url).build().unwrap();
    let error = client
        .download_bill_with_limits(&info, limits)
        .await
        .unwrap_err();
    assert_eq!(
        limit_of(&error),
        (
            BillLimit::DownloadSize {
                max_bytes: 8 * MIB,
                announced: Some(9 * MIB)
            },
            0,
            0
        )
    );
    assert!(
        error
            .report()
            .to_string()
            .contains("announced 9437184 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn a_download_to_a_file_that_stops_leaves_no_file() {
    let keys = keys().await;
    let plain = vec![b'`'; 32 * MIB as usize];
    let bomb = gzip(&plain, flate2::Compression::best());
    let server = body_server(bomb, 16 * 1024, None).await;
    let client = bill_client(&keys, &server.base_url);
    let info = info(&server.base_url, &plain);
    drop(plain);
    let dir = scratch("bill-limits-bomb");

    // A fresh destination: nothing is left at all.
    let path = dir.join("trade.csv");
    let mut last = None;
    let error = client
        .download_bill_to_file_with_progress(&info, &path, |seen| last = Some(seen))
        .await
        .unwrap_err();
    let (limit, _, decompressed) = limit_of(&error);
    assert!(matches!(limit, BillLimit::Ratio { .. }), "{limit:?}");
    assert!(decompressed < 4 * MIB, "{decompressed}");
    assert!(last.is_some(), "progress was reported");
    assert_eq!(entries(&dir), Vec::<String>::new());

    // An existing file at the destination stays as it was; the temporary
    // file is gone. The size limit holds for files too.
    std::fs::write(&path, b"yesterday's bill").unwrap();
    let limits = BillLimits::default()
        .with_max_ratio(u64::MAX)
        .with_max_bytes(10 * MIB);
    let error = client
        .download_bill_to_file_with_limits(&info, &path, limits, |_| {})
        .await
        .unwrap_err();
    assert_eq!(
        limit_of(&error).0,
        BillLimit::Size {
            max_bytes: 10 * MIB
        }
    );
    assert_eq!(entries(&dir), ["trade.csv"]);
    assert_eq!(std::fs::read(&path).unwrap(), b"yesterday's bill");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_genuine_bill_passes_the_default_limits() {
    let keys = keys().await;
    // About 14 MiB of bill: far over the 1 MiB grace, so the ratio is
    // checked all the way.
    let plain = realistic_bill(50_000);
    assert!(plain.len() as u64 > 10 * MIB, "{}", plain.len());
    for level in [flate2::Compression::fast(), flate2::Compression::best()] {
        let compressed = gzip(&plain, level);
        let ratio = plain.len() / compressed.len();
        assert!(ratio < 20, "this bill compresses {ratio}:1");
        let server = body_server(compressed, 16 * 1024, None).await;
        let client = bill_client(&keys, &server.base_url);
        let info = info(&server.base_url, &plain);

        let bill = client.download_bill(&info).await.expect("a genuine bill");
        assert!(bill.was_compressed());
        assert_eq!(bill.as_bytes(), plain.as_slice());
        let trades = bill.parse_trade_bill().expect("a trade bill");
        assert_eq!(trades.rows.len(), 50_000);

        let dir = scratch("bill-limits-genuine");
        let path = dir.join("trade.csv");
        let written = client
            .download_bill_to_file(&info, &path)
            .await
            .expect("a genuine bill, to a file");
        assert_eq!(written, plain.len() as u64);
        assert_eq!(std::fs::read(&path).unwrap(), plain);
        assert_eq!(entries(&dir), ["trade.csv"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // A tiny bill compresses oddly but is under the grace: it passes.
    let tiny = vec![b'`'; 200 * 1024];
    let server = body_server(gzip(&tiny, flate2::Compression::best()), 1024, None).await;
    let client = bill_client(&keys, &server.base_url);
    let bill = client
        .download_bill(&info(&server.base_url, &tiny))
        .await
        .expect("a tiny bill");
    assert_eq!(bill.as_bytes(), tiny.as_slice());

    // Exactly at the size limit passes, one byte under fails.
    let server = body_server(plain.clone(), 64 * 1024, Some(plain.len() as u64)).await;
    let client = bill_client(&keys, &server.base_url);
    let info = info(&server.base_url, &plain);
    let exact = BillLimits::default().with_max_bytes(plain.len() as u64);
    client
        .download_bill_with_limits(&info, exact)
        .await
        .expect("exactly the limit");
    let error = client
        .download_bill_with_limits(&info, exact.with_max_bytes(plain.len() as u64 - 1))
        .await
        .unwrap_err();
    assert!(
        matches!(
            limit_of(&error).0,
            BillLimit::DownloadSize {
                announced: Some(_),
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn the_client_s_limits_apply_to_every_download() {
    let keys = keys().await;
    let plain =
        b"`2019-06-11 09:07:07,`wx2421b1c4370ec43b,`1900009191\n".repeat(4 * MIB as usize / 52);
    let server = body_server(plain.clone(), 64 * 1024, None).await;
    let client = canned_builder(&keys, &server.base_url)
        .timeout(Duration::from_secs(60))
        .bill_limits(BillLimits::default().with_max_bytes(MIB))
        .build()
        .unwrap();
    let info = info(&server.base_url, &plain);
    let error = client.download_bill(&info).await.unwrap_err();
    let (limit, _, _) = limit_of(&error);
    assert_eq!(
        limit,
        BillLimit::DownloadSize {
            max_bytes: MIB,
            announced: None
        }
    );
    // A call's own limits still win over the client's.
    let server = body_server(plain.clone(), 64 * 1024, None).await;
    let info = self::info(&server.base_url, &plain);
    let bill = client
        .download_bill_with_limits(&info, BillLimits::default())
        .await
        .expect("within the default limits");
    assert_eq!(bill.as_bytes().len(), plain.len());
}
