//! OIDC issuer thumbprints as IAM documents them: GET `<issuer>/.well-known/openid-configuration`, take the host of
//! its `jwks_uri`, open TLS to that host with SNI, verify the chain, take the LAST certificate the server sent (the
//! top intermediate CA) and hex-encode the SHA-1 of its DER. When the discovery host differs from the `jwks_uri`
//! host, the discovery host's thumbprint is added after it.
//!
//! Trust: the Mozilla root store compiled in through `webpki-roots`, plus the PEM roots the caller passes (the
//! provider's `oidc_ca_bundle`). The operating system's store is deliberately not read: results do not depend on
//! the machine running Terraform, the provider works in minimal containers without /etc/ssl, and a TLS-inspecting
//! proxy's root installed on the machine cannot make us record the proxy's CA as the issuer's thumbprint.
//!
//! This module must not contain AWS SDK calls, Terraform types (cty, schema, diagnostics) or decisions about what
//! to do with a thumbprint (that is the wiring's job). It talks to OIDC issuers only, over HTTPS, and does not use
//! HTTP proxies.

mod error;
mod fetcher;
mod net;

#[cfg(test)]
mod tests;

pub use error::ThumbprintError;
pub use fetcher::ThumbprintFetcher;
pub use net::{sha1_thumbprint, Thumbprints};
