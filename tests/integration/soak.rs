//! A fault soak against the sandbox: 20,000 calls, 32 in flight, with 10 %
//! injected 500s, 5 % 429s, 1 % SIGNTEST probes, 1 % unsigned answers and
//! one platform-certificate rotation mid-run, the client in certificate
//! mode. Every call must end in a verified success whose content is what
//! was asked, or in one of the typed errors those faults produce; no
//! probe or unsigned answer may be accepted; the client must learn the
//! rotated certificate; and memory must stay flat.
//!
//! The rotation has one more typed error: when the certificate download
//! the new serial triggers meets an injected fault, the client backs off
//! for a second (doubling while downloads keep failing) and answers signed
//! under the new serial are refused as `UnknownSerial` meanwhile. Those
//! refusals must name the rotated serial and nothing else.
//!
//! Run twice: with the client's default retry policy (as a user would
//! configure it against a non-WeChat Pay URL: retries are off there unless
//! asked for) and with retries off. The tally is printed; see it with
//! `cargo test --all-features --test integration soak:: -- --ignored --nocapture`
//! (ignored in the normal run: it takes a while, and far longer on the
//! pure-Rust backend in a debug build).
//! `WXPAY_SOAK_CALLS` changes the number of calls.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use wxpay::{Client, Error, RetryPolicy, VerifyError};
use wxpay_sandbox::{Faults, Sandbox, SandboxConfig};

const IN_FLIGHT: usize = 32;
const DEFAULT_CALLS: usize = 20_000;
const WARM_UP: usize = 1_000;
const MAX_RSS_GROWTH_KIB: u64 = 32 * 1024;

/// 条件查询批次列表: a test-local declaration, so that the soak does not
/// depend on the generated catalogue.
#[wxpay::endpoint(GET, "/v3/marketing/favor/stocks", response = StockPage)]
pub struct ListStocks {
    /// The page's offset: each call asks for its own index.
    pub offset: u32,
    /// The page size.
    pub limit: u32,
    /// The creating merchant.
    pub stock_creator_mchid: String,
}

/// The answer to [`ListStocks`]: only what the soak checks.
#[derive(Debug, Deserialize)]
pub struct StockPage {
    /// The offset asked for.
    pub offset: u32,
    /// The page size asked for.
    pub limit: u32,
}

fn calls() -> usize {
    std::env::var("WXPAY_SOAK_CALLS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(DEFAULT_CALLS)
}

/// This process's resident set, KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What one call ended in. Serials refused as unknown are added to
/// `unknown_serials`, to be checked against the rotated one at the end.
fn outcome(
    result: Result<StockPage, Error>,
    offset: u32,
    limit: u32,
    unknown_serials: &Mutex<BTreeSet<String>>,
) -> Result<&'static str, String> {
    match result {
        Ok(page) if (page.offset, page.limit) == (offset, limit) => Ok("ok: verified, as asked"),
        Ok(page) => Err(format!(
            "accepted an answer to another request: asked offset {offset} limit {limit}, got {page:?}"
        )),
        Err(Error::Verification { source, .. }) => match source {
            VerifyError::Probe => Ok("refused: SIGNTEST probe"),
            VerifyError::MissingHeader { .. } => Ok("refused: unsigned"),
            VerifyError::UnknownSerial { serial, .. } => {
                unknown_serials.lock().unwrap().insert(serial);
                Ok("refused: unknown serial (download backing off)")
            }
            other => Err(format!("unexpected verification error: {other}")),
        },
        Err(Error::Api(api)) => match (api.status.as_u16(), api.code.as_str(), api.authenticated) {
            (500, "SYSTEM_ERROR", true) => Ok("api error: 500 SYSTEM_ERROR"),
            (429, "FREQUENCY_LIMITED", true) => Ok("api error: 429 FREQUENCY_LIMITED"),
            // Signed with a SIGNTEST probe, or under the rotated serial
            // before the client learned it.
            (500, "SYSTEM_ERROR", false) => Ok("api error: 500 SYSTEM_ERROR (not verified)"),
            (429, "FREQUENCY_LIMITED", false) => {
                Ok("api error: 429 FREQUENCY_LIMITED (not verified)")
            }
            _ => Err(format!("unexpected API error: {api:?}")),
        },
        Err(other) => Err(format!("unexpected error: {other:?}")),
    }
}

async fn soak(label: &str, retry: RetryPolicy) {
    let total = calls();
    let sandbox = Sandbox::start_with(SandboxConfig {
        certificate_mode: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let mchid = sandbox.credentials().mchid.clone();
    let client: Client = support::certificate_builder(&sandbox)
        .retry(retry)
        .build()
        .unwrap();
    let list = move |index: usize| ListStocks {
        offset: u32::try_from(index).unwrap(),
        limit: 1 + u32::try_from(index % 10).unwrap(),
        stock_creator_mchid: mchid.clone(),
    };
    // Bootstrap the certificates before the faults start.
    client.send(list(0)).await.expect("bootstrap");
    sandbox.set_faults(Faults {
        share_500: 0.10,
        share_429: 0.05,
        signtest_share: 0.01,
        unsigned_share: 0.01,
        ..Faults::default()
    });

    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(BTreeMap::<&'static str, usize>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let unknown_serials = Arc::new(Mutex::new(BTreeSet::<String>::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, next, done) = (client.clone(), next.clone(), done.clone());
        let (tally, failures) = (tally.clone(), failures.clone());
        let unknown_serials = unknown_serials.clone();
        let list = list.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    break;
                }
                let request = list(index);
                let (offset, limit) = (request.offset, request.limit);
                let result = client.send(request).await;
                match outcome(result, offset, limit, &unknown_serials) {
                    Ok(kind) => *tally.lock().unwrap().entry(kind).or_default() += 1,
                    Err(failure) => failures.lock().unwrap().push(failure),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let wait_for = |count: usize| {
        let done = done.clone();
        async move {
            while done.load(Ordering::Relaxed) < count {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    };
    wait_for(WARM_UP.min(total)).await;
    let rss_warm = rss_kib();
    wait_for(total / 2).await;
    let rotated = sandbox.rotate_platform_certificate().unwrap();
    let rotated_at = done.load(Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker ended without panicking");
    }
    let elapsed = started.elapsed();
    let rss_end = rss_kib();

    let tally = tally.lock().unwrap().clone();
    let failures = failures.lock().unwrap().clone();
    let ended: usize = tally.values().sum::<usize>() + failures.len();
    println!(
        "soak ({label}): {total} calls, {IN_FLIGHT} in flight, {:.1} s, rotation after {rotated_at} calls (new serial {})",
        elapsed.as_secs_f64(),
        rotated.serial
    );
    for (kind, count) in &tally {
        println!("  {kind:<45} {count:>6}");
    }
    println!(
        "  RSS after warm-up {rss_warm} KiB, at the end {rss_end} KiB (growth {} KiB)",
        rss_end.saturating_sub(rss_warm)
    );
    assert!(
        failures.is_empty(),
        "{} calls ended wrongly, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(ended, total, "every call ended, once");
    for kind in [
        "ok: verified, as asked",
        "refused: SIGNTEST probe",
        "refused: unsigned",
        "api error: 500 SYSTEM_ERROR",
        "api error: 429 FREQUENCY_LIMITED",
    ] {
        if total >= 10_000 {
            assert!(
                tally.get(kind).copied().unwrap_or(0) > 0,
                "no `{kind}` at all"
            );
        }
    }
    let unknown_serials = unknown_serials.lock().unwrap().clone();
    assert!(
        unknown_serials
            .iter()
            .all(|serial| *serial == rotated.serial),
        "refused as unknown: {unknown_serials:?}, but only {} was new",
        rotated.serial
    );
    let serials = client.verifier().serials().join(",");
    assert!(
        serials.contains(&rotated.serial),
        "the client learned the rotated certificate: {serials}"
    );
    if rss_kib() > 0 {
        assert!(
            rss_end.saturating_sub(rss_warm) < MAX_RSS_GROWTH_KIB,
            "memory grew by {} KiB",
            rss_end.saturating_sub(rss_warm)
        );
    }
    sandbox.shutdown().await;
}

/// One test, so that the two runs do not share the process (and its RSS)
/// at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "40,000 calls: run by .ci/run with `--tests soak:: -- --ignored`"]
async fn soak_with_the_default_retry_policy_and_without_retries() {
    soak("default retry policy", RetryPolicy::new()).await;
    soak("no retries", RetryPolicy::none()).await;
}
