//! Bills: downloading the file behind a [`BillInfo`] and reading it.
//!
//! Getting a bill takes two calls. The first (`GET /v3/bill/tradebill` or
//! `/v3/bill/fundflowbill`, in `wxpay::api::bill`) answers a [`BillInfo`]:
//! a download URL that lives five minutes and the SHA-1 of the bill. The
//! second, [`Client::download_bill`], fetches that URL:
//!
//! - the URL is used **verbatim**: its path and query are signed and sent
//!   exactly as written, to the URL's own host;
//! - the answer is **not** signature-checked (WeChat Pay does not sign
//!   files); its integrity is the SHA-1 instead;
//! - a gzip download (`tar_type=GZIP`) is recognized by its magic bytes and
//!   decompressed chunk by chunk as it arrives, and the SHA-1 is taken over
//!   the **decompressed** bill as it is produced;
//! - a hash mismatch is an error ([`DownloadError::HashMismatch`]) and no
//!   byte of the bill is handed out; [`Client::download_bill_to_file`]
//!   writes to a temporary file and renames it into place only after the
//!   hash matched.
//!
//! [`parse_trade_bill`] and [`parse_bill`] read the CSV.
//!
//! ```no_run
//! # async fn run(client: wxpay_core::Client, info: wxpay_core::bill::BillInfo) -> Result<(), Box<dyn std::error::Error>> {
//! // `info` is what `client.send(ApplyTradeBill { .. })` answered.
//! let bill = client.download_bill(&info).await?;
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

mod parse;
pub(crate) mod stream;

use std::fmt;
use std::io;
use std::path::PathBuf;

use bytes::Bytes;

pub use parse::{
    BillParseError, BillRow, BillTable, TradeBill, TradeBillRow, TradeBillSummary, amount_to_fen,
    parse_bill, parse_trade_bill,
};

/// Where a bill can be downloaded, and its hash: the answer of
/// `GET /v3/bill/tradebill` and `GET /v3/bill/fundflowbill`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BillInfo {
    /// 哈希类型: `SHA1`.
    pub hash_type: String,
    /// 哈希值: the hex SHA-1 of the decompressed bill.
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

/// A downloaded bill whose SHA-1 matched: the decompressed file.
#[derive(Clone, PartialEq, Eq)]
pub struct Bill {
    bytes: Bytes,
    compressed: bool,
}

impl Bill {
    pub(crate) fn new(bytes: Bytes, compressed: bool) -> Self {
        Bill { bytes, compressed }
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
    /// The SHA-1 of the decompressed bill is not the one announced.
    #[error(
        "the bill's SHA-1 is {actual} but {expected} was announced; it was damaged or replaced on the way and was discarded; request a new download URL and try again"
    )]
    HashMismatch {
        /// The announced hash (`hash_value`).
        expected: String,
        /// The hash of what arrived (lower-case hex).
        actual: String,
    },
    /// The bill was announced with a hash type other than SHA-1.
    #[error(
        "the bill is announced with hash type `{hash_type}`; only SHA1 is known, so its integrity cannot be checked"
    )]
    UnsupportedHashType {
        /// The announced `hash_type`.
        hash_type: String,
    },
    /// The download started with the gzip magic bytes but is not valid
    /// gzip (corrupt or truncated).
    #[error("the bill download is not valid gzip: {0}")]
    Decompress(#[source] io::Error),
    /// The download URL cannot be sent verbatim.
    #[error("the download URL cannot be used: {reason}")]
    InvalidUrl {
        /// What is wrong with it (the URL itself is not repeated: its
        /// query holds the download token).
        reason: String,
    },
    /// The bill could not be written to its file.
    #[error("cannot write the bill to `{}`: {source}", path.display())]
    Write {
        /// The file (or the temporary file next to it).
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// Whether `actual` (lower-case hex) is the announced `expected` hash,
/// ignoring letter case and surrounding whitespace.
pub(crate) fn hash_matches(expected: &str, actual: &str) -> bool {
    expected.trim().eq_ignore_ascii_case(actual)
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
    fn hashes_compare_without_case() {
        assert!(hash_matches(" AB12 ", "ab12"));
        assert!(!hash_matches("ab13", "ab12"));
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
