//! The one error type of the thumbprint layer.

use std::fmt;

/// Why a thumbprint could not be computed. Messages are lowercase, name the URL or `host:port` involved, and say
/// what to do; the wiring layer puts them in a diagnostic's detail unchanged. Cloneable because concurrent
/// callers waiting on one fetch all receive its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThumbprintError {
    /// The issuer URL does not use https.
    NotHttps { issuer: String },
    /// The issuer URL cannot be parsed or has parts an issuer never has.
    InvalidIssuer { issuer: String, reason: String },
    /// The extra root certificates (`oidc_ca_bundle`) are not usable PEM certificates.
    BadCaBundle { reason: String },
    /// TCP connect failed, or some step did not finish within the timeout.
    Unreachable { address: String, detail: String },
    /// The TLS handshake failed for a reason other than trust.
    Tls { address: String, detail: String },
    /// The server's certificate chain does not verify against the trusted roots.
    UntrustedChain { address: String, detail: String },
    /// The handshake completed without any certificate to take a thumbprint of.
    NoCertificates { address: String },
    /// The discovery document request answered with a status other than 200.
    HttpStatus { url: String, status: u16 },
    /// The HTTP exchange for the discovery document failed (protocol error, oversized body).
    Http { url: String, detail: String },
    /// The discovery document is not JSON, has no `jwks_uri`, or its `jwks_uri` is not an https URL.
    BadDiscoveryDocument { url: String, reason: String },
}

impl fmt::Display for ThumbprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ThumbprintError::*;
        match self {
            NotHttps { issuer } => write!(
                f,
                "oidc issuer url {issuer:?} does not use https; give the issuer's https url, \
                 e.g. https://oidc.eks.<region>.amazonaws.com/id/<id>"
            ),
            InvalidIssuer { issuer, reason } => write!(
                f,
                "oidc issuer url {issuer:?} is not usable: {reason}; give the issuer's https url, \
                 e.g. https://oidc.eks.<region>.amazonaws.com/id/<id>"
            ),
            BadCaBundle { reason } => write!(
                f,
                "oidc_ca_bundle is not usable: {reason}; give one or more pem certificates \
                 (-----BEGIN CERTIFICATE----- blocks) of the issuer's root certificate authority"
            ),
            Unreachable { address, detail } => write!(
                f,
                "cannot reach the oidc issuer at {address}: {detail}; check the issuer url, dns, and that this \
                 machine can open https connections to {address}"
            ),
            Tls { address, detail } => {
                write!(f, "tls handshake with {address} failed: {detail}; check that {address} serves https")
            }
            UntrustedChain { address, detail } => write!(
                f,
                "the certificate chain served by {address} is not trusted: {detail}; if the issuer uses a private \
                 certificate authority, add its root certificate (pem) to the provider's oidc_ca_bundle"
            ),
            NoCertificates { address } => write!(
                f,
                "{address} completed the tls handshake without sending a certificate, so there is no thumbprint to \
                 take; the issuer must serve an x.509 certificate chain"
            ),
            HttpStatus { url, status } => write!(
                f,
                "get {url} returned http status {status}, expected 200; check the issuer url (the discovery \
                 document must be served at <issuer>/.well-known/openid-configuration)"
            ),
            Http { url, detail } => write!(
                f,
                "reading {url} failed: {detail}; check that the issuer serves its discovery document over https"
            ),
            BadDiscoveryDocument { url, reason } => write!(
                f,
                "the openid discovery document at {url} {reason}; the issuer must serve a json document whose \
                 jwks_uri is an https url"
            ),
        }
    }
}

impl std::error::Error for ThumbprintError {}
