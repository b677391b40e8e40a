//! `wxpay endpoints [--json] [FILTER]`: the built-in catalogue.

use clap::Args;

use crate::error::Failure;
use crate::output;

/// Arguments of `wxpay endpoints`.
#[derive(Args)]
#[command(
    after_help = "Lists every operation wxpay declares (wxpay::api::CATALOGUE: APIv3, the Hong Kong \
    and global APIv3, APIv2), whichever Cargo features this build has: method, path template, Rust \
    path, and the host where it is not api.mch.weixin.qq.com. FILTER keeps the rows whose method, \
    template, Rust path or host contains it (case-insensitive)."
)]
pub struct EndpointsArgs {
    /// Print a JSON array of {method, template, rust_path, protocol, host, idempotency, idempotency_key} (and client_cert for APIv2) instead of lines
    #[arg(long)]
    json: bool,

    /// Keep only rows containing this text
    filter: Option<String>,
}

/// The catalogue rows containing `filter` (case-insensitive), all without.
fn rows(filter: Option<&str>) -> impl Iterator<Item = &'static wxpay::api::EndpointInfo> {
    let filter = filter.map(str::to_lowercase);
    wxpay::api::CATALOGUE.iter().filter(move |info| {
        filter.as_deref().is_none_or(|f| {
            info.method.as_str().to_lowercase().contains(f)
                || info.template.to_lowercase().contains(f)
                || info.rust_path.to_lowercase().contains(f)
                || info.host.name().contains(f)
        })
    })
}

/// One row as `--json` prints it.
fn json_row(info: &wxpay::api::EndpointInfo) -> serde_json::Value {
    let key = match info.idempotency {
        wxpay::Idempotency::Keyed(key) => Some(key),
        _ => None,
    };
    let mut row = serde_json::json!({
        "method": info.method.as_str(),
        "template": info.template,
        "rust_path": info.rust_path,
        "protocol": info.protocol.as_str(),
        "host": info.host.name(),
        "idempotency": info.idempotency.as_str(),
        "idempotency_key": key,
    });
    if info.protocol == wxpay::api::Protocol::V2 {
        row["client_cert"] = serde_json::Value::Bool(info.client_cert);
    }
    row
}

/// One row as the text listing prints it.
fn text_row(info: &wxpay::api::EndpointInfo) -> String {
    let mut line = format!(
        "{:<6} {}  {}",
        info.method.as_str(),
        info.template,
        if info.rust_path.is_empty() {
            "(listed, not declared)"
        } else {
            info.rust_path
        }
    );
    if info.host != wxpay::Host::Api {
        line.push_str("  @");
        line.push_str(info.host.name());
    }
    line
}

/// Runs `wxpay endpoints`.
pub fn run(args: EndpointsArgs) -> Result<(), Failure> {
    let rows = rows(args.filter.as_deref());
    if args.json {
        let list: Vec<serde_json::Value> = rows.map(json_row).collect();
        let mut text = serde_json::to_vec_pretty(&list).unwrap_or_default();
        text.push(b'\n');
        output::stdout(&text)
    } else {
        for info in rows {
            output::line(&text_row(info))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation of the spec: 993 under `v3/`, 21 under `hk/v3/`, 5
    /// under `global/v3/`, 136 under `v2/`.
    const OPERATIONS: usize = 993 + 21 + 5 + 136;

    #[test]
    fn json_lists_every_operation_with_its_protocol_and_host() {
        let list: Vec<serde_json::Value> = rows(None).map(json_row).collect();
        assert_eq!(list.len(), OPERATIONS);
        let count = |protocol: &str| list.iter().filter(|r| r["protocol"] == protocol).count();
        assert_eq!(count("v3"), 993 + 21 + 5);
        assert_eq!(count("v2"), 136);
        for row in &list {
            assert!(
                row["host"]
                    .as_str()
                    .is_some_and(|h| h.ends_with("weixin.qq.com")),
                "{row}"
            );
            assert_eq!(
                row["protocol"] == "v2",
                row.get("client_cert").is_some(),
                "{row}"
            );
        }
        let micropay = list
            .iter()
            .find(|r| r["template"] == "/pay/micropay")
            .expect("APIv2 micropay");
        assert_eq!(micropay["rust_path"], "wxpay::api::v2::pay::micropay::Post");
        assert_eq!(micropay["host"], "api.mch.weixin.qq.com");
        assert_eq!(micropay["client_cert"], false);
        assert_eq!(micropay["idempotency_key"], "out_trade_no");
        let refund = list
            .iter()
            .find(|r| r["template"] == "/secapi/pay/refund")
            .expect("APIv2 refund");
        assert_eq!(refund["client_cert"], true);
        let hk = list
            .iter()
            .find(|r| r["rust_path"] == "wxpay::api::hk::transactions::jsapi::Post")
            .expect("the Hong Kong JSAPI order");
        assert_eq!(hk["template"], "/v3/transactions/jsapi");
        assert_eq!(hk["host"], "apihk.mch.weixin.qq.com");
        assert_eq!(hk["protocol"], "v3");
    }

    #[test]
    fn text_names_hosts_other_than_the_default() {
        let hk: Vec<String> = rows(Some("apihk")).map(text_row).collect();
        assert_eq!(hk.len(), 21 + 5);
        assert!(
            hk.iter().all(|l| l.ends_with("@apihk.mch.weixin.qq.com")),
            "{hk:?}"
        );
        let plain = rows(Some("/v3/refund/domestic/refunds"))
            .map(text_row)
            .next()
            .unwrap();
        assert!(!plain.contains('@'), "{plain}");
    }
}
