//! Serving the app over HTTP/1.1 with limits no stalled or greedy client can outlast: `axum::serve`
//! sets none, so a connection that sends half a request would stay open for ever.
//!
//! Built from hyper's own settings and tower-http's layers rather than by hand:
//! - hyper's header-read timeout closes a connection whose request head does not arrive in time. Its
//!   timer starts whenever the connection waits for a head, so it is also the idle keep-alive timeout;
//! - tower-http's request-body timeout answers 408 when a body stops arriving, and its request timeout
//!   bounds any request as a whole (a body dripping in byte by byte included);
//! - connections are capped in all and per client address: beyond a cap the server stops accepting
//!   (the kernel queues new connections) or, per client, closes the new one at once.
//!
//! Every request carries the client's [`ConnectInfo`], which the token endpoint throttles by.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use scopes_runtime::issuing::ClientAddress;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// The limits a connection is served under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// How long a request head may take to arrive, from when the connection starts waiting for it: a
    /// half-sent head, and an idle keep-alive connection, are closed after it.
    pub header_read_timeout: Duration,
    /// How long a request body may pause before the request is answered 408.
    pub body_timeout: Duration,
    /// How long one request may take in all before it is answered 408.
    pub request_timeout: Duration,
    /// Connections open at once; beyond it, new ones wait in the kernel's queue.
    pub max_connections: usize,
    /// Connections open at once from one client address; beyond it, a new one is closed at once.
    pub max_connections_per_client: usize,
    /// How long a graceful shutdown waits for open connections before closing them.
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    /// Heads within 10 s (idle connections closed after 10 s), bodies pausing at most 10 s, requests
    /// within 30 s, 1024 connections, 64 per client, 10 s to drain on shutdown.
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_client: 64,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then drains open connections
/// for at most [`ServeLimits::shutdown_grace`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router.layer((
        RequestBodyTimeoutLayer::new(limits.body_timeout),
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limits.request_timeout),
    ));
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let per_client = PerClient::new(limits.max_connections_per_client.max(1));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);

    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, or a connection reset before it was accepted: the listener is fine.
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(client_slot) = per_client.enter(ClientAddress(Some(remote.ip())).bucket()) else {
            tracing::debug!(client = %remote.ip(), "too many connections from one client; closing the new one");
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, client = %remote, "connection ended with an error");
            }
            drop((permit, client_slot));
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("open connections did not finish within {:?}; closing them", limits.shutdown_grace);
    }
    Ok(())
}

/// Open connections per client, told apart as the login throttle tells them (an IPv6 client by its /64).
#[derive(Clone)]
struct PerClient {
    limit: usize,
    open: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

/// One open connection of a client; counted until dropped.
struct ClientSlot {
    clients: PerClient,
    client: Option<IpAddr>,
}

impl PerClient {
    fn new(limit: usize) -> Self {
        PerClient { limit, open: Arc::default() }
    }

    fn enter(&self, client: Option<IpAddr>) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(client).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot { clients: self.clone(), client })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}
