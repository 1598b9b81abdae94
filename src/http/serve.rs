//! The accept loop: each connection is served by hyper's HTTP/1 connection with a header-read
//! timeout, which `axum::serve` does not set (its hyper builder has no timer, so a client that
//! sends its headers a byte at a time, or nothing at all, held a connection for ever).
//!
//! hyper starts the header-read timer whenever the connection waits for a request head: as soon
//! as it is accepted, and again after each response on a kept-alive connection. So one limit
//! covers a slow head (slowloris), a connection that never sends anything, and idle keep-alive
//! connections. It does not run while a request is being answered: a long server-sent event
//! stream is not cut off, and a slow body is the request timeout's business (408).
//!
//! What `axum::serve` gave us is kept: the client's address as [`ConnectInfo`] (per-IP rate
//! limits), accept errors logged and retried (its `Listener` impl), and graceful shutdown: when
//! `shutdown` resolves the listener closes, idle connections close, in-flight requests finish,
//! and [`serve`] returns once every connection is gone.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` resolves, then drains (see the module docs).
pub async fn serve(
    mut listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(remote));
            app.clone().oneshot(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client cut off for a slow head, or one that went away: nothing to answer.
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "stopped accepting; draining connections"
    );
    graceful.shutdown().await;
}
