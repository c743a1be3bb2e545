//! The rustls client configuration: which roots to trust, and the loud
//! opt-out from verification.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::{BuildError, BuildErrorKind};

/// Where the trust anchors come from.
#[derive(Clone, Debug, Default)]
pub(crate) enum Roots {
    /// Mozilla's roots compiled in (webpki-roots).
    #[default]
    Webpki,
    /// The operating system's store.
    #[cfg(feature = "native-roots")]
    Native,
    /// A PEM bundle file, replacing the defaults (what `GLOBUS_SDK_VERIFY_SSL`
    /// set to a path means).
    PemFile(PathBuf),
    /// PEM bytes, replacing the defaults.
    Pem(Arc<[u8]>),
}

fn parse_pem(
    iter: impl Iterator<Item = Result<CertificateDer<'static>, rustls_pki_types::pem::Error>>,
    what: &str,
) -> Result<RootCertStore, BuildError> {
    let mut store = RootCertStore::empty();
    for cert in iter {
        let cert = cert.map_err(|e| {
            BuildError::new(
                BuildErrorKind::CaBundle,
                format!("CA bundle {what} is not valid PEM"),
            )
            .with_source(e)
        })?;
        store.add(cert).map_err(|e| {
            BuildError::new(
                BuildErrorKind::CaBundle,
                format!("CA bundle {what} holds an unusable certificate"),
            )
            .with_source(e)
        })?;
    }
    if store.is_empty() {
        return Err(BuildError::new(
            BuildErrorKind::CaBundle,
            format!("CA bundle {what} holds no certificate"),
        ));
    }
    Ok(store)
}

/// The ring provider every config uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Build the client config (ALPN left empty: the connector sets it).
pub(crate) fn client_config(
    roots: &Roots,
    accept_invalid_certs: bool,
) -> Result<ClientConfig, BuildError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| {
            BuildError::new(BuildErrorKind::Tls, "no usable TLS protocol version").with_source(e)
        })?;
    if accept_invalid_certs {
        tracing::warn!(
            "TLS certificate verification is DISABLED for this Groups client \
             (danger_accept_invalid_certs / GLOBUS_SDK_VERIFY_SSL=false): \
             any server can impersonate the service and read your tokens"
        );
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
            .with_no_client_auth());
    }
    let with_roots = match roots {
        Roots::Webpki => {
            use hyper_rustls::ConfigBuilderExt as _;
            builder.with_webpki_roots()
        }
        #[cfg(feature = "native-roots")]
        Roots::Native => {
            use hyper_rustls::ConfigBuilderExt as _;
            builder.with_native_roots().map_err(|e| {
                BuildError::new(
                    BuildErrorKind::Tls,
                    "no usable certificate in the operating system's store",
                )
                .with_source(e)
            })?
        }
        Roots::PemFile(path) => {
            let what = format!("{}", path.display());
            let iter = CertificateDer::pem_file_iter(path).map_err(|e| {
                BuildError::new(
                    BuildErrorKind::CaBundle,
                    format!("cannot read CA bundle {what}"),
                )
                .with_source(e)
            })?;
            builder.with_root_certificates(parse_pem(iter, &what)?)
        }
        Roots::Pem(pem) => {
            builder.with_root_certificates(parse_pem(CertificateDer::pem_slice_iter(pem), "(PEM)")?)
        }
    };
    Ok(with_roots.with_no_client_auth())
}

/// Accepts any certificate chain but still checks handshake signatures (so
/// the peer must hold the key of the certificate it shows). Only reachable
/// through `danger_accept_invalid_certs` or `GLOBUS_SDK_VERIFY_SSL=false`.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
