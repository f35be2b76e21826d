//! Token requests, through any transport (in process, or over TCP from a chosen loopback address: distinct
//! `127.x` addresses stand for distinct machines): the one login helper of the tests and the login
//! benchmark, and what it answers.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use serde_json::Value;

use crate::cases::request;
use crate::transport::{OverTcp, Transport};

/// A client whose connections come from `127.a.b.c`, to the server at `base`.
pub fn client_at(base: &str, a: u8, b: u8, c: u8) -> OverTcp {
    let client = reqwest::Client::builder()
        .local_address(IpAddr::from([127, a, b, c]))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    OverTcp::with_client(base.to_owned(), client)
}

/// How a token request (or a revocation) was answered.
#[derive(Debug, Clone)]
pub struct TokenAnswer {
    pub status: u16,
    pub headers: HeaderMap,
    /// The JSON body; `Null` when there is none.
    pub body: Value,
    /// From sending the request to reading the whole answer.
    pub took: Duration,
}

impl TokenAnswer {
    pub fn access_token(&self) -> String {
        self.body["access_token"].as_str().unwrap_or_else(|| panic!("an access token in {}", self.body)).to_owned()
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"].as_str().unwrap_or_else(|| panic!("a refresh token in {}", self.body)).to_owned()
    }

    /// The RFC 6749 `error`, if any.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    /// The `Retry-After` seconds, if the answer gave any.
    pub fn retry_after(&self) -> Option<u64> {
        self.headers.get(header::RETRY_AFTER)?.to_str().ok()?.parse().ok()
    }
}

/// Posts `fields` as a form to `path`.
pub async fn post_form(transport: &impl Transport, path: &str, fields: &[(&str, &str)]) -> TokenAnswer {
    let mut form = request(Method::POST, path);
    form.headers.push((header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded")));
    form.body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish().into_bytes();
    let started = Instant::now();
    let response = transport.send(form).await;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    TokenAnswer { status: response.status.as_u16(), headers: response.headers, body, took: started.elapsed() }
}

/// A password-grant login at `/token` asking for `scope` (left out when empty).
pub async fn login(transport: &impl Transport, username: &str, password: impl AsRef<str>, scope: &str) -> TokenAnswer {
    let mut fields = vec![("grant_type", "password"), ("username", username), ("password", password.as_ref())];
    if !scope.is_empty() {
        fields.push(("scope", scope));
    }
    post_form(transport, "/token", &fields).await
}

/// johndoe's access token (password `secret`) from the server at `base`, granting `scope`; panics unless
/// the login succeeds.
pub async fn johndoe_token(base: &str, scope: &str) -> String {
    let answer = login(&OverTcp::new(base.to_owned()), "johndoe", "secret", scope).await;
    assert_eq!(answer.status, 200, "johndoe logs in at {base}: {}", answer.body);
    answer.access_token()
}
