//! Every way a request signature can be wrong gets a 401 SIGN_ERROR that
//! says what differed, and the 401 itself is signed.

use crate::common::{AuthParts, Merchant, SCHEME, sandbox, sign};

const LIST: &str = "/v3/marketing/favor/stocks?offset=0&limit=10&stock_creator_mchid=";

/// Sends GET `target` with the given Authorization and returns the
/// SIGN_ERROR message (after checking status, code and signature).
async fn rejected(merchant: &Merchant, target: &str, authorization: Option<&str>) -> String {
    let answer = merchant
        .send_raw("GET", target, "", authorization, None)
        .await;
    answer.assert_error(&merchant.credentials, 401, "SIGN_ERROR");
    answer.message()
}

fn list_target(merchant: &Merchant) -> String {
    format!("{LIST}{}", merchant.mchid())
}

#[tokio::test]
async fn a_correct_signature_is_accepted_with_fields_in_any_order() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let target = list_target(&merchant);
    let p = merchant.auth_parts("GET", &target, "");
    let header = format!(
        "{SCHEME} serial_no=\"{}\",timestamp=\"{}\",signature=\"{}\",mchid=\"{}\",nonce_str=\"{}\"",
        p.serial_no, p.timestamp, p.signature, p.mchid, p.nonce_str
    );
    let answer = merchant
        .send_raw("GET", &target, "", Some(&header), None)
        .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
}

#[tokio::test]
async fn header_problems() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let target = list_target(&merchant);
    let good = merchant.auth_parts("GET", &target, "");

    let message = rejected(&merchant, &target, None).await;
    assert!(
        message.contains("missing Authorization header"),
        "{message}"
    );

    let message = rejected(&merchant, &target, Some("Bearer token")).await;
    assert!(
        message.contains("unknown Authorization scheme \"Bearer\""),
        "{message}"
    );

    let without_nonce = format!(
        "{SCHEME} mchid=\"{}\",signature=\"{}\",timestamp=\"{}\",serial_no=\"{}\"",
        good.mchid, good.signature, good.timestamp, good.serial_no
    );
    let message = rejected(&merchant, &target, Some(&without_nonce)).await;
    assert!(message.contains("lacks the field nonce_str"), "{message}");

    let duplicated = format!("{},mchid=\"{}\"", good.header(), good.mchid);
    let message = rejected(&merchant, &target, Some(&duplicated)).await;
    assert!(message.contains("duplicate field mchid"), "{message}");

    for garbage in [
        format!("{SCHEME} "),
        format!("{SCHEME} ,,,=\"\""),
        format!("{SCHEME} mchid=\"1"),
        format!("{SCHEME} mchid=1,nonce_str=2"),
        format!("{SCHEME} ====\"\"\"\""),
        "\t".to_owned(),
    ] {
        let answer = merchant
            .send_raw("GET", &target, "", Some(&garbage), None)
            .await;
        answer.assert_error(&merchant.credentials, 401, "SIGN_ERROR");
    }
}

#[tokio::test]
async fn identity_problems() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let target = list_target(&merchant);
    let good = merchant.auth_parts("GET", &target, "");

    let other_mchid = AuthParts {
        mchid: "1900000000".into(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&other_mchid.header())).await;
    assert!(message.contains("mchid mismatch"), "{message}");
    assert!(message.contains(merchant.mchid()), "{message}");

    let other_serial = AuthParts {
        serial_no: "5F1C72E2A8931B72A2E13AF8DEE92471EB397115".into(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&other_serial.header())).await;
    assert!(message.contains("serial_no mismatch"), "{message}");
    assert!(
        message.contains(&merchant.credentials.merchant_serial),
        "{message}"
    );

    let lower = AuthParts {
        serial_no: good.serial_no.to_lowercase(),
        ..good.clone()
    };
    if lower.serial_no != good.serial_no {
        let message = rejected(&merchant, &target, Some(&lower.header())).await;
        assert!(message.contains("only in letter case"), "{message}");
    }
}

#[tokio::test]
async fn timestamp_problems() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let target = list_target(&merchant);
    let good = merchant.auth_parts("GET", &target, "");

    let not_a_number = AuthParts {
        timestamp: "soon".into(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&not_a_number.header())).await;
    assert!(
        message.contains("timestamp \"soon\" is not a number"),
        "{message}"
    );

    // Signed correctly, but 10 minutes old: the message says how far off.
    let old = (crate::common::now() - 600).to_string();
    let message_text = format!("GET\n{target}\n{old}\n{}\n\n", good.nonce_str);
    let stale = AuthParts {
        signature: sign(
            &merchant.credentials.merchant_private_key_pem,
            message_text.as_bytes(),
        ),
        timestamp: old,
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&stale.header())).await;
    assert!(message.contains("s behind the server time"), "{message}");
    assert!(message.contains("at most 300 s"), "{message}");

    let future = AuthParts {
        timestamp: (crate::common::now() + 3600).to_string(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&future.header())).await;
    assert!(message.contains("s ahead of the server time"), "{message}");

    let millis = AuthParts {
        timestamp: format!("{}000", good.timestamp),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&millis.header())).await;
    assert!(message.contains("milliseconds"), "{message}");
}

#[tokio::test]
async fn signature_problems() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let target = list_target(&merchant);
    let good = merchant.auth_parts("GET", &target, "");

    let empty_nonce = AuthParts {
        nonce_str: String::new(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&empty_nonce.header())).await;
    assert!(message.contains("nonce_str is empty"), "{message}");

    let not_base64 = AuthParts {
        signature: "@@@".into(),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&not_base64.header())).await;
    assert!(message.contains("not valid base64"), "{message}");

    // Signed for another target: the message shows what the server verified.
    let other_target = format!("{target}&status=running");
    let message = rejected(&merchant, &other_target, Some(&good.header())).await;
    assert!(message.contains("does not verify"), "{message}");
    let shown = format!(
        "GET\\n{other_target}\\n{}\\n{}\\n\\n",
        good.timestamp, good.nonce_str
    );
    assert!(
        message.contains(&shown),
        "{message}\nexpected to contain {shown}"
    );

    // Signed with a different key.
    let stranger = crate::common::test_keys().platform_private_key_pem.clone();
    let message_text = format!("GET\n{target}\n{}\n{}\n\n", good.timestamp, good.nonce_str);
    let foreign = AuthParts {
        signature: sign(&stranger, message_text.as_bytes()),
        ..good.clone()
    };
    let message = rejected(&merchant, &target, Some(&foreign.header())).await;
    assert!(message.contains("does not verify"), "{message}");
}

#[tokio::test]
async fn the_body_and_the_target_are_verified_as_sent() {
    let sandbox = sandbox().await;
    let merchant = Merchant::new(&sandbox);
    let stock_id = merchant.create_stock("as-sent").await;
    let target = format!("/v3/marketing/favor/stocks/{stock_id}/start");

    // Signed over one body, sent with another (extra space).
    let signed_body = format!("{{\"stock_creator_mchid\":\"{}\"}}", merchant.mchid());
    let sent_body = format!("{{\"stock_creator_mchid\": \"{}\"}}", merchant.mchid());
    let auth = merchant.auth_parts("POST", &target, &signed_body).header();
    let answer = merchant
        .send_raw(
            "POST",
            &target,
            &sent_body,
            Some(&auth),
            Some("application/json"),
        )
        .await;
    answer.assert_error(&merchant.credentials, 401, "SIGN_ERROR");
    let message = answer.message();
    assert!(
        message.contains(&format!("\\n{sent_body}\\n\"")),
        "{message}"
    );

    // Signed over the decoded path, sent encoded.
    let encoded: String = stock_id.bytes().map(|b| format!("%{b:02X}")).collect();
    let sent_target = format!("/v3/marketing/favor/stocks/{encoded}/start");
    let auth = merchant.auth_parts("POST", &target, &signed_body).header();
    let answer = merchant
        .send_raw(
            "POST",
            &sent_target,
            &signed_body,
            Some(&auth),
            Some("application/json"),
        )
        .await;
    answer.assert_error(&merchant.credentials, 401, "SIGN_ERROR");
    assert!(
        answer
            .message()
            .contains(&format!("POST\\n{sent_target}\\n")),
        "{}",
        answer.message()
    );

    // Signed and sent encoded: accepted.
    let auth = merchant
        .auth_parts("POST", &sent_target, &signed_body)
        .header();
    let answer = merchant
        .send_raw(
            "POST",
            &sent_target,
            &signed_body,
            Some(&auth),
            Some("application/json"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.message());
}
