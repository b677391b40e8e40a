//! Bill downloads announced with `hash_type` SHA256 or SM3 (not only
//! SHA1): the digest the `hash_type` names is computed over the
//! decompressed bill as it streams in and compared with `hash_value`; a
//! wrong one hands out nothing and writes nothing; an unknown `hash_type`
//! is refused before anything is sent.
//!
//! The expected digests below were computed outside this project (Python's
//! `hashlib`, backed by OpenSSL), so they check the library against an
//! independent implementation, not against itself.

use crate::support;

use std::io::Write as _;

use support::{Canned, CannedServer, Keys, canned_builder, entries, keys, scratch};
use wxpay::bill::{BillHashType, BillInfo, DownloadError};
use wxpay::media::MediaFile;
use wxpay::{Client, Error};

/// A small trade-bill-shaped file (a merchant-transfer receipt bill would
/// be shaped alike).
const BILL: &str = "交易时间,公众账号ID,商户号,微信订单号,商户订单号,交易状态,应结订单金额\n\
`2026-12-05 09:07:07,`wx2421b1c4370ec43b,`1900009191,`4200000001202612050000000001,`receipt0001,`SUCCESS,`17.37\n\
`2026-12-05 11:21:42,`wx2421b1c4370ec43b,`1900009191,`4200000001202612050000000002,`receipt0002,`SUCCESS,`35.85\n\
总交易单数,应结订单总金额\n\
`2,`53.22\n";

/// Digests of [`BILL`].
const BILL_SHA1: &str = "61288900e77de81f98ea6d2572e38e4fa246e461";
const BILL_SHA256: &str = "2785d38898270966280d5407a0842b585d64273b120789d5300ab37fb7c93ca3";
const BILL_SM3: &str = "893828b01bb4171483b57a1980edd1ec978ca00fe9d583fadc50b1999ec2fabe";

/// [`BILL`] 2000 times (748,000 bytes): many chunks on the wire and many
/// pieces out of the gzip decoder, so the digest is taken incrementally.
const BIG_REPEAT: usize = 2000;
const BIG_SHA256: &str = "e91569e6310dbe5f81018ad627911117a609984fe0084a6097167f3b228e821b";
const BIG_SM3: &str = "1c72deeebaaf0b9b5f99c032a74ee6adf6b88dc2d04ed0e72b789b50fafd1f0c";

/// SM3("abc"), GB/T 32905-2016 appendix A.1.
const SM3_ABC: &str = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

fn big_bill() -> Vec<u8> {
    BILL.as_bytes().repeat(BIG_REPEAT)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn file(body: Vec<u8>) -> Canned {
    Canned {
        status: 200,
        body,
        headers: vec![("Request-ID".into(), "digest-request-id".into())],
    }
}

fn client(keys: &Keys, server: &CannedServer) -> Client {
    canned_builder(keys, &server.base_url).build().unwrap()
}

fn url(server: &CannedServer) -> String {
    format!(
        "{}/v3/billdownload/file?token=digest-token",
        server.base_url
    )
}

/// The `DigestMismatch` inside `error`, or a panic naming what it was.
fn digest_mismatch(error: &Error) -> (BillHashType, &str, &str) {
    match error {
        Error::Download {
            source:
                DownloadError::DigestMismatch {
                    hash_type,
                    expected,
                    actual,
                },
            ..
        } => (*hash_type, expected, actual),
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn sha256_and_sm3_bills_verify_plain_and_gzip_in_memory_and_to_a_file() {
    let keys = keys().await;
    let big = big_bill();
    let server = CannedServer::start(vec![
        file(BILL.as_bytes().to_vec()),
        file(gzip(BILL.as_bytes())),
        file(gzip(&big)),
        file(big.clone()),
        file(gzip(&big)),
        file(BILL.as_bytes().to_vec()),
    ])
    .await;
    let client = client(&keys, &server);
    let url = url(&server);

    // SHA256, plain.
    let bill = client
        .download_bill(&BillInfo::new("SHA256", BILL_SHA256, url.clone()))
        .await
        .expect("a SHA256 bill verifies");
    assert_eq!(bill.as_bytes(), BILL.as_bytes());
    assert!(!bill.was_compressed());
    assert_eq!(bill.digest().hash_type(), BillHashType::Sha256);
    assert_eq!(bill.digest().hex(), BILL_SHA256);
    assert_eq!(bill.parse().expect("a bill table").rows().count(), 2);

    // SM3, gzip; hash type and value in other letter cases.
    let bill = client
        .download_bill(&BillInfo::new("sm3", BILL_SM3.to_uppercase(), url.clone()))
        .await
        .expect("an SM3 bill verifies");
    assert_eq!(bill.as_bytes(), BILL.as_bytes());
    assert!(bill.was_compressed());
    assert_eq!(bill.digest().hash_type(), BillHashType::Sm3);
    assert_eq!(bill.digest().hex(), BILL_SM3);
    assert_eq!(bill.digest().to_string(), format!("SM3:{BILL_SM3}"));

    // A large SM3 bill, gzip, hashed as it streams in.
    let bill = client
        .download_bill(&BillInfo::new("SM3", BIG_SM3, url.clone()))
        .await
        .expect("a large SM3 bill verifies");
    assert_eq!(bill.as_bytes().len(), big.len());
    assert_eq!(bill.digest().hex(), BIG_SM3);

    // To files: SHA256 plain, SM3 gzip.
    let dir = scratch("bill-digests-verify");
    let sha256_path = dir.join("sha256.csv");
    let written = client
        .download_bill_to_file(
            &BillInfo::new("SHA256", BIG_SHA256, url.clone()),
            &sha256_path,
        )
        .await
        .expect("a SHA256 bill is written");
    assert_eq!(written, big.len() as u64);
    assert_eq!(std::fs::read(&sha256_path).unwrap(), big);
    let sm3_path = dir.join("sm3.csv");
    let written = client
        .download_bill_to_file(&BillInfo::new("SM3", BIG_SM3, url.clone()), &sm3_path)
        .await
        .expect("an SM3 bill is written");
    assert_eq!(written, big.len() as u64);
    assert_eq!(std::fs::read(&sm3_path).unwrap(), big);
    assert_eq!(entries(&dir), ["sha256.csv", "sm3.csv"]);
    std::fs::remove_dir_all(&dir).unwrap();

    // SHA1 bills report their digest the same way.
    let bill = client
        .download_bill(&BillInfo::new("SHA1", BILL_SHA1, url.clone()))
        .await
        .expect("a SHA1 bill verifies");
    assert_eq!(bill.digest().hash_type(), BillHashType::Sha1);
    assert_eq!(bill.digest().hex(), BILL_SHA1);

    // Every download went to the URL as written.
    let received = server.received.lock().unwrap();
    assert_eq!(received.len(), 6);
    assert!(
        received
            .iter()
            .all(|(uri, _, _)| uri == "/v3/billdownload/file?token=digest-token")
    );
}

#[tokio::test]
async fn a_wrong_sha256_or_sm3_hash_is_refused_and_nothing_is_kept() {
    let keys = keys().await;
    let mut tampered = BILL.as_bytes().to_vec();
    // `17.37` becomes `97.37`.
    let at = BILL.find("17.37").unwrap();
    tampered[at] = b'9';
    let server = CannedServer::start(vec![
        // The right bill, announced with the digest of another hash type:
        // only computing the named hash tells these apart.
        file(BILL.as_bytes().to_vec()),
        file(gzip(BILL.as_bytes())),
        // A tampered bill, announced with the genuine digests.
        file(gzip(&tampered)),
        file(tampered.clone()),
        // To a file.
        file(gzip(&tampered)),
        file(tampered.clone()),
    ])
    .await;
    let client = client(&keys, &server);
    let url = url(&server);

    let error = client
        .download_bill(&BillInfo::new("SM3", BILL_SHA256, url.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        digest_mismatch(&error),
        (BillHashType::Sm3, BILL_SHA256, BILL_SM3)
    );
    let text = error.report().to_string();
    assert!(
        text.starts_with("GET {download_url}: the download could not be used")
            && text.contains(&format!(
                "): the bill's SM3 digest is {BILL_SM3} but {BILL_SHA256} was announced"
            )),
        "{text}"
    );
    assert!(text.contains("request a new download URL"), "{text}");
    assert!(!text.contains("digest-token"), "{text}");
    assert_eq!(error.request_id(), Some("digest-request-id"));

    let error = client
        .download_bill(&BillInfo::new("SHA256", BILL_SM3, url.clone()))
        .await
        .unwrap_err();
    assert_eq!(
        digest_mismatch(&error),
        (BillHashType::Sha256, BILL_SM3, BILL_SHA256)
    );
    assert!(
        error.report().to_string().contains("SHA256 digest is"),
        "{error}"
    );

    let error = client
        .download_bill(&BillInfo::new("SM3", BILL_SM3, url.clone()))
        .await
        .unwrap_err();
    let (hash_type, expected, actual) = digest_mismatch(&error);
    assert_eq!((hash_type, expected), (BillHashType::Sm3, BILL_SM3));
    assert_ne!(actual, BILL_SM3);
    assert_eq!(actual.len(), 64);
    match &error {
        Error::Download { source, .. } => assert!(source.is_hash_mismatch()),
        other => panic!("{other:?}"),
    }

    let error = client
        .download_bill(&BillInfo::new("SHA256", BILL_SHA256, url.clone()))
        .await
        .unwrap_err();
    assert_eq!(digest_mismatch(&error).0, BillHashType::Sha256);

    // To a file: the old file stays as it was, no temporary file is left.
    let dir = scratch("bill-digests-refuse");
    let path = dir.join("bill.csv");
    std::fs::write(&path, "yesterday's bill").unwrap();
    for info in [
        BillInfo::new("SM3", BILL_SM3, url.clone()),
        BillInfo::new("SHA256", BILL_SHA256, url.clone()),
    ] {
        let error = client
            .download_bill_to_file(&info, &path)
            .await
            .unwrap_err();
        let (hash_type, expected, _) = digest_mismatch(&error);
        assert_eq!(hash_type.as_str(), info.hash_type);
        assert_eq!(expected, info.hash_value);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday's bill");
        assert_eq!(entries(&dir), ["bill.csv"]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(server.received.lock().unwrap().len(), 6);
}

#[tokio::test]
async fn an_unknown_hash_type_is_refused_before_the_download() {
    let keys = keys().await;
    let server = CannedServer::start(vec![file(BILL.as_bytes().to_vec())]).await;
    let client = client(&keys, &server);
    let url = url(&server);
    let dir = scratch("bill-digests-unknown");
    let path = dir.join("bill.csv");

    for hash_type in ["MD5", "SHA512", "SM2", "", "SHA1,SM3"] {
        let info = BillInfo::new(hash_type, BILL_SM3, url.clone());
        assert!(info.hash_algorithm().is_err(), "{hash_type:?}");
        for error in [
            client.download_bill(&info).await.unwrap_err(),
            client
                .download_bill_to_file(&info, &path)
                .await
                .unwrap_err(),
        ] {
            let Error::Download {
                source: DownloadError::UnsupportedHashType { hash_type: named },
                request_id,
                ..
            } = &error
            else {
                panic!("{hash_type:?}: {error:?}")
            };
            assert_eq!(named, hash_type);
            assert_eq!(request_id, &None, "nothing was sent, so no Request-ID");
            let text = error.report().to_string();
            assert!(text.contains(&format!("`{hash_type}`")), "{text}");
            assert!(text.contains("supported: SHA1, SHA256, SM3"), "{text}");
            assert!(text.contains("not downloaded"), "{text}");
            assert!(!text.contains("digest-token"), "{text}");
        }
    }
    // Nothing reached the server and no file was made.
    assert!(server.received.lock().unwrap().is_empty());
    assert!(entries(&dir).is_empty());

    // The server's one answer is still there for a known hash type.
    let bill = client
        .download_bill(&BillInfo::new(" Sm3 ", BILL_SM3, url.clone()))
        .await
        .expect("a known hash type downloads");
    assert_eq!(bill.as_bytes(), BILL.as_bytes());
    assert_eq!(server.received.lock().unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sm3_known_answer_vectors() {
    // GB/T 32905-2016 appendix A: "abc", and "abcd" sixteen times.
    let abc = MediaFile::new("fapiao.pdf", b"abc".to_vec());
    assert_eq!(abc.sm3_hex(), SM3_ABC);
    assert_eq!(
        MediaFile::new("fapiao.pdf", b"abcd".repeat(16)).sm3_hex(),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
    assert_eq!(BillHashType::Sm3.hex_digest(b"abc"), SM3_ABC);
    assert_eq!(BillHashType::Sm3.hex_len(), SM3_ABC.len());

    // The same vector end to end: a three-byte bill, plain and gzip,
    // through the download's streaming hasher.
    let keys = keys().await;
    let server = CannedServer::start(vec![file(b"abc".to_vec()), file(gzip(b"abc"))]).await;
    let client = client(&keys, &server);
    for compressed in [false, true] {
        let bill = client
            .download_bill(&BillInfo::new("SM3", SM3_ABC, url(&server)))
            .await
            .expect("SM3(\"abc\") is the known answer");
        assert_eq!(bill.as_bytes(), b"abc");
        assert_eq!(bill.was_compressed(), compressed);
        assert_eq!(bill.digest().hex(), SM3_ABC);
    }
}
