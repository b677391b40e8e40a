//! Media uploads: multipart bodies whose signature covers the meta part.

use aws_lc_rs::digest::{SHA256, digest};

use crate::common::{Merchant, sandbox};

const BOUNDARY: &str = "sandbox-test-boundary-0123456789";
const UPLOAD: &str = "/v3/merchant/media/upload";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn meta(filename: &str, content: &[u8]) -> String {
    format!(
        r#"{{"filename":"{filename}","sha256":"{}"}}"#,
        hex(digest(&SHA256, content).as_ref())
    )
}

/// `meta` and `file` parts around [`BOUNDARY`].
fn multipart(meta: &str, filename: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

#[tokio::test]
async fn an_upload_signed_over_its_meta_part_gets_a_media_id() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let content = b"\xff\xd8\xff\xe0 a jpeg".to_vec();
    let meta = meta("shop.jpg", &content);
    let body = multipart(&meta, "shop.jpg", &content);

    let answer = merchant
        .upload(UPLOAD, meta.as_bytes(), body.clone(), &content_type())
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.assert_verified(sandbox.credentials());
    let media_id = answer.json()["media_id"].as_str().unwrap().to_owned();
    assert_eq!(media_id.len(), 64);

    // Signing the whole multipart body is the classic mistake.
    let answer = merchant
        .upload(UPLOAD, &body, body.clone(), &content_type())
        .await;
    answer.assert_error(sandbox.credentials(), 401, "SIGN_ERROR");
}

#[tokio::test]
async fn each_upload_endpoint_answers_its_own_shape() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let cases = [
        ("/v3/merchant/media/video_upload", "clip.mp4", "media_id"),
        (
            "/v3/marketing/favor/media/image-upload",
            "logo.png",
            "media_url",
        ),
        (
            "/v3/merchant-service/images/upload",
            "proof.bmp",
            "media_id",
        ),
    ];
    for (target, filename, field) in cases {
        let content = filename.as_bytes().repeat(10);
        let meta = meta(filename, &content);
        let answer = merchant
            .upload(
                target,
                meta.as_bytes(),
                multipart(&meta, filename, &content),
                &content_type(),
            )
            .await;
        assert_eq!(
            answer.status,
            200,
            "{target}: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert!(
            answer.json()[field].is_string(),
            "{target}: {}",
            answer.json()
        );
    }
    let answer = merchant
        .upload(
            "/v3/marketing/favor/media/image-upload",
            meta("logo.png", b"x").as_bytes(),
            multipart(&meta("logo.png", b"x"), "logo.png", b"x"),
            &content_type(),
        )
        .await;
    let url = answer.json()["media_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://wxpay-sandbox.invalid/media/") && url.ends_with(".png"),
        "{url}"
    );
}

#[tokio::test]
async fn uploads_that_break_the_rules_are_param_errors() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let content = b"image bytes".to_vec();
    let big = vec![1u8; 2 * 1024 * 1024 + 1];
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        // The hash of other bytes.
        (
            meta("a.jpg", b"other"),
            multipart(&meta("a.jpg", b"other"), "a.jpg", &content),
            "/meta/sha256",
        ),
        // Upper-case hex.
        (
            meta("a.jpg", &content)
                .to_uppercase()
                .replace("FILENAME", "filename")
                .replace("SHA256", "sha256")
                .replace("A.JPG", "a.jpg"),
            Vec::new(),
            "/meta/sha256",
        ),
        // The file part named differently.
        (
            meta("a.jpg", &content),
            multipart(&meta("a.jpg", &content), "b.jpg", &content),
            "/file",
        ),
        // Not an image type.
        (
            meta("a.gif", &content),
            multipart(&meta("a.gif", &content), "a.gif", &content),
            "/meta/filename",
        ),
        // Over 2 MiB.
        (
            meta("a.jpg", &big),
            multipart(&meta("a.jpg", &big), "a.jpg", &big),
            "/file",
        ),
        // Empty.
        (
            meta("a.jpg", b""),
            multipart(&meta("a.jpg", b""), "a.jpg", b""),
            "/file",
        ),
    ];
    for (meta, body, field) in cases {
        let body = if body.is_empty() {
            multipart(&meta, "a.jpg", &content)
        } else {
            body
        };
        let answer = merchant
            .upload(UPLOAD, meta.as_bytes(), body, &content_type())
            .await;
        let json = answer.assert_error(sandbox.credentials(), 400, "PARAM_ERROR");
        assert_eq!(json["detail"]["field"], field, "{json}");
    }

    // No meta part at all: nothing to check the signature against.
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
    );
    let answer = merchant
        .upload(UPLOAD, b"", body.into_bytes(), &content_type())
        .await;
    let json = answer.assert_error(sandbox.credentials(), 400, "PARAM_ERROR");
    assert_eq!(json["detail"]["field"], "/meta", "{json}");

    // JSON sent to an upload endpoint.
    let answer = merchant
        .post(UPLOAD, &serde_json::json!({"filename": "a.jpg"}))
        .await;
    answer.assert_error(sandbox.credentials(), 400, "INVALID_REQUEST");
}
