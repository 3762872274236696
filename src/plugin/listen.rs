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

fn bind_unix(dir: Option<&Path>) -> io::Result<(Listener, ListenAddr, Cleanup)> {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let (path, made_dir) = match dir {
        // The host chose the directory (PLUGIN_UNIX_SOCKET_DIR): only the socket is ours.
        Some(dir) => (dir.join(format!("eksidentity-{}.sock", &unique[..12])), None),
        // Otherwise a directory only we can enter, so no other user can connect to the socket.
        None => {
            use std::os::unix::fs::DirBuilderExt;
            let dir = std::env::temp_dir().join(format!("eksidentity-plugin-{}", &unique[..12]));
            std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
            (dir.join("plugin.sock"), Some(dir))
        }
    };
    // Made before binding so a failed bind still removes the directory.
    let mut cleanup = Cleanup { socket: None, dir: made_dir };
    let listener = UnixListener::bind(&path)?;
    cleanup.socket = Some(path.clone());
    Ok((Listener::Unix(listener), ListenAddr::Unix(path), cleanup))
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
