//! A real OpenID provider for the tests: node's `oidc-provider` (`tests/provider/provider.js`), started on
//! a loopback port with keys the test generates, asked for tokens by the client credentials grant,
//! restarted with other keys (a rotation) and stopped (an outage).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

/// The resource the provider issues access tokens for: the demo's `--audience`.
pub const AUDIENCE: &str = "https://api.example";

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("provider")
}

/// Installs the provider's npm packages from the committed lock file when they are missing (the test
/// command does it first; this keeps a lone `cargo test` working).
fn install_once() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if *installed || provider_dir().join("node_modules/oidc-provider").is_dir() {
        *installed = true;
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(provider_dir())
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci in tests/provider failed");
    *installed = true;
}

/// A fresh private JWK Set, one key per `kid:alg` (`r1:RS256`, `p1:PS256`, `e1:ES256`, `d1:EdDSA`).
pub fn generate_keys(specs: &[&str]) -> Value {
    install_once();
    let output = Command::new("node")
        .arg("provider.js")
        .arg("generate")
        .args(specs)
        .current_dir(provider_dir())
        .output()
        .expect("node runs");
    assert!(output.status.success(), "generating keys failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("a JWK Set")
}

/// `first`'s keys followed by `then`'s: a provider signing with `first` that still publishes `then`.
pub fn keys_then(first: &Value, then: &Value) -> Value {
    let mut keys = first["keys"].as_array().cloned().unwrap_or_default();
    keys.extend(then["keys"].as_array().cloned().unwrap_or_default());
    serde_json::json!({ "keys": keys })
}

/// A running provider; stopped when dropped.
pub struct RunningProvider {
    child: Child,
    /// `http://127.0.0.1:PORT`, as its tokens name it in `iss`.
    pub issuer: String,
    pub port: u16,
    _keys_file: TempFile,
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RunningProvider {
    /// A provider signing with `keys` (the first of each algorithm signs), on `port` (0: a free one).
    pub fn start(keys: &Value, port: u16) -> Self {
        Self::start_with(keys, port, &[])
    }

    /// As [`start`](Self::start), with `env` for the process (e.g. `PROVIDER_REDIRECT_URIS`).
    pub fn start_with(keys: &Value, port: u16, env: &[(&str, &str)]) -> Self {
        install_once();
        let keys_file = TempFile::with_contents("provider-keys.json", &keys.to_string());
        let mut child = Command::new("node")
            .arg("provider.js")
            .arg("--keys")
            .arg(keys_file.path())
            .args(["--port", &port.to_string(), "--audience", AUDIENCE])
            .envs(env.iter().copied())
            .current_dir(provider_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts the provider");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let mut provider = RunningProvider { child, issuer: String::new(), port: 0, _keys_file: keys_file };
        while provider.issuer.is_empty() {
            let line = lines.recv_timeout(Duration::from_secs(30)).expect("the provider starts within 30 s");
            if let Ok(started) = serde_json::from_str::<Value>(&line) {
                provider.issuer = started["issuer"].as_str().expect("an issuer").to_owned();
                provider.port = started["port"].as_u64().and_then(|port| u16::try_from(port).ok()).expect("a port");
            }
        }
        provider
    }

    /// An access token for the client `johndoe` (so its subject is `johndoe`) granting `scope`, signed with
    /// `alg`.
    pub async fn token(&self, alg: &str, scope: &str) -> String {
        let body = self.token_response(alg, scope, None).await;
        body["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {body}")).to_owned()
    }

    /// A DPoP-bound access token (RFC 9449 §5) for the client `johndoe` granting `scope`, signed with `alg`:
    /// the token request carries a proof of `key`, so the token's `cnf.jkt` names it. Also the answer's
    /// `token_type`.
    pub async fn dpop_token(&self, alg: &str, scope: &str, key: &scopes_runtime::testing::DpopKey) -> (String, String) {
        let body = self.token_response(alg, scope, Some(key)).await;
        let token = body["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {body}")).to_owned();
        (token, body["token_type"].as_str().unwrap_or_default().to_owned())
    }

    /// The token endpoint's answer to a client-credentials request for `johndoe`, with a DPoP proof of
    /// `key` when one is given.
    async fn token_response(&self, alg: &str, scope: &str, key: Option<&scopes_runtime::testing::DpopKey>) -> Value {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", "johndoe"),
            ("client_secret", "johndoe-secret"),
            ("scope", scope),
            ("resource", AUDIENCE),
            ("token_alg", alg),
        ];
        let url = format!("{}/token", self.issuer);
        let mut request = reqwest::Client::new().post(&url).form(&form);
        if let Some(key) = key {
            request = request.header("dpop", key.proof("POST", &url, None));
        }
        let response = request.send().await.expect("the provider answers");
        response.json().await.expect("a JSON token response")
    }

    /// How many times its key set has been fetched.
    pub async fn jwks_fetches(&self) -> u64 {
        self.stat("jwks").await
    }

    /// How many tokens it has introspected.
    pub async fn introspections(&self) -> u64 {
        self.stat("introspections").await
    }

    async fn stat(&self, name: &str) -> u64 {
        let stats: Value = reqwest::get(format!("{}/__stats", self.issuer))
            .await
            .expect("the provider answers")
            .json()
            .await
            .expect("JSON stats");
        stats[name].as_u64().expect("a count")
    }

    /// Revokes `token` (one issued to `johndoe`) at the provider, as its client (RFC 7009).
    pub async fn revoke(&self, token: &str) {
        let form = [("token", token), ("client_id", "johndoe"), ("client_secret", "johndoe-secret")];
        let response = reqwest::Client::new()
            .post(format!("{}/token/revocation", self.issuer))
            .form(&form)
            .send()
            .await
            .expect("the provider answers");
        assert!(response.status().is_success(), "revoked: {}", response.status());
    }

    /// Its published key set.
    pub async fn jwks(&self) -> Value {
        reqwest::get(format!("{}/jwks", self.issuer))
            .await
            .expect("the provider answers")
            .json()
            .await
            .expect("a JWK Set")
    }
}

/// A file in the system's temp directory, removed when dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn with_contents(name: &str, contents: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("scopes-{}-{unique}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("writing a temp file");
        TempFile(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
