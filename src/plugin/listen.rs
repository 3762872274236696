//! Where the plugin listens (a unix socket, or TCP on loopback) and the stream of accepted connections,
//! TLS-wrapped when AutoMTLS is on. A connection whose TLS handshake fails (wrong or missing client certificate)
//! never reaches the gRPC server.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use super::settings::{Settings, Transport};
use super::{ServeError, ServeErrorKind};
use crate::logging;

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// The address as the handshake line and the reattach JSON spell it.
#[derive(Clone, Debug)]
pub(crate) enum ListenAddr {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl ListenAddr {
    pub(crate) fn network(&self) -> &'static str {
        match self {
            ListenAddr::Unix(_) => "unix",
            ListenAddr::Tcp(_) => "tcp",
        }
    }

    pub(crate) fn address(&self) -> String {
        match self {
            ListenAddr::Unix(path) => path.display().to_string(),
            ListenAddr::Tcp(addr) => addr.to_string(),
        }
    }
}

/// Removes the socket file, and the private directory made for it, when the server is done.
pub(crate) struct Cleanup {
    socket: Option<PathBuf>,
    dir: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Binds as the settings ask: a unix socket (falling back to TCP when that fails), or TCP directly.
pub(crate) fn bind(settings: &Settings) -> Result<(Listener, ListenAddr, Cleanup), ServeError> {
    if let Transport::Unix(dir) = &settings.transport {
        match bind_unix(dir.as_deref()) {
            Ok(bound) => return Ok(bound),
            Err(e) => logging::warn!("cannot listen on a unix socket, using tcp instead", error = e.to_string()),
        }
    }
    let (listener, addr) = bind_tcp(settings)?;
    Ok((Listener::Tcp(listener), ListenAddr::Tcp(addr), Cleanup { socket: None, dir: None }))
}

impl Cleanup {
    /// The private socket directory this plugin made in the temp directory, if it made one.
    pub(crate) fn made_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

const SOCKET_DIR_PREFIX: &str = "eksidentity-plugin-";
const SOCKET_FILE: &str = "plugin.sock";

fn bind_unix(dir: Option<&Path>) -> io::Result<(Listener, ListenAddr, Cleanup)> {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (path, made_dir) = match dir {
        // The host chose the directory (PLUGIN_UNIX_SOCKET_DIR): only the socket is ours.
        Some(dir) => (dir.join(format!("eksidentity-{}.sock", &unique[..12])), None),
        // Otherwise a directory only we can enter, so no other user can connect to the socket.
        None => {
            use std::os::unix::fs::DirBuilderExt;
            let dir = std::env::temp_dir().join(format!("{SOCKET_DIR_PREFIX}{}", &unique[..12]));
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
            (dir.join(SOCKET_FILE), Some(dir))
        }
    };
    // Made before binding so a failed bind still removes the directory.
    let mut cleanup = Cleanup { socket: None, dir: made_dir };
    let listener = UnixListener::bind(&path)?;
    cleanup.socket = Some(path.clone());
    Ok((Listener::Unix(listener), ListenAddr::Unix(path), cleanup))
}

/// A plugin killed with SIGKILL (by an out-of-memory killer, or a host that gave up on it) cannot remove its socket
/// directory. Each plugin that made its own directory removes the ones earlier plugins of the same user left beside
/// it: a directory is abandoned when its name is ours, it belongs to our user, it is older than `min_age`, and its
/// socket refuses connections (no process listens on it any more). A directory holding anything else is kept.
/// Returns how many were removed.
pub(crate) fn remove_abandoned_socket_dirs(own_dir: &Path, min_age: Duration) -> usize {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let (Some(temp), Ok(own)) = (own_dir.parent(), std::fs::symlink_metadata(own_dir)) else { return 0 };
    let Ok(entries) = std::fs::read_dir(temp) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let is_ours = name
            .to_str()
            .and_then(|n| n.strip_prefix(SOCKET_DIR_PREFIX))
            .is_some_and(|suffix| suffix.len() == 12 && suffix.bytes().all(|b| b.is_ascii_hexdigit()));
        if !is_ours || path == own_dir {
            continue;
        }
        // symlink_metadata: a link planted under our name is not followed.
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        let old_enough = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= min_age);
        if !meta.is_dir() || meta.uid() != own.uid() || !old_enough {
            continue;
        }
        let socket = path.join(SOCKET_FILE);
        let is_socket = std::fs::symlink_metadata(&socket).is_ok_and(|m| m.file_type().is_socket());
        let refused = is_socket
            && matches!(std::os::unix::net::UnixStream::connect(&socket),
                        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused);
        if refused && std::fs::remove_file(&socket).is_ok() && std::fs::remove_dir(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn bind_tcp(settings: &Settings) -> Result<(TcpListener, SocketAddr), ServeError> {
    for port in settings.ports.clone() {
        let Ok(std_listener) = std::net::TcpListener::bind(("127.0.0.1", port)) else { continue };
        let bound = std_listener.set_nonblocking(true).and_then(|()| {
            let listener = TcpListener::from_std(std_listener)?;
            let addr = listener.local_addr()?;
            Ok((listener, addr))
        });
        if let Ok(bound) = bound {
            return Ok(bound);
        }
    }
    Err(ServeError::new(
        ServeErrorKind::Setup,
        format!(
            "could not listen on 127.0.0.1 on any port from {} to {}",
            settings.ports.start(),
            settings.ports.end()
        ),
    ))
}

/// One accepted connection, plain or TLS, over a unix socket or TCP.
pub(crate) enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
    TlsUnix(Box<TlsStream<UnixStream>>),
    TlsTcp(Box<TlsStream<TcpStream>>),
}

macro_rules! each_conn {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Conn::Unix($s) => $e,
            Conn::Tcp($s) => $e,
            Conn::TlsUnix($s) => $e,
            Conn::TlsTcp($s) => $e,
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        each_conn!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_conn!(self, s => Pin::new(s).poll_shutdown(cx))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_conn!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Unix(s) => s.is_write_vectored(),
            Conn::Tcp(s) => s.is_write_vectored(),
            Conn::TlsUnix(s) => s.is_write_vectored(),
            Conn::TlsTcp(s) => s.is_write_vectored(),
        }
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

/// Accepts connections until the returned stream is dropped, completing TLS handshakes concurrently so one slow
/// or hostile client cannot hold up the next.
pub(crate) fn incoming(listener: Listener, tls: Option<Arc<rustls::ServerConfig>>) -> ReceiverStream<io::Result<Conn>> {
    let (tx, rx) = mpsc::channel::<io::Result<Conn>>(16);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                // The server dropped the stream (shutdown): stop accepting.
                () = tx.closed() => return,
                accepted = accept(&listener) => accepted,
            };
            let conn = match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    logging::warn!("accepting a connection failed", error = e.to_string());
                    // Avoid a hot loop when the error persists (for example, out of file descriptors).
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Some(acceptor) = acceptor.clone() else {
                if tx.send(Ok(conn)).await.is_err() {
                    return;
                }
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&acceptor, conn)).await {
                    Ok(Ok(conn)) => {
                        let _ = tx.send(Ok(conn)).await;
                    }
                    Ok(Err(e)) => logging::warn!("refused a client: TLS handshake failed", error = e.to_string()),
                    Err(_) => logging::warn!("refused a client: TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

async fn accept(listener: &Listener) -> io::Result<Conn> {
    match listener {
        Listener::Unix(l) => Ok(Conn::Unix(l.accept().await?.0)),
        Listener::Tcp(l) => {
            let (stream, _) = l.accept().await?;
            stream.set_nodelay(true)?;
            Ok(Conn::Tcp(stream))
        }
    }
}

async fn handshake(acceptor: &TlsAcceptor, conn: Conn) -> io::Result<Conn> {
    match conn {
        Conn::Unix(s) => Ok(Conn::TlsUnix(Box::new(acceptor.accept(s).await?))),
        Conn::Tcp(s) => Ok(Conn::TlsTcp(Box::new(acceptor.accept(s).await?))),
        tls => Ok(tls),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(transport: Transport) -> Settings {
        Settings { transport, ports: 0..=0, client_cert: None }
    }

    #[tokio::test]
    async fn unix_socket_and_private_dir_are_removed() {
        let (_listener, addr, cleanup) = bind(&settings(Transport::Unix(None))).unwrap();
        let ListenAddr::Unix(path) = addr else { panic!("expected a unix socket") };
        let dir = path.parent().unwrap().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(path.exists());
        drop(cleanup);
        assert!(!path.exists());
        assert!(!dir.exists());
    }

    /// A temp directory of our own holding a fresh socket directory as `bind_unix` makes it.
    fn socket_dir(temp: &Path, suffix: &str) -> PathBuf {
        let dir = temp.join(format!("{SOCKET_DIR_PREFIX}{suffix}"));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    #[test]
    fn abandoned_socket_dirs_are_removed_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let own = socket_dir(temp.path(), "000000000000");
        // A plugin that died: its socket file stays, nobody listens.
        let dead = socket_dir(temp.path(), "aaaaaaaaaaaa");
        drop(std::os::unix::net::UnixListener::bind(dead.join(SOCKET_FILE)).unwrap());
        // A plugin still running.
        let live = socket_dir(temp.path(), "bbbbbbbbbbbb");
        let _listening = std::os::unix::net::UnixListener::bind(live.join(SOCKET_FILE)).unwrap();
        // A plugin between making its directory and binding.
        let binding = socket_dir(temp.path(), "cccccccccccc");
        // A dead socket in a directory holding something else too.
        let shared = socket_dir(temp.path(), "dddddddddddd");
        drop(std::os::unix::net::UnixListener::bind(shared.join(SOCKET_FILE)).unwrap());
        std::fs::write(shared.join("notes"), "not ours to delete").unwrap();
        // A name that only looks like ours.
        let other = temp.path().join(format!("{SOCKET_DIR_PREFIX}not-hex-name"));
        std::fs::create_dir(&other).unwrap();
        drop(std::os::unix::net::UnixListener::bind(other.join(SOCKET_FILE)).unwrap());

        // Too young: nothing goes, however dead.
        assert_eq!(remove_abandoned_socket_dirs(&own, Duration::from_secs(3600)), 0);
        assert!(dead.exists());

        assert_eq!(remove_abandoned_socket_dirs(&own, Duration::ZERO), 1);
        assert!(!dead.exists());
        for kept in [&own, &live, &binding, &other] {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
        assert!(shared.join("notes").exists());
        assert!(live.join(SOCKET_FILE).exists());
    }

    #[test]
    fn a_link_named_like_a_socket_dir_is_not_followed() {
        let temp = tempfile::tempdir().unwrap();
        let own = socket_dir(temp.path(), "000000000000");
        let elsewhere = tempfile::tempdir().unwrap();
        drop(std::os::unix::net::UnixListener::bind(elsewhere.path().join(SOCKET_FILE)).unwrap());
        std::os::unix::fs::symlink(elsewhere.path(), temp.path().join(format!("{SOCKET_DIR_PREFIX}eeeeeeeeeeee")))
            .unwrap();
        assert_eq!(remove_abandoned_socket_dirs(&own, Duration::ZERO), 0);
        assert!(elsewhere.path().join(SOCKET_FILE).exists());
    }

    #[tokio::test]
    async fn host_chosen_dir_is_kept() {
        let dir = std::env::temp_dir().join(format!("eksidentity-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        let (_listener, addr, cleanup) = bind(&settings(Transport::Unix(Some(dir.clone())))).unwrap();
        assert!(addr.address().starts_with(dir.to_str().unwrap()));
        drop(cleanup);
        assert!(dir.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }

    #[tokio::test]
    async fn falls_back_to_tcp_when_the_socket_dir_is_unusable() {
        let (_listener, addr, _cleanup) =
            bind(&settings(Transport::Unix(Some("/nonexistent/eksidentity".into())))).unwrap();
        assert_eq!(addr.network(), "tcp");
        assert!(addr.address().starts_with("127.0.0.1:"));
    }

    #[tokio::test]
    async fn tcp_respects_the_port_range() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let s = Settings { transport: Transport::Tcp, ports: port..=port, client_cert: None };
        assert!(bind(&s).is_err(), "the only allowed port is taken");
        drop(taken);
        let (_l, addr, _c) = bind(&s).unwrap();
        assert_eq!(addr.address(), format!("127.0.0.1:{port}"));
    }
}
