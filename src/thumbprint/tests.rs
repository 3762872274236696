//! End-to-end tests against in-process HTTPS servers on 127.0.0.1 with generated root -> intermediate -> leaf
//! chains. Expected thumbprints are computed from the generated intermediate's DER, not from anything read off the
//! wire.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::*;

const DISCOVERY_PATH: &str = "/id/TEST/.well-known/openid-configuration";
const TIMEOUT: Duration = Duration::from_secs(10);

fn hex_sha1(der: &[u8]) -> String {
    Sha1::digest(der).iter().map(|b| format!("{b:02x}")).collect()
}

/// A test certificate authority.
struct Root {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// What a server presents, and the certificates a test computes expectations from.
struct Chain {
    intermediate_der: Vec<u8>,
    leaf_der: Vec<u8>,
    config: Arc<ServerConfig>,
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

impl Root {
    fn new(name: &str) -> Root {
        let issuer =
            CertifiedIssuer::self_signed(ca_params(&format!("{name} root")), KeyPair::generate().unwrap()).unwrap();
        Root { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A fresh intermediate under this root and a leaf for `names`; the server sends leaf then intermediate.
    fn chain(&self, names: &[&str]) -> Chain {
        let intermediate =
            CertifiedIssuer::signed_by(ca_params("test intermediate"), KeyPair::generate().unwrap(), &self.issuer)
                .unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params.signed_by(&leaf_key, &intermediate).unwrap();

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), intermediate.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
        Chain { intermediate_der: intermediate.der().to_vec(), leaf_der: leaf.der().to_vec(), config: Arc::new(config) }
    }
}

type Routes = HashMap<String, (u16, String)>;

/// A minimal HTTPS server: answers GETs from a route table (404 otherwise), counts handshakes and requests.
struct TestServer {
    port: u16,
    handshakes: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    routes: Arc<Mutex<Routes>>,
    config: Arc<Mutex<Arc<ServerConfig>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// `delay` holds every answer back, so concurrent callers certainly overlap.
    async fn start(config: Arc<ServerConfig>, delay: Duration) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let config = Arc::new(Mutex::new(config));
        let task = tokio::spawn({
            let (handshakes, requests, routes, config) =
                (handshakes.clone(), requests.clone(), routes.clone(), config.clone());
            async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else { return };
                    let acceptor = TlsAcceptor::from(config.lock().unwrap().clone());
                    let (handshakes, requests, routes) = (handshakes.clone(), requests.clone(), routes.clone());
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                        handshakes.fetch_add(1, Ordering::SeqCst);
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 4096];
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match tls.read(&mut chunk).await {
                                Ok(0) | Err(_) => return, // a handshake-only client (the jwks host check)
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        requests.fetch_add(1, Ordering::SeqCst);
                        let head = String::from_utf8_lossy(&buf);
                        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                        let (status, body) =
                            routes.lock().unwrap().get(&path).cloned().unwrap_or((404, "not found".to_string()));
                        tokio::time::sleep(delay).await;
                        let response = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                             connection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = tls.write_all(response.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            }
        });
        TestServer { port, handshakes, requests, routes, config, task }
    }

    fn route(&self, path: &str, status: u16, body: impl Into<String>) {
        self.routes.lock().unwrap().insert(path.to_string(), (status, body.into()));
    }

    /// Serve a discovery document pointing at `jwks_uri`.
    fn discovery(&self, jwks_uri: &str) {
        let body = serde_json::json!({ "issuer": self.issuer(), "jwks_uri": jwks_uri }).to_string();
        self.route(DISCOVERY_PATH, 200, body);
    }

    fn issuer(&self) -> String {
        format!("https://localhost:{}/id/TEST", self.port)
    }

    fn set_chain(&self, config: Arc<ServerConfig>) {
        *self.config.lock().unwrap() = config;
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits (up to 5s) for the server side to catch up: its counters move after the client already has its answer.
async fn eventually(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not reached within 5s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One server serving both the discovery document and the keys, trusted through the extra root.
async fn single_server(root: &Root, delay: Duration) -> (TestServer, Chain, ThumbprintFetcher) {
    let chain = root.chain(&["localhost"]);
    let server = TestServer::start(chain.config.clone(), delay).await;
    server.discovery(&format!("https://localhost:{}/id/TEST/keys", server.port));
    let fetcher = ThumbprintFetcher::new(Some(&root.pem()), TIMEOUT).unwrap();
    (server, chain, fetcher)
}

#[tokio::test]
async fn thumbprint_is_sha1_of_the_intermediate_the_server_sent_last() {
    let root = Root::new("a");
    let (server, chain, fetcher) = single_server(&root, Duration::ZERO).await;

    let got = fetcher.thumbprints(&server.issuer()).await.unwrap();

    let want = hex_sha1(&chain.intermediate_der);
    assert_eq!(got, Thumbprints { jwks_host: format!("localhost:{}", server.port), thumbprints: vec![want.clone()] });
    assert_eq!(want.len(), 40);
    assert!(want.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_ne!(want, hex_sha1(&chain.leaf_der), "the leaf is not the thumbprinted certificate");
    assert_ne!(
        want,
        hex_sha1(CertificateDer::from(root.issuer.der().to_vec()).as_ref()),
        "the root is not sent, so it cannot be thumbprinted"
    );
    // Same host and port: one connection serves both the document and the chain.
    assert_eq!((server.requests(), server.handshakes()), (1, 1));
}

#[tokio::test]
async fn a_separate_jwks_host_comes_first_and_the_discovery_host_is_added() {
    let (root_a, root_b) = (Root::new("a"), Root::new("b"));
    let chain_a = root_a.chain(&["localhost"]);
    let chain_b = root_b.chain(&["localhost", "127.0.0.1"]);
    let discovery = TestServer::start(chain_a.config.clone(), Duration::ZERO).await;
    let keys = TestServer::start(chain_b.config.clone(), Duration::ZERO).await;
    discovery.discovery(&format!("https://127.0.0.1:{}/keys", keys.port));
    let fetcher = ThumbprintFetcher::new(Some(&format!("{}{}", root_a.pem(), root_b.pem())), TIMEOUT).unwrap();

    let got = fetcher.thumbprints(&discovery.issuer()).await.unwrap();

    assert_eq!(got.jwks_host, format!("127.0.0.1:{}", keys.port));
    assert_eq!(got.thumbprints, vec![hex_sha1(&chain_b.intermediate_der), hex_sha1(&chain_a.intermediate_der)]);
    eventually(|| keys.handshakes() >= 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(keys.handshakes(), 1);
    assert_eq!(keys.requests(), 0, "the jwks host is only handshaken with");
    assert_eq!(discovery.requests(), 1);
}

#[tokio::test]
async fn hosts_with_the_same_intermediate_give_one_thumbprint() {
    let root = Root::new("a");
    let chain = root.chain(&["localhost"]);
    let discovery = TestServer::start(chain.config.clone(), Duration::ZERO).await;
    let keys = TestServer::start(chain.config.clone(), Duration::ZERO).await;
    discovery.discovery(&format!("https://localhost:{}/keys", keys.port));
    let fetcher = ThumbprintFetcher::new(Some(&root.pem()), TIMEOUT).unwrap();

    let got = fetcher.thumbprints(&discovery.issuer()).await.unwrap();

    assert_eq!(got.thumbprints, vec![hex_sha1(&chain.intermediate_der)]);
    eventually(|| keys.handshakes() >= 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(keys.handshakes(), 1);
}

#[tokio::test]
async fn untrusted_chains_are_refused_and_point_at_oidc_ca_bundle() {
    let (root_a, root_b) = (Root::new("a"), Root::new("b"));
    let chain_a = root_a.chain(&["localhost"]);
    let chain_b = root_b.chain(&["127.0.0.1"]);
    let discovery = TestServer::start(chain_a.config.clone(), Duration::ZERO).await;
    let keys = TestServer::start(chain_b.config.clone(), Duration::ZERO).await;
    discovery.discovery(&format!("https://127.0.0.1:{}/keys", keys.port));

    let cases = [
        ("no extra roots", None, format!("localhost:{}", discovery.port)),
        ("another root", Some(root_b.pem()), format!("localhost:{}", discovery.port)),
        ("discovery trusted, jwks host not", Some(root_a.pem()), format!("127.0.0.1:{}", keys.port)),
    ];
    for (name, roots, want_address) in cases {
        let fetcher = ThumbprintFetcher::new(roots.as_deref(), TIMEOUT).unwrap();
        let err = fetcher.thumbprints(&discovery.issuer()).await.unwrap_err();
        match &err {
            ThumbprintError::UntrustedChain { address, .. } => assert_eq!(address, &want_address, "case {name:?}"),
            other => panic!("case {name:?}: {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("oidc_ca_bundle") && msg.contains(&want_address), "case {name:?}: {msg}");
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let root = Root::new("a");
    let chain = root.chain(&["not-localhost.example"]);
    let server = TestServer::start(chain.config.clone(), Duration::ZERO).await;
    server.discovery("https://localhost/keys");
    let fetcher = ThumbprintFetcher::new(Some(&root.pem()), TIMEOUT).unwrap();

    let err = fetcher.thumbprints(&server.issuer()).await.unwrap_err();
    assert!(
        matches!(&err, ThumbprintError::UntrustedChain { detail, .. } if detail.contains("not valid for")),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_discovery_documents_and_statuses() {
    let root = Root::new("a");
    let (server, _chain, fetcher) = single_server(&root, Duration::ZERO).await;
    let discovery_url = format!("https://localhost:{}{DISCOVERY_PATH}", server.port);

    let cases: [(&str, u16, &str, &str); 5] = [
        ("not json", 200, "<html>hello</html>", "is not json"),
        ("no jwks_uri", 200, r#"{"issuer":"x"}"#, "has no jwks_uri"),
        ("http jwks_uri", 200, r#"{"jwks_uri":"http://localhost/keys"}"#, "is not https"),
        ("not found", 404, "nope", "http status 404"),
        ("server error", 500, "{}", "http status 500"),
    ];
    for (name, status, body, fragment) in cases {
        server.route(DISCOVERY_PATH, status, body);
        let err = fetcher.thumbprints(&server.issuer()).await.unwrap_err();
        let want_kind = if status == 200 {
            matches!(err, ThumbprintError::BadDiscoveryDocument { .. })
        } else {
            err == ThumbprintError::HttpStatus { url: discovery_url.clone(), status }
        };
        assert!(want_kind, "case {name:?}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(fragment) && msg.contains(&discovery_url), "case {name:?}: {msg}");
    }
}

#[tokio::test]
async fn an_issuer_with_no_discovery_document_is_a_404() {
    let root = Root::new("a");
    let (server, _chain, fetcher) = single_server(&root, Duration::ZERO).await;
    let issuer = format!("https://localhost:{}/id/OTHER", server.port);
    let err = fetcher.thumbprints(&issuer).await.unwrap_err();
    assert_eq!(
        err,
        ThumbprintError::HttpStatus {
            url: format!("https://localhost:{}/id/OTHER/.well-known/openid-configuration", server.port),
            status: 404
        }
    );
}

#[tokio::test]
async fn an_unreachable_issuer_names_host_and_port() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let fetcher = ThumbprintFetcher::new(None, TIMEOUT).unwrap();
    let err = fetcher.thumbprints(&format!("https://localhost:{port}/id/X")).await.unwrap_err();
    assert!(
        matches!(&err, ThumbprintError::Unreachable { address, .. } if *address == format!("localhost:{port}")),
        "{err:?}"
    );
    assert!(err.to_string().contains(&format!("localhost:{port}")));
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_budget() {
    // Accepts TCP and never says a word.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let fetcher = ThumbprintFetcher::new(None, Duration::from_millis(300)).unwrap();

    let started = Instant::now();
    let err = fetcher.thumbprints(&format!("https://127.0.0.1:{port}/id/X")).await.unwrap_err();

    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    match &err {
        ThumbprintError::Unreachable { address, detail } => {
            assert_eq!(address, &format!("127.0.0.1:{port}"));
            assert!(detail.contains("no answer within 300ms"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    hold.abort();
}

#[tokio::test]
async fn issuer_urls_that_are_not_https_fail_without_network() {
    let fetcher = ThumbprintFetcher::new(None, TIMEOUT).unwrap();
    let cases = [("http", "http://oidc.example.com/id/X"), ("no scheme", "oidc.eks.us-west-2.amazonaws.com/id/X")];
    for (name, issuer) in cases {
        let err = fetcher.thumbprints(issuer).await.unwrap_err();
        assert_eq!(err, ThumbprintError::NotHttps { issuer: issuer.to_string() }, "case {name:?}");
        assert!(err.to_string().starts_with("oidc issuer url"), "case {name:?}");
    }
    assert!(fetcher.cached("http://oidc.example.com/id/X").is_none());
}

#[tokio::test]
async fn results_are_cached_per_issuer_until_invalidated() {
    let root = Root::new("a");
    let (server, chain, fetcher) = single_server(&root, Duration::ZERO).await;
    let issuer = server.issuer();
    assert!(fetcher.cached(&issuer).is_none());

    let first = fetcher.thumbprints(&issuer).await.unwrap();
    let second = fetcher.thumbprints(&issuer).await.unwrap();
    let with_slash = fetcher.thumbprints(&format!("{issuer}/")).await.unwrap();
    assert_eq!((&first, &second, &with_slash), (&first, &first, &first));
    assert_eq!(server.requests(), 1, "one fetch for three calls");
    assert_eq!(fetcher.cached(&issuer), Some(first.clone()));
    // Clones share the cache.
    assert_eq!(fetcher.clone().thumbprints(&issuer).await.unwrap(), first);
    assert_eq!(server.requests(), 1);

    // The chain rotates to a new intermediate: the cache keeps the old answer until invalidated.
    let rotated = root.chain(&["localhost"]);
    server.set_chain(rotated.config.clone());
    assert_eq!(fetcher.thumbprints(&issuer).await.unwrap().thumbprints, vec![hex_sha1(&chain.intermediate_der)]);
    assert!(fetcher.invalidate(&issuer));
    assert!(!fetcher.invalidate(&issuer));
    assert_eq!(fetcher.thumbprints(&issuer).await.unwrap().thumbprints, vec![hex_sha1(&rotated.intermediate_der)]);
    assert_eq!(server.requests(), 2);

    fetcher.invalidate_all();
    assert!(fetcher.cached(&issuer).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_fetch() {
    let root = Root::new("a");
    let (server, chain, fetcher) = single_server(&root, Duration::from_millis(300)).await;
    let issuer = server.issuer();

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (fetcher, issuer) = (fetcher.clone(), issuer.clone());
            tokio::spawn(async move { fetcher.thumbprints(&issuer).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().thumbprints, vec![hex_sha1(&chain.intermediate_der)]);
    }
    assert_eq!((server.requests(), server.handshakes()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_shared_by_concurrent_callers_and_then_forgotten() {
    let root = Root::new("a");
    let (server, chain, fetcher) = single_server(&root, Duration::from_millis(300)).await;
    let issuer = server.issuer();
    server.route(DISCOVERY_PATH, 503, "busy");

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (fetcher, issuer) = (fetcher.clone(), issuer.clone());
            tokio::spawn(async move { fetcher.thumbprints(&issuer).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(ThumbprintError::HttpStatus { status: 503, .. })));
    }
    assert_eq!(server.requests(), 1, "twenty callers, one failed fetch");
    assert!(fetcher.cached(&issuer).is_none());

    // The issuer recovers: the next call fetches again instead of replaying the failure.
    server.discovery(&format!("https://localhost:{}/id/TEST/keys", server.port));
    assert_eq!(fetcher.thumbprints(&issuer).await.unwrap().thumbprints, vec![hex_sha1(&chain.intermediate_der)]);
    assert_eq!(server.requests(), 2);
}
