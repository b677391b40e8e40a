//! Media uploads: the signature covers the meta JSON, the wire carries a
//! multipart body around it, limits are checked before anything is sent.

use crate::support;

use std::time::Duration;

use support::{Canned, CannedServer, sandbox_client};
use wxpay::api::media::{
    MediaUploaded, UploadComplaintImage, UploadImage, UploadMarketingImage, UploadVideo,
};
use wxpay::media::{MediaError, MediaFile, MediaLimits, UploadForm};
use wxpay::{Body, BuildError, Client, Endpoint, Error, MerchantKey, RetryPolicy};
use wxpay_sandbox::Sandbox;

const SERIAL: &str = "PUB_KEY_ID_0100000000000000000000000001";

/// The SHA-256 of `content`, by a known answer rather than the library.
fn jpeg() -> (Vec<u8>, &'static str) {
    (
        b"abc".to_vec(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    )
}

/// One part of a multipart body: its header lines and its content.
#[derive(Debug)]
struct Part {
    headers: Vec<String>,
    content: Vec<u8>,
}

/// Parses a `multipart/form-data` body strictly (RFC 7578 / 2046): every
/// delimiter on its own CRLF-terminated line, the closing one last.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}");
    let find = |haystack: &[u8], needle: &[u8]| {
        haystack
            .windows(needle.len())
            .position(|window| window == needle)
    };
    assert!(
        body.starts_with(delimiter.as_bytes()),
        "no opening delimiter"
    );
    let mut rest = &body[delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest == b"--\r\n" {
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a delimiter");
        let head_end = find(rest, b"\r\n\r\n").expect("end of part headers");
        let headers = String::from_utf8(rest[..head_end].to_vec())
            .unwrap()
            .split("\r\n")
            .map(str::to_owned)
            .collect();
        rest = &rest[head_end + 4..];
        let next = format!("\r\n{delimiter}");
        let end = find(rest, next.as_bytes()).expect("next delimiter");
        parts.push(Part {
            headers,
            content: rest[..end].to_vec(),
        });
        rest = &rest[end + next.len()..];
    }
}

/// The parts of a prepared upload, parsed from its wire bytes with the
/// boundary its `Content-Type` announces.
fn wire_parts(prepared: &wxpay::PreparedRequest) -> Vec<Part> {
    let content_type = prepared.headers()["content-type"].to_str().unwrap();
    assert_eq!(Some(content_type), prepared.body().content_type());
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("a multipart content type");
    parse_multipart(prepared.body().wire_bytes(), boundary)
}

#[tokio::test]
async fn the_signature_covers_the_meta_json_and_the_wire_is_multipart() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let (content, sha256) = jpeg();
    let upload = UploadImage {
        file: MediaFile::new("门店.jpg", content.clone()),
    };
    let nonce = "0123456789abcdefghijABCDEFGHIJKL".to_owned();
    let prepared = client.prepare_at(&upload, 1_700_000_000, nonce).unwrap();

    let meta = format!(r#"{{"filename":"门店.jpg","sha256":"{sha256}"}}"#);
    assert_eq!(prepared.body().as_bytes(), meta.as_bytes());
    assert_eq!(
        String::from_utf8(prepared.signing_message()).unwrap(),
        format!(
            "POST\n/v3/merchant/media/upload\n1700000000\n0123456789abcdefghijABCDEFGHIJKL\n{meta}\n"
        )
    );

    let parts = wire_parts(&prepared);
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(
        parts[0].headers,
        [
            "Content-Disposition: form-data; name=\"meta\"",
            "Content-Type: application/json"
        ]
    );
    assert_eq!(parts[0].content, meta.as_bytes());
    assert_eq!(
        parts[1].headers,
        [
            "Content-Disposition: form-data; name=\"file\"; filename=\"门店.jpg\"",
            "Content-Type: image/jpeg"
        ]
    );
    assert_eq!(parts[1].content, content);
    let Body::Multipart(multipart) = prepared.body() else {
        panic!("{:?}", prepared.body())
    };
    assert_eq!(
        prepared.headers()["content-type"].to_str().unwrap(),
        format!("multipart/form-data; boundary={}", multipart.boundary())
    );
}

/// 上传商户提交资料文件, declared by hand: its file part is
/// `submission_file`, its meta `{"file_name","file_digest"}`, and it has two
/// more form fields, so the standard upload form does not fit it.
struct UploadSubmissionFile {
    sub_mchid: String,
    file: MediaFile,
    item_id: u32,
    manage_record_id: String,
}

impl Endpoint for UploadSubmissionFile {
    const METHOD: wxpay::Method = wxpay::Method::Post;
    const PATH_TEMPLATE: &'static str =
        "/v3/mch-manage/submission-files/sub-mchid/{sub_mchid}/upload";
    type Response = serde_json::Value;

    fn render_target(&self, out: &mut wxpay::Target) -> Result<(), BuildError> {
        out.push_literal("/v3/mch-manage/submission-files/sub-mchid/");
        out.push_segment("sub_mchid", &self.sub_mchid)?;
        out.push_literal("/upload");
        Ok(())
    }

    fn body(&self) -> Result<Body, BuildError> {
        let meta = serde_json::json!({
            "file_name": self.file.filename(),
            "file_digest": self.file.sha256_hex(),
        });
        let form = UploadForm::new()
            .file_part("submission_file")
            .meta(&meta)?
            .field("item_id", self.item_id.to_string())
            .field("manage_record_id", self.manage_record_id.clone());
        Body::multipart_with(&self.file, &MediaLimits::IMAGE, &form)
    }
}

#[tokio::test]
async fn an_upload_of_another_form_signs_its_own_meta() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let (content, sha256) = jpeg();
    let upload = UploadSubmissionFile {
        sub_mchid: "123000110".into(),
        file: MediaFile::new("licence.jpg", content.clone()),
        item_id: 56,
        manage_record_id: "R-56".into(),
    };
    let nonce = "0123456789abcdefghijABCDEFGHIJKL".to_owned();
    let prepared = client.prepare_at(&upload, 1_700_000_000, nonce).unwrap();

    // serde_json orders the keys of a `json!` map.
    let meta = format!(r#"{{"file_digest":"{sha256}","file_name":"licence.jpg"}}"#);
    assert_eq!(
        String::from_utf8(prepared.signing_message()).unwrap(),
        format!(
            "POST\n/v3/mch-manage/submission-files/sub-mchid/123000110/upload\n1700000000\n0123456789abcdefghijABCDEFGHIJKL\n{meta}\n"
        )
    );
    assert_submission_parts(&prepared, &meta, &content);
}

/// The parts of the submission-file upload of `licence.jpg` (item 56,
/// record `R-56`): `meta`, the two text fields, then the file, each with
/// its content.
fn assert_submission_parts(prepared: &wxpay::PreparedRequest, meta: &str, content: &[u8]) {
    let parts = wire_parts(prepared);
    let names: Vec<&str> = parts.iter().map(|part| part.headers[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "Content-Disposition: form-data; name=\"meta\"",
            "Content-Disposition: form-data; name=\"item_id\"",
            "Content-Disposition: form-data; name=\"manage_record_id\"",
            "Content-Disposition: form-data; name=\"submission_file\"; filename=\"licence.jpg\"",
        ]
    );
    assert_eq!(parts[0].content, meta.as_bytes());
    assert_eq!(parts[1].content, b"56");
    assert_eq!(parts[2].content, b"R-56");
    assert_eq!(parts[3].content, content);
}

/// The `meta` of [`DeclaredSubmissionFile`]: the caller fills the digest.
#[derive(serde::Serialize)]
struct SubmissionMeta {
    file_digest: String,
    file_name: String,
}

/// The same operation as [`UploadSubmissionFile`], declared with the
/// attribute's upload markers instead of by hand.
#[wxpay::endpoint(
    POST,
    "/v3/mch-manage/submission-files/sub-mchid/<sub_mchid>/upload",
    response = serde_json::Value,
    multipart
)]
struct DeclaredSubmissionFile {
    sub_mchid: String,
    #[wxpay(part = "submission_file")]
    file: MediaFile,
    #[wxpay(meta)]
    meta: SubmissionMeta,
    #[wxpay(form)]
    item_id: u32,
    #[wxpay(form)]
    manage_record_id: String,
    /// Optional: left out of the form when `None`.
    #[wxpay(form)]
    remark: Option<String>,
}

#[tokio::test]
async fn a_declared_upload_of_another_form_sends_what_the_hand_written_one_does() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let (content, sha256) = jpeg();
    let file = MediaFile::new("licence.jpg", content.clone());
    let by_hand = UploadSubmissionFile {
        sub_mchid: "123000110".into(),
        file: file.clone(),
        item_id: 56,
        manage_record_id: "R-56".into(),
    };
    let declared = DeclaredSubmissionFile {
        sub_mchid: "123000110".into(),
        file: file.clone(),
        meta: SubmissionMeta {
            file_digest: file.sha256_hex(),
            file_name: file.filename().to_owned(),
        },
        item_id: 56,
        manage_record_id: "R-56".into(),
        remark: None,
    };
    let nonce = "0123456789abcdefghijABCDEFGHIJKL";
    let expected = client
        .prepare_at(&by_hand, 1_700_000_000, nonce.to_owned())
        .unwrap();
    let prepared = client
        .prepare_at(&declared, 1_700_000_000, nonce.to_owned())
        .unwrap();
    assert_eq!(prepared.signing_message(), expected.signing_message());
    assert_eq!(
        prepared.body().as_bytes(),
        format!(r#"{{"file_digest":"{sha256}","file_name":"licence.jpg"}}"#).as_bytes()
    );
    // The boundaries are random; the parts are the same.
    let (parts, expected_parts) = (wire_parts(&prepared), wire_parts(&expected));
    assert_eq!(parts.len(), 4, "{parts:?}");
    for (part, expected) in parts.iter().zip(&expected_parts) {
        assert_eq!(part.headers, expected.headers);
        assert_eq!(part.content, expected.content);
    }

    // A set optional field is sent after the others.
    let with_remark = DeclaredSubmissionFile {
        remark: Some("第二版".into()),
        ..declared
    };
    let parts = wire_parts(&client.prepare(&with_remark).unwrap());
    assert_eq!(
        parts[3].headers,
        ["Content-Disposition: form-data; name=\"remark\""]
    );
    assert_eq!(parts[3].content, "第二版".as_bytes());
    assert_eq!(parts.len(), 5);
    sandbox.shutdown().await;
}

/// A form field whose type has no single text form.
#[wxpay::endpoint(POST, "/v3/things/upload", multipart)]
struct UploadWithStructuredField {
    file: MediaFile,
    #[wxpay(form)]
    tags: Vec<String>,
}

#[test]
fn a_form_field_without_a_text_form_is_a_build_error_naming_it() {
    let upload = UploadWithStructuredField {
        file: MediaFile::new("a.jpg", vec![1]),
        tags: vec!["a".into()],
    };
    let err = upload.body().unwrap_err();
    assert!(
        matches!(&err, BuildError::Media(MediaError::InvalidField { name, .. }) if name == "tags"),
        "{err:?}"
    );
    let message = wxpay::Report::new(&err).to_string();
    assert!(message.contains("`tags`"), "{message}");
    assert!(message.contains("string, number, boolean"), "{message}");
}

/// The catalogue's uploads of another form send the parts their spec
/// names: part `submission_file`, `meta` `{file_name, file_digest}`, then
/// `item_id` and `manage_record_id` (上传商户提交资料文件).
#[cfg(feature = "mch-manage")]
#[tokio::test]
async fn the_catalogue_submission_file_upload_sends_the_parts_its_spec_names() {
    use wxpay::api::v3::mch_manage::submission_files::sub_mchid::_sub_mchid_::upload::{
        Post, PostMeta,
    };
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    let (content, sha256) = jpeg();
    let file = MediaFile::new("licence.jpg", content.clone());
    let upload = Post {
        sub_mchid: "123000110".into(),
        meta: PostMeta {
            file_name: Some(file.filename().to_owned()),
            file_digest: Some(file.sha256_hex().to_uppercase()),
        },
        file,
        item_id: 56,
        manage_record_id: "R-56".into(),
    };
    let prepared = client.prepare(&upload).unwrap();
    assert_eq!(
        prepared.target(),
        "/v3/mch-manage/submission-files/sub-mchid/123000110/upload"
    );
    let meta = format!(
        r#"{{"file_name":"licence.jpg","file_digest":"{}"}}"#,
        sha256.to_uppercase()
    );
    assert_eq!(prepared.body().as_bytes(), meta.as_bytes());
    assert_submission_parts(&prepared, &meta, &content);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn uploads_round_trip_through_the_sandbox() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = sandbox_client(&sandbox);
    // Every byte value, and something that looks like a delimiter.
    let mut content: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    content.extend_from_slice(b"\r\n--wxpay-\r\n");

    let image = client
        .send(UploadImage {
            file: MediaFile::new("shop.JPG", content.clone()),
        })
        .await
        .expect("image upload");
    assert_eq!(image.media_id.len(), 64);
    let video = client
        .send(UploadVideo {
            file: MediaFile::new("clip.mp4", vec![9u8; 5 * 1024 * 1024]),
        })
        .await
        .expect("a 5 MiB video upload");
    assert_ne!(video.media_id, image.media_id);
    let marketing = client
        .send(UploadMarketingImage {
            file: MediaFile::new("logo.png", content.clone()),
        })
        .await
        .expect("marketing image upload");
    assert!(
        marketing.media_url.ends_with(".png"),
        "{}",
        marketing.media_url
    );
    client
        .send(UploadComplaintImage {
            file: MediaFile::new("proof.bmp", content),
        })
        .await
        .expect("complaint image upload");
}

#[tokio::test]
async fn files_from_paths_keep_their_names() {
    let dir = std::env::temp_dir().join(format!("wxpay-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("front.png");
    std::fs::write(&path, b"\x89PNG\r\n").unwrap();
    let sync = MediaFile::from_path(&path).unwrap();
    let not_blocking = MediaFile::from_path_async(&path).await.unwrap();
    assert_eq!(sync, not_blocking);
    assert_eq!(sync.filename(), "front.png");
    assert_eq!(sync.content_type(), "image/png");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(MediaFile::from_path(dir.join("gone.png")).is_err());
}

/// A key pair borrowed from a sandbox, for canned answers.
async fn keys() -> (MerchantKey, String, String) {
    let sandbox = Sandbox::start().await.unwrap();
    let credentials = sandbox.credentials().clone();
    sandbox.shutdown().await;
    (
        MerchantKey::from_pem(&credentials.merchant_private_key_pem).unwrap(),
        credentials.merchant_private_key_pem,
        credentials.merchant_public_key_pem,
    )
}

fn canned_client(server: &CannedServer, private_pem: &str, public_pem: &str) -> Client {
    Client::builder()
        .base_url(&server.base_url)
        .mchid("1900009191")
        .merchant_key_pem("ABCDEF0123456789", private_pem)
        .wechatpay_public_key_pem(SERIAL, public_pem)
        .retry(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_base_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn files_that_break_the_limits_are_refused_before_anything_is_sent() {
    let (_, private_pem, public_pem) = keys().await;
    let server = CannedServer::start(vec![]).await;
    let client = canned_client(&server, &private_pem, &public_pem);

    let media = |error: Error| match error {
        Error::Build {
            source: BuildError::Media(media),
            ..
        } => media,
        other => panic!("not a media error: {other:?}"),
    };
    let image = |name: &str, len: usize| UploadImage {
        file: MediaFile::new(name, vec![1u8; len]),
    };

    let error = client
        .send(image("big.jpg", 2 * 1024 * 1024 + 1))
        .await
        .unwrap_err();
    let text = error.report().to_string();
    assert!(
        text.starts_with("POST /v3/merchant/media/upload: could not build the request: the file cannot be uploaded: `big.jpg` is 2097153 bytes, over the 2097152-byte (2 MiB) limit of image uploads"),
        "{text}"
    );
    assert!(matches!(
        media(error),
        MediaError::TooLarge {
            size: 2_097_153,
            ..
        }
    ));
    assert!(matches!(
        media(client.send(image("empty.jpg", 0)).await.unwrap_err()),
        MediaError::Empty { .. }
    ));
    assert!(matches!(
        media(client.send(image("anim.gif", 10)).await.unwrap_err()),
        MediaError::UnsupportedType { .. }
    ));
    assert!(matches!(
        media(client.send(image("photo", 10)).await.unwrap_err()),
        MediaError::MissingExtension { .. }
    ));
    let video = UploadVideo {
        file: MediaFile::new("clip.mp4", vec![0u8; 5 * 1024 * 1024 + 1]),
    };
    assert!(matches!(
        media(client.send(video).await.unwrap_err()),
        MediaError::TooLarge { max: 5_242_880, .. }
    ));
    let photo_as_video = UploadVideo {
        file: MediaFile::new("photo.jpg", vec![1]),
    };
    assert!(matches!(
        media(client.send(photo_as_video).await.unwrap_err()),
        MediaError::UnsupportedType { kind: "video", .. }
    ));
    // `prepare` refuses the same way.
    assert!(client.prepare(&image("big.png", 3 * 1024 * 1024)).is_err());

    assert!(
        server.received.lock().unwrap().is_empty(),
        "a request was sent"
    );
}

#[tokio::test]
async fn a_retried_upload_resends_the_very_same_bytes() {
    let (signer, private_pem, public_pem) = keys().await;
    let server = CannedServer::start(vec![
        Canned::unsigned(500, r#"{"code":"SYSTEM_ERROR","message":"busy"}"#),
        Canned::signed(200, r#"{"media_id":"abc"}"#, &signer, SERIAL),
    ])
    .await;
    let client = canned_client(&server, &private_pem, &public_pem);
    let uploaded: MediaUploaded = client
        .send(UploadImage {
            file: MediaFile::new("a.png", b"png bytes".to_vec()),
        })
        .await
        .expect("the retry succeeds");
    assert_eq!(uploaded.media_id, "abc");

    let received = server.received.lock().unwrap();
    assert_eq!(received.len(), 2);
    let (first, second) = (&received[0], &received[1]);
    assert_eq!(first.0, "/v3/merchant/media/upload");
    assert_eq!(first.2, second.2, "the retry sent other bytes");
    assert_eq!(first.1["content-type"], second.1["content-type"]);
    assert_ne!(first.1["authorization"], second.1["authorization"]);
    assert!(
        first.1["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/form-data; boundary=wxpay-")
    );
}

/// Limits of one's own, named in the attribute.
const PDF: MediaLimits = MediaLimits::new("document", 7_864_320, &["pdf"]);

/// A declared upload with its own limits and a query parameter.
#[wxpay::endpoint(POST, "/v3/things/<thing_id>/documents", response = MediaUploaded, multipart = PDF)]
struct UploadDocument {
    thing_id: String,
    #[wxpay(query)]
    sub_mchid: String,
    document: MediaFile,
}

#[test]
fn declared_uploads_take_their_limits_from_the_attribute() {
    let upload = UploadDocument {
        thing_id: "t1".into(),
        sub_mchid: "1900000109".into(),
        document: MediaFile::new("terms.pdf", vec![b'%'; 7_000_000]),
    };
    let mut target = wxpay::Target::new();
    upload.render_target(&mut target).unwrap();
    assert_eq!(
        target.as_str(),
        "/v3/things/t1/documents?sub_mchid=1900000109"
    );
    let body = upload.body().unwrap();
    assert!(
        body.as_bytes()
            .starts_with(br#"{"filename":"terms.pdf","sha256":""#)
    );
    assert!(body.wire_bytes().len() > 7_000_000);
    let wire = String::from_utf8_lossy(body.wire_bytes());
    assert!(wire.contains("filename=\"terms.pdf\"\r\nContent-Type: application/pdf\r\n"));

    let image = UploadDocument {
        document: MediaFile::new("scan.jpg", vec![1]),
        ..upload
    };
    assert!(matches!(
        image.body(),
        Err(BuildError::Media(MediaError::UnsupportedType {
            kind: "document",
            ..
        }))
    ));
}
