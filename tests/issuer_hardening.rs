//! An issuer's keys and files, hardened (issue 21), against the demo binary on SQLite: an emergency key
//! rotation unpublishes the leaked key and refuses every token it signed, at every replica; a superseded
//! key refuses tokens dated after it stopped signing, and no token outlives the issuer's lifetime; the
//! database files are readable by their owner only.

use std::time::{Duration, Instant};

use base64::Engine;
use scopes_tests::cli::demo_command;
use scopes_tests::logins::johndoe_token;
use scopes_tests::server::{RunningDemo, start_demo_at, start_demo_with};
use scopes_tests::tokens::now;
use serde_json::{Value, json};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

/// A fresh SQLite database's URL, in a temporary directory (removed with the guard).
fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/issuer.db", dir.path().display());
    (dir, url)
}

/// `replicas` demos issuing ES256 tokens from the keys of the database at `url` (reloaded every second),
/// all under the first's URL, as replicas behind one public URL; and that URL.
fn issuers(url: &str, replicas: usize) -> (Vec<RunningDemo>, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let issuer = format!("http://127.0.0.1:{port}");
    let args = ["--database-url", url, "--signing-alg", "ES256", "--public-url", &issuer, "--key-reload-secs", "1"];
    let mut demos = vec![start_demo_at(&format!("127.0.0.1:{port}"), None, &args)];
    demos.extend((1..replicas).map(|_| start_demo_with(None, &args)));
    (demos, issuer)
}

fn keys(url: &str, args: &[&str]) -> String {
    let ran = demo_command("keys", url, args, "");
    assert_eq!(ran.status, 0, "demo keys {args:?}: {}", ran.stderr);
    ran.stdout
}

/// The current signing key's `kid` and private half, read straight from the database: what a leak of it
/// gives an attacker.
async fn leak_current_key(url: &str) -> (String, jsonwebtoken::EncodingKey) {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(url).await.expect("the database opens");
    let (kid, private_key): (String, String) = sqlx::query_as(
        "SELECT kid, private_key FROM signing_keys WHERE superseded_at IS NULL AND private_key IS NOT NULL",
    )
    .fetch_one(&mut connection)
    .await
    .expect("a current key");
    let der = base64::engine::general_purpose::STANDARD.decode(private_key).expect("base64 PKCS#8");
    (kid, jsonwebtoken::EncodingKey::from_ec_der(&der))
}

/// A token for `admin` signed with a leaked key, issued at `iat`, living `lifetime` seconds.
fn forge(leaked: &(String, jsonwebtoken::EncodingKey), issuer: &str, iat: u64, lifetime: u64) -> String {
    let header = jsonwebtoken::Header {
        kid: Some(leaked.0.clone()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256)
    };
    let claims = json!({
        "sub": "johndoe", "scope": "admin", "iss": issuer, "aud": issuer,
        "iat": iat, "exp": iat + lifetime, "jti": format!("forged-{iat}-{lifetime}"),
    });
    jsonwebtoken::encode(&header, &claims, &leaked.1).expect("signing with the leaked key")
}

async fn admin_status(base: &str, token: &str) -> u16 {
    let response = reqwest::Client::new().get(format!("{base}/admin/users/")).bearer_auth(token).send().await;
    response.expect("the demo answers").status().as_u16()
}

/// Polls until `status` of every replica is `expected`, for up to `within`; whether it came.
async fn every_replica_answers(demos: &[RunningDemo], token: &str, expected: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let mut all = true;
        for demo in demos {
            all &= admin_status(&demo.base, token).await == expected;
        }
        if all || Instant::now() >= deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn published_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|key| key["kid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn an_emergency_rotation_unpublishes_the_leaked_key_and_refuses_every_token_it_signed() {
    let (_dir, url) = sqlite();
    let (demos, issuer) = issuers(&url, 2);
    runtime().block_on(async {
        let issued = johndoe_token(&demos[0].base, "admin").await;
        let leaked = leak_current_key(&url).await;
        let forged = forge(&leaked, &issuer, now(), 600);
        assert!(every_replica_answers(&demos, &forged, 200, Duration::ZERO).await, "the forgery is well made");

        // A rotation pending, then the leak discovered: the emergency rotation must revoke the key that
        // signs now, not only the pending one.
        keys(&url, &["rotate", "--activate-in", "600"]);
        let said = keys(&url, &["rotate", "--activate-in", "0"]);
        assert!(said.contains("revoked") && said.contains(&leaked.0), "{said}");

        let forged_after = forge(&leaked, &issuer, now() + 1, 600);
        for token in [&issued, &forged, &forged_after] {
            assert!(every_replica_answers(&demos, token, 401, Duration::from_secs(4)).await, "still trusted: {token}");
        }
        for demo in &demos {
            let jwks: Value =
                reqwest::get(format!("{}/.well-known/jwks.json", demo.base)).await.unwrap().json().await.unwrap();
            let published = published_kids(&jwks);
            assert_eq!(published.len(), 1, "only the new key is published: {published:?}");
            assert_ne!(published[0], leaked.0);
        }
        let listed = keys(&url, &["list"]);
        assert_eq!(listed.matches("not trusted, its tokens are refused").count(), 2, "{listed}");
        // Everyone logs in again, with the new key.
        let fresh = johndoe_token(&demos[1].base, "admin").await;
        assert!(every_replica_answers(&demos, &fresh, 200, Duration::from_secs(3)).await);
    });
}

#[test]
fn a_superseded_key_refuses_tokens_dated_after_it_stopped_and_no_token_outlives_the_issuers_lifetime() {
    let (_dir, url) = sqlite();
    let (demos, issuer) = issuers(&url, 1);
    runtime().block_on(async {
        let issued = johndoe_token(&demos[0].base, "admin").await;
        let leaked = leak_current_key(&url).await;
        assert_eq!(admin_status(&demos[0].base, &forge(&leaked, &issuer, now(), 1800)).await, 200);
        // Ten years is longer than the issuer ever issues for (30 minutes, and a minute's leeway).
        assert_eq!(admin_status(&demos[0].base, &forge(&leaked, &issuer, now(), 10 * 365 * 86400)).await, 401);

        keys(&url, &["rotate", "--activate-in", "1"]);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let listed = keys(&url, &["list"]);
        assert!(listed.contains("no longer signs; trusted until"), "{listed}");
        // The old key still verifies what it signed while it signed...
        assert_eq!(admin_status(&demos[0].base, &issued).await, 200);
        // ...but not a token dated after it stopped (beyond the minute of clock leeway).
        let late = forge(&leaked, &issuer, now() + 90, 600);
        assert_eq!(admin_status(&demos[0].base, &late).await, 401);
    });
}

#[test]
fn the_database_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let fresh = dir.path().join("fresh.db");
    let earlier = dir.path().join("earlier.db");
    // A database an earlier version made, readable by everyone.
    let url = format!("sqlite://{}", earlier.display());
    demo_command("users", &url, &["list"], "");
    std::fs::set_permissions(&earlier, std::fs::Permissions::from_mode(0o644)).unwrap();
    for path in [&fresh, &earlier] {
        let url = format!("sqlite://{}", path.display());
        let demo = start_demo_with(Some(scopes_tests::SECRET), &["--database-url", &url]);
        runtime().block_on(async { johndoe_token(&demo.base, "admin").await });
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{}{suffix}", path.display());
            let mode = std::fs::metadata(&file).unwrap_or_else(|_| panic!("{file} exists")).permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is {:o}", mode & 0o777);
        }
    }
}

#[test]
fn a_secret_or_a_password_on_the_command_line_is_warned_about_and_a_secret_file_is_not() {
    let warns =
        |demo: &RunningDemo, flag: &str| demo.log.iter().any(|line| line.contains("WARN") && line.contains(flag));
    let on_command_line = start_demo_with(
        None,
        &[
            "--secret-key",
            scopes_tests::SECRET,
            "--database-url",
            "memory:",
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1/",
        ],
    );
    assert!(warns(&on_command_line, "--secret-key on the command line"), "{:#?}", on_command_line.log);
    let warning = on_command_line.log.iter().find(|line| line.contains("--secret-key on the command line")).unwrap();
    assert!(warning.contains("DEMO_SECRET_KEY") && warning.contains("--secret-key-file"), "{warning}");
    assert!(warns(&on_command_line, "--redis-url holds a password"), "{:#?}", on_command_line.log);
    assert!(on_command_line.log.iter().all(|line| !line.contains("hunter2") && !line.contains(scopes_tests::SECRET)));

    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{}\n", scopes_tests::SECRET)).unwrap();
    let from_file = start_demo_with(None, &["--secret-key-file", file.to_str().unwrap(), "--database-url", "memory:"]);
    assert!(!warns(&from_file, "--secret-key"), "{:#?}", from_file.log);
    runtime().block_on(async {
        // Signed with the file's secret: a token the tests' secret makes is good.
        let token = scopes_tests::tokens::signed("johndoe", &["me"]);
        let response =
            reqwest::Client::new().get(format!("{}/users/me/", from_file.base)).bearer_auth(token).send().await;
        assert_eq!(response.unwrap().status(), 200);
    });
    // An unreadable file stops the start, saying which.
    let refused = std::process::Command::new(scopes_tests::server::demo_binary())
        .args(["--secret-key-file", "/nonexistent/secret", "--bind", "127.0.0.1:0", "--database-url", "memory:"])
        .env_remove("DEMO_SECRET_KEY")
        .output()
        .expect("the demo runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("/nonexistent/secret"));
}

/// A provider on loopback whose discovery names a `jwks_uri` that redirects to `http://0.0.0.0:PORT/...`,
/// which reaches the same server but which no URL given directly may be (plain http, not loopback); and
/// a token its key signs.
async fn redirecting_provider() -> (String, String) {
    use scopes_runtime::{Authority, keys::KeyRing, keys::SigningAlgorithm, keys::SigningKey};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let stored = vec![SigningKey::generate(SigningAlgorithm::EdDsa).unwrap()];
    let load = move || {
        let keys = stored.clone();
        async move { Ok(keys) }
    };
    let ring = KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(60)).await.unwrap();
    let jwks = ring.jwks();
    let token = Authority::from_key_ring(ring, &issuer, "https://api.example").issue("johndoe", &["me"]).unwrap();
    let discovery = json!({
        "issuer": issuer, "jwks_uri": format!("{issuer}/jwks"),
        "authorization_endpoint": format!("{issuer}/auth"), "token_endpoint": format!("{issuer}/token"),
    });
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", axum::routing::get(move || async move { axum::Json(discovery) }))
        .route(
            "/jwks",
            axum::routing::get(move || async move {
                axum::response::Redirect::to(&format!("http://0.0.0.0:{port}/keys-elsewhere"))
            }),
        )
        .route("/keys-elsewhere", axum::routing::get(move || async move { axum::Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (issuer, token)
}

#[test]
fn issuer_mode_follows_no_redirect_a_direct_url_could_not_name_and_takes_only_typed_access_tokens() {
    let runtime = runtime();
    let (issuer, token) = runtime.block_on(redirecting_provider());
    let demo = start_demo_with(None, &["--issuer", &issuer, "--audience", "https://api.example"]);
    runtime.block_on(async {
        let response = reqwest::Client::new().get(format!("{}/users/me/", demo.base)).bearer_auth(&token).send().await;
        assert_eq!(response.unwrap().status(), 503, "the redirected key set is not fetched, so nothing is trusted");
    });

    let provider = runtime.block_on(scopes_runtime::testing::FakeProvider::start());
    let audience = "https://api.example";
    let typed = start_demo_with(None, &["--issuer", provider.issuer(), "--audience", audience]);
    let untyped =
        start_demo_with(None, &["--issuer", provider.issuer(), "--audience", audience, "--accept-untyped-tokens"]);
    let claims = json!({
        "iss": provider.issuer(), "aud": audience, "sub": "johndoe", "scope": "me",
        "iat": now(), "exp": now() + 300,
    });
    runtime.block_on(async {
        let status = async |demo: &RunningDemo, token: &str| {
            let response = reqwest::Client::new().get(format!("{}/users/me/", demo.base)).bearer_auth(token).send();
            response.await.expect("the demo answers").status().as_u16()
        };
        let access_token = provider.sign(&claims);
        let id_token = provider.sign_as(&claims, Some("JWT"));
        let untyped_token = provider.sign_as(&claims, None);
        assert_eq!(status(&typed, &access_token).await, 200);
        assert_eq!(status(&typed, &id_token).await, 401, "an ID token is no access token");
        assert_eq!(status(&typed, &untyped_token).await, 401);
        for token in [&access_token, &id_token, &untyped_token] {
            assert_eq!(status(&untyped, token).await, 200, "--accept-untyped-tokens");
        }
    });
}

/// Whether any of the database's files (`url`'s, its `-wal` and `-shm`) holds `text`.
fn in_database_files(url: &str, text: &str) -> bool {
    let path = url.trim_start_matches("sqlite://");
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let bytes = std::fs::read(format!("{path}{suffix}")).unwrap_or_default();
        bytes.windows(text.len()).any(|window| window == text.as_bytes())
    })
}

#[test]
fn an_erased_private_key_is_in_no_database_file() {
    let (_dir, url) = sqlite();
    let (demos, _issuer) = issuers(&url, 1);
    runtime().block_on(async {
        johndoe_token(&demos[0].base, "admin").await;
        use sqlx::Connection;
        let mut connection = sqlx::SqliteConnection::connect(&url).await.expect("the database opens");
        let (private_key,): (String,) =
            sqlx::query_as("SELECT private_key FROM signing_keys WHERE superseded_at IS NULL")
                .fetch_one(&mut connection)
                .await
                .expect("a current key");
        connection.close().await.expect("closed");
        // A run of the stored text long enough to be nothing else.
        let stored = &private_key[private_key.len() - 48..];
        assert!(in_database_files(&url, stored), "the key is stored before it is erased");
        keys(&url, &["rotate", "--activate-in", "0"]);
        assert!(!in_database_files(&url, stored), "the erased private key is still in the database's files");
    });
}

#[test]
fn several_audiences_are_accepted_each_provider_with_its_own_where_they_differ() {
    let runtime = runtime();
    let (first, second) = runtime.block_on(async {
        (scopes_runtime::testing::FakeProvider::start().await, scopes_runtime::testing::FakeProvider::start().await)
    });
    // The demo: `--audience` given twice.
    let demo = start_demo_with(
        None,
        &["--issuer", first.issuer(), "--audience", "https://api.example", "--audience", "https://api.example/v2"],
    );
    runtime.block_on(async {
        let status = async |token: String| {
            let response = reqwest::Client::new().get(format!("{}/users/me/", demo.base)).bearer_auth(token).send();
            response.await.expect("the demo answers").status().as_u16()
        };
        assert_eq!(status(first.token("johndoe", ["me"], "https://api.example")).await, 200);
        assert_eq!(status(first.token("johndoe", ["me"], "https://api.example/v2")).await, 200);
        assert_eq!(status(first.token("johndoe", ["me"], "https://other.example")).await, 401);
    });

    // An authority of two providers, the second knowing this API by another identifier.
    runtime.block_on(async {
        let providers = [first.provider(), second.provider().with_audiences(["urn:second:api"])];
        let authority = scopes_runtime::Authority::from_providers(providers, "https://api.example").expect("providers");
        assert!(authority.wait_for_keys(Duration::from_secs(5)).await, "both key sets fetched");
        let verify = async |token: String| authority.verify_async(&token).await;
        assert!(verify(first.token("johndoe", ["me"], "https://api.example")).await.is_ok());
        assert!(
            verify(first.token("johndoe", ["me"], "urn:second:api")).await.is_err(),
            "the first has none of its own"
        );
        assert!(verify(second.token("johndoe", ["me"], "urn:second:api")).await.is_ok());
        let refused = verify(second.token("johndoe", ["me"], "https://api.example")).await;
        assert!(matches!(refused, Err(scopes_runtime::TokenError::InvalidClaims(_))), "{refused:?}");
    });
}
