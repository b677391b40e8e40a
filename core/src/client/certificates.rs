//! The client's live set of WeChat Pay keys, and certificate mode: download
//! `GET /v3/certificates`, bootstrap-verify, swap in; refresh in the
//! background and, once (single-flight, rate-limited), when an answer names
//! a serial the client does not know.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Client, Inner};
use crate::certificates::{CERTIFICATES_PATH, CertificateError, decode_certificates};
use crate::endpoint::{Body, Endpoint, Method};
use crate::error::{Error, Operation};
use crate::signing::unix_now;
use crate::target::{BuildError, Target};
use crate::verification::Verifier;

/// How often certificates are downloaded again by default.
pub const DEFAULT_CERTIFICATE_REFRESH: Duration = Duration::from_secs(12 * 60 * 60);

/// The shortest time between two downloads triggered by unknown serials:
/// a flood of forged serials cannot turn into a flood of downloads.
pub const MIN_UNKNOWN_SERIAL_REFRESH: Duration = Duration::from_secs(60);

/// The keys answers are verified with, swapped whole on each refresh so a
/// call in flight keeps the snapshot it started with.
pub(super) struct KeyStore {
    current: RwLock<Arc<Verifier>>,
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

/// When certificates were last downloaded.
#[derive(Default)]
struct Downloads {
    /// The last download of any kind.
    any: Option<Instant>,
    /// The last download an unknown serial triggered: the rate limit.
    for_unknown_serial: Option<Instant>,
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
    /// delivered (or one already known). Certificates no longer valid are
    /// dropped. Concurrent calls share one download.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        let mut downloads = self.inner.keys.downloads.lock().await;
        let result = self.download_certificates().await;
        downloads.any = Some(Instant::now());
        result
    }

    async fn download_certificates(&self) -> Result<Vec<String>, Error> {
        let operation = Operation {
            method: Method::Get,
            template: CERTIFICATES_PATH,
        };
        let key = self
            .inner
            .apiv3_key
            .as_ref()
            .ok_or(Error::Certificates(CertificateError::NoApiV3Key))?;
        let request = self.prepare(&DownloadCertificates)?;
        let url = request.url.clone();
        let answer = self.transmit(&request, url, self.inner.timeout).await?;
        let now = unix_now();
        let mut candidate = (*self.inner.keys.snapshot()).clone();
        if !answer.status.is_success() {
            return Err(answer.api_error(operation, &candidate, now));
        }
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
                status: answer.status.as_u16(),
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
    /// once, unless another task just did or the last download triggered
    /// this way is too recent. Returns whether the keys changed.
    pub(crate) async fn refresh_for_unknown_serial(&self, serial: &str) -> bool {
        if !self.inner.keys.downloads() {
            return false;
        }
        let mut downloads = self.inner.keys.downloads.lock().await;
        if self.inner.keys.snapshot().key(serial).is_some() {
            // Another task's download brought it while this one waited.
            return true;
        }
        if downloads
            .for_unknown_serial
            .is_some_and(|at| at.elapsed() < MIN_UNKNOWN_SERIAL_REFRESH)
        {
            return false;
        }
        let result = self.download_certificates().await;
        let now = Instant::now();
        downloads.any = Some(now);
        downloads.for_unknown_serial = Some(now);
        match result {
            Ok(_) => self.inner.keys.snapshot().key(serial).is_some(),
            Err(error) => {
                tracing::warn!(%error, "platform certificate download failed");
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
            let fresh = downloads
                .any
                .is_some_and(|at| at.elapsed() < MIN_UNKNOWN_SERIAL_REFRESH);
            drop(downloads);
            if !fresh {
                self.refresh_certificates().await?;
            }
        }
        Ok(())
    }
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
