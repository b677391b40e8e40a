//! Bills: downloading the file behind a [`BillInfo`] and reading it.
//!
//! Getting a bill takes two calls. The first (`GET /v3/bill/tradebill` or
//! `/v3/bill/fundflowbill`, in `wxpay::api::bill`) answers a [`BillInfo`]:
//! a download URL that lives five minutes and the hash of the bill
//! (`hash_type` SHA1 for trade and fund-flow bills; SHA256 or SM3 for some
//! other files, see [`BillHashType`]). The second,
//! [`Client::download_bill`], fetches that URL:
//!
//! - the URL is used **verbatim**: its path and query are signed and sent
//!   exactly as written, to the URL's own host;
//! - the answer is **not** signature-checked (WeChat Pay does not sign
//!   files); its integrity is the announced hash instead;
//! - an unknown `hash_type` is refused before anything is sent
//!   ([`DownloadError::UnsupportedHashType`]);
//! - a gzip download (`tar_type=GZIP`) is recognized by its magic bytes and
//!   decompressed chunk by chunk as it arrives, and the hash named by
//!   `hash_type` is taken over the **decompressed** bill as it is produced;
//! - a hash mismatch is an error ([`DownloadError::HashMismatch`] for
//!   SHA-1, [`DownloadError::DigestMismatch`] for SHA-256 and SM3;
//!   [`DownloadError::is_hash_mismatch`] for either) and no byte of the
//!   bill is handed out; [`Client::download_bill_to_file`]
//!   writes to a temporary file and renames it into place only after the
//!   hash matched;
//! - the download is bounded as it arrives by [`BillLimits`]: the
//!   decompressed size (1 GiB by default), the size of the body as sent,
//!   and the compression ratio (100:1 once 1 MiB has come out), so a
//!   decompression bomb stops at the limit instead of filling memory or
//!   disk ([`DownloadError::LimitExceeded`]).
//!
//! [`parse_trade_bill`] and [`parse_bill`] read the CSV.
//!
//! ```no_run
//! # async fn run(client: wxpay_core::Client, info: wxpay_core::bill::BillInfo) -> Result<(), Box<dyn std::error::Error>> {
//! // `info` is what `client.send(ApplyTradeBill { .. })` answered.
//! let bill = client.download_bill(&info).await?;
//! println!("verified {}", bill.digest()); // e.g. `SHA1:79bb0f45…`
//! let trades = bill.parse_trade_bill()?;
//! for row in &trades.rows {
//!     println!("{} {} {}", row.trade_time, row.out_trade_no, row.settlement_amount);
//! }
//! println!("{} rows, {} yuan", trades.summary.total_count, trades.summary.settlement_amount);
//! # Ok(()) }
//! ```
//!
//! [`Client::download_bill`]: crate::Client::download_bill
//! [`Client::download_bill_to_file`]: crate::Client::download_bill_to_file

mod digest;
mod parse;
pub(crate) mod stream;

use std::fmt;
use std::io;
use std::path::PathBuf;

use bytes::Bytes;

pub use digest::{BillDigest, BillHashType, UnknownHashType};
pub use parse::{
    BillParseError, BillRow, BillTable, TradeBill, TradeBillRow, TradeBillSummary, amount_to_fen,
    parse_bill, parse_trade_bill,
};

/// Where a bill can be downloaded, and its hash: the answer of
/// `GET /v3/bill/tradebill` and `GET /v3/bill/fundflowbill`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BillInfo {
    /// 哈希类型: `SHA1`, `SHA256` or `SM3` (any letter case); see
    /// [`BillInfo::hash_algorithm`].
    pub hash_type: String,
    /// 哈希值: the hex digest of the decompressed bill, by `hash_type`.
    pub hash_value: String,
    /// 账单下载地址: valid for five minutes; used verbatim.
    pub download_url: String,
}

impl BillInfo {
    /// A `BillInfo` from its parts (for tests, or a URL kept elsewhere).
    pub fn new(
        hash_type: impl Into<String>,
        hash_value: impl Into<String>,
        download_url: impl Into<String>,
    ) -> Self {
        BillInfo {
            hash_type: hash_type.into(),
            hash_value: hash_value.into(),
            download_url: download_url.into(),
        }
    }

    /// The hash `hash_type` names, which the download is checked with.
    ///
    /// # Errors
    /// [`DownloadError::UnsupportedHashType`] when it is none of
    /// [`BillHashType::SUPPORTED`] (the error lists them).
    pub fn hash_algorithm(&self) -> Result<BillHashType, DownloadError> {
        BillHashType::from_announced(&self.hash_type).ok_or_else(|| {
            DownloadError::UnsupportedHashType {
                hash_type: self.hash_type.clone(),
            }
        })
    }
}

/// `Debug` leaves out the download URL's query, whose token lets anyone
/// with the merchant's signature download the bill.
impl fmt::Debug for BillInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match self.download_url.split_once('?') {
            Some((before, _)) => format!("{before}?…"),
            None => self.download_url.clone(),
        };
        f.debug_struct("BillInfo")
            .field("hash_type", &self.hash_type)
            .field("hash_value", &self.hash_value)
            .field("download_url", &url)
            .finish()
    }
}

/// A downloaded bill whose announced hash matched: the decompressed file.
#[derive(Clone, PartialEq, Eq)]
pub struct Bill {
    bytes: Bytes,
    compressed: bool,
    digest: BillDigest,
}

impl Bill {
    pub(crate) fn new(bytes: Bytes, compressed: bool, digest: BillDigest) -> Self {
        Bill {
            bytes,
            compressed,
            digest,
        }
    }

    /// The digest the bill was checked with: its [`BillHashType`] (from
    /// the announced `hash_type`) and the lower-case hex digest of the
    /// decompressed bill, equal to the announced `hash_value`.
    pub fn digest(&self) -> &BillDigest {
        &self.digest
    }

    /// The bill's bytes (decompressed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bill's bytes (decompressed), shared.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Whether it was downloaded gzip-compressed.
    pub fn was_compressed(&self) -> bool {
        self.compressed
    }

    /// The bill as text.
    ///
    /// # Errors
    /// [`BillParseError::NotUtf8`] when it is not UTF-8.
    pub fn text(&self) -> Result<&str, BillParseError> {
        std::str::from_utf8(&self.bytes).map_err(|error| BillParseError::NotUtf8 {
            valid_up_to: error.valid_up_to(),
        })
    }

    /// Reads any bill as a table ([`parse_bill`]).
    ///
    /// # Errors
    /// See [`BillParseError`].
    pub fn parse(&self) -> Result<BillTable, BillParseError> {
        parse_bill(self.text()?)
    }

    /// Reads a trade bill of type `ALL` ([`parse_trade_bill`]).
    ///
    /// # Errors
    /// See [`BillParseError`].
    pub fn parse_trade_bill(&self) -> Result<TradeBill, BillParseError> {
        parse_trade_bill(self.text()?)
    }
}

impl fmt::Debug for Bill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bill")
            .field("len", &self.bytes.len())
            .field("compressed", &self.compressed)
            .field("digest", &format_args!("{}", self.digest))
            .finish()
    }
}

/// How much of a bill download has arrived: what
/// [`Client::download_bill_to_file_with_progress`](crate::Client::download_bill_to_file_with_progress)
/// reports, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// Bytes of the answer's body received so far, as sent (compressed
    /// for a gzip bill).
    pub received: u64,
    /// The body's size from its `Content-Length`, when the server gave one.
    pub total: Option<u64>,
}

/// Why a bill download failed after it was sent (HTTP errors are
/// [`Error::Api`](crate::Error::Api), network failures
/// [`Error::Transport`](crate::Error::Transport) and
/// [`Error::Timeout`](crate::Error::Timeout)). No byte of the bill is
/// handed out, and no file is left behind, after any of these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The SHA-1 of the decompressed bill is not the one announced (a bill
    /// announced with `hash_type` SHA1; for SHA-256 and SM3 see
    /// [`DownloadError::DigestMismatch`], and
    /// [`DownloadError::is_hash_mismatch`] for either).
    #[error(
        "the bill's SHA-1 is {actual} but {expected} was announced; it was damaged or replaced on the way and was discarded; request a new download URL and try again"
    )]
    HashMismatch {
        /// The announced hash (`hash_value`).
        expected: String,
        /// The hash of what arrived (lower-case hex).
        actual: String,
    },
    /// The digest of the decompressed bill is not the one announced, for a
    /// bill announced with `hash_type` SHA256 or SM3 (SHA-1 bills report
    /// [`DownloadError::HashMismatch`]).
    #[error(
        "the bill's {hash_type} digest is {actual} but {expected} was announced; it was damaged or replaced on the way and was discarded; request a new download URL and try again"
    )]
    DigestMismatch {
        /// The hash type announced, and computed.
        hash_type: BillHashType,
        /// The announced hash (`hash_value`).
        expected: String,
        /// The digest of what arrived (lower-case hex).
        actual: String,
    },
    /// The bill was announced with a hash type this library does not
    /// know (see [`BillHashType::SUPPORTED`]); refused before the download
    /// was sent.
    #[error(
        "the bill is announced with hash type `{hash_type}`, which is not supported (supported: {}), so its integrity cannot be checked and it was not downloaded; if WeChat Pay documents this hash type, report it to the wxpay maintainers",
        BillHashType::supported_list()
    )]
    UnsupportedHashType {
        /// The announced `hash_type`.
        hash_type: String,
    },
    /// The download started with the gzip magic bytes but is not valid
    /// gzip (corrupt or truncated).
    #[error("the bill download is not valid gzip")]
    Decompress(#[source] io::Error),
    /// The download URL cannot be sent verbatim.
    #[error("the download URL cannot be used: {reason}")]
    InvalidUrl {
        /// What is wrong with it (the URL itself is not repeated: its
        /// query holds the download token).
        reason: String,
    },
    /// The bill could not be written to its file.
    #[error("cannot write the bill to `{}`", path.display())]
    Write {
        /// The file (or the temporary file next to it).
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The download went past one of its [`BillLimits`] and was stopped
    /// there: nothing beyond the limit was read into memory or written to
    /// disk, and nothing of it is kept.
    #[error("{}", limit_message(*limit, *received, *decompressed))]
    LimitExceeded {
        /// Which limit, and its value.
        limit: BillLimit,
        /// Bytes of the body received when it stopped (as sent: compressed
        /// for a gzip bill); 0 when an announced `Content-Length` was
        /// refused before reading.
        received: u64,
        /// Bytes of bill (decompressed) produced when it stopped,
        /// counting the piece that went over.
        decompressed: u64,
    },
}

impl DownloadError {
    /// Whether the bill did not match its announced hash, whatever the
    /// hash type ([`DownloadError::HashMismatch`] or
    /// [`DownloadError::DigestMismatch`]).
    pub fn is_hash_mismatch(&self) -> bool {
        matches!(
            self,
            DownloadError::HashMismatch { .. } | DownloadError::DigestMismatch { .. }
        )
    }

    /// The mismatch of `digest` with the announced `hash_value`, as the
    /// variant its hash type reports.
    pub(crate) fn mismatch(digest: &BillDigest, hash_value: &str) -> DownloadError {
        let expected = hash_value.trim().to_owned();
        let actual = digest.hex().to_owned();
        match digest.hash_type() {
            BillHashType::Sha1 => DownloadError::HashMismatch { expected, actual },
            hash_type => DownloadError::DigestMismatch {
                hash_type,
                expected,
                actual,
            },
        }
    }
}

/// Which of the [`BillLimits`] a download went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillLimit {
    /// The decompressed bill would be larger than
    /// [`BillLimits::max_bytes`].
    Size {
        /// The limit, in bytes.
        max_bytes: u64,
    },
    /// The body as sent (compressed, for a gzip bill) is larger than
    /// [`BillLimits::max_bytes`]: announced so by its `Content-Length`, or
    /// seen as it arrived.
    DownloadSize {
        /// The limit, in bytes.
        max_bytes: u64,
        /// The `Content-Length` the server announced, when that was what
        /// went over.
        announced: Option<u64>,
    },
    /// The bill expanded more than [`BillLimits::max_ratio`] times its
    /// compressed size, past [`BillLimits::ratio_grace_bytes`].
    Ratio {
        /// The limit: decompressed bytes per compressed byte.
        max_ratio: u64,
        /// How much may come out before the ratio is checked.
        grace_bytes: u64,
    },
}

fn limit_message(limit: BillLimit, received: u64, decompressed: u64) -> String {
    match limit {
        BillLimit::Size { max_bytes } => format!(
            "the bill download was stopped at the limit of {max_bytes} bytes of bill ({decompressed} bytes produced from {received} bytes received) and nothing of it was kept; if a genuine bill is this large, download it to a file with a higher limit (BillLimits::with_max_bytes, Client::download_bill_to_file_with_limits)"
        ),
        BillLimit::DownloadSize {
            max_bytes,
            announced: Some(announced),
        } => format!(
            "the bill download announced {announced} bytes (Content-Length), over the limit of {max_bytes} bytes, and was refused before its body was read; if a genuine bill is this large, raise the limit (BillLimits::with_max_bytes, Client::download_bill_with_limits)"
        ),
        BillLimit::DownloadSize {
            max_bytes,
            announced: None,
        } => format!(
            "the bill download was stopped after {received} bytes received, over the limit of {max_bytes} bytes, and nothing of it was kept; if a genuine bill is this large, raise the limit (BillLimits::with_max_bytes, Client::download_bill_with_limits)"
        ),
        BillLimit::Ratio {
            max_ratio,
            grace_bytes,
        } => format!(
            "the bill download was stopped: {received} bytes of gzip expanded to {decompressed} bytes, more than {max_ratio} times (checked past the first {grace_bytes} bytes), which no bill compresses to; it looks like a decompression bomb or a damaged download, and nothing of it was kept. Apply for a new download URL and try again; only if a genuine bill compresses this well, raise BillLimits::with_max_ratio"
        ),
    }
}

/// Bounds on one bill download, checked as the bytes arrive: a download
/// that goes past one is stopped there with
/// [`DownloadError::LimitExceeded`], before anything beyond the limit is
/// held in memory or written to disk.
///
/// - [`max_bytes`](BillLimits::with_max_bytes) (default 1 GiB) bounds the
///   decompressed bill, and the body as sent;
/// - [`max_ratio`](BillLimits::with_max_ratio) (default 100) bounds how
///   many bytes of bill one byte of gzip may expand to, once
///   [`ratio_grace_bytes`](BillLimits::with_ratio_grace_bytes) (default
///   1 MiB) have come out, so that tiny bills (whose headers and summary
///   compress oddly) are never refused.
///
/// The defaults are far above real bills: a trade bill line is a few
/// hundred bytes, so 1 GiB is millions of transactions in one day, and
/// bill CSVs compress about 5 to 20 times, while a deflate bomb expands
/// about 1000 times.
///
/// ```no_run
/// # async fn run(client: wxpay_core::Client, info: wxpay_core::bill::BillInfo) -> Result<(), wxpay_core::Error> {
/// use wxpay_core::bill::BillLimits;
///
/// // A merchant whose daily bills really are larger than 1 GiB.
/// let limits = BillLimits::default().with_max_bytes(8 << 30);
/// let size = client
///     .download_bill_to_file_with_limits(&info, "trade.csv", limits, |_| {})
///     .await?;
/// # let _ = size; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillLimits {
    max_bytes: u64,
    max_ratio: u64,
    ratio_grace_bytes: u64,
}

impl BillLimits {
    /// The default [`BillLimits::max_bytes`]: 1 GiB.
    pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
    /// The default [`BillLimits::max_ratio`]: 100 bytes of bill per byte
    /// of gzip.
    pub const DEFAULT_MAX_RATIO: u64 = 100;
    /// The default [`BillLimits::ratio_grace_bytes`]: 1 MiB.
    pub const DEFAULT_RATIO_GRACE_BYTES: u64 = 1 << 20;

    /// The defaults.
    pub const fn new() -> Self {
        BillLimits {
            max_bytes: Self::DEFAULT_MAX_BYTES,
            max_ratio: Self::DEFAULT_MAX_RATIO,
            ratio_grace_bytes: Self::DEFAULT_RATIO_GRACE_BYTES,
        }
    }

    /// At most `max_bytes` of bill (decompressed), and of body as sent.
    pub const fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// At most `max_ratio` bytes of bill per byte of gzip received, once
    /// [`BillLimits::ratio_grace_bytes`] have come out. `u64::MAX` turns
    /// the check off.
    pub const fn with_max_ratio(mut self, max_ratio: u64) -> Self {
        self.max_ratio = max_ratio;
        self
    }

    /// How many bytes of bill may come out before the ratio is checked.
    pub const fn with_ratio_grace_bytes(mut self, grace_bytes: u64) -> Self {
        self.ratio_grace_bytes = grace_bytes;
        self
    }

    /// The most bytes of bill (decompressed), and of body as sent.
    pub const fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The most bytes of bill per byte of gzip received.
    pub const fn max_ratio(&self) -> u64 {
        self.max_ratio
    }

    /// How many bytes of bill may come out before the ratio is checked.
    pub const fn ratio_grace_bytes(&self) -> u64 {
        self.ratio_grace_bytes
    }

    /// Which limit `decompressed` bytes of bill out of `received` bytes of
    /// body go past, if any.
    pub(crate) fn check(&self, received: u64, decompressed: u64) -> Option<BillLimit> {
        if received > self.max_bytes {
            return Some(BillLimit::DownloadSize {
                max_bytes: self.max_bytes,
                announced: None,
            });
        }
        if decompressed > self.max_bytes {
            return Some(BillLimit::Size {
                max_bytes: self.max_bytes,
            });
        }
        if decompressed > self.ratio_grace_bytes
            && decompressed > received.saturating_mul(self.max_ratio)
        {
            return Some(BillLimit::Ratio {
                max_ratio: self.max_ratio,
                grace_bytes: self.ratio_grace_bytes,
            });
        }
        None
    }
}

impl Default for BillLimits {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_download_token() {
        let info = BillInfo::new("SHA1", "ab", "https://h/v3/billdownload/file?token=SECRET");
        let shown = format!("{info:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            shown.contains("https://h/v3/billdownload/file?…"),
            "{shown}"
        );
    }

    #[test]
    fn limits_name_the_one_that_was_hit() {
        let limits = BillLimits::default()
            .with_max_bytes(1000)
            .with_max_ratio(10)
            .with_ratio_grace_bytes(100);
        assert_eq!(limits.check(10, 100), None);
        assert_eq!(
            limits.check(10, 101),
            Some(BillLimit::Ratio {
                max_ratio: 10,
                grace_bytes: 100
            })
        );
        assert_eq!(limits.check(100, 1000), None);
        assert_eq!(
            limits.check(100, 1001),
            Some(BillLimit::Size { max_bytes: 1000 })
        );
        assert_eq!(
            limits.check(1001, 1001),
            Some(BillLimit::DownloadSize {
                max_bytes: 1000,
                announced: None
            })
        );
        let off = limits.with_max_ratio(u64::MAX);
        assert_eq!(off.check(1, 1000), None);
        let text = DownloadError::LimitExceeded {
            limit: BillLimit::Ratio {
                max_ratio: 100,
                grace_bytes: 1 << 20,
            },
            received: 2000,
            decompressed: 3_000_000,
        }
        .to_string();
        assert!(
            text.contains("2000 bytes of gzip expanded to 3000000 bytes"),
            "{text}"
        );
        assert!(text.contains("BillLimits::with_max_ratio"), "{text}");
    }

    #[test]
    fn hash_types_are_read_from_the_info_and_unknown_ones_refused() {
        let info = |hash_type: &str| BillInfo::new(hash_type, "00", "https://h/f?token=t");
        assert_eq!(info("SHA1").hash_algorithm().unwrap(), BillHashType::Sha1);
        assert_eq!(
            info("sha256").hash_algorithm().unwrap(),
            BillHashType::Sha256
        );
        assert_eq!(info("Sm3").hash_algorithm().unwrap(), BillHashType::Sm3);
        let error = info("MD5").hash_algorithm().unwrap_err();
        assert!(
            matches!(&error, DownloadError::UnsupportedHashType { hash_type } if hash_type == "MD5"),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains("`MD5`"), "{text}");
        assert!(text.contains("supported: SHA1, SHA256, SM3"), "{text}");
    }

    #[test]
    fn mismatches_are_reported_by_hash_type() {
        let sha1 = BillHashType::Sha1.hex_digest(b"bill");
        let mut running = digest::RunningHash::new(BillHashType::Sha1);
        running.update(b"bill");
        let error = DownloadError::mismatch(&running.finish(), " ABC ");
        assert!(
            matches!(&error, DownloadError::HashMismatch { expected, actual } if expected == "ABC" && *actual == sha1),
            "{error:?}"
        );
        assert!(error.is_hash_mismatch());
        assert!(error.to_string().starts_with("the bill's SHA-1 is "));

        let error =
            DownloadError::mismatch(&digest::RunningHash::new(BillHashType::Sm3).finish(), "abc");
        assert!(
            matches!(
                &error,
                DownloadError::DigestMismatch {
                    hash_type: BillHashType::Sm3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.is_hash_mismatch());
        let text = error.to_string();
        assert!(text.starts_with("the bill's SM3 digest is "), "{text}");
        assert!(text.contains("request a new download URL"), "{text}");
        assert!(!DownloadError::Decompress(io::Error::other("x")).is_hash_mismatch());
    }

    #[test]
    fn info_decodes_from_the_documented_answer() {
        let info: BillInfo = serde_json::from_str(
            r#"{"hash_type":"SHA1","hash_value":"79bb0f45fc4c42234a918000b2668d689e2bde04","download_url":"https://api.mch.weixin.qq.com/v3/billdownload/file?token=xxx"}"#,
        )
        .unwrap();
        assert_eq!(info.hash_type, "SHA1");
        assert_eq!(
            info.download_url,
            "https://api.mch.weixin.qq.com/v3/billdownload/file?token=xxx"
        );
    }
}
