//! The client's live set of WeChat Pay keys, and certificate mode: download
//! `GET /v3/certificates`, bootstrap-verify, swap in; refresh in the
//! background and, once (single-flight, rate-limited), when an answer names
//! a serial the client does not know.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use reqwest::Url;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

use super::send::request_url;
use super::{Client, Inner};
use crate::certificates::{CERTIFICATES_PATH, CertificateError, decode_certificates};
use crate::endpoint::{Body, Endpoint, Idempotency, Method};
use crate::error::{Error, Operation};
use crate::host::Host;
use crate::retry::{Attempts, Patience, millis};
use crate::signing::{new_nonce, unix_now};
use crate::target::{BuildError, Target};
use crate::verification::Verifier;

/// How often certificates are downloaded again by default.
pub const DEFAULT_CERTIFICATE_REFRESH: Duration = Duration::from_secs(12 * 60 * 60);

/// The shortest time between two downloads triggered by unknown serials:
/// a flood of forged serials cannot turn into a flood of downloads.
///
/// Only a download that succeeded starts this wait. After a failed one
/// (a 500, a 429, a dropped connection, an answer that did not verify) the
/// client waits [`CERTIFICATE_RETRY_AFTER_FAILURE`], doubled for each
/// further failure in a row up to this same minute, so one transient error
/// right after a rotation does not leave it unable to verify for a minute.
pub const MIN_UNKNOWN_SERIAL_REFRESH: Duration = Duration::from_secs(60);

/// The wait after a failed certificate download before an unknown serial
/// (or a call that needs a key to encrypt with) may start another one;
/// doubled for each further failure in a row, at most
/// [`MIN_UNKNOWN_SERIAL_REFRESH`]. Explicit
/// [`Client::refresh_certificates`] calls are never held back, and a call
/// whose [retry policy](crate::retry) allows the wait waits it out.
pub const CERTIFICATE_RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// The keys answers are verified with, swapped whole on each refresh so a
/// call in flight keeps the snapshot it started with.
///
/// A download replaces what the previous one brought: the keys installed
/// are always the configured ones (public keys and certificates given to
/// the builder) plus exactly the certificates of the latest download, so a
/// certificate WeChat Pay withdrew stops verifying at the next download.
pub(super) struct KeyStore {
    current: RwLock<Arc<Verifier>>,
    /// The keys given to the builder, kept across every download.
    configured: Verifier,
    /// Certificate mode: downloads on, with this refresh interval.
    refresh: Option<Duration>,
    /// Serializes downloads (single flight) and remembers when they ran.
    downloads: Mutex<Downloads>,
    /// Whether the background refresher runs.
    refresher_started: std::sync::atomic::AtomicBool,
}

impl KeyStore {
    pub(super) fn new(verifier: Verifier, refresh: Option<Duration>) -> Self {
        KeyStore {
            configured: verifier.clone(),
            current: RwLock::new(Arc::new(verifier)),
            refresh,
            downloads: Mutex::new(Downloads::default()),
            refresher_started: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(super) fn snapshot(&self) -> Arc<Verifier> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            // A writer panicked mid-swap; the Arc inside is still whole.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn install(&self, verifier: Verifier) {
        let verifier = Arc::new(verifier);
        match self.current.write() {
            Ok(mut guard) => *guard = verifier,
            Err(poisoned) => *poisoned.into_inner() = verifier,
        }
    }

    pub(super) fn downloads(&self) -> bool {
        self.refresh.is_some()
    }
}

/// When certificates were last downloaded, and how that went: the rate
/// limits of the downloads the client starts by itself.
#[derive(Default)]
struct Downloads {
    /// The last download of any kind that succeeded.
    succeeded: Option<Instant>,
    /// The last successful download an unknown serial triggered.
    for_unknown_serial: Option<Instant>,
    /// Failed downloads in a row since the last success.
    failures: u32,
    /// Before this instant, the client starts no download by itself (set
    /// after a failure, by the back-off).
    not_before: Option<Instant>,
}

impl Downloads {
    /// Records how a download that ended `at` went.
    fn record<T>(&mut self, result: &Result<T, Error>, at: Instant) {
        match result {
            Ok(_) => {
                self.succeeded = Some(at);
                self.failures = 0;
                self.not_before = None;
            }
            Err(_) => {
                self.failures = self.failures.saturating_add(1);
                self.not_before = Some(at + retry_after(self.failures));
            }
        }
    }

    /// Whether a failed download's back-off still holds at `now`.
    fn backing_off(&self, now: Instant) -> bool {
        self.not_before.is_some_and(|until| now < until)
    }

    /// Whether an unknown serial may start a download at `now`.
    fn may_download_for_unknown_serial(&self, now: Instant) -> bool {
        !self.backing_off(now)
            && self
                .for_unknown_serial
                .is_none_or(|at| now.duration_since(at) >= MIN_UNKNOWN_SERIAL_REFRESH)
    }
}

/// The back-off after `failures` failed downloads in a row: one
/// [`CERTIFICATE_RETRY_AFTER_FAILURE`], doubled for each further failure,
/// at most [`MIN_UNKNOWN_SERIAL_REFRESH`].
fn retry_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    CERTIFICATE_RETRY_AFTER_FAILURE
        .saturating_mul(1 << doublings)
        .min(MIN_UNKNOWN_SERIAL_REFRESH)
}

/// `GET /v3/certificates`, declared by hand: the answer is checked by the
/// bootstrap rule, not the ordinary one.
struct DownloadCertificates;

impl Endpoint for DownloadCertificates {
    const METHOD: Method = Method::Get;
    const PATH_TEMPLATE: &'static str = CERTIFICATES_PATH;
    type Response = serde_json::Value;

    fn render_target(&self, out: &mut Target) -> Result<(), BuildError> {
        out.push_literal(CERTIFICATES_PATH);
        Ok(())
    }

    fn body(&self) -> Result<Body, BuildError> {
        Ok(Body::Empty)
    }
}

impl Client {
    /// Downloads the platform certificates now and installs them; returns
    /// the serials now known. Needs the APIv3 key.
    ///
    /// The download is trusted through the AES-GCM tag under the APIv3 key,
    /// and its own signature must verify with one of the certificates it
    /// delivered (or one configured on the builder). It **replaces** the
    /// certificates of the previous download: afterwards the client knows
    /// the configured public keys and certificates plus exactly the
    /// certificates this download listed, so one WeChat Pay no longer lists
    /// stops verifying. Certificates no longer valid are dropped. Concurrent calls share one download. Transient failures
    /// are retried under the client's [retry policy](crate::RetryPolicy),
    /// on the backup host after a network failure, as calls are.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        let mut downloads = self.inner.keys.downloads.lock().await;
        let result = self.download_certificates().await;
        downloads.record(&result, Instant::now());
        result
    }

    /// One download under the client's retry policy: a transient failure
    /// (429, 500, 502 to 504, a dropped connection, a timeout) is tried
    /// again, signed afresh and failing over to the backup host as a call
    /// would; an answer that does not verify is not.
    async fn download_certificates(&self) -> Result<Vec<String>, Error> {
        let span = tracing::info_span!("wxpay.certificate_download", attempts = Empty);
        let mut attempts = Attempts::start(
            &self.inner.retry,
            self.backup_for(self.home_host().unwrap_or(Host::Api)),
            Idempotency::Natural,
        );
        async {
            loop {
                span.record("attempts", attempts.number());
                match self.download_once(attempts.base()).await {
                    Ok(serials) => return Ok(serials),
                    Err(error) => attempts.after_failure(error).await?,
                }
            }
        }
        .instrument(span.clone())
        .await
    }

    /// One attempt at the download, to `base` (the primary base URL when
    /// `None`).
    async fn download_once(&self, base: Option<&Url>) -> Result<Vec<String>, Error> {
        let operation = Operation {
            method: Method::Get,
            template: CERTIFICATES_PATH,
        };
        let key = self
            .inner
            .apiv3_key
            .as_ref()
            .ok_or(Error::Certificates(CertificateError::NoApiV3Key))?;
        let home = self.home_host().unwrap_or(Host::Api);
        let request = self.prepare_on(&DownloadCertificates, home, unix_now(), new_nonce())?;
        let url = request_url(&request, base)?;
        let answer = self.transmit(&request, url, self.inner.timeout).await?;
        let now = unix_now();
        if !answer.status.is_success() {
            return Err(answer.api_error(operation, &self.inner.keys.snapshot(), now));
        }
        // The configured keys and this download's certificates, nothing
        // from earlier downloads: a withdrawn certificate is forgotten.
        let mut candidate = self.inner.keys.configured.clone();
        let certificates = decode_certificates(&answer.body, key, key.backend(), now)
            .map_err(Error::Certificates)?;
        for certificate in &certificates {
            candidate.add_certificate(certificate);
        }
        candidate.drop_expired_certificates(now);
        candidate
            .verify(&answer.headers, &answer.body, now)
            .map_err(|source| Error::Verification {
                operation,
                status: answer.status,
                request_id: answer.request_id(),
                source,
            })?;
        let serials = candidate.serials().into_iter().map(str::to_owned).collect();
        self.inner.keys.install(candidate);
        tracing::debug!(
            certificates = certificates.len(),
            "platform certificates installed"
        );
        Ok(serials)
    }

    /// After an answer named `serial`, which the current keys lack: download
    /// once, unless another task just did, the last successful download
    /// triggered this way is less than [`MIN_UNKNOWN_SERIAL_REFRESH`] old,
    /// or a failed download's back-off still holds. Returns whether the
    /// keys now know `serial`. A serial that is not of the certificate form
    /// (hexadecimal, as `PUB_KEY_ID_…` is not) never starts a download: no
    /// certificate could bring it.
    ///
    /// With `patience` (a call whose policy retries), a back-off that ends
    /// within it is waited out once, then the download goes ahead: the
    /// answer is in hand and only the key to check it is missing.
    pub(crate) async fn refresh_for_unknown_serial(
        &self,
        serial: &str,
        patience: Option<Patience>,
    ) -> bool {
        self.refresh_for_serial(serial, patience, Queue::Wait).await
    }

    /// [`Client::refresh_for_unknown_serial`] for a callback: it never
    /// queues behind a download already in flight (WeChat Pay wants an
    /// answer within 5 s and resends a refused callback), it fails at once
    /// instead; otherwise it may start the download itself and wait for it.
    pub(crate) async fn refresh_for_unknown_callback_serial(&self, serial: &str) -> bool {
        self.refresh_for_serial(serial, None, Queue::FailFast).await
    }

    async fn refresh_for_serial(
        &self,
        serial: &str,
        patience: Option<Patience>,
        queue: Queue,
    ) -> bool {
        if !self.inner.keys.downloads() || !is_certificate_serial(serial) {
            return false;
        }
        let mut waited = false;
        let mut downloads = loop {
            let downloads = match queue {
                Queue::Wait => self.inner.keys.downloads.lock().await,
                Queue::FailFast => match self.inner.keys.downloads.try_lock() {
                    Ok(downloads) => downloads,
                    Err(_) => {
                        tracing::debug!(
                            serial,
                            "a platform certificate download is in flight; the callback is refused now rather than queued"
                        );
                        return false;
                    }
                },
            };
            if self.inner.keys.snapshot().key(serial).is_some() {
                // Another task's download brought it while this one waited.
                return true;
            }
            let now = Instant::now();
            if downloads.may_download_for_unknown_serial(now) {
                break downloads;
            }
            let until = match (downloads.not_before, patience) {
                (Some(until), Some(patience))
                    if !waited
                        && patience.allows(until, now)
                        && downloads.may_download_for_unknown_serial(until) =>
                {
                    until
                }
                _ => return false,
            };
            drop(downloads);
            tracing::debug!(
                wait_ms = millis(until.saturating_duration_since(now)),
                "waiting out the platform certificate download's back-off"
            );
            tokio::time::sleep_until(until).await;
            waited = true;
        };
        let result = self.download_certificates().await;
        let now = Instant::now();
        downloads.record(&result, now);
        match result {
            Ok(_) => {
                downloads.for_unknown_serial = Some(now);
                self.inner.keys.snapshot().key(serial).is_some()
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    failures_in_a_row = downloads.failures,
                    retry_after_ms = millis(retry_after(downloads.failures)),
                    "platform certificate download for an unknown serial failed"
                );
                false
            }
        }
    }

    /// In certificate mode, downloads before a call that needs a key to
    /// encrypt with and has none yet, and starts the background refresher.
    pub(super) async fn ensure_certificates(&self) -> Result<(), Error> {
        let Some(interval) = self.inner.keys.refresh else {
            return Ok(());
        };
        start_refresher(&self.inner, interval);
        if self.inner.keys.snapshot().encryptor(unix_now()).is_none() {
            let downloads = self.inner.keys.downloads.lock().await;
            let now = Instant::now();
            // A download that just succeeded brought no usable certificate,
            // or one just failed: do not ask again on every call.
            let hold = downloads.backing_off(now)
                || downloads
                    .succeeded
                    .is_some_and(|at| now.duration_since(at) < MIN_UNKNOWN_SERIAL_REFRESH);
            drop(downloads);
            if !hold {
                self.refresh_certificates().await?;
            }
        }
        Ok(())
    }
}

/// Whether a task that needs the download lock queues for it.
#[derive(Clone, Copy)]
enum Queue {
    /// Waits for a download in flight to end (calls).
    Wait,
    /// Gives up at once when a download is in flight (callbacks).
    FailFast,
}

/// Whether `serial` has the form of a certificate serial (hexadecimal, at
/// most 64 digits), which a certificate download could bring; a public key
/// id (`PUB_KEY_ID_…`) or anything else cannot be.
pub(crate) fn is_certificate_serial(serial: &str) -> bool {
    !serial.is_empty() && serial.len() <= 64 && serial.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Starts the task that downloads certificates every `interval` for as long
/// as the client lives (it holds only a weak reference).
fn start_refresher(inner: &Arc<Inner>, interval: Duration) {
    use std::sync::atomic::Ordering;
    if inner.keys.refresher_started.swap(true, Ordering::AcqRel) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        inner.keys.refresher_started.store(false, Ordering::Release);
        return;
    };
    let weak: Weak<Inner> = Arc::downgrade(inner);
    runtime.spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(inner) = weak.upgrade() else { break };
            let client = Client { inner };
            if let Err(error) = client.refresh_certificates().await {
                tracing::warn!(%error, "scheduled platform certificate refresh failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure() -> Result<(), Error> {
        Err(Error::Certificates(CertificateError::NoApiV3Key))
    }

    #[test]
    fn only_hexadecimal_serials_can_be_certificates() {
        assert!(is_certificate_serial(
            "5F1C72E2A8931B72A2E13AF8DEE92471EB39711F"
        ));
        assert!(is_certificate_serial("0c"));
        for not in [
            "",
            "PUB_KEY_ID_0114232134912410000000000000",
            "5F1C72E2 A8",
            "abcX",
            &"A".repeat(65),
        ] {
            assert!(!is_certificate_serial(not), "{not:?}");
        }
    }

    #[test]
    fn the_back_off_doubles_up_to_the_minute() {
        let waits: Vec<u64> = (1..=9).map(|n| retry_after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(retry_after(u32::MAX), MIN_UNKNOWN_SERIAL_REFRESH);
    }

    #[test]
    fn a_failure_holds_downloads_back_briefly_and_a_success_for_a_minute() {
        let start = Instant::now();
        let mut downloads = Downloads::default();
        assert!(downloads.may_download_for_unknown_serial(start));

        downloads.record(&failure(), start);
        assert!(!downloads.may_download_for_unknown_serial(start));
        let after_one = start + CERTIFICATE_RETRY_AFTER_FAILURE;
        assert!(downloads.may_download_for_unknown_serial(after_one));

        // A second failure in a row waits twice as long.
        downloads.record(&failure(), after_one);
        assert!(
            !downloads.may_download_for_unknown_serial(after_one + CERTIFICATE_RETRY_AFTER_FAILURE)
        );
        let after_two = after_one + 2 * CERTIFICATE_RETRY_AFTER_FAILURE;
        assert!(downloads.may_download_for_unknown_serial(after_two));

        // A success ends the back-off; the minute between downloads for
        // unknown serials is the caller's to start (it knows the trigger).
        downloads.record(&Ok(()), after_two);
        downloads.for_unknown_serial = Some(after_two);
        assert_eq!(downloads.failures, 0);
        assert!(!downloads.backing_off(after_two));
        assert!(!downloads.may_download_for_unknown_serial(
            after_two + MIN_UNKNOWN_SERIAL_REFRESH - Duration::from_millis(1)
        ));
        assert!(downloads.may_download_for_unknown_serial(after_two + MIN_UNKNOWN_SERIAL_REFRESH));

        // And the next failure starts again from one wait.
        let later = after_two + MIN_UNKNOWN_SERIAL_REFRESH;
        downloads.record(&failure(), later);
        assert!(downloads.may_download_for_unknown_serial(later + CERTIFICATE_RETRY_AFTER_FAILURE));
    }
}
