//! `wxpay endpoints [--json] [FILTER]`: the built-in catalogue.

use clap::Args;

use crate::error::Failure;
use crate::output;

/// Arguments of `wxpay endpoints`.
#[derive(Args)]
#[command(
    after_help = "Lists every operation wxpay declares (wxpay::api::CATALOGUE), whichever Cargo \
    features this build has: method, path template, Rust path. FILTER keeps the rows whose method, \
    template or Rust path contains it (case-insensitive)."
)]
pub struct EndpointsArgs {
    /// Print a JSON array of {method, template, rust_path, idempotency, idempotency_key} instead of lines
    #[arg(long)]
    json: bool,

    /// Keep only rows containing this text
    filter: Option<String>,
}

/// Runs `wxpay endpoints`.
pub fn run(args: EndpointsArgs) -> Result<(), Failure> {
    let filter = args.filter.map(|f| f.to_lowercase());
    let rows = wxpay::api::CATALOGUE.iter().filter(|info| {
        filter.as_deref().is_none_or(|f| {
            info.method.as_str().to_lowercase().contains(f)
                || info.template.to_lowercase().contains(f)
                || info.rust_path.to_lowercase().contains(f)
        })
    });
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .map(|info| {
                let key = match info.idempotency {
                    wxpay::Idempotency::Keyed(key) => Some(key),
                    _ => None,
                };
                serde_json::json!({
                    "method": info.method.as_str(),
                    "template": info.template,
                    "rust_path": info.rust_path,
                    "idempotency": info.idempotency.as_str(),
                    "idempotency_key": key,
                })
            })
            .collect();
        let mut text = serde_json::to_vec_pretty(&list).unwrap_or_default();
        text.push(b'\n');
        output::stdout(&text)
    } else {
        for info in rows {
            output::line(&format!(
                "{:<6} {}  {}",
                info.method.as_str(),
                info.template,
                info.rust_path
            ))?;
        }
        Ok(())
    }
}
