//! Protocol tests: the built binary, started as Terraform starts it, spoken to over go-plugin with AutoMTLS.
//!
//! Configurations are built from the schema the binary reports, so these tests hold for whichever provider the
//! binary serves, as long as it offers `eksidentity_service_account_role` with the contract's `mode`,
//! `cluster_name`, `namespace` and `service_account`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::goplugin::{grpc_broker_client::GrpcBrokerClient, grpc_controller_client::GrpcControllerClient};
use common::goplugin::{grpc_stdio_client::GrpcStdioClient, ConnInfo, Empty};
use common::tfplugin6 as tf;
use common::{provider_client, ClientIdentity, Launch};
use eksidentity::cty::{encode_msgpack, Type, Value};
use futures::StreamExt;

const RESOURCE: &str = "eksidentity_service_account_role";

/// The cty type of a block and a value with every attribute null and every nested block absent.
fn block_type_and_empty(block: &tf::schema::Block) -> (Type, Value) {
    use tf::schema::nested_block::NestingMode;
    let mut types = BTreeMap::new();
    let mut values = BTreeMap::new();
    for a in &block.attributes {
        types.insert(a.name.clone(), Type::from_json(&a.r#type).expect("attribute type"));
        values.insert(a.name.clone(), Value::Null);
    }
    for b in &block.block_types {
        let (inner_ty, inner_empty) = block_type_and_empty(b.block.as_ref().unwrap());
        let (ty, empty) = match NestingMode::try_from(b.nesting).unwrap() {
            NestingMode::Single => (inner_ty, Value::Null),
            NestingMode::Group => (inner_ty, inner_empty),
            NestingMode::List => (Type::list(inner_ty), Value::List(vec![])),
            NestingMode::Set => (Type::set(inner_ty), Value::Set(vec![])),
            NestingMode::Map => (Type::map(inner_ty), Value::Map(BTreeMap::new())),
            NestingMode::Invalid => panic!("invalid nesting for {}", b.type_name),
        };
        types.insert(b.type_name.clone(), ty);
        values.insert(b.type_name.clone(), empty);
    }
    (Type::Object(types), Value::Object(values))
}

/// A msgpack config for `block` with the given attributes set and everything else null.
fn config(block: &tf::schema::Block, set: &[(&str, Value)]) -> tf::DynamicValue {
    let (ty, mut value) = block_type_and_empty(block);
    if let Value::Object(attrs) = &mut value {
        for (name, v) in set {
            assert!(attrs.contains_key(*name), "schema has no attribute {name}");
            attrs.insert(name.to_string(), v.clone());
        }
    }
    tf::DynamicValue { msgpack: encode_msgpack(&ty, &value).expect("config fits the schema"), json: vec![] }
}

fn attribute_names(path: &tf::AttributePath) -> Vec<String> {
    use tf::attribute_path::step::Selector;
    path.steps
        .iter()
        .map(|s| match s.selector.as_ref().unwrap() {
            Selector::AttributeName(n) => n.clone(),
            Selector::ElementKeyString(k) => format!("[{k:?}]"),
            Selector::ElementKeyInt(i) => format!("[{i}]"),
        })
        .collect()
}

fn errors(diagnostics: &[tf::Diagnostic]) -> Vec<&tf::Diagnostic> {
    diagnostics.iter().filter(|d| d.severity == tf::diagnostic::Severity::Error as i32).collect()
}

#[tokio::test]
async fn schema_and_validation_over_automtls() {
    let identity = ClientIdentity::generate();
    let plugin = Launch::terraform_like(&identity).start().unwrap();
    let hs = &plugin.handshake;
    assert_eq!((hs.core_version, hs.protocol_version), (1, 6), "{}", hs.line);
    assert_eq!(hs.network, "unix", "{}", hs.line);
    assert_eq!(hs.protocol, "grpc");
    let server_cert = hs.server_cert.as_ref().expect("AutoMTLS: the line carries the server certificate");
    assert!(x509_parser::parse_x509_certificate(server_cert).is_ok(), "the certificate is DER");

    let channel = plugin.connect(Some(&identity)).await.unwrap();

    // go-plugin's health check.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let status = health
        .check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);

    let mut client = provider_client(channel);
    let schema = client.get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap().into_inner();
    assert!(errors(&schema.diagnostics).is_empty(), "{:?}", schema.diagnostics);
    let caps = schema.server_capabilities.unwrap();
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    let provider_block = schema.provider.unwrap().block.unwrap();
    let resource_block = schema.resource_schemas[RESOURCE].block.clone().unwrap();
    for attr in resource_block.attributes.iter() {
        assert!(!attr.description.is_empty(), "{} has no description", attr.name);
        assert_eq!(attr.description_kind, tf::StringKind::Markdown as i32);
    }

    let metadata = client.get_metadata(tf::get_metadata::Request {}).await.unwrap().into_inner();
    assert!(metadata.resources.iter().any(|r| r.type_name == RESOURCE));

    let valid_provider = config(&provider_block, &[]);
    let resp = client
        .validate_provider_config(tf::validate_provider_config::Request { config: Some(valid_provider) })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics).is_empty(), "{:?}", resp.diagnostics);

    let valid = config(
        &resource_block,
        &[
            ("mode", Value::string("irsa")),
            ("cluster_name", Value::string("demo")),
            ("namespace", Value::string("default")),
            ("service_account", Value::string("app")),
        ],
    );
    let resp = client
        .validate_resource_config(tf::validate_resource_config::Request {
            type_name: RESOURCE.into(),
            config: Some(valid),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&resp.diagnostics).is_empty(), "{:?}", resp.diagnostics);

    let invalid = config(
        &resource_block,
        &[
            ("mode", Value::string("oidc")),
            ("cluster_name", Value::string("demo")),
            ("namespace", Value::string("default")),
            ("service_account", Value::string("app")),
        ],
    );
    let resp = client
        .validate_resource_config(tf::validate_resource_config::Request {
            type_name: RESOURCE.into(),
            config: Some(invalid),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert!(!errs.is_empty(), "an unknown mode is rejected");
    let mode_error = errs.iter().find(|d| d.attribute.as_ref().map(attribute_names) == Some(vec!["mode".to_string()]));
    assert!(mode_error.is_some(), "the diagnostic points at mode: {errs:?}");

    // A value of the wrong type fails decoding, and the diagnostic still names the attribute.
    let (ty, mut wrong) = block_type_and_empty(&resource_block);
    let mut ty_wrong = ty.clone();
    if let (Value::Object(values), Type::Object(types)) = (&mut wrong, &mut ty_wrong) {
        types.insert("namespace".into(), Type::Bool);
        values.insert("namespace".into(), Value::Bool(true));
    }
    let bytes = encode_msgpack(&ty_wrong, &wrong).unwrap();
    let resp = client
        .validate_resource_config(tf::validate_resource_config::Request {
            type_name: RESOURCE.into(),
            config: Some(tf::DynamicValue { msgpack: bytes, json: vec![] }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    let errs = errors(&resp.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].attribute.as_ref().map(attribute_names), Some(vec!["namespace".to_string()]));

    // Unknown types are an error, not a crash.
    let resp = client
        .validate_data_resource_config(tf::validate_data_resource_config::Request {
            type_name: "eksidentity_nothing".into(),
            config: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&resp.diagnostics).len(), 1);

    // Features we do not offer answer Unimplemented (or nothing, where Terraform expects an answer).
    let err =
        client.call_function(tf::call_function::Request { name: "x".into(), arguments: vec![] }).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    let functions = client.get_functions(tf::get_functions::Request {}).await.unwrap().into_inner();
    assert!(functions.functions.is_empty());

    assert!(plugin.stdout_after_handshake().is_empty(), "exactly one line on stdout");
}

#[tokio::test]
async fn other_client_certificates_are_refused() {
    let identity = ClientIdentity::generate();
    let plugin = Launch::terraform_like(&identity).env("TF_LOG_PROVIDER", "WARN").start().unwrap();

    let stranger = ClientIdentity::generate();
    for (who, id) in [("a different certificate", Some(&stranger)), ("no certificate", None)] {
        // With TLS 1.3 the client may finish its side before the server refuses; the first call then fails.
        let refused = match plugin.connect(id).await {
            Err(_) => true,
            Ok(channel) => {
                provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.is_err()
            }
        };
        assert!(refused, "a client with {who} was served");
    }

    // The legitimate host is still served afterwards.
    let channel = plugin.connect(Some(&identity)).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
    // Each refusal is logged with its reason. A refused channel may reconnect once for the call that follows, so
    // the stranger can be refused (and logged) more than once; what matters is that both reasons appear.
    let stderr = plugin.stderr();
    let refusals: Vec<&str> = stderr.lines().filter(|l| l.contains("refused a client")).collect();
    assert!(
        refusals.iter().any(|l| l.contains("invalid peer certificate")),
        "the stranger's refusal is logged: {stderr}"
    );
    assert!(refusals.iter().any(|l| l.contains("no certificates")), "the anonymous refusal is logged: {stderr}");
}

#[test]
fn without_the_cookie_it_explains_itself_and_exits_1() {
    let (status, stdout, stderr) = Launch::bare().run_to_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1));
    assert!(stdout.is_empty(), "nothing on stdout: {stdout:?}");
    assert!(stderr.contains("Terraform provider plugin"), "{stderr}");
    assert!(stderr.contains("--debug"), "{stderr}");
}

#[test]
fn a_host_without_protocol_6_is_refused() {
    let identity = ClientIdentity::generate();
    let launch = Launch::terraform_like(&identity).env("PLUGIN_PROTOCOL_VERSIONS", "5");
    let (status, stdout, stderr) = launch.run_to_exit(Duration::from_secs(10));
    assert!(!status.success());
    assert!(stdout.is_empty(), "{stdout:?}");
    assert!(stderr.contains("protocol 6"), "{stderr}");
}

#[tokio::test]
async fn tcp_when_requested_inside_the_port_range() {
    let identity = ClientIdentity::generate();
    let plugin = Launch::terraform_like(&identity)
        .env("EKSIDENTITY_PLUGIN_TRANSPORT", "tcp")
        .env("PLUGIN_MIN_PORT", "20000")
        .env("PLUGIN_MAX_PORT", "20999")
        .start()
        .unwrap();
    assert_eq!(plugin.handshake.network, "tcp");
    let addr: std::net::SocketAddr = plugin.handshake.address.parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert!((20000..=20999).contains(&addr.port()), "{addr}");
    let channel = plugin.connect(Some(&identity)).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
}

#[tokio::test]
async fn socket_goes_where_the_host_asks() {
    let identity = ClientIdentity::generate();
    let dir = tempfile::tempdir().unwrap();
    let plugin =
        Launch::terraform_like(&identity).env("PLUGIN_UNIX_SOCKET_DIR", dir.path().to_str().unwrap()).start().unwrap();
    assert!(plugin.handshake.address.starts_with(dir.path().to_str().unwrap()), "{}", plugin.handshake.address);
    let channel = plugin.connect(Some(&identity)).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
}

#[tokio::test]
async fn plaintext_when_the_host_disables_tls() {
    let identity = ClientIdentity::generate();
    let plugin = Launch::terraform_like(&identity).env("TF_DISABLE_PLUGIN_TLS", "1").start().unwrap();
    assert!(plugin.handshake.server_cert.is_none(), "{}", plugin.handshake.line);
    assert!(plugin.handshake.line.ends_with("|grpc|"), "{}", plugin.handshake.line);
    let channel = plugin.connect(None).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_held_streams_and_the_process() {
    let identity = ClientIdentity::generate();
    let mut plugin = Launch::terraform_like(&identity).env("TF_LOG_PROVIDER", "WARN").start().unwrap();
    let socket = std::path::PathBuf::from(&plugin.handshake.address);
    assert!(socket.exists());
    let channel = plugin.connect(Some(&identity)).await.unwrap();

    // Terraform opens both streams at start and keeps them open; they must not block the shutdown.
    let mut stdio = GrpcStdioClient::new(channel.clone()).stream_stdio(()).await.unwrap().into_inner();
    let (tx, rx) = tokio::sync::mpsc::channel::<ConnInfo>(1);
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    assert!(tokio::time::timeout(Duration::from_millis(200), stdio.next()).await.is_err(), "stdio stays open");
    assert!(tokio::time::timeout(Duration::from_millis(50), broker.next()).await.is_err(), "broker stays open");

    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let status = tokio::task::block_in_place(|| plugin.wait_exit(Duration::from_secs(2)));
    let status = status.expect("the process exits within go-plugin's 2 s");
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "the socket is removed");
    assert!(!socket.parent().unwrap().exists(), "so is its private directory");
    assert!(!plugin.stderr().contains("grace period"), "held streams delayed the exit: {}", plugin.stderr());
    drop(tx);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_is_ignored_and_sigterm_stops() {
    let identity = ClientIdentity::generate();
    let mut plugin = Launch::terraform_like(&identity).start().unwrap();
    plugin.signal(libc::SIGINT);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(plugin.is_running(), "SIGINT must not stop the plugin");
    let channel = plugin.connect(Some(&identity)).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();

    plugin.signal(libc::SIGTERM);
    let status = tokio::task::block_in_place(|| plugin.wait_exit(Duration::from_secs(3)));
    assert!(status.is_some(), "SIGTERM stops the plugin");
}

/// Whether a process has exited: gone from /proc, or a zombie nobody reaped yet.
fn has_exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may itself hold spaces.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_whose_host_was_killed_stops() {
    let identity = ClientIdentity::generate();
    // A shell stands in for Terraform: it starts the plugin (the handshake line passes through on stdout), says
    // the plugin's pid on stderr, and is then killed with SIGKILL, so it never calls Shutdown.
    let script = r#""$0" & echo "plugin-pid $!" >&2; wait"#;
    let host = Launch::terraform_like(&identity)
        .program(std::path::Path::new("/bin/sh"))
        .arg("-c")
        .arg(script)
        .arg(common::binary().to_str().unwrap())
        .start()
        .unwrap();
    let channel = host.connect(Some(&identity)).await.unwrap();
    provider_client(channel).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
    let pid: u32 = host
        .stderr()
        .lines()
        .find_map(|l| l.strip_prefix("plugin-pid "))
        .expect("the shell reports the plugin's pid")
        .trim()
        .parse()
        .unwrap();
    let socket_dir = std::path::PathBuf::from(&host.handshake.address).parent().unwrap().to_path_buf();

    // While the host lives, the plugin keeps serving, well past its check interval.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!has_exited(pid), "the plugin stopped although its host is alive");

    host.signal(libc::SIGKILL);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !has_exited(pid) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !has_exited(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions; this only tidies up after a failed check.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        panic!("the plugin was still running 15 s after its host was killed");
    }
    assert!(!socket_dir.exists(), "a plugin that stopped cleanly removes its socket directory");
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_mode_prints_reattach_and_survives_shutdown() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(common::binary())
        .arg("--debug")
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reattach = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(start) = line.find("TF_REATTACH_PROVIDERS='") {
                let json = &line[start + "TF_REATTACH_PROVIDERS='".len()..line.len() - 1];
                return serde_json::from_str::<serde_json::Value>(json).unwrap();
            }
        }
        panic!("no TF_REATTACH_PROVIDERS line");
    });
    let reattach = tokio::time::timeout(Duration::from_secs(30), reattach).await.unwrap().unwrap();
    let entry = &reattach["registry.terraform.io/eksidentity/eksidentity"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    let handshake = common::Handshake {
        line: String::new(),
        core_version: 1,
        protocol_version: 6,
        network: entry["Addr"]["Network"].as_str().unwrap().to_string(),
        address: entry["Addr"]["String"].as_str().unwrap().to_string(),
        protocol: "grpc".into(),
        server_cert: None,
    };
    let channel = common::connect(&handshake, None).await.unwrap();
    provider_client(channel.clone()).get_provider_schema(tf::get_provider_schema::Request {}).await.unwrap();
    // A Terraform run ending sends Shutdown; a debug server keeps serving the next run.
    GrpcControllerClient::new(channel.clone()).shutdown(Empty {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(child.try_wait(), Ok(None)), "debug mode ignores Shutdown");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = child.try_wait().unwrap();
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(status.is_some_and(|s| s.success()), "Ctrl-C stops a debug server: {status:?}");
}

/// Binary start to handshake line, median of 20 runs. Printed for the record (run with --nocapture).
#[test]
fn handshake_time() {
    let identity = ClientIdentity::generate();
    let launch = Launch::terraform_like(&identity);
    let samples: Vec<Duration> = (0..20).map(|_| launch.start().unwrap().startup).collect();
    let median = common::median(samples.clone());
    let max = samples.iter().max().unwrap();
    println!("handshake time: median {median:?}, max {max:?} over 20 runs");
    assert!(median < Duration::from_secs(2), "median handshake {median:?}");
}
