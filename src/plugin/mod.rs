//! The go-plugin transport: how Terraform starts, finds, trusts and stops this process.
//!
//! Terraform starts the binary with a cookie and a client certificate in the environment, reads exactly one
//! handshake line from stdout (`1|6|unix|/path/to/socket|grpc|<server certificate>`), connects with mutual TLS,
//! and talks gRPC: the tfplugin6 service, go-plugin's controller / stdio / broker services, and health checks
//! for service `plugin`. SIGINT is ignored (Terraform handles Ctrl-C and sends StopProvider); SIGTERM and the
//! controller's Shutdown stop the server gracefully. With `--debug` the process serves without TLS until
//! interrupted and prints the `TF_REATTACH_PROVIDERS` value a developer exports for Terraform.
//!
//! This module must not contain protocol logic (that is `tfprotocol`) or anything about AWS. Nothing here writes
//! to stdout except the handshake line (or the debug instructions).

mod listen;
mod services;
mod settings;
mod tls;

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::logging;
use crate::tfprotocol::{self, Provider, MAX_MESSAGE_SIZE};

use listen::ListenAddr;
use services::{Broker, Controller, Lifecycle, Stdio};
use settings::{Settings, CORE_PROTOCOL_VERSION, PLUGIN_PROTOCOL_VERSION};

/// The provider's registry address, used in the `--debug` reattach instructions.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/eksidentity/eksidentity";

/// How long in-flight calls get to finish after a stop request. The host kills the process 2 s after Shutdown.
const GRACE: Duration = Duration::from_millis(1500);
/// How often the plugin checks that the process that started it is still there.
const HOST_CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A socket directory younger than this is never taken for abandoned, whatever its socket answers.
const ABANDONED_SOCKET_DIR_AGE: Duration = Duration::from_secs(60);

/// Generated go-plugin types and service traits (package `plugin`).
#[allow(clippy::all, clippy::pedantic, dead_code, missing_docs)]
mod proto {
    tonic::include_proto!("plugin");
}

/// Why serving failed, and the exit code it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeErrorKind {
    /// Started without the go-plugin cookie, most likely by hand. Exit code 1.
    NotLaunchedByTerraform,
    /// A command-line argument we do not know. Exit code 2.
    Usage,
    /// The host does not speak protocol 6. Exit code 3.
    IncompatibleProtocol,
    /// The environment, the listener or TLS could not be set up. Exit code 4.
    Setup,
    /// The gRPC server failed while serving. Exit code 5.
    Serve,
}

/// A fatal error: `Display` is a sentence for the person reading stderr.
#[derive(Clone, Debug)]
pub struct ServeError {
    kind: ServeErrorKind,
    message: String,
}

impl ServeError {
    pub(crate) fn new(kind: ServeErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    pub fn kind(&self) -> ServeErrorKind {
        self.kind
    }

    /// The process exit code for this error (never 0).
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            ServeErrorKind::NotLaunchedByTerraform => 1,
            ServeErrorKind::Usage => 2,
            ServeErrorKind::IncompatibleProtocol => 3,
            ServeErrorKind::Setup => 4,
            ServeErrorKind::Serve => 5,
        }
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ServeError {}

/// Serves `provider` as a Terraform plugin until the host shuts it down. Reads the command line (`--debug`) and
/// the environment, and blocks. Returns `Ok` after a clean shutdown.
pub fn serve<P: Provider>(provider: P) -> Result<(), ServeError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let debug = match args.as_slice() {
        [] => false,
        [flag] if flag == "--debug" || flag == "-debug" => true,
        _ => {
            return Err(ServeError::new(
                ServeErrorKind::Usage,
                format!("unknown arguments {args:?}: the only option is --debug"),
            ))
        }
    };
    let var = |name: &str| std::env::var(name).ok();
    // In debug mode a person watches stderr; otherwise Terraform decides through TF_LOG whether anyone does.
    logging::init_from_env(if debug { Some(logging::Level::Info) } else { None });
    let settings = if debug { Settings::debug(var)? } else { Settings::from_env(var)? };
    // One thread: every call waits on AWS or on Terraform, never on the CPU, so a single event loop keeps up with
    // -parallelism=50 while sparing the work stealing and cross-thread wake-ups (measured by `make bench`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::new(ServeErrorKind::Setup, format!("could not start the async runtime: {e}")))?;
    let result = runtime.block_on(run(Arc::new(provider), settings, debug));
    // Do not wait for blocking work left behind (a DNS lookup, say): the host expects a prompt exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn run<P: Provider>(provider: Arc<P>, settings: Settings, debug: bool) -> Result<(), ServeError> {
    let (listener, addr, cleanup) = listen::bind(&settings)?;
    let (tls, server_cert) = match &settings.client_cert {
        Some(client_cert) => {
            let identity = tls::server_identity()?;
            let cert = identity.cert.clone();
            (Some(tls::server_config(identity, client_cert.clone())?), Some(cert))
        }
        None => (None, None),
    };

    let lifecycle = Lifecycle::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            proto::grpc_controller_server::GrpcControllerServer::new(Controller {
                lifecycle: lifecycle.clone(),
                keep_running: debug,
            })
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE),
        )
        .add_service(proto::grpc_stdio_server::GrpcStdioServer::new(Stdio { lifecycle: lifecycle.clone() }))
        .add_service(proto::grpc_broker_server::GrpcBrokerServer::new(Broker { lifecycle: lifecycle.clone() }))
        .add_service(tfprotocol::grpc_service(provider.clone()));

    watch_signals(&lifecycle, provider.clone(), debug)?;
    if !debug {
        watch_host(&lifecycle, provider.clone());
    }

    let incoming = listen::incoming(listener, tls);
    if debug {
        print_reattach_instructions(&addr);
    } else {
        print_handshake_line(&addr, server_cert.as_ref().map(|c| c.as_ref()))?;
    }
    // After the handshake line, on a blocking thread, so Terraform never waits for it.
    if let Some(own_dir) = cleanup.made_dir().map(Path::to_path_buf) {
        tokio::task::spawn_blocking(move || {
            let removed = listen::remove_abandoned_socket_dirs(&own_dir, ABANDONED_SOCKET_DIR_AGE);
            if removed > 0 {
                logging::debug!("removed socket directories of plugins that were killed", count = removed);
            }
        });
    }
    logging::info!(
        "plugin serving",
        network = addr.network(),
        address = addr.address(),
        tls = server_cert.is_some(),
        debug = debug,
    );

    let stop = lifecycle.stopped();
    let serve = router.serve_with_incoming_shutdown(incoming, stop);
    tokio::pin!(serve);
    // Graceful first; after the grace period whatever is still running is dropped with the runtime.
    let result = tokio::select! {
        result = &mut serve => result,
        () = async { lifecycle.stopped().await; tokio::time::sleep(GRACE).await } => {
            logging::warn!("calls still running after the grace period; exiting anyway");
            Ok(())
        }
    };
    logging::info!("plugin stopped");
    result.map_err(|e| ServeError::new(ServeErrorKind::Serve, format!("the plugin's gRPC server failed: {e}")))
}

/// SIGTERM stops the server (and asks the provider to cancel what it is doing). SIGINT is ignored while
/// Terraform runs us: Terraform sees the same Ctrl-C and calls StopProvider itself. In debug mode Ctrl-C stops.
fn watch_signals<P: Provider>(lifecycle: &Lifecycle, provider: Arc<P>, debug: bool) -> Result<(), ServeError> {
    use tokio::signal::unix::{signal, SignalKind};
    let fail =
        |e: std::io::Error| ServeError::new(ServeErrorKind::Setup, format!("could not install signal handlers: {e}"));
    let mut terminate = signal(SignalKind::terminate()).map_err(fail)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(fail)?;
    let lifecycle = lifecycle.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = terminate.recv() => {
                    lifecycle.request_stop("SIGTERM");
                    provider.stop().await;
                }
                _ = interrupt.recv() => {
                    if debug {
                        lifecycle.request_stop("SIGINT in debug mode");
                        provider.stop().await;
                    } else {
                        logging::trace!("ignoring SIGINT; Terraform will send StopProvider");
                    }
                }
            }
        }
    });
    Ok(())
}

/// A host killed with SIGKILL never calls Shutdown, and nothing else tells the plugin: it would wait for calls
/// forever, and finish any AWS work in flight for nobody. When the parent process is gone (the plugin was handed
/// to another parent), stop as on SIGTERM. Polled: no portable notification exists, and a check a second is free.
fn watch_host<P: Provider>(lifecycle: &Lifecycle, provider: Arc<P>) {
    let host = std::os::unix::process::parent_id();
    let lifecycle = lifecycle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HOST_CHECK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != host {
                logging::warn!("the host process exited without shutting the plugin down; stopping", host_pid = host);
                lifecycle.request_stop("host process gone");
                provider.stop().await;
                return;
            }
        }
    });
}

/// The single stdout line go-plugin reads: core version, protocol version, network, address, protocol and the
/// server certificate (DER, unpadded standard base64; empty without TLS).
fn handshake_line(addr: &ListenAddr, server_cert: Option<&[u8]>) -> String {
    use base64::Engine;
    let cert = server_cert.map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)).unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|{}|{}|grpc|{cert}", addr.network(), addr.address())
}

fn print_handshake_line(addr: &ListenAddr, server_cert: Option<&[u8]>) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", handshake_line(addr, server_cert))
        .and_then(|()| stdout.flush())
        .map_err(|e| ServeError::new(ServeErrorKind::Setup, format!("could not write the handshake line: {e}")))
}

/// The value of `TF_REATTACH_PROVIDERS` that points Terraform at this process.
fn reattach_json(addr: &ListenAddr, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": PLUGIN_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": addr.network(), "String": addr.address()},
        }
    })
    .to_string()
}

fn print_reattach_instructions(addr: &ListenAddr) {
    let json = reattach_json(addr, std::process::id());
    println!(
        "The eksidentity provider is running in debug mode. In the shell where you run Terraform, set:\n\n\
         \texport TF_REATTACH_PROVIDERS='{json}'\n\n\
         Terraform then uses this process instead of starting the provider. Stop it with Ctrl-C."
    );
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_line_shape() {
        let addr = ListenAddr::Unix("/tmp/x/plugin.sock".into());
        assert_eq!(handshake_line(&addr, None), "1|6|unix|/tmp/x/plugin.sock|grpc|");
        let line = handshake_line(&addr, Some(&[0xfb, 0xff, 0x01, 0x02]));
        // Standard alphabet (`+`, `/`), no padding: go-plugin decodes with RawStdEncoding.
        assert_eq!(line, "1|6|unix|/tmp/x/plugin.sock|grpc|+/8BAg");
        let tcp = ListenAddr::Tcp("127.0.0.1:10001".parse().unwrap());
        assert_eq!(handshake_line(&tcp, None), "1|6|tcp|127.0.0.1:10001|grpc|");
    }

    #[test]
    fn reattach_json_shape() {
        let addr = ListenAddr::Unix("/tmp/x/plugin.sock".into());
        let v: serde_json::Value = serde_json::from_str(&reattach_json(&addr, 42)).unwrap();
        let entry = &v["registry.terraform.io/eksidentity/eksidentity"];
        assert_eq!(entry["Protocol"], "grpc");
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Test"], true);
        assert_eq!(entry["Addr"]["Network"], "unix");
        assert_eq!(entry["Addr"]["String"], "/tmp/x/plugin.sock");
    }

    #[test]
    fn exit_codes_are_distinct_and_non_zero() {
        use ServeErrorKind::*;
        let codes: Vec<u8> = [NotLaunchedByTerraform, Usage, IncompatibleProtocol, Setup, Serve]
            .into_iter()
            .map(|k| ServeError::new(k, "").exit_code())
            .collect();
        assert_eq!(codes[0], 1, "the cookie check exits 1, as go-plugin does");
        assert!(codes.iter().all(|&c| c != 0));
        let mut unique = codes.clone();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }
}
