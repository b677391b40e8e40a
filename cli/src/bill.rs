//! `wxpay bill --date YYYY-MM-DD --out FILE`: apply for a day's trade (or
//! fund flow) bill, download it, decompress it, check its SHA-1, and only
//! then put it at FILE (or on stdout).

use std::io::{BufRead, BufReader, ErrorKind, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wxpay::api::bill::{
    ApplyFundFlowBill, ApplyTradeBill, BillAccountType, BillInfo, BillTarType, BillType,
};
use wxpay::bill::{DownloadError, DownloadProgress};
use wxpay::{Client, Error};

use crate::config::ProfileArgs;
use crate::error::Failure;
use crate::output;
use crate::settings::{self, ApiV3Args, MerchantArgs, ServerArgs, Verification, WechatpayKeyArgs};

/// Arguments of `wxpay bill`.
#[derive(Args)]
#[command(
    after_help = "Applies for the bill (GET /v3/bill/tradebill, or /v3/bill/fundflowbill with --fund-flow), \
    downloads it (a progress bar on stderr when it is a terminal), decompresses it, and checks its SHA-1 \
    against the one WeChat Pay announced before writing a byte to FILE: it is written next to FILE under a \
    temporary name and renamed into place only then. A bill that does not match its hash is discarded \
    (exit 4) and FILE is left as it was. A one-line summary (rows, bytes, hash) goes to stderr."
)]
pub struct BillArgs {
    /// The bill's day, YYYY-MM-DD (China time; bills are ready from 10:00 the next day, kept three months)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    date: String,

    /// Which orders the trade bill lists [default: ALL]
    #[arg(long = "type", value_name = "TYPE", value_enum, ignore_case = true)]
    bill_type: Option<TradeBillType>,

    /// Download the bill compressed (it is decompressed before the hash check and written uncompressed)
    #[arg(long, value_name = "TYPE", value_enum, ignore_case = true)]
    tar_type: Option<TarType>,

    /// The fund flow bill (资金账单) instead of the trade bill
    #[arg(long, conflicts_with = "bill_type")]
    fund_flow: bool,

    /// The fund flow bill's account [default: BASIC]
    #[arg(
        long,
        value_name = "ACCOUNT",
        value_enum,
        ignore_case = true,
        requires = "fund_flow"
    )]
    account_type: Option<AccountType>,

    /// A sub-merchant's bill (service providers and e-commerce platforms)
    #[arg(long, value_name = "DIGITS")]
    sub_mchid: Option<String>,

    /// Where the bill goes; `-` for stdout (written only once its hash checked out)
    #[arg(long, short = 'o', value_name = "FILE")]
    out: PathBuf,

    #[command(flatten)]
    server: ServerArgs,

    #[command(flatten)]
    merchant: MerchantArgs,

    #[command(flatten)]
    keys: WechatpayKeyArgs,

    #[command(flatten)]
    apiv3: ApiV3Args,
}

/// `--type`: the trade bill types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TradeBillType {
    /// Payments and refunds of the day
    #[value(name = "ALL")]
    All,
    /// Successful payments of the day
    #[value(name = "SUCCESS")]
    Success,
    /// Refunds of the day
    #[value(name = "REFUND")]
    Refund,
}

impl From<TradeBillType> for BillType {
    fn from(value: TradeBillType) -> Self {
        match value {
            TradeBillType::All => BillType::All,
            TradeBillType::Success => BillType::Success,
            TradeBillType::Refund => BillType::Refund,
        }
    }
}

/// `--tar-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TarType {
    /// gzip
    #[value(name = "GZIP")]
    Gzip,
}

/// `--account-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum AccountType {
    /// The basic account (基本账户)
    #[value(name = "BASIC")]
    Basic,
    /// The operation account (运营账户)
    #[value(name = "OPERATION")]
    Operation,
    /// The fees account (手续费账户)
    #[value(name = "FEES")]
    Fees,
}

impl From<AccountType> for BillAccountType {
    fn from(value: AccountType) -> Self {
        match value {
            AccountType::Basic => BillAccountType::Basic,
            AccountType::Operation => BillAccountType::Operation,
            AccountType::Fees => BillAccountType::Fees,
        }
    }
}

/// Checks `text` is a calendar date written `YYYY-MM-DD`.
fn parse_date(text: &str) -> Result<String, String> {
    let bad =
        |why: &str| format!("`{text}` is not a date written YYYY-MM-DD ({why}), e.g. 2024-06-11");
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, b)| match index {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(bad("four digits, dash, two digits, dash, two digits"));
    }
    let number =
        |range: std::ops::Range<usize>| text.get(range).and_then(|n| n.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return Err(bad("not digits"));
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad("the month must be 01 to 12")),
    };
    if day == 0 || day > days {
        return Err(bad(&format!("that month has days 01 to {days}")));
    }
    Ok(text.to_owned())
}

/// What the bill is, for the summary line.
fn describe(args: &BillArgs) -> String {
    let gzip = if args.tar_type.is_some() {
        ", gzip"
    } else {
        ""
    };
    if args.fund_flow {
        let account = args.account_type.map_or_else(
            || "BASIC".to_owned(),
            |account| BillAccountType::from(account).to_string(),
        );
        format!("fund flow bill {} ({account}{gzip})", args.date)
    } else {
        let kind = args
            .bill_type
            .map_or_else(|| "ALL".to_owned(), |kind| BillType::from(kind).to_string());
        format!("trade bill {} ({kind}{gzip})", args.date)
    }
}

/// Checks before any request that the bill can be put at `out`: its
/// folder exists, it is not a folder itself, and not a symbolic link (the
/// bill is renamed into place, which would replace the link, never write
/// through it; refusing it says so before anything is downloaded).
fn check_out(out: &Path) -> Result<(), Failure> {
    if out.as_os_str() == "-" {
        return Ok(());
    }
    crate::files::refuse_symlink("--out", out)?;
    if out.is_dir() {
        return Err(Failure::usage(format!(
            "--out `{}` is a folder; give a file name in it, like {}",
            out.display(),
            out.join("bill.csv").display()
        )));
    }
    let folder = match out.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Failure::usage(format!(
            "--out `{}`: the folder `{}` does not exist",
            out.display(),
            folder.display()
        )));
    }
    Ok(())
}

/// Runs `wxpay bill`.
pub async fn run(mut args: BillArgs, profile: &ProfileArgs) -> Result<(), Failure> {
    check_out(&args.out)?;
    let profile = profile.selected()?;
    args.server.fill(profile.as_ref());
    args.merchant.fill(profile.as_ref());
    args.keys.fill(profile.as_ref());
    args.apiv3.resolve(profile.as_ref())?;
    let client = settings::client(
        &args.server,
        &args.merchant,
        Verification::Configured(&args.keys, &args.apiv3),
    )?;
    let tar_type = args.tar_type.map(|TarType::Gzip| BillTarType::Gzip);
    let info: BillInfo = if args.fund_flow {
        client
            .send(ApplyFundFlowBill {
                bill_date: args.date.clone(),
                sub_mchid: args.sub_mchid.clone(),
                account_type: args.account_type.map(BillAccountType::from),
                tar_type,
            })
            .await?
    } else {
        client
            .send(ApplyTradeBill {
                bill_date: args.date.clone(),
                sub_mchid: args.sub_mchid.clone(),
                bill_type: args.bill_type.map(BillType::from),
                tar_type,
            })
            .await?
    };

    let (bytes, rows, shown) = if args.out.as_os_str() == "-" {
        // Downloaded to a private temporary folder, checked there, and
        // only then copied to stdout.
        let folder = tempfile::Builder::new()
            .prefix("wxpay-bill-")
            .tempdir()
            .map_err(|error| Failure::Other(format!("cannot make a temporary folder: {error}")))?;
        let path = folder.path().join("bill.csv");
        let bytes = download(&client, &info, &path, "stdout").await?;
        let rows = copy_counting(&path, Some(&mut std::io::stdout().lock()))?;
        (bytes, rows, "stdout".to_owned())
    } else {
        let shown = format!("`{}`", args.out.display());
        let bytes = download(&client, &info, &args.out, &shown).await?;
        let rows = copy_counting(&args.out, None)?;
        (bytes, rows, shown)
    };
    output::note(&format!(
        "{}: {rows} rows, {bytes} bytes, SHA-1 {} verified, written to {shown}",
        describe(&args),
        info.hash_value.trim().to_ascii_lowercase()
    ));
    Ok(())
}

/// Downloads the bill to `path` with a progress display, mapping a bill
/// that fails its checks to a message saying nothing was written to
/// `destination`.
async fn download(
    client: &Client,
    info: &BillInfo,
    path: &Path,
    destination: &str,
) -> Result<u64, Failure> {
    let bar = Bar::new(std::io::stderr().is_terminal());
    let downloading =
        client.download_bill_to_file_with_progress(info, path, |seen: DownloadProgress| {
            bar.update(seen.received, seen.total);
        });
    // Ctrl-C drops the download, which removes its temporary file, instead
    // of killing the process with the file half written.
    let result = tokio::select! {
        result = downloading => Some(result),
        _ = tokio::signal::ctrl_c() => None,
    };
    bar.finish();
    match result {
        Some(result) => result.map_err(|error| rejected(error, destination)),
        None => Err(Failure::Other(format!(
            "interrupted: the partial download was removed and nothing was written to {destination}"
        ))),
    }
}

/// A download failure as a [`Failure`]; a bill that did not match its hash
/// (or was not valid gzip) says nothing was written and what to do.
fn rejected(error: Error, destination: &str) -> Failure {
    let request_id = error
        .request_id()
        .map(|id| format!("\n  Request-ID: {id}"))
        .unwrap_or_default();
    match error {
        Error::Download {
            source:
                DownloadError::DigestMismatch {
                    hash_type,
                    expected,
                    actual,
                },
            ..
        } => Failure::Rejected(format!(
            "the bill did not match its hash: its {hash_type} is {actual} but WeChat Pay announced {expected}; \
             it was damaged or replaced on the way and was discarded: nothing was written to {destination}\n  \
             what to do: run the same command again (it applies for a new download URL); if it keeps \
             failing, look for a proxy rewriting downloads, or ask WeChat Pay support with the Request-ID{request_id}"
        )),
        Error::Download {
            source: DownloadError::HashMismatch { expected, actual },
            ..
        } => Failure::Rejected(format!(
            "the bill did not match its hash: its SHA-1 is {actual} but WeChat Pay announced {expected}; \
             it was damaged or replaced on the way and was discarded: nothing was written to {destination}\n  \
             what to do: run the same command again (it applies for a new download URL); if it keeps \
             failing, look for a proxy rewriting downloads, or ask WeChat Pay support with the Request-ID{request_id}"
        )),
        Error::Download {
            source: DownloadError::Decompress(source),
            ..
        } => Failure::Rejected(format!(
            "the bill download is not valid gzip ({source}); it was discarded: nothing was written to {destination}\n  \
             what to do: run the same command again, or without --tar-type{request_id}"
        )),
        other => Failure::from(other),
    }
}

/// The progress display: a byte count on stderr while it is a terminal,
/// nothing at all otherwise.
struct Bar {
    bar: ProgressBar,
    styled: std::sync::atomic::AtomicBool,
}

impl Bar {
    /// A bar drawn on stderr when `terminal`, else a hidden one.
    fn new(terminal: bool) -> Self {
        let bar = if terminal {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        Bar {
            bar,
            styled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Shows `received` bytes: a bar against `total` (`Content-Length`)
    /// when the server gave one, a spinner with the count otherwise.
    fn update(&self, received: u64, total: Option<u64>) {
        if !self.styled.swap(true, std::sync::atomic::Ordering::Relaxed) {
            let (template, length) = match total {
                Some(total) => (
                    "{spinner} downloading the bill [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})",
                    Some(total),
                ),
                None => (
                    "{spinner} downloading the bill: {bytes} ({bytes_per_sec})",
                    None,
                ),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                self.bar.set_style(style.progress_chars("=> "));
            }
            if let Some(total) = length {
                self.bar.set_length(total);
            }
            if !self.bar.is_hidden() {
                self.bar.enable_steady_tick(Duration::from_millis(120));
            }
        }
        self.bar.set_position(received);
    }

    /// Removes the bar from the terminal.
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Counts the bill's data rows (as `parse_bill` reads them: the lines
/// starting with a backtick between the header and the summary header),
/// copying the file to `out` on the way when given.
fn copy_counting(path: &Path, mut out: Option<&mut dyn Write>) -> Result<u64, Failure> {
    let file = std::fs::File::open(path).map_err(|error| {
        Failure::Other(format!(
            "cannot read the bill back from `{}`: {error}",
            path.display()
        ))
    })?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut counter = RowCounter::default();
    let mut line = Vec::new();
    let mut out_open = true;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(|error| {
            Failure::Other(format!(
                "cannot read the bill back from `{}`: {error}",
                path.display()
            ))
        })?;
        if read == 0 {
            break;
        }
        counter.line(&line);
        if let Some(out) = out.as_mut()
            && out_open
        {
            match out.write_all(&line) {
                Ok(()) => {}
                // `wxpay bill --out - | head`: the reader left; stop writing.
                Err(error) if error.kind() == ErrorKind::BrokenPipe => out_open = false,
                Err(error) => {
                    return Err(Failure::Other(format!("cannot write to stdout: {error}")));
                }
            }
        }
    }
    if let Some(out) = out
        && out_open
        && let Err(error) = out.flush()
        && error.kind() != ErrorKind::BrokenPipe
    {
        return Err(Failure::Other(format!("cannot write to stdout: {error}")));
    }
    Ok(counter.rows)
}

/// Where a bill's lines are: the header, the rows, the summary.
#[derive(Default)]
struct RowCounter {
    header_seen: bool,
    in_summary: bool,
    rows: u64,
}

impl RowCounter {
    /// Takes the next line (with its line end).
    fn line(&mut self, line: &[u8]) {
        if self.in_summary || line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        if !self.header_seen {
            self.header_seen = true;
        } else if line.first() == Some(&b'`') {
            self.rows += 1;
        } else {
            self.in_summary = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_calendar_days() {
        assert_eq!(parse_date("2024-02-29"), Ok("2024-02-29".to_owned()));
        assert!(parse_date("2000-02-29").is_ok());
        assert!(parse_date("2019-06-11").is_ok());
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-04-00",
            "2024-4-1",
            "20240401",
            "2024/04/01",
            "２０２４-04-01",
            "",
        ] {
            let error = parse_date(bad).expect_err(bad);
            assert!(error.contains("YYYY-MM-DD"), "{error}");
        }
    }

    #[test]
    fn rows_are_the_lines_between_header_and_summary() {
        let mut counter = RowCounter::default();
        for line in [
            "交易时间,商户号\r\n",
            "`2024-01-01 10:00:00,`1\r\n",
            "\r\n",
            "`2024-01-01 11:00:00,`1\r\n",
            "总交易单数,应结订单总金额\r\n",
            "`2,`0.02\r\n",
        ] {
            counter.line(line.as_bytes());
        }
        assert_eq!(counter.rows, 2);
    }

    #[test]
    fn a_hidden_bar_takes_updates() {
        let bar = Bar::new(false);
        bar.update(0, Some(100));
        bar.update(10, Some(100));
        assert_eq!(bar.bar.position(), 10);
        assert_eq!(bar.bar.length(), Some(100));
        bar.finish();
        assert!(bar.bar.is_hidden());
    }
}
