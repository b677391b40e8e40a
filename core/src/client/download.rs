//! Downloading bills: `GET download_url` verbatim, signed like any request,
//! the answer streamed through gzip detection, decompression and the hash
//! its `hash_type` names (SHA-1, SHA-256 or SM3; see [`crate::bill`]). Nothing here checks a response signature: WeChat
//! Pay does not sign files, their hash stands in for it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderValue};
use http::{HeaderMap, StatusCode};
use rand::Rng;
use rand::distr::Alphanumeric;
use reqwest::Url;
use tokio::io::AsyncWriteExt;

use super::Client;
use super::send::Answer;
use crate::bill::stream::{BillDecoder, Decoded};
use crate::bill::{
    Bill, BillHashType, BillInfo, BillLimit, BillLimits, DownloadError, DownloadProgress,
};
use crate::endpoint::Method;
use crate::error::{Error, Operation};
use crate::routes::is_loopback;
use crate::signing::{new_nonce, unix_now};
use crate::target::BuildError;
use crate::verification::header;

/// How downloads appear in errors and traces: the URL itself carries a
/// token and is never shown.
const DOWNLOAD: Operation = Operation {
    method: Method::Get,
    template: "{download_url}",
};

/// At most this much of an error answer is read.
const MAX_ERROR_BODY: usize = 64 * 1024;

impl Client {
    /// Downloads the bill behind `info` (the answer of `ApplyTradeBill` or
    /// `ApplyFundFlowBill`, or any answer with `hash_type`, `hash_value`
    /// and `download_url`) and checks its hash.
    ///
    /// `info.hash_type` names the hash: `SHA1`, `SHA256` or `SM3`, in any
    /// letter case ([`BillHashType`]); any other is refused before
    /// anything is sent. The URL is fetched verbatim: its path and query
    /// are signed and sent exactly as written, to its own host. The answer
    /// is not signature-checked; a gzip answer (recognized by its magic
    /// bytes) is decompressed as it arrives, and the digest of the
    /// decompressed bill, computed as it comes out, must equal
    /// `info.hash_value` (hex, in any letter case); [`Bill::digest`] says
    /// which hash it was. The bill is held in memory once, decompressed;
    /// for large bills prefer [`Client::download_bill_to_file`].
    ///
    /// The client's timeout bounds the wait for the answer's head and then
    /// for each further piece of it, not the whole download. A download is
    /// not retried: its URL lives five minutes, so ask for a new one.
    ///
    /// # Errors
    /// - [`Error::Download`] with [`DownloadError::HashMismatch`] (SHA-1)
    ///   or [`DownloadError::DigestMismatch`] (SHA-256, SM3) (no bytes are
    ///   handed out), [`DownloadError::Decompress`],
    ///   [`DownloadError::LimitExceeded`] (past the client's [`BillLimits`],
    ///   [`ClientBuilder::bill_limits`](crate::ClientBuilder::bill_limits),
    ///   by default 1 GiB of bill, or gzip expanding more than 100:1 past
    ///   the first MiB; see [`Client::download_bill_with_limits`]),
    ///   [`DownloadError::UnsupportedHashType`] (refused before sending) or
    ///   [`DownloadError::InvalidUrl`] (also for a plain `http://` URL to a
    ///   host that is not this machine, refused before connecting unless
    ///   the client was built with
    ///   [`ClientBuilder::allow_insecure_http`](crate::ClientBuilder::allow_insecure_http));
    /// - [`Error::Api`] for an error status (the body decoded as WeChat
    ///   Pay's error JSON when it is one);
    /// - [`Error::Transport`] and [`Error::Timeout`].
    pub async fn download_bill(&self, info: &BillInfo) -> Result<Bill, Error> {
        self.download_bill_with_limits(info, self.inner.bill_limits)
            .await
    }

    /// [`Client::download_bill`] within other [`BillLimits`] than the
    /// client's ([`ClientBuilder::bill_limits`](crate::ClientBuilder::bill_limits),
    /// by default 1 GiB of bill, 100:1 compression past the first MiB).
    ///
    /// The limits are checked as the bytes arrive: a `Content-Length`
    /// over [`BillLimits::max_bytes`] is refused before the body is read,
    /// and a body or a decompressed bill going past a limit is cut off
    /// there, so no more than the limit is ever held.
    ///
    /// # Errors
    /// Those of [`Client::download_bill`], and
    /// [`DownloadError::LimitExceeded`] naming the limit that was hit.
    pub async fn download_bill_with_limits(
        &self,
        info: &BillInfo,
        limits: BillLimits,
    ) -> Result<Bill, Error> {
        let (hash_type, mut download) = self.start_download(info).await?;
        download.check_announced(&limits)?;
        let mut decoder = BillDecoder::with_hash(Vec::new(), limits, hash_type);
        while let Some(chunk) = download.next_chunk().await? {
            decoder
                .try_push(&chunk)
                .map_err(|source| download.fail(source))?;
        }
        let decoded = decoder
            .try_finish()
            .map_err(|source| download.fail(source))?;
        download.check(info, &decoded)?;
        Ok(Bill::new(
            Bytes::from(decoded.out),
            decoded.compressed,
            decoded.digest,
        ))
    }

    /// Downloads the bill behind `info` into the file at `path`, checking
    /// its hash (SHA-1, SHA-256 or SM3, by `info.hash_type`) like
    /// [`Client::download_bill`], without holding it in
    /// memory. Returns the bill's (decompressed) size in bytes.
    ///
    /// The bill is written to a temporary file next to `path` as it
    /// arrives, and renamed to `path` only once the hash matched; on any
    /// failure (or when the future is dropped) the temporary file is
    /// removed and `path` is left as it was.
    ///
    /// The file never grows past the default [`BillLimits`] (1 GiB); see
    /// [`Client::download_bill_to_file_with_limits`].
    ///
    /// # Errors
    /// Those of [`Client::download_bill`], and [`DownloadError::Write`]
    /// when the file cannot be written.
    pub async fn download_bill_to_file(
        &self,
        info: &BillInfo,
        path: impl AsRef<Path>,
    ) -> Result<u64, Error> {
        self.download_bill_to_file_with_progress(info, path, |_| {})
            .await
    }

    /// [`Client::download_bill_to_file`], calling `progress` once the
    /// answer's head arrived (nothing received yet) and after each piece of
    /// its body, for a progress display.
    ///
    /// The counts are of the body as sent: compressed bytes for a gzip
    /// bill, against `Content-Length` when the server gave one.
    ///
    /// # Errors
    /// Those of [`Client::download_bill_to_file`].
    pub async fn download_bill_to_file_with_progress(
        &self,
        info: &BillInfo,
        path: impl AsRef<Path>,
        progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<u64, Error> {
        self.download_bill_to_file_with_limits(info, path, self.inner.bill_limits, progress)
            .await
    }

    /// [`Client::download_bill_to_file_with_progress`] within other
    /// [`BillLimits`] than the client's: the temporary file never holds
    /// more than [`BillLimits::max_bytes`], and a download that goes past a
    /// limit is stopped there and its temporary file removed (`path` is
    /// left as it was).
    ///
    /// # Errors
    /// Those of [`Client::download_bill_to_file`], and
    /// [`DownloadError::LimitExceeded`] naming the limit that was hit.
    pub async fn download_bill_to_file_with_limits(
        &self,
        info: &BillInfo,
        path: impl AsRef<Path>,
        limits: BillLimits,
        mut progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<u64, Error> {
        let path = path.as_ref();
        let (hash_type, mut download) = self.start_download(info).await?;
        download.check_announced(&limits)?;
        let mut seen = DownloadProgress {
            received: 0,
            total: download.response.content_length(),
        };
        progress(seen);
        let (temporary, mut file) = TemporaryFile::create(path)
            .await
            .map_err(|source| download.fail(source))?;
        let write_error = |source| DownloadError::Write {
            path: temporary.path.clone(),
            source,
        };

        let mut decoder = BillDecoder::with_hash(Vec::new(), limits, hash_type);
        while let Some(chunk) = download.next_chunk().await? {
            seen.received = seen
                .received
                .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
            progress(seen);
            decoder
                .try_push(&chunk)
                .map_err(|source| download.fail(source))?;
            if let Some(buffer) = decoder.output_mut()
                && !buffer.is_empty()
            {
                file.write_all(buffer)
                    .await
                    .map_err(|e| download.fail(write_error(e)))?;
                buffer.clear();
            }
        }
        let decoded = decoder
            .try_finish()
            .map_err(|source| download.fail(source))?;
        file.write_all(&decoded.out)
            .await
            .map_err(|e| download.fail(write_error(e)))?;
        file.flush()
            .await
            .map_err(|e| download.fail(write_error(e)))?;
        file.get_mut()
            .sync_all()
            .await
            .map_err(|e| download.fail(write_error(e)))?;
        drop(file);
        download.check(info, &decoded)?;
        temporary
            .persist(path)
            .await
            .map_err(|source| download.fail(source))?;
        Ok(decoded.len)
    }

    /// Checks `info` (its hash type first, so that a bill that could not
    /// be verified is never fetched), signs and sends the request, and
    /// returns the hash to check and the answer once its status is a
    /// success.
    async fn start_download(&self, info: &BillInfo) -> Result<(BillHashType, Download), Error> {
        let invalid = |source| Error::Download {
            operation: DOWNLOAD,
            request_id: None,
            source,
        };
        let hash_type = info.hash_algorithm().map_err(invalid)?;
        let (url, target) = verbatim_url(&info.download_url).map_err(invalid)?;
        check_scheme(&url, self.inner.allow_insecure_http).map_err(invalid)?;

        let mut headers = self.inner.common_headers.clone();
        let authorization = self
            .inner
            .signer
            .authorization(Method::Get, &target, b"", unix_now(), &new_nonce())
            .map_err(|source| Error::Sign {
                operation: DOWNLOAD,
                source,
            })?;
        let mut authorization = HeaderValue::try_from(authorization).map_err(|_| Error::Build {
            operation: DOWNLOAD,
            source: BuildError::InvalidNonce,
        })?;
        // A signature: kept out of HTTP-level logs and debug output.
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);

        let timeout = self.inner.timeout;
        let mut request = reqwest::Request::new(reqwest::Method::GET, url);
        *request.headers_mut() = headers;
        let sent = tokio::time::timeout(timeout, self.inner.http.execute(request)).await;
        let response = match sent {
            Err(_) => return Err(timeout_error(timeout)),
            Ok(Err(source)) => return Err(transport_error(source, timeout)),
            Ok(Ok(response)) => response,
        };
        let download = Download {
            request_id: response
                .headers()
                .get(header::REQUEST_ID)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned),
            status: response.status(),
            headers: response.headers().clone(),
            response,
            timeout,
        };
        tracing::debug!(
            status = download.status.as_u16(),
            request_id = download.request_id.as_deref().unwrap_or_default(),
            "bill download answer"
        );
        if !download.status.is_success() {
            return Err(download.into_api_error(self).await);
        }
        Ok((hash_type, download))
    }
}

/// Splits `url` into what reqwest sends and the request target (path and
/// query) exactly as written, and checks that URL handling keeps that
/// target byte for byte: it is signed as written and must be sent so.
pub(crate) fn verbatim_url(url: &str) -> Result<(Url, String), DownloadError> {
    let invalid = |reason: &str| DownloadError::InvalidUrl {
        reason: reason.to_owned(),
    };
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| invalid("it is not an absolute URL"))?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return Err(invalid("its scheme is neither https nor http"));
    }
    let path_start = rest
        .find(['/', '?', '#'])
        .filter(|&at| rest[at..].starts_with('/'))
        .ok_or_else(|| invalid("it has no path"))?;
    let target = &rest[path_start..];
    let target = target.split_once('#').map_or(target, |(before, _)| before);
    if target
        .bytes()
        .any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii())
    {
        return Err(invalid(
            "its path or query holds spaces, control or non-ASCII characters, which would have to be encoded",
        ));
    }
    let parsed = Url::parse(url).map_err(|error| DownloadError::InvalidUrl {
        reason: format!("it does not parse as a URL ({error})"),
    })?;
    let sent = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    if sent != target {
        return Err(invalid(
            "URL handling would change its path or query, so what is signed would not be what is sent",
        ));
    }
    Ok((parsed, target.to_owned()))
}

/// Refuses plain `http://` to a host other than this machine (loopback),
/// unless `allow_insecure_http`: the bill and the signed request would
/// travel unencrypted. WeChat Pay's download URLs are https.
pub(crate) fn check_scheme(url: &Url, allow_insecure_http: bool) -> Result<(), DownloadError> {
    if url.scheme() != "http" || allow_insecure_http || is_loopback(url) {
        return Ok(());
    }
    Err(DownloadError::InvalidUrl {
        reason: format!(
            "it is plain http to `{}`, which is not this machine, so the bill and the signed request would travel unencrypted; WeChat Pay's download URLs are https, so check where this one came from and apply for the bill again (for a test rig only, build the client with .allow_insecure_http(true))",
            url.host_str().unwrap_or_default()
        ),
    })
}

fn timeout_error(after: Duration) -> Error {
    Error::Timeout {
        operation: DOWNLOAD,
        after,
        attempts: 1,
    }
}

fn transport_error(source: reqwest::Error, timeout: Duration) -> Error {
    if source.is_timeout() {
        return timeout_error(timeout);
    }
    Error::Transport {
        operation: DOWNLOAD,
        source: source.without_url(),
        attempts: 1,
    }
}

/// A download in progress: the answer whose body is still arriving.
struct Download {
    response: reqwest::Response,
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
    timeout: Duration,
}

impl Download {
    /// The next piece of the body; `None` at its end. Each wait is bounded
    /// by the client's timeout.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        match tokio::time::timeout(self.timeout, self.response.chunk()).await {
            Err(_) => Err(timeout_error(self.timeout)),
            Ok(Err(source)) => Err(transport_error(source, self.timeout)),
            Ok(Ok(chunk)) => Ok(chunk),
        }
    }

    /// Refuses a body whose `Content-Length` is over the limit, before
    /// reading any of it.
    fn check_announced(&self, limits: &BillLimits) -> Result<(), Error> {
        match self.response.content_length() {
            Some(announced) if announced > limits.max_bytes() => {
                Err(self.fail(DownloadError::LimitExceeded {
                    limit: BillLimit::DownloadSize {
                        max_bytes: limits.max_bytes(),
                        announced: Some(announced),
                    },
                    received: 0,
                    decompressed: 0,
                }))
            }
            _ => Ok(()),
        }
    }

    /// `source` as this download's [`Error::Download`].
    fn fail(&self, source: DownloadError) -> Error {
        Error::Download {
            operation: DOWNLOAD,
            request_id: self.request_id.clone(),
            source,
        }
    }

    /// Compares the digest of what arrived with the announced one.
    fn check<W>(&self, info: &BillInfo, decoded: &Decoded<W>) -> Result<(), Error> {
        if decoded.digest.matches(&info.hash_value) {
            return Ok(());
        }
        tracing::warn!(
            request_id = self.request_id.as_deref().unwrap_or_default(),
            hash_type = decoded.digest.hash_type().as_str(),
            "bill download discarded: hash mismatch"
        );
        Err(self.fail(DownloadError::mismatch(&decoded.digest, &info.hash_value)))
    }

    /// An error answer as [`Error::Api`]: WeChat Pay's error JSON when the
    /// body is one, its text otherwise. `authenticated` says whether it
    /// carried a signature that verified.
    async fn into_api_error(mut self, client: &Client) -> Error {
        let mut body = Vec::new();
        while body.len() < MAX_ERROR_BODY {
            match tokio::time::timeout(self.timeout, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                _ => break,
            }
        }
        body.truncate(MAX_ERROR_BODY);
        let answer = Answer {
            status: self.status,
            headers: self.headers,
            body: Bytes::from(body),
        };
        answer.api_error(DOWNLOAD, &client.verifier(), unix_now())
    }
}

/// A temporary file next to the destination, removed when dropped unless
/// it was renamed into place.
struct TemporaryFile {
    path: PathBuf,
    keep: bool,
}

impl TemporaryFile {
    /// Creates `.<name>.<random>.part` in `destination`'s directory (a
    /// rename within one directory is atomic) and opens it for writing.
    async fn create(
        destination: &Path,
    ) -> Result<(TemporaryFile, tokio::io::BufWriter<tokio::fs::File>), DownloadError> {
        let name = destination
            .file_name()
            .ok_or_else(|| DownloadError::Write {
                path: destination.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the destination has no file name",
                ),
            })?
            .to_string_lossy()
            .into_owned();
        let random: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(12)
            .map(char::from)
            .collect();
        let path = destination.with_file_name(format!(".{name}.{random}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|source| DownloadError::Write {
                path: path.clone(),
                source,
            })?;
        let guard = TemporaryFile { path, keep: false };
        Ok((guard, tokio::io::BufWriter::with_capacity(256 * 1024, file)))
    }

    /// Renames the file to `destination`.
    async fn persist(mut self, destination: &Path) -> Result<(), DownloadError> {
        tokio::fs::rename(&self.path, destination)
            .await
            .map_err(|source| DownloadError::Write {
                path: destination.to_owned(),
                source,
            })?;
        self.keep = true;
        Ok(())
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if !self.keep {
            // Best effort: the file may not exist any more.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_verbatim() {
        let (url, target) = verbatim_url(
            "https://api.mch.weixin.qq.com/v3/billdownload/file?token=a%2Fb%3d&tartype=gzip",
        )
        .unwrap();
        assert_eq!(target, "/v3/billdownload/file?token=a%2Fb%3d&tartype=gzip");
        assert_eq!(url.host_str(), Some("api.mch.weixin.qq.com"));
        let (_, target) = verbatim_url("http://127.0.0.1:8080/a#fragment").unwrap();
        assert_eq!(target, "/a");
        let (_, target) = verbatim_url("http://h/a?").unwrap();
        assert_eq!(target, "/a?");
    }

    #[test]
    fn plain_http_is_refused_off_this_machine_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/v3/billdownload/file?token=x",
            "http://localhost/v3/billdownload/file?token=x",
            "http://[::1]:1/v3/billdownload/file?token=x",
            "https://example.com/v3/billdownload/file?token=x",
        ] {
            let (url, _) = verbatim_url(url).unwrap();
            check_scheme(&url, false).unwrap();
        }
        let (url, _) = verbatim_url("http://example.com/v3/billdownload/file?token=x").unwrap();
        let error = check_scheme(&url, false).unwrap_err();
        assert!(matches!(error, DownloadError::InvalidUrl { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("plain http to `example.com`"), "{text}");
        assert!(text.contains(".allow_insecure_http(true)"), "{text}");
        assert!(!text.contains("token=x"), "{text}");
        check_scheme(&url, true).unwrap();
    }

    #[test]
    fn urls_that_would_change_are_refused() {
        for url in [
            "ftp://h/a",
            "/v3/billdownload/file?token=x",
            "https://h",
            "https://h?token=x",
            "https://h/a b",
            "https://h/a/../b",
            "https://h/a?x=中",
            "https://h/a?x=\"",
        ] {
            let error = verbatim_url(url).unwrap_err();
            assert!(
                matches!(error, DownloadError::InvalidUrl { .. }),
                "{url}: {error}"
            );
            assert!(!error.to_string().contains("token=x"), "{error}");
        }
    }
}
