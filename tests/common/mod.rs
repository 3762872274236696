//! A small go-plugin host for tests and benches: starts the provider binary the way Terraform does, reads the
//! handshake line, and connects with AutoMTLS (its own go-plugin-like client certificate, the server certificate
//! pinned from the handshake line).
//!
//! It deliberately does not reuse the provider's own transport code or constants: it is a second, independent
//! implementation of the host side, so a mistake in one shows up as a failure against the other.

#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use tonic::transport::{Channel, Endpoint, Uri};

/// Generated tfplugin6 client and messages.
pub mod tfplugin6 {
    #![allow(clippy::all)]
    tonic::include_proto!("tfplugin6");
}

/// Generated go-plugin clients and messages (controller, stdio, broker).
pub mod goplugin {
    #![allow(clippy::all)]
    tonic::include_proto!("plugin");
}

/// Terraform's go-plugin cookie, copied independently of the provider's source.
pub const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The built provider binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-eksidentity"))
}

/// A host identity like go-plugin's: a fresh P-521 key, a self-signed certificate for `localhost` marked as a CA
/// and used as the client certificate.
pub struct ClientIdentity {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl ClientIdentity {
    pub fn generate() -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        };
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.distinguished_name.push(DnType::OrganizationName, "HashiCorp");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyAgreement,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::seconds(30);
        params.not_after = now + time::Duration::days(1);
        let cert = params.self_signed(&key).unwrap();
        Self { cert_pem: cert.pem(), cert_der: cert.der().clone(), key_der: key.serialize_der() }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// The parsed handshake line: `core|protocol|network|address|grpc|cert`.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub line: String,
    pub core_version: u32,
    pub protocol_version: u32,
    pub network: String,
    pub address: String,
    pub protocol: String,
    /// The server certificate (DER), absent when serving without TLS.
    pub server_cert: Option<Vec<u8>>,
}

impl Handshake {
    pub fn parse(line: &str) -> Result<Handshake, String> {
        use base64::Engine;
        let line = line.trim_end_matches('\n');
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() != 6 {
            return Err(format!("expected 6 fields, got {}: {line:?}", parts.len()));
        }
        let number = |s: &str| s.parse::<u32>().map_err(|e| format!("{s:?}: {e}"));
        let server_cert = if parts[5].is_empty() {
            None
        } else {
            // go-plugin decodes with RawStdEncoding: standard alphabet, no padding.
            let der = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .map_err(|e| format!("certificate is not unpadded standard base64: {e}"))?;
            Some(der)
        };
        Ok(Handshake {
            line: line.to_string(),
            core_version: number(parts[0])?,
            protocol_version: number(parts[1])?,
            network: parts[2].to_string(),
            address: parts[3].to_string(),
            protocol: parts[4].to_string(),
            server_cert,
        })
    }
}

/// How to start the binary. `terraform_like` sets what Terraform sets; the rest adjusts it.
pub struct Launch {
    env: Vec<(String, String)>,
    args: Vec<String>,
    /// Another plugin binary to start instead of ours (the benchmarks start a Go provider the same way).
    program: Option<PathBuf>,
}

impl Launch {
    /// The environment Terraform gives a provider (cookie, protocol versions 5 and 6, port range, our
    /// certificate). The parent's environment is not passed on, so nothing from the test runner leaks in.
    pub fn terraform_like(identity: &ClientIdentity) -> Self {
        Self::bare()
            .env(COOKIE_KEY, COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_CLIENT_CERT", &identity.cert_pem)
    }

    /// Nothing set at all (not even the cookie).
    pub fn bare() -> Self {
        let mut launch = Self { env: Vec::new(), args: Vec::new(), program: None };
        if let Ok(tmp) = std::env::var("TMPDIR") {
            launch = launch.env("TMPDIR", &tmp);
        }
        launch
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    pub fn program(mut self, path: &std::path::Path) -> Self {
        self.program = Some(path.to_path_buf());
        self
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(self.program.clone().unwrap_or_else(binary));
        cmd.env_clear().envs(self.env.iter().map(|(k, v)| (k, v))).args(&self.args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd
    }

    /// Starts the plugin and waits (up to 30 s) for its handshake line.
    pub fn start(&self) -> Result<Plugin, String> {
        let started = Instant::now();
        let mut child = self.command().spawn().map_err(|e| format!("spawn: {e}"))?;
        let stderr = capture(child.stderr.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let stdout_rest = Arc::new(Mutex::new(String::new()));
        let rest = stdout_rest.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = tx.send(first);
            let mut more = String::new();
            let _ = reader.read_to_string(&mut more);
            rest.lock().unwrap().push_str(&more);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).map_err(|_| "no handshake line within 30 s".to_string())?;
        let startup = started.elapsed();
        if line.is_empty() {
            let _ = child.wait();
            return Err(format!("plugin exited without a handshake line; stderr: {}", stderr.lock().unwrap()));
        }
        let handshake = Handshake::parse(&line)?;
        Ok(Plugin { child, handshake, startup, stderr, stdout_rest })
    }

    /// Runs the binary to completion (for the cases where it must refuse to start).
    pub fn run_to_exit(&self, timeout: Duration) -> (ExitStatus, String, String) {
        let mut child = self.command().spawn().expect("spawn");
        let stderr = capture(child.stderr.take().unwrap());
        let stdout = capture(child.stdout.take().unwrap());
        let status = wait_timeout(&mut child, timeout).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("the binary did not exit within {timeout:?}")
        });
        // Let the reader threads see EOF.
        std::thread::sleep(Duration::from_millis(50));
        let out = stdout.lock().unwrap().clone();
        let err = stderr.lock().unwrap().clone();
        (status, out, err)
    }
}

fn capture(mut pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let buf = Arc::new(Mutex::new(String::new()));
    let sink = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    });
    buf
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running plugin. Killed when dropped.
pub struct Plugin {
    child: Child,
    pub handshake: Handshake,
    /// From spawn to the handshake line.
    pub startup: Duration,
    stderr: Arc<Mutex<String>>,
    stdout_rest: Arc<Mutex<String>>,
}

impl Plugin {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the plugin wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Anything written to stdout after the handshake line (there should be nothing).
    pub fn stdout_after_handshake(&self) -> String {
        self.stdout_rest.lock().unwrap().clone()
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill failed");
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        wait_timeout(&mut self.child, timeout)
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Connects as Terraform does: TLS with `identity` (or no client certificate when `None`), pinning the server
    /// certificate from the handshake line; plaintext when the line carries no certificate.
    pub async fn connect(&self, identity: Option<&ClientIdentity>) -> Result<Channel, String> {
        connect(&self.handshake, identity).await
    }
}

/// Asks politely first (SIGTERM lets the plugin remove its socket), then kills.
impl Drop for Plugin {
    fn drop(&mut self) {
        if self.is_running() {
            // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            if self.wait_exit(Duration::from_secs(2)).is_none() {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Dials the handshake's address and returns a gRPC channel (256 MiB messages are set per client).
pub async fn connect(handshake: &Handshake, identity: Option<&ClientIdentity>) -> Result<Channel, String> {
    let tls = match &handshake.server_cert {
        Some(der) => Some(Arc::new(client_tls(der.clone(), identity)?)),
        None => None,
    };
    let connector = Connector { network: handshake.network.clone(), address: handshake.address.clone(), tls };
    Endpoint::from_static("http://localhost")
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(connector)
        .await
        .map_err(|e| format!("connect: {e:?}"))
}

/// Dials the plugin for tonic: unix or tcp, then TLS when the handshake carried a certificate.
#[derive(Clone)]
struct Connector {
    network: String,
    address: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

type Connected = hyper_util::rt::TokioIo<Box<dyn Io>>;

impl tonic::codegen::Service<Uri> for Connector {
    type Response = Connected;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Connected, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let stream: Box<dyn Io> = match this.network.as_str() {
                "unix" => Box::new(tokio::net::UnixStream::connect(&this.address).await?),
                "tcp" => Box::new(tokio::net::TcpStream::connect(&this.address).await?),
                other => return Err(std::io::Error::other(format!("unknown network {other}"))),
            };
            let stream: Box<dyn Io> = match this.tls {
                Some(config) => {
                    let connector = tokio_rustls::TlsConnector::from(config);
                    let name = ServerName::try_from("localhost").unwrap();
                    Box::new(connector.connect(name, stream).await?)
                }
                None => stream,
            };
            Ok(hyper_util::rt::TokioIo::new(stream))
        })
    }
}

fn client_tls(server_der: Vec<u8>, identity: Option<&ClientIdentity>) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer { der: server_der, provider }));
    let mut config = match identity {
        Some(id) => builder.with_client_auth_cert(vec![id.cert_der.clone()], id.key()).map_err(|e| e.to_string())?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's host does.
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A tfplugin6 client with Terraform-sized message limits.
pub fn provider_client(channel: Channel) -> tfplugin6::provider_client::ProviderClient<Channel> {
    tfplugin6::provider_client::ProviderClient::new(channel)
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20)
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
