//! What the generator writes for the spec's groups besides `v3/`: the
//! Hong Kong site's APIv3 (`hk/v3/…`), the global APIv3 (`global/v3/…`)
//! and APIv2 (`v2/…`): paths, hosts, modules, features and the
//! `#[wxpay::endpoint]` arguments. Needs no feature of wxpay: it reads the
//! generated text, not the compiled types.
//!
//! Says SKIPPED, loudly, when the spec is not there.

use std::path::Path;

use wxpay_codegen::generate::{self, Output};
use wxpay_codegen::spec::{Group, Protocol};

use crate::common;
use common::{say, spec};

/// A written file, each line without its indentation (the generator's
/// text is not formatted yet).
fn file(output: &Output, path: &str) -> String {
    output
        .files
        .iter()
        .find(|(p, _)| p.as_path() == Path::new(path))
        .map(|(_, text)| {
            text.lines()
                .map(|l| format!("{}\n", l.trim_start()))
                .collect()
        })
        .unwrap_or_else(|| panic!("{path} not written"))
}

/// The attribute line and struct of the module `module` (its last
/// segment), `method` (`Post`), in `text`.
fn declaration<'a>(text: &'a str, module: &str, method: &str) -> &'a str {
    let start = text
        .find(&format!("pub mod {module} {{"))
        .unwrap_or_else(|| panic!("no module {module}"));
    let rest = &text[start..];
    let at = rest
        .find(&format!("pub struct {method} {{"))
        .unwrap_or_else(|| panic!("no {method} in {module}"));
    let attr = rest[..at]
        .rfind("#[crate::endpoint(")
        .expect("an attribute");
    let end = rest[at..].find("\n}\n").map_or(rest.len(), |e| at + e);
    &rest[attr..end]
}

#[test]
fn every_group_is_generated() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let ops = spec.all_operations().unwrap();
    assert_eq!(output.rows.len(), ops.len());
    let count = |group: Group| ops.iter().filter(|op| op.group == group).count();
    let (v3, hk, global, v2) = (
        count(Group::V3),
        count(Group::Hk),
        count(Group::Global),
        count(Group::V2),
    );
    assert_eq!(v3, spec.operations().unwrap().len());
    assert!(hk > 0 && global > 0 && v2 > 0);
    say(&format!(
        "groups: {} operations: {v3} v3, {hk} hk, {global} global, {v2} v2",
        ops.len()
    ));

    // Every row but two APIv2 operations names its type: the multipart
    // upload, and the POST with a query parameter.
    let undeclared: Vec<&str> = output
        .rows
        .iter()
        .filter(|r| r.rust_path.is_empty())
        .map(|r| r.template.as_str())
        .collect();
    assert_eq!(
        undeclared,
        ["/secapi/mch/submchmanage", "/secapi/mch/uploadmedia"]
    );
    assert!(
        output
            .rows
            .iter()
            .all(|r| r.rust_path.is_empty() == r.note.is_some())
    );

    // Hong Kong: sent as /v3/…, on the Hong Kong host, module hk::….
    let hk_text = file(&output, "api/cross-border/src/api/hk.rs");
    let jsapi = declaration(&hk_text, "jsapi", "Post");
    assert!(
        jsapi.starts_with(
            "#[crate::endpoint(POST, \"/v3/transactions/jsapi\", host = HongKong, response = PostResponse)]"
        ),
        "{jsapi}"
    );
    let row = output
        .rows
        .iter()
        .find(|r| r.spec_path == "/hk/v3/transactions/jsapi")
        .unwrap();
    assert_eq!(row.rust_path, "wxpay::api::hk::transactions::jsapi::Post");
    assert_eq!(row.feature, "hk");
    assert_eq!(row.host, "apihk.mch.weixin.qq.com");
    assert_eq!(row.protocol, Protocol::V3);

    // Global: sent as is, on the Hong Kong host, module global::….
    let global_text = file(&output, "api/cross-border/src/api/global.rs");
    for method in ["Post", "Get", "Patch"] {
        let decl = declaration(&global_text, "orders", method);
        assert!(
            decl.contains("\"/global/v3/customs/orders\", host = HongKong"),
            "{decl}"
        );
    }
    let row = output
        .rows
        .iter()
        .find(|r| r.spec_path == "/global/v3/customs/orders" && r.method == "PATCH")
        .unwrap();
    assert_eq!(row.rust_path, "wxpay::api::global::customs::orders::Patch");
    assert_eq!(row.feature, "global");

    // APIv2.
    let pay = file(&output, "api/v2/src/api/v2/pay.rs");
    let micropay = declaration(&pay, "micropay", "Post");
    assert!(
        micropay.starts_with(
            "#[crate::endpoint(POST, \"/pay/micropay\", v2, sign = either, merchant = \"mch_id\", response = PostResponse)]"
        ),
        "{micropay}"
    );
    for protocol_member in [
        "pub mch_id:",
        "pub nonce_str:",
        "pub sign:",
        "pub sign_type:",
    ] {
        assert!(!micropay.contains(protocol_member), "{micropay}");
    }
    assert!(micropay.contains("#[wxpay(idempotency_key)]\npub out_trade_no: String,"));
    let row = output
        .rows
        .iter()
        .find(|r| r.spec_path == "/v2/pay/micropay")
        .unwrap();
    assert_eq!(row.template, "/pay/micropay");
    assert_eq!(row.rust_path, "wxpay::api::v2::pay::micropay::Post");
    assert_eq!(row.feature, "v2-pay");
    assert_eq!(row.protocol, Protocol::V2);
    assert!(!row.client_cert);

    // Transfers: the merchant number is `mchid`, a client certificate.
    let mkt = file(&output, "api/v2/src/api/v2/mmpaymkttransfers.rs");
    let transfers = declaration(&mkt, "transfers", "Post");
    assert!(
        transfers.starts_with(
            "#[crate::endpoint(POST, \"/mmpaymkttransfers/promotion/transfers\", v2, sign = md5, client_cert, merchant = \"mchid\", unsigned_answer, response = PostResponse)]"
        ),
        "{transfers}"
    );
    assert!(transfers.contains("#[wxpay(idempotency_key)]\npub partner_trade_no: String,"));

    // Another host, an unsigned answer.
    let risk = file(&output, "api/v2/src/api/v2/risk.rs");
    let key = declaration(&risk, "getpublickey", "Post");
    assert!(
        key.starts_with(
            "#[crate::endpoint(POST, \"/risk/getpublickey\", v2, sign = either, client_cert, merchant = \"mch_id\", unsigned_answer, host = Fraud, response = PostResponse, idempotent)]"
        ),
        "{key}"
    );

    // Refunds need the certificate; answers drop the protocol members.
    let secapi = file(&output, "api/v2/src/api/v2/secapi.rs");
    let refund = declaration(&secapi, "refund", "Post");
    assert!(
        refund.contains(", client_cert, merchant = \"mch_id\", response = PostResponse)]"),
        "{refund}"
    );
    let answer_start = secapi.find("pub struct PostResponse").unwrap();
    let answer =
        &secapi[answer_start..answer_start + secapi[answer_start..].find("\n}\n").unwrap()];
    for member in [
        "return_code",
        "result_code",
        "err_code",
        "pub sign:",
        "nonce_str",
    ] {
        assert!(!answer.contains(member), "{answer}");
    }

    // Features: one per area, each turning on its crate and the area in
    // it, the umbrellas, none of these groups among the default areas.
    for line in [
        r#"hk = ["dep:wxpay-api-cross-border", "wxpay-api-cross-border/hk"]"#,
        r#"v2-pay = ["dep:wxpay-api-v2", "wxpay-api-v2/v2-pay"]"#,
        r#"v2-secapi = ["dep:wxpay-api-v2", "wxpay-api-v2/v2-secapi"]"#,
        r#"v2-mmpaymkttransfers = ["dep:wxpay-api-v2", "wxpay-api-v2/v2-mmpaymkttransfers"]"#,
    ] {
        assert!(
            output.features.lines().any(|l| l == line),
            "no `{line}` in\n{}",
            output.features
        );
    }
    let umbrella = output
        .features
        .lines()
        .find(|l| l.starts_with("v2 = ["))
        .expect("the v2 umbrella");
    assert!(umbrella.contains("\"v2-pay\"") && umbrella.contains("\"v2-cgi-bin\""));
    let full = output
        .features
        .lines()
        .find(|l| l.starts_with("full = ["))
        .expect("full");
    for feature in ["\"hk\"", "\"global\"", "\"v2\""] {
        assert!(full.contains(feature), "{full}");
    }
    let defaults = output
        .features
        .lines()
        .find(|l| l.starts_with("default-areas = ["))
        .expect("the default areas");
    for group in ["\"hk\"", "\"global\"", "\"v2", "\"marketing\""] {
        assert!(!defaults.contains(group), "{defaults}");
    }
    assert!(defaults.contains("\"marketing-favor\""), "{defaults}");
    say(&output.summary.join("\n"));
}

#[test]
fn operations_are_found_by_their_chinese_names() {
    let Some(spec) = spec() else { return };
    let output = generate::generate(&spec).expect("generates");
    let marketing = file(&output, "api/marketing/src/api/v3/marketing.rs");
    let attribute = marketing
        .find("#[crate::endpoint(POST, \"/v3/marketing/favor/stocks/<stock_id>/start\"")
        .expect("the start operation");
    let before = &marketing[..attribute];
    let docs = &before[before.rfind("pub mod ").expect("its module")..];
    assert!(
        docs.contains("#[doc(alias = \"激活代金券批次API\")]"),
        "{docs}"
    );
    assert!(
        docs.contains("#[doc(alias = \"激活代金券批次\")]"),
        "{docs}"
    );
}
