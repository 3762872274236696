//! go-plugin's own services: controller (Shutdown), stdio stream and broker stream, plus the shutdown signal
//! they share with the server loop.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::proto;
use crate::logging;

/// The process-wide "time to stop" flag. Long-lived streams end when it is raised so the server can drain.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    stop: watch::Sender<bool>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Self { stop: watch::channel(false).0 }
    }

    pub(crate) fn request_stop(&self, reason: &str) {
        if !*self.stop.borrow() {
            logging::debug!("plugin stopping", reason = reason);
        }
        self.stop.send_replace(true);
    }

    /// Resolves once a stop was requested (at once if it already was).
    pub(crate) fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

/// `plugin.GRPCController`: the host's polite "exit now".
pub(crate) struct Controller {
    pub lifecycle: Lifecycle,
    /// In `--debug` mode the process serves many Terraform runs; a run ending must not end it.
    pub keep_running: bool,
}

#[tonic::async_trait]
impl proto::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<proto::Empty>) -> Result<Response<proto::Empty>, Status> {
        if self.keep_running {
            logging::debug!("ignoring Shutdown from the host in debug mode");
        } else {
            // The answer still goes out: the server drains in-flight calls before it stops.
            self.lifecycle.request_stop("host requested shutdown");
        }
        Ok(Response::new(proto::Empty {}))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// `plugin.GRPCStdio`: the host reads our stdout and stderr through this stream. We write logs to stderr
/// directly (Terraform reads that pipe too), so the stream stays open and silent until shutdown.
pub(crate) struct Stdio {
    pub lifecycle: Lifecycle,
}

#[tonic::async_trait]
impl proto::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<proto::StdioData>;

    async fn stream_stdio(&self, _request: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        let stopped = self.lifecycle.stopped();
        let stream = futures::stream::once(stopped).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// `plugin.GRPCBroker`: the host opens this at start in case either side wants to offer more services.
/// A provider offers none, so the stream is held open; knocks asking for a service are answered "no".
pub(crate) struct Broker {
    pub lifecycle: Lifecycle,
}

#[tonic::async_trait]
impl proto::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<proto::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<proto::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let stopped = self.lifecycle.stopped();
        // The outbound stream ends when this task drops `tx`: at shutdown or when the host closes its side.
        tokio::spawn(async move {
            tokio::pin!(stopped);
            loop {
                let message = tokio::select! {
                    () = &mut stopped => return,
                    message = inbound.next() => message,
                };
                let Some(Ok(info)) = message else { return };
                if info.knock.as_ref().is_some_and(|k| k.knock) {
                    let answer = proto::ConnInfo {
                        service_id: info.service_id,
                        network: String::new(),
                        address: String::new(),
                        knock: Some(proto::conn_info::Knock {
                            knock: false,
                            ack: false,
                            error: "this plugin offers no brokered services".to_string(),
                        }),
                    };
                    if tx.send(Ok(answer)).await.is_err() {
                        return;
                    }
                } else {
                    logging::debug!("broker offer ignored", service_id = info.service_id);
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn stop_wakes_waiters_once_and_later_ones_at_once() {
        let lifecycle = Lifecycle::new();
        let waiter = tokio::spawn(lifecycle.stopped());
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        lifecycle.request_stop("test");
        tokio::time::timeout(Duration::from_secs(1), waiter).await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(1), lifecycle.stopped()).await.unwrap();
    }

    #[tokio::test]
    async fn stdio_stream_ends_at_stop() {
        use proto::grpc_stdio_server::GrpcStdio;
        let lifecycle = Lifecycle::new();
        let stdio = Stdio { lifecycle: lifecycle.clone() };
        let mut stream = stdio.stream_stdio(Request::new(())).await.unwrap().into_inner();
        let pending = tokio::time::timeout(Duration::from_millis(20), stream.next()).await;
        assert!(pending.is_err(), "the stream stays open and sends nothing");
        lifecycle.request_stop("test");
        let end = tokio::time::timeout(Duration::from_secs(1), stream.next()).await.unwrap();
        assert!(end.is_none());
    }

    #[tokio::test]
    async fn controller_shutdown_raises_the_flag_except_in_debug_mode() {
        use proto::grpc_controller_server::GrpcController;
        let lifecycle = Lifecycle::new();
        let debug = Controller { lifecycle: lifecycle.clone(), keep_running: true };
        debug.shutdown(Request::new(proto::Empty {})).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(20), lifecycle.stopped()).await.is_err());
        let normal = Controller { lifecycle: lifecycle.clone(), keep_running: false };
        normal.shutdown(Request::new(proto::Empty {})).await.unwrap();
        tokio::time::timeout(Duration::from_secs(1), lifecycle.stopped()).await.unwrap();
    }
}
