//! Logging in over real TCP from a chosen loopback address, as the login-abuse tests and the login
//! benchmark do: distinct `127.x` addresses stand for distinct machines.

use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A client whose connections come from `127.a.b.c`.
pub fn client_at(a: u8, b: u8, c: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, a, b, c]))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client")
}

/// How a login was answered.
#[derive(Debug, Clone, Copy)]
pub struct LoginAnswer {
    pub status: u16,
    /// The `Retry-After` seconds, if the answer gave any.
    pub retry_after: Option<u64>,
    /// From sending the request to reading the whole answer.
    pub took: Duration,
}

/// Posts a password-grant login for `username` asking for `me` to the server at `base`.
pub async fn login(client: &reqwest::Client, base: &str, username: &str, password: impl AsRef<str>) -> LoginAnswer {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/token"))
        .form(&[("username", username), ("password", password.as_ref()), ("scope", "me")])
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
    let _ = response.bytes().await;
    LoginAnswer { status, retry_after, took: started.elapsed() }
}

/// johndoe's access token (password `secret`) from the server at `base`, granting `scope`; panics unless
/// the login succeeds.
pub async fn johndoe_token(base: &str, scope: &str) -> String {
    let fields = [("username", "johndoe"), ("password", "secret"), ("scope", scope)];
    let response = reqwest::Client::new().post(format!("{base}/token")).form(&fields).send().await;
    let response = response.expect("the server answers");
    assert_eq!(response.status(), 200, "johndoe logs in at {base}");
    let body: serde_json::Value = response.json().await.expect("a JSON body");
    body["access_token"].as_str().expect("an access token").to_owned()
}
