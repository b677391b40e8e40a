//! Bill downloads: the URL is used verbatim, the answer is not
//! signature-checked but hashed after decompression, a mismatch hands out
//! nothing; and the bill CSV is parsed.

use crate::support;

use std::io::Write as _;

use base64::Engine as _;
use sha1::{Digest, Sha1};
use support::{
    CANNED_SERIAL as SERIAL, Canned, CannedServer, Keys, canned_builder, entries, keys,
    sandbox_client, scratch,
};
use wxpay::api::bill::{ApplyFundFlowBill, ApplyTradeBill, BillAccountType, BillTarType, BillType};
use wxpay::bill::{BillInfo, DownloadError, amount_to_fen};
use wxpay::{Client, Error, VerifyingKey};
use wxpay_sandbox::{Faults, Sandbox};

fn trade_bill(date: &str, tar_type: Option<BillTarType>) -> ApplyTradeBill {
    ApplyTradeBill {
        bill_date: date.into(),
        sub_mchid: None,
        bill_type: Some(BillType::All),
        tar_type,
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn sha1_hex(data: &[u8]) -> String {
    Sha1::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_trade_bill_is_applied_for_downloaded_and_parsed() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let mchid = sandbox.credentials().mchid.clone();

    let info = client
        .send(trade_bill("2019-06-11", Some(BillTarType::Gzip)))
        .await
        .expect("apply");
    assert_eq!(info.hash_type, "SHA1");
    assert!(
        info.download_url.starts_with(sandbox.base_url()),
        "{info:?}"
    );
    assert!(!format!("{info:?}").contains("token="), "{info:?}");

    let bill = client.download_bill(&info).await.expect("download");
    assert!(bill.was_compressed());
    let trades = bill.parse_trade_bill().expect("a trade bill");
    assert_eq!(trades.rows.len(), 4);
    let first = &trades.rows[0];
    assert_eq!(first.trade_time, "2019-06-11 09:07:07");
    assert_eq!(first.mchid, mchid);
    assert_eq!(first.trade_state, "SUCCESS");
    assert_eq!(first.settlement_amount, "17.37");
    assert_eq!(amount_to_fen(&first.settlement_amount), Some(1737));
    assert_eq!(first.fee, "0.10422");
    let refund = &trades.rows[3];
    assert_eq!(refund.trade_state, "REFUND");
    assert_eq!(refund.transaction_id, trades.rows[1].transaction_id);
    assert_eq!(refund.refund_amount, "17.74");
    assert_eq!(trades.summary.total_count, "4");
    assert_eq!(trades.summary.settlement_amount, "53.22");
    assert_eq!(trades.summary.refund_amount, "17.74");
    let raw = trades.table.rows().next().unwrap();
    assert_eq!(raw.get("商户订单号"), Some("sandbox201906110001"));

    // Uncompressed, to a file.
    let info = client
        .send(trade_bill("2019-06-11", None))
        .await
        .expect("apply");
    let dir = scratch("bill-plain");
    let path = dir.join("trade-2019-06-11.csv");
    let written = client
        .download_bill_to_file(&info, &path)
        .await
        .expect("download to a file");
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(written, on_disk.len() as u64);
    assert_eq!(on_disk, bill.as_bytes());
    assert_eq!(entries(&dir), ["trade-2019-06-11.csv"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn fund_flow_bills_read_by_column_name() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let info = client
        .send(ApplyFundFlowBill {
            bill_date: "2019-06-11".into(),
            sub_mchid: None,
            account_type: Some(BillAccountType::Basic),
            tar_type: Some(BillTarType::Gzip),
        })
        .await
        .expect("apply");
    let table = client
        .download_bill(&info)
        .await
        .expect("download")
        .parse()
        .expect("a bill");
    assert_eq!(table.len(), 2);
    let first = table.rows().next().unwrap();
    assert_eq!(first.get("收支类型"), Some("收入"));
    assert_eq!(first.to_map()["收支金额（元）"], "100.11");
    assert_eq!(table.summary().unwrap().get("资金流水总笔数"), Some("2"));
}

#[tokio::test]
async fn a_bill_that_does_not_match_its_hash_is_discarded() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let dir = scratch("bill-corrupt");
    let path = dir.join("bill.csv");
    std::fs::write(&path, "yesterday's bill").unwrap();

    for tar_type in [Some(BillTarType::Gzip), None] {
        let info = client
            .send(trade_bill("2019-06-12", tar_type))
            .await
            .expect("apply");
        sandbox.set_faults(Faults {
            corrupt_bill: true,
            ..Faults::default()
        });
        let error = client.download_bill(&info).await.unwrap_err();
        let Error::Download {
            source: DownloadError::HashMismatch { expected, actual },
            request_id,
            ..
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!(expected, &info.hash_value);
        assert_ne!(actual, expected);
        assert!(request_id.is_some());
        let text = error.report().to_string();
        assert!(
            text.starts_with("GET {download_url}: the download could not be used")
                && text.contains("): the bill's SHA-1 is "),
            "{text}"
        );
        assert!(!text.contains("token"), "{text}");

        let error = client
            .download_bill_to_file(&info, &path)
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Download {
                    source: DownloadError::HashMismatch { .. },
                    ..
                }
            ),
            "{error:?}"
        );
        // The old file is untouched and no temporary file is left.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's bill");
        assert_eq!(entries(&dir), ["bill.csv"]);

        sandbox.set_faults(Faults::default());
        client.download_bill(&info).await.expect("now it matches");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn client(keys: &Keys, server: &CannedServer) -> Client {
    canned_builder(keys, &server.base_url).build().unwrap()
}

fn file(body: Vec<u8>) -> Canned {
    Canned {
        status: 200,
        body,
        headers: vec![("Request-ID".into(), "download-request-id".into())],
    }
}

/// The `Authorization` fields of a request.
fn authorization_field(header: &str, name: &str) -> String {
    let start = header.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = header[start..].find('"').unwrap();
    header[start..start + end].to_owned()
}

#[tokio::test]
async fn the_download_url_is_signed_and_sent_verbatim() {
    let keys = keys().await;
    let bill = "交易时间\r\n`2019-06-11 09:07:07\r\n总交易单数\r\n`1\r\n";
    let server = CannedServer::start(vec![file(gzip(bill.as_bytes()))]).await;
    let client = client(&keys, &server);
    let target = "/v3/billdownload/file?token=a%2Fb%2bc%3d%3D&tartype=gzip&note=%E4%B8%AD~-._";
    let info = BillInfo::new(
        "SHA1",
        sha1_hex(bill.as_bytes()).to_uppercase(),
        format!("{}{target}", server.base_url),
    );
    let downloaded = client.download_bill(&info).await.expect("download");
    assert_eq!(downloaded.text().unwrap(), bill);

    let received = server.received.lock().unwrap();
    let (uri, headers, body) = &received[0];
    assert_eq!(uri, target, "the URL was not sent verbatim");
    assert!(body.is_empty());
    let authorization = headers["authorization"].to_str().unwrap();
    let timestamp = authorization_field(authorization, "timestamp");
    let nonce = authorization_field(authorization, "nonce_str");
    let signature = authorization_field(authorization, "signature");
    let message = format!("GET\n{target}\n{timestamp}\n{nonce}\n\n");
    let public = VerifyingKey::from_public_key_pem(&keys.public_pem).unwrap();
    public
        .verify_sha256(message.as_bytes(), &signature)
        .expect("the signature covers the target exactly as sent");
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(&signature)
            .is_ok()
    );
}

#[tokio::test]
async fn a_large_bill_streams_through_decompression_and_hashing() {
    let keys = keys().await;
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n";
    let mut bill = String::from(header);
    let mut rows = 0u32;
    while bill.len() < 20 * 1024 * 1024 {
        rows += 1;
        bill.push_str(&format!(
            "`2019-06-11 09:25:07,`wx2421b1c4370ec43b,`10000100,`0,`1000,`4200000500201906110{rows:09},`out{rows:012},`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`{}.{:02},`0.00,`0,`0,`0.00,`0.00,`,`,`商品{rows},`,`0.00600,`0.60%,`1.00,`0.00,`\r\n",
            rows % 1000,
            rows % 100
        ));
    }
    bill.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    bill.push_str(&format!("`{rows},`1.00,`0.00,`0.00,`0.00,`1.00,`0.00\r\n"));
    let compressed = gzip(bill.as_bytes());
    let hash = sha1_hex(bill.as_bytes());
    let server = CannedServer::start(vec![file(compressed.clone()), file(compressed)]).await;
    let client = client(&keys, &server);
    let info = BillInfo::new(
        "SHA1",
        hash,
        format!("{}/v3/billdownload/file?token=large", server.base_url),
    );

    let downloaded = client.download_bill(&info).await.expect("download");
    assert_eq!(downloaded.as_bytes().len(), bill.len());
    let trades = downloaded.parse_trade_bill().expect("parse");
    assert_eq!(trades.rows.len() as u32, rows);
    assert_eq!(trades.rows[41].out_trade_no, "out000000000042");

    let dir = scratch("bill-large");
    let path = dir.join("large.csv");
    let written = client.download_bill_to_file(&info, &path).await.unwrap();
    assert_eq!(written, bill.len() as u64);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), written);
    assert_eq!(sha1_hex(&std::fs::read(&path).unwrap()), info.hash_value);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn error_answers_bad_gzip_and_unusable_infos() {
    let keys = keys().await;
    let server = CannedServer::start(vec![
        Canned::signed(
            404,
            r#"{"code":"RESOURCE_NOT_EXISTS","message":"账单文件不存在"}"#,
            &keys.signer,
            SERIAL,
        ),
        Canned::unsigned(502, "bad gateway"),
        file(vec![
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef,
        ]),
        file(b"a bill".to_vec()),
    ])
    .await;
    let client = client(&keys, &server);
    let url = format!("{}/v3/billdownload/file?token=t", server.base_url);
    let info = BillInfo::new("SHA1", sha1_hex(b"a bill"), url.clone());

    let error = client.download_bill(&info).await.unwrap_err();
    let api = error.as_api().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(
        (api.status.as_u16(), api.code.as_str()),
        (404, "RESOURCE_NOT_EXISTS")
    );
    assert!(api.authenticated);
    assert_eq!(api.operation.template, "{download_url}");

    let error = client.download_bill(&info).await.unwrap_err();
    let api = error.as_api().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(
        (api.status.as_u16(), api.message.as_str()),
        (502, "bad gateway")
    );
    assert!(!api.authenticated);

    let error = client.download_bill(&info).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Download {
                source: DownloadError::Decompress(_),
                ..
            }
        ),
        "{error:?}"
    );

    // Plain text is a bill as it is.
    let bill = client.download_bill(&info).await.unwrap();
    assert_eq!(bill.as_bytes(), b"a bill");
    assert!(!bill.was_compressed());
    assert_eq!(server.received.lock().unwrap().len(), 4);

    // Refused before sending.
    let md5 = BillInfo::new("MD5", "00", url.clone());
    let error = client.download_bill(&md5).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Download {
                source: DownloadError::UnsupportedHashType { .. },
                ..
            }
        ),
        "{error:?}"
    );
    for bad_url in [
        "/v3/billdownload/file?token=t".to_owned(),
        format!("{}/v3/billdownload/file?token=a b", server.base_url),
        format!("{}/v3/billdownload/../file?token=t", server.base_url),
    ] {
        let error = client
            .download_bill(&BillInfo::new("SHA1", "00", bad_url.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Download {
                    source: DownloadError::InvalidUrl { .. },
                    ..
                }
            ),
            "{bad_url}: {error:?}"
        );
    }
    assert_eq!(server.received.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn downloads_to_a_file_report_their_progress() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let info = client
        .send(ApplyTradeBill {
            bill_date: "2019-06-11".into(),
            sub_mchid: None,
            bill_type: None,
            tar_type: Some(BillTarType::Gzip),
        })
        .await
        .expect("apply");
    let dir = scratch("bill-progress");
    let path = dir.join("bill.csv");
    let mut seen = Vec::new();
    client
        .download_bill_to_file_with_progress(&info, &path, |progress| seen.push(progress))
        .await
        .expect("download");
    let first = seen.first().expect("a first report");
    let last = seen.last().expect("a last report");
    assert_eq!(first.received, 0, "the head, before any byte");
    let total = last.total.expect("the sandbox sends Content-Length");
    assert_eq!(last.received, total, "{seen:?}");
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].received <= pair[1].received)
    );
    // Compressed bytes on the wire, fewer than the bill's.
    assert!(total < std::fs::metadata(&path).unwrap().len());
    std::fs::remove_dir_all(&dir).unwrap();
}
