//! HTTPS for `sipas-server --tls-cert PEM --tls-key PEM`: rustls with the `ring` provider
//! (no aws-lc / C build), TLS 1.2 and 1.3, HTTP/1.1 over ALPN.
//!
//! [`TlsListener`] plugs into `axum::serve`: a background task accepts TCP connections and
//! runs each TLS handshake in its own task (at most [`HANDSHAKE_TIMEOUT`]), so a slow or
//! silent client never holds up the others; completed handshakes are handed to the server.
//! A client speaking plain HTTP to the TLS port fails its handshake and is disconnected.
use axum::serve::Listener;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

/// Longest a client may take to complete its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is unreadable or holds no PEM certificate.
    #[error(
        "could not read a PEM certificate chain from {path}: {detail}; pass the server \
         certificate (then any intermediates) as PEM with --tls-cert"
    )]
    Certificate {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The key file is unreadable or holds no PEM private key.
    #[error(
        "could not read a PEM private key from {path}: {detail}; pass the certificate's \
         private key (PKCS#8, PKCS#1 or SEC1 PEM, unencrypted) with --tls-key"
    )]
    Key {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("the TLS certificate and key cannot be used together: {0}")]
    Config(String),
}

/// Builds the rustls server configuration from a PEM certificate chain and a PEM key.
pub fn server_config(cert_pem: &Path, key_pem: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_err = |detail: String| TlsError::Certificate {
        path: cert_pem.display().to_string(),
        detail,
    };
    let certs = CertificateDer::pem_file_iter(cert_pem)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no CERTIFICATE block found".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key_pem).map_err(|e| TlsError::Key {
        path: key_pem.display().to_string(),
        detail: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// SHA-256 (lower-case hex) of the certificate in `cert_pem` when it is a lone certificate —
/// the self-signed case, where devices pin it at enrolment (`fp=` of the enrolment QR code).
/// `None` for a chain (a CA-issued certificate with intermediates) or an unreadable file.
pub fn self_signed_fingerprint(cert_pem: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let certs = CertificateDer::pem_file_iter(cert_pem)
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    match certs.as_slice() {
        [only] => Some(hex::encode(Sha256::digest(only.as_ref()))),
        _ => None,
    }
}

/// A listener yielding TLS streams whose handshake has completed.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    /// Serves TLS with `config` on the bound `tcp` listener. Must be called inside a Tokio
    /// runtime (it spawns the accepting task).
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off briefly.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if tx.is_closed() {
                    break;
                }
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        // The peer address is left out: logs carry no personal data.
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accepting task ended (it only does when nothing listens any more).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_or_empty_files_are_actionable_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = server_config(&missing, &missing).unwrap_err();
        assert!(matches!(err, TlsError::Certificate { .. }), "{err}");
        assert!(err.to_string().contains("--tls-cert"), "{err}");
        let err = server_config(&empty, &empty).unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE"), "{err}");
    }
}
