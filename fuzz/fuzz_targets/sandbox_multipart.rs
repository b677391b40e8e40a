//! The sandbox's multipart upload parser (run before the signature check,
//! on bytes anyone can send): (0) a `Content-Type` and body the fuzzer
//! wrote: never a panic; accepted means a `meta` part was found; refused
//! means a 400 `PARAM_ERROR` or `INVALID_REQUEST`; (1) a well-formed body
//! the target assembles around a fuzzer-written meta, filename, file and
//! an extra part, in a fuzzer-chosen order: accepted, with exactly those
//! bytes back; a repeated `meta` or `file` part is a `PARAM_ERROR` naming
//! it.
//! Input: mode byte, then (0) content type, body or (1) meta, filename,
//! file, extra, separated by 0xFF.
#![no_main]

use std::sync::OnceLock;

use axum::body::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tokio::runtime::Runtime;
use wxpay_fuzz::split;
use wxpay_sandbox::__fuzz::{Refusal, Upload, is_multipart, parse_multipart};

const BOUNDARY: &str = "wxpay-fuzz-7MA4YWxkTrZu0gW";

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

fn parse(headers: &HeaderMap, body: Vec<u8>) -> Result<Upload, Refusal> {
    runtime().block_on(parse_multipart(headers, Bytes::from(body)))
}

fn code(refusal: &Refusal) -> &str {
    refusal.body["code"].as_str().unwrap_or_default()
}

/// One part: its name, optional filename, bytes.
fn part(out: &mut Vec<u8>, name: &str, filename: Option<&str>, bytes: &[u8]) {
    out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
    let disposition = match filename {
        Some(filename) => format!("form-data; name=\"{name}\"; filename=\"{filename}\""),
        None => format!("form-data; name=\"{name}\""),
    };
    out.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
    if filename.is_some() {
        out.extend_from_slice(b"Content-Type: image/jpeg\r\n");
    } else {
        out.extend_from_slice(b"Content-Type: application/json\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let parts = split(rest, 2);
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(parts[0]) {
            headers.insert(CONTENT_TYPE, value);
        }
        let _ = is_multipart(&headers);
        match parse(&headers, parts[1].to_vec()) {
            Ok(_) => {}
            Err(refusal) => {
                assert_eq!(refusal.status, 400, "{refusal:?}");
                assert!(
                    matches!(code(&refusal), "PARAM_ERROR" | "INVALID_REQUEST"),
                    "{refusal:?}"
                );
            }
        }
        return;
    }

    let parts = split(rest, 4);
    let (meta, filename, file, extra) = (parts[0], parts[1], parts[2], parts[3]);
    let marker = format!("--{BOUNDARY}");
    let holds_marker = |bytes: &[u8]| bytes.windows(marker.len()).any(|w| w == marker.as_bytes());
    if [meta, file, extra].iter().any(|b| holds_marker(b)) {
        return;
    }
    // A filename that needs no quoting or escaping in the header.
    let filename = std::str::from_utf8(filename).ok().filter(|f| {
        f.bytes()
            .all(|b| (b' '..=b'~').contains(&b) && !b"\"\\%;".contains(&b))
    });

    let order = usize::from(mode >> 1) % 6;
    let repeat = mode & 0x80 != 0;
    let mut body = Vec::new();
    let mut pieces = [
        ("meta", None, meta),
        ("file", Some(filename.unwrap_or("a.jpg")), file),
        ("other", None, extra),
    ];
    pieces.rotate_left(order % 3);
    if order >= 3 {
        pieces.swap(0, 1);
    }
    for (name, filename, bytes) in pieces {
        part(&mut body, name, filename, bytes);
    }
    let repeated = if repeat {
        let name = if order % 2 == 0 { "meta" } else { "file" };
        part(&mut body, name, Some("b.png"), b"again");
        Some(name)
    } else {
        None
    };
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());

    let mut headers = HeaderMap::new();
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&content_type).expect("ASCII"),
    );
    assert!(is_multipart(&headers));

    match (parse(&headers, body), repeated) {
        (Ok(upload), None) => {
            assert_eq!(&upload.meta[..], meta);
            let (name, bytes) = upload.file.expect("the file part");
            assert_eq!(&bytes[..], file);
            if let Some(filename) = filename {
                assert_eq!(name.as_deref(), Some(filename));
            }
        }
        (Err(refusal), Some(name)) => {
            assert_eq!(refusal.status, 400);
            assert_eq!(code(&refusal), "PARAM_ERROR");
            assert_eq!(refusal.body["detail"]["field"], format!("/{name}"));
        }
        (Ok(upload), Some(name)) => panic!("a repeated {name} part was accepted: {upload:?}"),
        (Err(refusal), None) => panic!("a well-formed upload was refused: {refusal:?}"),
    }
});
