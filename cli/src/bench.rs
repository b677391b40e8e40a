//! `wxpay bench METHOD TARGET…`: a load generator that signs every request
//! and verifies every answer, like `wrk` for WeChat Pay APIv3.
//!
//! N requests are sent by C tasks sharing one client (one connection pool);
//! each task takes the next request number until N are done, and the
//! targets are used in turn (request `i` goes to target `i mod len`).
//! Warm-up requests go first and are not counted. Reported: requests per
//! second, latency percentiles, the process's CPU time (user + system, all
//! threads, read from `/proc/self/stat`) per request, its peak RSS
//! (`VmHWM`), and errors by kind.
//!
//! With no base URL set (flag, variable or profile), an embedded sandbox is
//! started in this process and its credentials used: convenient, but its
//! work then shares the process, so CPU and memory figures include the
//! server's; the output says so (`"server": "embedded"`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use wxpay::{CallOptions, Client, CryptoBackend, Method, PreparedRequest};
use wxpay_sandbox::Sandbox;

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::request::{RetryArgs, send};
use crate::settings::{self, ApiV3Args, MerchantArgs, ServerArgs, Verification, WechatpayKeyArgs};

/// Arguments of `wxpay bench`.
#[derive(Args)]
#[command(
    after_help = "Without a base URL (--base-url, WXPAY_BASE_URL or a profile's base_url) an embedded \
    sandbox is started in this process and its credentials are used: the CPU and memory figures then \
    include the sandbox's own work (the output says \"embedded\"). For client-only CPU figures, run \
    `wxpay sandbox --state DIR` in another process and load DIR/sandbox.env.\n\n\
    `{mchid}` in a TARGET is replaced by the merchant id. Several TARGETs are used in turn. \
    Every answer's signature is verified; failures are counted by kind, not fatal. \
    CPU time is the whole process's (user + system, all threads) over the measured requests, \
    warm-up excluded; peak RSS is the process's high-water mark."
)]
pub struct BenchArgs {
    /// GET, POST, PUT, PATCH or DELETE (any case)
    #[arg(value_parser = settings::parse_method)]
    method: Method,

    /// Paths and queries, exactly as signed and sent; used in turn
    #[arg(required = true, num_args = 1..)]
    targets: Vec<String>,

    /// The JSON body of every request (inline, or @FILE)
    #[arg(long, short = 'd', value_name = "JSON|@FILE")]
    data: Option<String>,

    /// How many requests to measure
    #[arg(long, short = 'n', default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    requests: u64,

    /// How many requests are in flight at once
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: u64,

    /// Requests sent first and not measured (connections, caches)
    #[arg(long, default_value_t = 20)]
    warmup: u64,

    /// The crypto backend: aws-lc (default) or rust-crypto
    #[arg(long, value_name = "NAME", value_parser = parse_backend)]
    backend: Option<CryptoBackend>,

    /// Sign requests on tokio's blocking pool instead of the async workers
    #[arg(long, conflicts_with = "presign")]
    sign_off_workers: bool,

    /// Sign every measured request before the clock starts (each with its
    /// own nonce, each sent once), so that the run measures the server:
    /// the client's CPU then goes to HTTP and verifying answers only. The
    /// run must end within WeChat Pay's five-minute timestamp window.
    #[arg(long)]
    presign: bool,

    /// Print one JSON object instead of text
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    retry: RetryArgs,

    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    merchant: MerchantArgs,

    #[command(flatten)]
    keys: WechatpayKeyArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// Parses a backend name as the cargo features spell it (or as
/// [`CryptoBackend::name`] does).
fn parse_backend(text: &str) -> Result<CryptoBackend, String> {
    let wanted = text.to_ascii_lowercase().replace(['-', '_'], "");
    let aliases = |backend: CryptoBackend| -> Vec<String> {
        let name = backend.name().to_ascii_lowercase().replace('-', "");
        let short = name.trim_end_matches("rs").to_owned();
        vec![name, short]
    };
    CryptoBackend::available()
        .iter()
        .copied()
        .find(|backend| aliases(*backend).contains(&wanted))
        .ok_or_else(|| {
            let names: Vec<&str> = CryptoBackend::available()
                .iter()
                .map(|b| b.name())
                .collect();
            format!(
                "`{text}` is not a compiled-in backend; choose one of {}",
                names.join(", ")
            )
        })
}

/// What one request came to.
type Outcome = Result<(), String>;

/// The process's CPU time (user, system) so far, from `/proc/self/stat`.
fn cpu_times() -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesized command name; utime and stime are the
    // 14th and 15th fields overall, in clock ticks (USER_HZ, 100 on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    let time = |ticks: u64| Duration::from_millis(ticks.saturating_mul(10));
    Some((time(ticks(11)?), time(ticks(12)?)))
}

/// The process's peak resident set size in KiB (`VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The kind of a failed request, as counted in the report.
fn kind_of(error: &wxpay::Error) -> String {
    match error {
        wxpay::Error::Api(api) => format!("api {} {}", api.status.as_u16(), api.code),
        wxpay::Error::Verification { .. } => "verification".to_owned(),
        wxpay::Error::Transport { .. } => "transport".to_owned(),
        wxpay::Error::Timeout { .. } => "timeout".to_owned(),
        wxpay::Error::Build { .. } => "build".to_owned(),
        wxpay::Error::Sign { .. } => "sign".to_owned(),
        wxpay::Error::Certificates(_) => "certificates".to_owned(),
        _ => "other".to_owned(),
    }
}

/// One request: sign (here or on the blocking pool), send, verify.
async fn one(
    client: &Client,
    method: Method,
    target: &str,
    body: Option<Bytes>,
    off_workers: bool,
    options: Option<&CallOptions>,
) -> Outcome {
    let request = if off_workers {
        let (client, target) = (client.clone(), target.to_owned());
        tokio::task::spawn_blocking(move || client.prepare_raw(method, &target, body))
            .await
            .map_err(|_| "sign".to_owned())?
    } else {
        client.prepare_raw(method, target, body)
    };
    let request = request.map_err(|error| kind_of(&error))?;
    send(client, &request, options)
        .await
        .map(|_| ())
        .map_err(|error| kind_of(&error))
}

/// The shared plan of a run.
struct Plan {
    client: Client,
    method: Method,
    targets: Vec<String>,
    body: Option<Bytes>,
    off_workers: bool,
    /// `--retries`: each request's call options, `None` to send once.
    options: Option<CallOptions>,
}

/// The longest a pre-signed run may take, signing included: the server
/// refuses a timestamp more than five minutes old.
const PRESIGNED_LIFETIME: Duration = Duration::from_secs(4 * 60);

/// Signs `count` requests of `plan` (the targets in turn) on every CPU.
async fn presign(plan: &Arc<Plan>, count: u64) -> Result<Vec<PreparedRequest>, Failure> {
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = count.div_ceil(workers).max(1);
    let mut tasks = Vec::new();
    for start in (0..count).step_by(chunk) {
        let plan = Arc::clone(plan);
        let end = (start + chunk).min(count);
        tasks.push(tokio::task::spawn_blocking(move || {
            (start..end)
                .map(|index| {
                    let target = &plan.targets[index % plan.targets.len()];
                    plan.client
                        .prepare_raw(plan.method, target, plan.body.clone())
                })
                .collect::<Result<Vec<_>, _>>()
        }));
    }
    let mut prepared = Vec::with_capacity(count);
    for task in tasks {
        let signed = task
            .await
            .map_err(|error| Failure::Other(format!("a signing task failed: {error}")))??;
        prepared.extend(signed);
    }
    Ok(prepared)
}

/// Sends `count` requests with `concurrency` tasks; returns each measured
/// latency and the failures by kind.
///
/// With `presigned`, request `i` is `presigned[i]`, sent as it is.
async fn drive(
    plan: &Arc<Plan>,
    count: u64,
    concurrency: u64,
    presigned: Option<Arc<Vec<PreparedRequest>>>,
) -> Result<(Vec<Duration>, BTreeMap<String, u64>), Failure> {
    let next = Arc::new(AtomicUsize::new(0));
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(count as u64) {
        let (plan, next) = (Arc::clone(plan), Arc::clone(&next));
        let presigned = presigned.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let target = &plan.targets[index % plan.targets.len()];
                let started = Instant::now();
                let outcome = match presigned.as_deref().and_then(|all| all.get(index)) {
                    Some(request) => send(&plan.client, request, plan.options.as_ref())
                        .await
                        .map(drop)
                        .map_err(|error| kind_of(&error)),
                    None => {
                        one(
                            &plan.client,
                            plan.method,
                            target,
                            plan.body.clone(),
                            plan.off_workers,
                            plan.options.as_ref(),
                        )
                        .await
                    }
                };
                latencies.push(started.elapsed());
                if let Err(kind) = outcome {
                    *errors.entry(kind).or_default() += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(count);
    let mut errors = BTreeMap::new();
    for task in tasks {
        let (mine, failed) = task
            .await
            .map_err(|error| Failure::Other(format!("a bench task failed: {error}")))?;
        latencies.extend(mine);
        for (kind, n) in failed {
            *errors.entry(kind).or_default() += n;
        }
    }
    Ok((latencies, errors))
}

/// The `p`-th percentile (nearest rank) of sorted `values`, in ms.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1e3
}

/// Runs `wxpay bench`.
pub async fn run(mut args: BenchArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    for target in &args.targets {
        settings::check_target("TARGET", target)?;
    }
    let body = match &args.data {
        Some(_) if !args.method.has_body() => {
            return Err(Failure::usage(format!(
                "{} requests carry no body: drop --data",
                args.method
            )));
        }
        Some(data) => Some(crate::request::read_data(data)?),
        None => None,
    };
    let options = args.retry.options(args.method, body.as_ref())?;
    let profile = profile.selected()?;
    args.server.fill(profile.as_ref());
    let backend = args.backend.unwrap_or_default();

    // No base URL anywhere: an embedded sandbox, with its credentials.
    let (client, sandbox) = if args.server.base_url.is_none() {
        let sandbox = Sandbox::start()
            .await
            .map_err(|error| Failure::Other(format!("the sandbox could not start: {error}")))?;
        let credentials = sandbox.credentials();
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .timeout(args.server.timeout())
            .mchid(&credentials.mchid)
            .merchant_key_pem(
                &credentials.merchant_serial,
                &credentials.merchant_private_key_pem,
            )
            .wechatpay_public_key_pem(
                &credentials.public_key_id,
                &credentials.platform_public_key_pem,
            )
            .crypto_backend(backend)
            .build()?;
        (client, Some(sandbox))
    } else {
        args.merchant.fill(profile.as_ref());
        args.keys.fill(profile.as_ref());
        args.apiv3.resolve(profile.as_ref())?;
        let client = settings::client_with_backend(
            &args.server,
            &args.merchant,
            Verification::Configured(&args.keys, &args.apiv3),
            Some(backend),
        )?;
        (client, None)
    };
    let embedded = sandbox.is_some();
    let targets: Vec<String> = args
        .targets
        .iter()
        .map(|target| target.replace("{mchid}", client.mchid()))
        .collect();
    let plan = Arc::new(Plan {
        client: client.clone(),
        method: args.method,
        targets,
        body,
        off_workers: args.sign_off_workers,
        options,
    });

    if args.warmup > 0 {
        drive(&plan, args.warmup, args.concurrency, None).await?;
    }
    let signing = Instant::now();
    let presigned = if args.presign {
        Some(Arc::new(presign(&plan, args.requests).await?))
    } else {
        None
    };
    let cpu_before = cpu_times();
    let started = Instant::now();
    let (mut latencies, errors) =
        drive(&plan, args.requests, args.concurrency, presigned.clone()).await?;
    let elapsed = started.elapsed();
    if presigned.is_some() && signing.elapsed() > PRESIGNED_LIFETIME {
        output::note(&format!(
            "the pre-signed run took {:.0} s from the first signature: the last requests may be \
             refused as stale (WeChat Pay allows five minutes); send fewer (-n)",
            signing.elapsed().as_secs_f64()
        ));
    }
    let cpu_after = cpu_times();
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }

    latencies.sort_unstable();
    let failed: u64 = errors.values().sum();
    let report = Report {
        requests: args.requests,
        ok: args.requests - failed,
        errors,
        concurrency: args.concurrency,
        elapsed,
        latencies,
        cpu: cpu_before
            .zip(cpu_after)
            .map(|((u0, s0), (u1, s1))| (u1.saturating_sub(u0), s1.saturating_sub(s0))),
        peak_rss_kib: peak_rss_kib(),
        embedded,
        backend,
        base_url: client.base_url().to_owned(),
        sign_off_workers: args.sign_off_workers,
        presigned: args.presign,
    };
    if args.json {
        output::line(&report.json())
    } else {
        output::line(report.text().trim_end())
    }
}

/// The figures of one run.
struct Report {
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    concurrency: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: Option<(Duration, Duration)>,
    peak_rss_kib: Option<u64>,
    embedded: bool,
    backend: CryptoBackend,
    base_url: String,
    sign_off_workers: bool,
    presigned: bool,
}

impl Report {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn cpu_ms_per_request(&self) -> Option<f64> {
        self.cpu
            .map(|(user, sys)| (user + sys).as_secs_f64() * 1e3 / self.requests as f64)
    }

    fn server(&self) -> &'static str {
        if self.embedded {
            "embedded"
        } else {
            "external"
        }
    }

    fn json(&self) -> String {
        let ms = |p| percentile(&self.latencies, p);
        let mean = if self.latencies.is_empty() {
            0.0
        } else {
            self.latencies.iter().sum::<Duration>().as_secs_f64() * 1e3
                / self.latencies.len() as f64
        };
        serde_json::json!({
            "client": "wxpay",
            "backend": self.backend.name(),
            "base_url": self.base_url,
            "server": self.server(),
            "cpu_includes_server": self.embedded,
            "sign_off_workers": self.sign_off_workers,
            "presigned": self.presigned,
            "requests": self.requests,
            "concurrency": self.concurrency,
            "ok": self.ok,
            "errors": self.errors,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "requests_per_s": self.per_second(),
            "latency_ms": {
                "p50": ms(50.0),
                "p90": ms(90.0),
                "p99": ms(99.0),
                "max": ms(100.0),
                "mean": mean,
            },
            "cpu_user_s": self.cpu.map(|(user, _)| user.as_secs_f64()),
            "cpu_sys_s": self.cpu.map(|(_, sys)| sys.as_secs_f64()),
            "cpu_ms_per_request": self.cpu_ms_per_request(),
            "peak_rss_kib": self.peak_rss_kib,
        })
        .to_string()
    }

    fn text(&self) -> String {
        let ms = |p| percentile(&self.latencies, p);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "wxpay bench: {} requests, {} in flight, against {} ({}), backend {}{}",
            self.requests,
            self.concurrency,
            self.base_url,
            if self.embedded {
                "embedded sandbox, in this process"
            } else {
                "external server"
            },
            self.backend.name(),
            if self.sign_off_workers {
                ", signing on the blocking pool"
            } else if self.presigned {
                ", every request signed before the clock started"
            } else {
                ""
            },
        );
        let _ = writeln!(
            out,
            "  throughput   {:.1} requests/s over {:.3} s",
            self.per_second(),
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "  latency      p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(50.0),
            ms(90.0),
            ms(99.0),
            ms(100.0)
        );
        match (self.cpu, self.cpu_ms_per_request()) {
            (Some((user, sys)), Some(per)) => {
                let _ = writeln!(
                    out,
                    "  CPU          {per:.3} ms/request (user {:.2} s + sys {:.2} s){}",
                    user.as_secs_f64(),
                    sys.as_secs_f64(),
                    if self.embedded {
                        "; includes the embedded sandbox's work: use an external sandbox for client-only CPU"
                    } else {
                        "; client only"
                    }
                );
            }
            _ => {
                let _ = writeln!(out, "  CPU          unavailable (no /proc/self/stat)");
            }
        }
        if let Some(kib) = self.peak_rss_kib {
            let _ = writeln!(
                out,
                "  peak RSS     {:.1} MiB{}",
                kib as f64 / 1024.0,
                if self.embedded {
                    " (sandbox included)"
                } else {
                    ""
                }
            );
        }
        let _ = writeln!(out, "  ok {}, errors {}", self.ok, self.requests - self.ok);
        for (kind, count) in &self.errors {
            let _ = writeln!(out, "    {kind}: {count}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((percentile(&values, 50.0) - 50.0).abs() < 1e-9);
        assert!((percentile(&values, 99.0) - 99.0).abs() < 1e-9);
        assert!((percentile(&values, 100.0) - 100.0).abs() < 1e-9);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn backends_parse_by_feature_or_library_name() {
        for backend in CryptoBackend::available() {
            assert_eq!(parse_backend(backend.name()), Ok(*backend));
        }
        assert_eq!(parse_backend("aws-lc"), Ok(CryptoBackend::AwsLc));
        assert_eq!(parse_backend("rust-crypto"), Ok(CryptoBackend::RustCrypto));
        assert!(parse_backend("openssl").is_err());
    }

    #[test]
    fn cpu_and_memory_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(cpu_times().is_some());
            assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
        }
    }
}
