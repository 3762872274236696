//! One uncached thumbprint fetch: discovery document over HTTPS, `jwks_uri` host, TLS chain, SHA-1 of the last
//! certificate the server sent.

use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, HOST, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::error::ThumbprintError;

/// Discovery documents are a few KiB; anything far larger is not one.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";

/// What a fetch finds for one issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Thumbprints {
    /// Host of the discovery document's `jwks_uri`, with `:port` when the URI names a port.
    pub jwks_host: String,
    /// 40 lowercase hex characters each: the `jwks_uri` host's first, then the discovery host's when that is a
    /// different host:port with a different thumbprint. Never empty.
    pub thumbprints: Vec<String>,
}

/// SHA-1 of a DER certificate as IAM writes thumbprints: 40 lowercase hex characters.
pub fn sha1_thumbprint(der: &[u8]) -> String {
    hex::encode(Sha1::digest(der))
}

/// An https URL taken apart into what connecting needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Endpoint {
    /// Host without IPv6 brackets, lowercased (for comparing and for TLS server names).
    host: String,
    port: u16,
    /// `host[:port]` as written in the URL, without user info: the Host header and what users see.
    authority: String,
    path_and_query: String,
}

impl Endpoint {
    /// `host:port` for messages, always with the port.
    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    fn url(&self) -> String {
        format!("https://{}{}", self.authority, self.path_and_query)
    }

    fn same_origin(&self, other: &Endpoint) -> bool {
        self.host == other.host && self.port == other.port
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum UrlProblem {
    NotHttps,
    Invalid(String),
}

pub(super) fn parse_https(url: &str) -> Result<Endpoint, UrlProblem> {
    if !url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) {
        return Err(UrlProblem::NotHttps);
    }
    let uri: Uri = url.parse().map_err(|e: http::uri::InvalidUri| UrlProblem::Invalid(e.to_string()))?;
    let authority = uri.authority().ok_or_else(|| UrlProblem::Invalid("it has no host".to_string()))?;
    let host = authority.host();
    if host.is_empty() {
        return Err(UrlProblem::Invalid("it has no host".to_string()));
    }
    let authority_text = match authority.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let path_and_query = match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("") => "/".to_string(),
        Some(p) => p.to_string(),
    };
    Ok(Endpoint {
        host: host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(),
        port: authority.port_u16().unwrap_or(443),
        authority: authority_text,
        path_and_query,
    })
}

/// The issuer as an endpoint, or the error the user sees for a bad `oidc_issuer_url`.
pub(super) fn parse_issuer(issuer_url: &str) -> Result<Endpoint, ThumbprintError> {
    let issuer = issuer_url.to_string();
    let endpoint = parse_https(issuer_url).map_err(|p| match p {
        UrlProblem::NotHttps => ThumbprintError::NotHttps { issuer: issuer.clone() },
        UrlProblem::Invalid(reason) => ThumbprintError::InvalidIssuer { issuer: issuer.clone(), reason },
    })?;
    if endpoint.path_and_query.contains('?') {
        return Err(ThumbprintError::InvalidIssuer { issuer, reason: "an issuer url has no query string".to_string() });
    }
    Ok(endpoint)
}

/// The verifying TLS client and the time budget of one fetch.
pub(super) struct Client {
    connector: TlsConnector,
    timeout: Duration,
}

impl Client {
    /// Trusts the Mozilla roots compiled into `webpki-roots` plus `extra_roots_pem` (blank counts as none).
    pub(super) fn new(extra_roots_pem: Option<&str>, timeout: Duration) -> Result<Self, ThumbprintError> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_roots_pem.filter(|p| !p.trim().is_empty()) {
            let mut added = 0;
            for item in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert =
                    item.map_err(|e| ThumbprintError::BadCaBundle { reason: format!("cannot read pem: {e}") })?;
                roots.add(cert).map_err(|e| ThumbprintError::BadCaBundle {
                    reason: format!("certificate {} cannot be used as a root: {e}", added + 1),
                })?;
                added += 1;
            }
            if added == 0 {
                return Err(ThumbprintError::BadCaBundle { reason: "it contains no certificate".to_string() });
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("aws-lc-rs supports the default tls versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // A resumed session carries no certificates on the wire; every fetch must see the chain served now.
        config.resumption = Resumption::disabled();
        Ok(Client { connector: TlsConnector::from(Arc::new(config)), timeout })
    }

    /// Discovery document -> `jwks_uri` host -> thumbprints, all within one timeout.
    pub(super) async fn fetch(&self, issuer_url: &str) -> Result<Thumbprints, ThumbprintError> {
        let deadline = Instant::now() + self.timeout;
        let issuer = parse_issuer(issuer_url)?;
        let discovery = Endpoint {
            path_and_query: format!("{}{DISCOVERY_SUFFIX}", issuer.path_and_query.trim_end_matches('/')),
            ..issuer
        };
        let discovery_url = discovery.url();
        let (body, discovery_chain) = self.get(&discovery, &discovery_url, deadline).await?;
        let jwks = jwks_endpoint(&discovery_url, &body)?;

        let mut thumbprints = Vec::with_capacity(2);
        if jwks.same_origin(&discovery) {
            // Same host and port: the chain the discovery connection saw is the one a new connection would see.
            thumbprints.push(top_thumbprint(&discovery_chain, &discovery)?);
        } else {
            let mut tls = self.connect(&jwks, deadline).await?;
            let jwks_chain = peer_chain(&tls);
            // Only the chain was needed; close politely, and never fail a fetch over it.
            let _ = timeout_at(deadline, tls.shutdown()).await;
            thumbprints.push(top_thumbprint(&jwks_chain, &jwks)?);
            let discovery_thumbprint = top_thumbprint(&discovery_chain, &discovery)?;
            if !thumbprints.contains(&discovery_thumbprint) {
                thumbprints.push(discovery_thumbprint);
            }
        }
        Ok(Thumbprints { jwks_host: jwks.authority, thumbprints })
    }

    fn timed_out(&self, endpoint: &Endpoint, doing: &str) -> ThumbprintError {
        ThumbprintError::Unreachable {
            address: endpoint.address(),
            detail: format!("no answer within {:?} while {doing}", self.timeout),
        }
    }

    /// TCP connect and TLS handshake with SNI = host, verifying the chain.
    async fn connect(&self, endpoint: &Endpoint, deadline: Instant) -> Result<TlsStream<TcpStream>, ThumbprintError> {
        let address = endpoint.address();
        let server_name = ServerName::try_from(endpoint.host.clone()).map_err(|e| ThumbprintError::Tls {
            address: address.clone(),
            detail: format!("{:?} is not a valid tls server name: {e}", endpoint.host),
        })?;
        let tcp = timeout_at(deadline, TcpStream::connect((endpoint.host.as_str(), endpoint.port)))
            .await
            .map_err(|_| self.timed_out(endpoint, "connecting"))?
            .map_err(|e| ThumbprintError::Unreachable { address: address.clone(), detail: e.to_string() })?;
        timeout_at(deadline, self.connector.connect(server_name, tcp))
            .await
            .map_err(|_| self.timed_out(endpoint, "in the tls handshake"))?
            .map_err(|e| classify_handshake_error(&address, &endpoint.host, e))
    }

    /// GET over a fresh verified connection: the body of a 200 answer and the chain the server sent.
    async fn get(
        &self,
        endpoint: &Endpoint,
        url: &str,
        deadline: Instant,
    ) -> Result<(Bytes, Vec<CertificateDer<'static>>), ThumbprintError> {
        let tls = self.connect(endpoint, deadline).await?;
        let chain = peer_chain(&tls);
        let http_error = |detail: String| ThumbprintError::Http { url: url.to_string(), detail };

        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| http_error(e.to_string()))?;
        let _connection = AbortOnDrop(tokio::spawn(async move {
            // Its errors surface through send_request and the body.
            let _ = connection.await;
        }));

        let request = Request::get(endpoint.path_and_query.as_str())
            .header(HOST, endpoint.authority.as_str())
            .header(USER_AGENT, concat!("terraform-provider-eksidentity/", env!("CARGO_PKG_VERSION")))
            .header(ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| http_error(e.to_string()))?;
        let response = timeout_at(deadline, sender.send_request(request))
            .await
            .map_err(|_| self.timed_out(endpoint, "waiting for the discovery document"))?
            .map_err(|e| http_error(e.to_string()))?;
        if response.status() != StatusCode::OK {
            return Err(ThumbprintError::HttpStatus { url: url.to_string(), status: response.status().as_u16() });
        }
        let body = timeout_at(deadline, Limited::new(response.into_body(), MAX_DOCUMENT_BYTES).collect())
            .await
            .map_err(|_| self.timed_out(endpoint, "reading the discovery document"))?
            .map_err(|e| http_error(e.to_string()))?
            .to_bytes();
        Ok((body, chain))
    }
}

/// Stops the HTTP connection task when the fetch is done or dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn peer_chain(tls: &TlsStream<TcpStream>) -> Vec<CertificateDer<'static>> {
    tls.get_ref().1.peer_certificates().map(<[_]>::to_vec).unwrap_or_default()
}

/// The thumbprint IAM documents: SHA-1 of the last certificate the server sent (the top intermediate CA).
fn top_thumbprint(chain: &[CertificateDer<'_>], endpoint: &Endpoint) -> Result<String, ThumbprintError> {
    chain
        .last()
        .map(|cert| sha1_thumbprint(cert.as_ref()))
        .ok_or_else(|| ThumbprintError::NoCertificates { address: endpoint.address() })
}

fn classify_handshake_error(address: &str, host: &str, error: std::io::Error) -> ThumbprintError {
    use rustls::CertificateError as C;
    let address = address.to_string();
    let Some(tls_error) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return ThumbprintError::Tls { address, detail: error.to_string() };
    };
    match tls_error {
        rustls::Error::InvalidCertificate(cert_error) => {
            let detail = match cert_error {
                C::UnknownIssuer => "it is not issued by a trusted root certificate authority".to_string(),
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    format!("the server certificate is not valid for {host:?}")
                }
                C::Expired | C::ExpiredContext { .. } => "a certificate in the chain has expired".to_string(),
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    "a certificate in the chain is not valid yet".to_string()
                }
                other => format!("{other:?}").to_lowercase(),
            };
            ThumbprintError::UntrustedChain { address, detail }
        }
        rustls::Error::NoCertificatesPresented => ThumbprintError::NoCertificates { address },
        other => ThumbprintError::Tls { address, detail: other.to_string() },
    }
}

/// The `jwks_uri` of a discovery document, as an https endpoint.
fn jwks_endpoint(url: &str, body: &[u8]) -> Result<Endpoint, ThumbprintError> {
    let bad = |reason: String| ThumbprintError::BadDiscoveryDocument { url: url.to_string(), reason };
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(format!("is not json ({e})")))?;
    let Some(doc) = doc.as_object() else { return Err(bad("is not a json object".to_string())) };
    let jwks_uri = match doc.get("jwks_uri") {
        None | Some(serde_json::Value::Null) => return Err(bad("has no jwks_uri".to_string())),
        Some(serde_json::Value::String(s)) => s,
        Some(_) => return Err(bad("has a jwks_uri that is not a string".to_string())),
    };
    parse_https(jwks_uri).map_err(|p| match p {
        UrlProblem::NotHttps => bad(format!("has a jwks_uri that is not https ({jwks_uri:?})")),
        UrlProblem::Invalid(reason) => bad(format!("has a jwks_uri that is not a valid url ({jwks_uri:?}: {reason})")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_thumbprint_known_answers() {
        // FIPS 180-1 test vectors.
        assert_eq!(sha1_thumbprint(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_thumbprint(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }

    #[test]
    fn parse_https_cases() {
        struct Case {
            name: &'static str,
            url: &'static str,
            want: Result<(&'static str, u16, &'static str, &'static str), UrlProblem>,
        }
        let cases = [
            Case {
                name: "eks issuer",
                url: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC",
                want: Ok(("oidc.eks.us-west-2.amazonaws.com", 443, "oidc.eks.us-west-2.amazonaws.com", "/id/ABC")),
            },
            Case {
                name: "loopback with port",
                url: "https://localhost:8443/id/T",
                want: Ok(("localhost", 8443, "localhost:8443", "/id/T")),
            },
            Case { name: "no path", url: "https://example.com", want: Ok(("example.com", 443, "example.com", "/")) },
            Case {
                name: "uppercase scheme and host",
                url: "HTTPS://Example.COM/keys",
                want: Ok(("example.com", 443, "Example.COM", "/keys")),
            },
            Case { name: "ipv6", url: "https://[::1]:9443/k", want: Ok(("::1", 9443, "[::1]:9443", "/k")) },
            Case {
                name: "user info is dropped",
                url: "https://u:p@example.com/k",
                want: Ok(("example.com", 443, "example.com", "/k")),
            },
            Case { name: "http", url: "http://example.com/id/X", want: Err(UrlProblem::NotHttps) },
            Case { name: "no scheme", url: "oidc.eks.us-west-2.amazonaws.com/id/X", want: Err(UrlProblem::NotHttps) },
            Case { name: "empty", url: "", want: Err(UrlProblem::NotHttps) },
        ];
        for c in cases {
            let got = parse_https(c.url).map(|e| (e.host, e.port, e.authority, e.path_and_query));
            let want = c.want.map(|(h, p, a, q)| (h.to_string(), p, a.to_string(), q.to_string()));
            assert_eq!(got, want, "case {:?}", c.name);
        }
        assert!(matches!(parse_https("https://exa mple.com/"), Err(UrlProblem::Invalid(_))));
        assert_eq!(parse_https("https://[::1]:9443/k").unwrap().address(), "[::1]:9443");
    }

    #[test]
    fn parse_issuer_errors() {
        let cases = [
            ("http", "http://localhost/id/X", "does not use https"),
            ("query", "https://localhost/id/X?a=b", "no query string"),
            ("space in host", "https://local host/id", "is not usable"),
        ];
        for (name, url, fragment) in cases {
            let err = parse_issuer(url).unwrap_err().to_string();
            assert!(err.contains(fragment), "case {name:?}: {err}");
            assert!(err.contains(url), "case {name:?}: {err}");
        }
    }

    #[test]
    fn jwks_endpoint_cases() {
        let url = "https://issuer/.well-known/openid-configuration";
        let cases: [(&str, &str, Result<&str, &str>); 8] = [
            (
                "ok",
                r#"{"issuer":"https://issuer","jwks_uri":"https://keys.example.com:8443/k"}"#,
                Ok("keys.example.com:8443"),
            ),
            ("not json", "<html>", Err("is not json")),
            ("not an object", "[]", Err("is not a json object")),
            ("no jwks_uri", r#"{"issuer":"https://issuer"}"#, Err("has no jwks_uri")),
            ("null jwks_uri", r#"{"jwks_uri":null}"#, Err("has no jwks_uri")),
            ("number jwks_uri", r#"{"jwks_uri":5}"#, Err("not a string")),
            ("http jwks_uri", r#"{"jwks_uri":"http://keys/k"}"#, Err("is not https")),
            ("broken jwks_uri", r#"{"jwks_uri":"https://ke ys/k"}"#, Err("not a valid url")),
        ];
        for (name, body, want) in cases {
            match (jwks_endpoint(url, body.as_bytes()), want) {
                (Ok(ep), Ok(authority)) => assert_eq!(ep.authority, authority, "case {name:?}"),
                (Err(e @ ThumbprintError::BadDiscoveryDocument { .. }), Err(fragment)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(fragment) && msg.contains(url), "case {name:?}: {msg}");
                }
                (got, _) => panic!("case {name:?}: got {got:?}"),
            }
        }
    }

    #[test]
    fn bad_ca_bundles_are_refused() {
        let cases = [
            ("no certificate", "hello", "contains no certificate"),
            (
                "only a key block",
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "contains no certificate",
            ),
            (
                "garbage inside a certificate block",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "cannot be used as a root",
            ),
        ];
        for (name, pem, fragment) in cases {
            let err = Client::new(Some(pem), Duration::from_secs(1))
                .err()
                .unwrap_or_else(|| panic!("case {name:?} accepted"));
            assert!(matches!(err, ThumbprintError::BadCaBundle { .. }), "case {name:?}: {err:?}");
            assert!(err.to_string().contains(fragment), "case {name:?}: {err}");
        }
        assert!(Client::new(Some("  \n"), Duration::from_secs(1)).is_ok(), "a blank bundle means no extra roots");
        assert!(Client::new(None, Duration::from_secs(1)).is_ok());
    }
}
