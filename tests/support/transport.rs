//! Two ways of sending a case: into the demo's router in-process, or over TCP to a running server.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct TestRequest {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub trait Transport {
    /// The `Host` this transport's requests carry, which absolute redirects echo back.
    fn host(&self) -> String;
    fn send(&self, request: TestRequest) -> impl Future<Output = TestResponse>;
}

/// Calls the router directly, as Starlette's `TestClient` does (and with its `Host`, `testserver`).
pub struct InProcess {
    router: Router,
    /// The address requests come from, as a server with connection info would report it.
    client: Option<SocketAddr>,
}

impl InProcess {
    pub fn new(router: Router) -> Self {
        InProcess { router, client: None }
    }

    /// Requests that appear to come from `client`.
    pub fn from_client(router: Router, client: SocketAddr) -> Self {
        InProcess { router, client: Some(client) }
    }
}

impl Transport for InProcess {
    fn host(&self) -> String {
        "testserver".into()
    }

    async fn send(&self, request: TestRequest) -> TestResponse {
        let mut builder =
            Request::builder().method(request.method).uri(&request.path).header(header::HOST, self.host());
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some(client) = self.client {
            builder = builder.extension(ConnectInfo(client));
        }
        let response = self.router.clone().oneshot(builder.body(Body::from(request.body)).expect("request")).await;
        let response = response.expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        TestResponse { status, headers, body }
    }
}

/// Sends over a real TCP connection to `base` (`http://127.0.0.1:PORT`), never following redirects.
pub struct OverTcp {
    pub base: String,
    client: reqwest::Client,
}

impl OverTcp {
    pub fn new(base: String) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        OverTcp { base, client }
    }

    /// Sends with `client` (one bound to a chosen local address, say).
    pub fn with_client(base: String, client: reqwest::Client) -> Self {
        OverTcp { base, client }
    }

    /// The same client, sending to `base` (another replica).
    pub fn to(&self, base: &str) -> Self {
        OverTcp { base: base.to_owned(), client: self.client.clone() }
    }
}

impl Transport for OverTcp {
    fn host(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    async fn send(&self, request: TestRequest) -> TestResponse {
        let mut builder = self.client.request(request.method, format!("{}{}", self.base, request.path));
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        let response = builder.body(request.body).send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        TestResponse { status, headers, body }
    }
}

/// The status a `GET` of `path` with the bearer `token` is answered with by the server at `base`.
pub async fn bearer_status(base: &str, path: &str, token: &str) -> u16 {
    OverTcp::new(base.to_owned()).send(crate::cases::bearer(path, token)).await.status.as_u16()
}
