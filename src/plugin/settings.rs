//! What the host (Terraform) asks for through the environment, read once at start into `Settings`.
//!
//! Reads through a lookup function rather than `std::env` directly, so every rule is unit-tested without
//! touching the process environment.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::{ServeError, ServeErrorKind};

/// go-plugin's handshake cookie for Terraform providers: proves the process was started by a Terraform-like host.
pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's own protocol version (first field of the handshake line).
pub(crate) const CORE_PROTOCOL_VERSION: u32 = 1;
/// The tfplugin protocol major version this provider speaks.
pub(crate) const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// Our own switch (go-plugin has none): serve on TCP instead of a unix socket. Value `tcp`.
pub(crate) const TRANSPORT_ENV: &str = "EKSIDENTITY_PLUGIN_TRANSPORT";

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Transport {
    /// A unix socket in this directory, or in a fresh private temporary directory when `None`.
    Unix(Option<PathBuf>),
    Tcp,
}

#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub transport: Transport,
    /// Ports to try for TCP, also when a unix socket cannot be created. `0..=0` lets the system choose.
    pub ports: RangeInclusive<u16>,
    /// The host's certificate (DER) for AutoMTLS; `None` serves plaintext.
    pub client_cert: Option<CertificateDer<'static>>,
}

impl Settings {
    /// Settings for a process started by Terraform. Refuses to run without the cookie or without protocol 6.
    pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Settings, ServeError> {
        if var(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(ServeError::new(
                ServeErrorKind::NotLaunchedByTerraform,
                "This is a Terraform provider plugin: Terraform (or OpenTofu) starts it when a configuration \
                 uses the eksidentity provider, so there is no need to run it yourself. To debug it, run it with \
                 --debug and follow the instructions it prints.",
            ));
        }
        if let Some(offered) = var("PLUGIN_PROTOCOL_VERSIONS").filter(|v| !v.trim().is_empty()) {
            let speaks_ours = offered.split(',').any(|v| v.trim().parse::<u32>().ok() == Some(PLUGIN_PROTOCOL_VERSION));
            if !speaks_ours {
                return Err(ServeError::new(
                    ServeErrorKind::IncompatibleProtocol,
                    format!(
                        "Terraform offered plugin protocol version(s) {offered}, but this provider speaks only \
                         protocol {PLUGIN_PROTOCOL_VERSION}, which needs Terraform 1.0 or later (or OpenTofu)."
                    ),
                ));
            }
        }
        let ports = port_range(&var)?;
        let client_cert = if is_set(&var, "TF_DISABLE_PLUGIN_TLS") {
            None
        } else {
            match var("PLUGIN_CLIENT_CERT").filter(|v| !v.trim().is_empty()) {
                Some(pem) => Some(parse_client_cert(&pem)?),
                None => None,
            }
        };
        let transport = if var(TRANSPORT_ENV).is_some_and(|v| v.eq_ignore_ascii_case("tcp")) {
            Transport::Tcp
        } else {
            Transport::Unix(var("PLUGIN_UNIX_SOCKET_DIR").filter(|v| !v.is_empty()).map(PathBuf::from))
        };
        Ok(Settings { transport, ports, client_cert })
    }

    /// Settings for `--debug`: started by hand, no cookie, plaintext (Terraform attaches without TLS).
    pub(crate) fn debug(var: impl Fn(&str) -> Option<String>) -> Result<Settings, ServeError> {
        let transport = if var(TRANSPORT_ENV).is_some_and(|v| v.eq_ignore_ascii_case("tcp")) {
            Transport::Tcp
        } else {
            Transport::Unix(None)
        };
        Ok(Settings { transport, ports: port_range(&var)?, client_cert: None })
    }
}

/// go-plugin treats any non-empty value as set.
fn is_set(var: &impl Fn(&str) -> Option<String>, name: &str) -> bool {
    var(name).is_some_and(|v| !v.is_empty())
}

fn port_range(var: &impl Fn(&str) -> Option<String>) -> Result<RangeInclusive<u16>, ServeError> {
    let port = |name: &str| -> Result<u16, ServeError> {
        match var(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(0),
            Some(v) => v.trim().parse().map_err(|_| {
                ServeError::new(ServeErrorKind::Setup, format!("{name} is \"{v}\", which is not a port number."))
            }),
        }
    };
    let (min, max) = (port("PLUGIN_MIN_PORT")?, port("PLUGIN_MAX_PORT")?);
    if min > max {
        return Err(ServeError::new(
            ServeErrorKind::Setup,
            format!("PLUGIN_MIN_PORT ({min}) is greater than PLUGIN_MAX_PORT ({max})."),
        ));
    }
    Ok(min..=max)
}

fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, ServeError> {
    match CertificateDer::pem_slice_iter(pem.as_bytes()).next() {
        Some(Ok(cert)) => Ok(cert),
        Some(Err(e)) => Err(ServeError::new(
            ServeErrorKind::Setup,
            format!("PLUGIN_CLIENT_CERT does not hold a readable PEM certificate: {e}."),
        )),
        None => Err(ServeError::new(ServeErrorKind::Setup, "PLUGIN_CLIENT_CERT holds no PEM certificate.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const COOKIE: (&str, &str) = (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE);

    #[test]
    fn refuses_without_the_cookie() {
        let err = Settings::from_env(env(&[])).unwrap_err();
        assert_eq!(err.kind(), ServeErrorKind::NotLaunchedByTerraform);
        assert_eq!(err.exit_code(), 1);
        let err = Settings::from_env(env(&[(MAGIC_COOKIE_KEY, "wrong")])).unwrap_err();
        assert_eq!(err.kind(), ServeErrorKind::NotLaunchedByTerraform);
    }

    #[test]
    fn requires_protocol_6_when_versions_are_offered() {
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "5,6")])).is_ok());
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", " 6 ")])).is_ok());
        assert!(Settings::from_env(env(&[COOKIE])).is_ok(), "no list: an old host, try anyway");
        let err = Settings::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "5")])).unwrap_err();
        assert_eq!(err.kind(), ServeErrorKind::IncompatibleProtocol);
        assert!(err.to_string().contains("Terraform 1.0"), "{err}");
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", "60,x")])).is_err());
    }

    #[test]
    fn reads_ports_and_rejects_nonsense() {
        let s = Settings::from_env(env(&[COOKIE, ("PLUGIN_MIN_PORT", "10000"), ("PLUGIN_MAX_PORT", "25000")]));
        assert_eq!(s.unwrap().ports, 10000..=25000);
        assert_eq!(Settings::from_env(env(&[COOKIE])).unwrap().ports, 0..=0);
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_MIN_PORT", "x")])).is_err());
        assert!(Settings::from_env(env(&[COOKIE, ("PLUGIN_MIN_PORT", "20"), ("PLUGIN_MAX_PORT", "10")])).is_err());
    }

    #[test]
    fn transport_choice() {
        let s = Settings::from_env(env(&[COOKIE, ("PLUGIN_UNIX_SOCKET_DIR", "/run/tf")])).unwrap();
        assert_eq!(s.transport, Transport::Unix(Some(PathBuf::from("/run/tf"))));
        let s = Settings::from_env(env(&[COOKIE, (TRANSPORT_ENV, "TCP")])).unwrap();
        assert_eq!(s.transport, Transport::Tcp);
        assert_eq!(Settings::from_env(env(&[COOKIE])).unwrap().transport, Transport::Unix(None));
    }

    #[test]
    fn client_certificate_and_tls_switch() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap().cert;
        let pem = cert.pem();
        let s = Settings::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", &pem)])).unwrap();
        assert_eq!(s.client_cert.unwrap().as_ref(), cert.der().as_ref());
        let s = Settings::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", &pem), ("TF_DISABLE_PLUGIN_TLS", "1")]));
        assert!(s.unwrap().client_cert.is_none());
        let err = Settings::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", "not pem")])).unwrap_err();
        assert_eq!(err.kind(), ServeErrorKind::Setup);
    }

    #[test]
    fn debug_mode_needs_no_cookie() {
        let s = Settings::debug(env(&[])).unwrap();
        assert!(s.client_cert.is_none());
        assert_eq!(s.transport, Transport::Unix(None));
    }
}
