//! AutoMTLS: the server certificate we make per process and the check of the host's client certificate.
//!
//! go-plugin's host (Terraform) makes a fresh self-signed P-521 certificate per plugin, marked as a CA, passes
//! it in `PLUGIN_CLIENT_CERT`, and presents it as its client certificate. Standard X.509 path validation (as in
//! rustls-webpki's client verifier) rejects a CA certificate presented as an end entity (`CaUsedAsEndEntity`),
//! so we do what the exchange really is: pin that exact certificate. A client is accepted only if it presents
//! byte-for-byte the certificate from the environment, within its validity period, and proves it holds the key
//! (the TLS handshake signature, verified with aws-lc, which supports P-521).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

use super::{ServeError, ServeErrorKind};

/// The certificate we present, and its key.
pub(crate) struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

/// A fresh self-signed certificate for `localhost`, shaped like go-plugin's own (CA flag, server and client
/// usages) because that is what Terraform's Go TLS stack is known to accept. P-256: cheaper to make and to sign
/// with than go-plugin's P-521, and every Go TLS client accepts it.
pub(crate) fn server_identity() -> Result<ServerIdentity, ServeError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        SerialNumber,
    };
    let fail = |e: rcgen::Error| {
        ServeError::new(ServeErrorKind::Setup, format!("could not create the plugin's TLS certificate: {e}"))
    };
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(fail)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.distinguished_name.push(DnType::OrganizationName, "eksidentity");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let now = time::OffsetDateTime::now_utc();
    // A little slack for clock differences; a year is far longer than any Terraform run.
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365);
    params.serial_number = Some(SerialNumber::from_slice(uuid::Uuid::new_v4().as_bytes()));
    let cert = params.self_signed(&key).map_err(fail)?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}

/// TLS 1.2 and 1.3 with aws-lc, our certificate, the pinned client certificate, and ALPN `h2` (recent gRPC-Go
/// clients refuse a server that does not negotiate it).
pub(crate) fn server_config(
    identity: ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<Arc<ServerConfig>, ServeError> {
    let fail = |e: rustls::Error| {
        ServeError::new(ServeErrorKind::Setup, format!("could not set up TLS for the plugin server: {e}"))
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedClientCert::new(client_cert, provider.clone())?);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(fail)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![identity.cert], identity.key)
        .map_err(fail)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly one client certificate.
#[derive(Debug)]
pub(crate) struct PinnedClientCert {
    cert: CertificateDer<'static>,
    not_before: i64,
    not_after: i64,
    provider: Arc<CryptoProvider>,
}

impl PinnedClientCert {
    pub(crate) fn new(cert: CertificateDer<'static>, provider: Arc<CryptoProvider>) -> Result<Self, ServeError> {
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|e| {
            ServeError::new(ServeErrorKind::Setup, format!("PLUGIN_CLIENT_CERT is not a readable certificate: {e}"))
        })?;
        let validity = parsed.validity();
        let (not_before, not_after) = (validity.not_before.timestamp(), validity.not_after.timestamp());
        Ok(Self { cert, not_before, not_after, provider })
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No hints: a Go client only offers a certificate issued by a hinted name, and an empty list means any.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() != self.cert.as_ref() {
            return Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure));
        }
        let now = now.as_secs() as i64;
        if now < self.not_before {
            return Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYet));
        }
        if now > self.not_after {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Expired));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A certificate like go-plugin's client certificate: P-521, self-signed, marked as a CA.
    fn go_plugin_like_cert() -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().der().clone()
    }

    fn now() -> UnixTime {
        UnixTime::now()
    }

    #[test]
    fn pins_exactly_one_certificate() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pinned = go_plugin_like_cert();
        let verifier = PinnedClientCert::new(pinned.clone(), provider).unwrap();
        assert!(verifier.verify_client_cert(&pinned, &[], now()).is_ok());
        let other = go_plugin_like_cert();
        assert!(verifier.verify_client_cert(&other, &[], now()).is_err());
        assert!(verifier.client_auth_mandatory());
        assert!(verifier.supported_verify_schemes().contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn rejects_outside_the_validity_period() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let pinned = go_plugin_like_cert(); // rcgen's default validity: 1975..4096
        let verifier = PinnedClientCert::new(pinned.clone(), provider).unwrap();
        let before = UnixTime::since_unix_epoch(std::time::Duration::from_secs(0));
        assert!(verifier.verify_client_cert(&pinned, &[], before).is_err());
    }

    /// The finding that made the pinning verifier necessary: rustls-webpki's standard client verifier refuses
    /// go-plugin's certificate even when that certificate is the only trusted root.
    #[test]
    fn standard_verifier_rejects_a_ca_used_as_client_certificate() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let cert = go_plugin_like_cert();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).unwrap();
        let standard =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
        let err = standard.verify_client_cert(&cert, &[], now()).unwrap_err();
        assert!(format!("{err:?}").contains("CaUsedAsEndEntity"), "{err:?}");
    }

    #[test]
    fn server_identity_is_a_parseable_localhost_certificate() {
        let id = server_identity().unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(id.cert.as_ref()).unwrap();
        let san = parsed.subject_alternative_name().unwrap().unwrap();
        assert!(format!("{:?}", san.value.general_names).contains("localhost"));
        assert!(parsed.is_ca());
        assert!(server_config(id, go_plugin_like_cert()).is_ok());
    }
}
