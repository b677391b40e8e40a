//! The APIv2 TLS listener: rustls, asking for (not requiring) a client
//! certificate that chains to the sandbox CA. A connection without one is
//! served; one with a certificate the CA did not issue fails the
//! handshake. The handler sees what was presented through
//! [`ConnectInfo<TlsPeer>`](axum::extract::ConnectInfo).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::{IncomingStream, Listener};
use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::config::SandboxError;
use crate::credentials::TlsMaterial;

/// A TLS handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is on the other end of a TLS connection.
#[derive(Debug, Clone)]
pub(crate) struct TlsPeer {
    /// The client's address.
    pub(crate) remote: SocketAddr,
    /// The client certificate presented (DER), verified against the
    /// sandbox CA; `None` when none was presented.
    pub(crate) client_certificate: Option<Vec<u8>>,
}

impl axum::extract::connect_info::Connected<IncomingStream<'_, TlsListener>> for TlsPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Accepted, handshaken connections, fed by a background task.
pub(crate) struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, TlsPeer)>,
    local: SocketAddr,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accepting task ended (shutdown): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(TlsPeer {
            remote: self.local,
            client_certificate: None,
        })
    }
}

impl TlsListener {
    /// Binds `addr` and starts accepting; abort the handle to stop (and
    /// close the port).
    pub(crate) async fn bind(
        addr: SocketAddr,
        material: &TlsMaterial,
    ) -> Result<(TlsListener, SocketAddr, JoinHandle<()>), SandboxError> {
        let config = server_config(material)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let (sender, accepted) = mpsc::channel(64);
        let task = tokio::spawn(async move {
            loop {
                let (tcp, remote) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::debug!(%error, "TLS listener: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let sender = sender.clone();
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
                    let stream = match handshake {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(error)) => {
                            tracing::info!(%remote, %error, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let client_certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|chain| chain.first())
                        .map(|certificate| certificate.as_ref().to_vec());
                    let peer = TlsPeer {
                        remote,
                        client_certificate,
                    };
                    let _ = sender.send((stream, peer)).await;
                });
            }
        });
        Ok((TlsListener { accepted, local }, local, task))
    }
}

/// The rustls configuration: the server certificate (and the CA), and a
/// client verifier that trusts the sandbox CA and lets connections without
/// a certificate through.
fn server_config(material: &TlsMaterial) -> Result<ServerConfig, SandboxError> {
    let failed = |reason: String| SandboxError::Certificate {
        reason: format!("the APIv2 TLS listener: {reason}"),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(material.ca_der.clone()))
        .map_err(|e| failed(e.to_string()))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![
                CertificateDer::from(material.server_der.clone()),
                CertificateDer::from(material.ca_der.clone()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(material.server_key_der.clone())),
        )
        .map_err(|e| failed(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
