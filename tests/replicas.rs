//! Several replicas of the demo, one policy: two demo processes on two ports share a real PostgreSQL
//! database (the users and the signing keys) and a real Redis (the login throttle's counts), as replicas
//! behind a load balancer do. Failing logins spread across them are throttled as one; Redis going away
//! fails logins closed; a token either signs is accepted by both, across a key rotation, and by a third
//! demo verifying them through OpenID Connect discovery.
//!
//! The tests share the machine's two cores with the servers' password checks, so they run one at a time.

use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use scopes_tests::logins::{TokenAnswer, client_at, johndoe_token, login};
use scopes_tests::redis::{self, RedisServer};
use scopes_tests::server::{RunningDemo, demo_binary, start_demo_at, start_demo_with};
use scopes_tests::transport::bearer_status;
use scopes_tests::{SECRET, postgres, tokens};
use serde_json::Value;

/// One test at a time: each runs several servers' password checks on two cores.
static SERIAL: Mutex<()> = Mutex::new(());

/// Two replicas sharing a fresh PostgreSQL database and the Redis at `redis_url`.
fn replicas(redis_url: &str) -> [RunningDemo; 2] {
    let database = postgres::shared().fresh_database();
    let args = ["--database-url", database.as_str(), "--redis-url", redis_url];
    [start_demo_with(Some(SECRET), &args), start_demo_with(Some(SECRET), &args)]
}

fn run(test: impl AsyncFnOnce()) {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(test());
}

fn count(answers: &[TokenAnswer], status: u16) -> usize {
    answers.iter().filter(|answer| answer.status == status).count()
}

#[test]
fn failing_logins_alternating_between_replicas_are_throttled_as_one() {
    run(async || {
        let [first, second] = replicas(&redis::shared().fresh_url());
        let attacker = client_at(&first.base, 0, 15, 1);
        for attempt in 0..10 {
            let replica = if attempt % 2 == 0 { &first } else { &second };
            let answer = login(&attacker.to(&replica.base), "johndoe", format!("guess-{attempt}"), "me").await;
            assert_eq!(answer.status, 400, "attempt {attempt} is among the policy's ten: {answer:?}");
        }
        // Ten in all, not ten per replica: both refuse the pair now, even with the right password.
        for replica in [&first, &second] {
            let answer = login(&attacker.to(&replica.base), "johndoe", "secret", "me").await;
            assert_eq!(answer.status, 429, "{answer:?}");
            assert!(answer.retry_after().is_some_and(|seconds| seconds > 60), "locked for the window: {answer:?}");
        }
        // The owner, elsewhere, is slowed down (the account's failures are shared too), not locked out.
        let owner = login(&client_at(&second.base, 0, 15, 2), "johndoe", "secret", "me").await;
        assert_eq!(owner.status, 200, "{owner:?}");
    });
}

/// The key Redis would hold for `parts` were its names unkeyed SHA-256 digests: what a dictionary of
/// usernames and addresses finds.
fn unkeyed_name(parts: &[&str]) -> String {
    let mut hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for part in parts {
        hash.update(&(part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finish().as_ref()[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
fn the_redis_key_names_tell_nobody_without_the_shared_secret_whose_counts_they_are() {
    run(async || {
        let url = redis::shared().fresh_url();
        let [first, second] = replicas(&url);
        let attacker = client_at(&first.base, 0, 16, 1);
        for (attempt, replica) in [&first, &second, &first].into_iter().enumerate() {
            let answer = login(&attacker.to(&replica.base), "johndoe", format!("guess-{attempt}"), "me").await;
            assert_eq!(answer.status, 400, "{answer:?}");
        }
        let scan = Command::new("redis-cli").args(["-u", &url, "--scan"]).output().expect("redis-cli runs");
        let keys = String::from_utf8_lossy(&scan.stdout).into_owned();
        assert!(keys.lines().filter(|key| key.ends_with(":failures")).count() >= 3, "the counts are there: {keys}");
        let client = "127.0.16.1".to_owned();
        for guess in [vec!["account", "johndoe"], vec!["client", client.as_str()], vec!["pair", "johndoe", &client]] {
            let name = unkeyed_name(&guess);
            assert!(!keys.contains(&name), "{guess:?} is recovered from the key names by a dictionary: {keys}");
        }
        assert!(!keys.contains("johndoe") && !keys.contains(&client), "{keys}");
    });
}

#[test]
fn simultaneous_guesses_at_both_replicas_get_at_most_the_free_attempts() {
    run(async || {
        let [first, second] = replicas(&redis::shared().fresh_url());
        let attacker = client_at(&first.base, 0, 15, 3);
        let guesses: Vec<_> = (0..40)
            .map(|i| {
                let (attacker, base) = (&attacker, if i % 2 == 0 { &first.base } else { &second.base });
                async move { login(&attacker.to(base), "johndoe", &format!("guess-{i}"), "me").await }
            })
            .collect();
        let answers = join_all(guesses).await;
        assert_eq!(count(&answers, 200), 0);
        for answer in &answers {
            match answer.status {
                400 => {}
                429 | 503 => assert!(answer.retry_after().is_some_and(|s| s >= 1), "no Retry-After: {answer:?}"),
                other => panic!("unexpected status {other}: {answer:?}"),
            }
        }
        let checked = count(&answers, 400);
        assert!(checked <= 10, "{checked} of 40 simultaneous guesses at two replicas were checked");
    });
}

#[test]
fn logins_fail_closed_while_redis_is_down_and_recover_when_it_is_back() {
    run(async || {
        // A server of its own: this test stops it.
        let redis = RedisServer::start();
        let [first, second] = replicas(&redis.fresh_url());
        let client = client_at(&first.base, 0, 15, 4);
        assert_eq!(login(&client.to(&first.base), "johndoe", "secret", "me").await.status, 200);

        redis.stop();
        for replica in [&first, &second] {
            let answer = login(&client.to(&replica.base), "johndoe", "secret", "me").await;
            assert_eq!(answer.status, 503, "no password is checked without the shared counts: {answer:?}");
            assert!(answer.retry_after().is_some_and(|s| s >= 1), "{answer:?}");
            assert!(answer.took < Duration::from_secs(5), "answered within seconds: {answer:?}");
        }
        // Other requests do not need Redis.
        let token = scopes_tests::tokens::signed("johndoe", &["me"]);
        let me = reqwest::Client::new()
            .get(format!("{}/users/me/", second.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("the replica answers");
        assert_eq!(me.status(), 200);

        redis.resume();
        let mut answer = login(&client.to(&second.base), "johndoe", "secret", "me").await;
        for _ in 0..50 {
            if answer.status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            answer = login(&client.to(&second.base), "johndoe", "secret", "me").await;
        }
        assert_eq!(answer.status, 200, "logins resume once Redis is back: {answer:?}");
    });
}

/// Two replicas signing with the database's ES256 keys (reloading them every second), as one issuer: both
/// name the first's URL as theirs, as replicas behind one public URL do; and the database's URL.
fn issuing_replicas() -> ([RunningDemo; 2], String) {
    let database = postgres::shared().fresh_database();
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let public_url = format!("http://127.0.0.1:{port}");
    let args = [
        "--database-url",
        database.as_str(),
        "--signing-alg",
        "ES256",
        "--public-url",
        public_url.as_str(),
        "--key-reload-secs",
        "1",
    ];
    let first = start_demo_at(&format!("127.0.0.1:{port}"), None, &args);
    let second = start_demo_with(None, &args);
    ([first, second], database)
}

/// The `kid` of `token`'s header.
fn kid(token: &str) -> String {
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    header.kid.expect("a kid")
}

async fn get_json(url: &str) -> Value {
    let response = reqwest::get(url).await.expect("the demo answers");
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("a JSON body")
}

/// `demo keys ARGS --database-url DATABASE`: its exit status and standard output.
fn keys(database: &str, args: &[&str]) -> (i32, String) {
    let output = Command::new(demo_binary())
        .arg("keys")
        .args(args)
        .args(["--database-url", database])
        .env("NO_COLOR", "1")
        .output()
        .expect("the demo runs");
    (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn tokens_signed_by_either_replica_verify_at_both_and_at_an_issuer_mode_demo_across_a_rotation() {
    run(async || {
        let ([first, second], database) = issuing_replicas();
        let before = johndoe_token(&first.base, "me items").await;
        let claims = tokens::payload(&before);
        assert_eq!(claims["iss"], first.base.as_str());
        assert_eq!(claims["aud"], first.base.as_str());
        assert!(claims["jti"].is_string() && claims["iat"].is_u64(), "{claims}");
        assert_eq!(claims["scope"], "me items");
        let old_kid = kid(&before);
        assert_eq!(
            kid(&johndoe_token(&second.base, "me items").await),
            old_kid,
            "one current key, shared through the database"
        );
        assert_eq!(
            bearer_status(&second.base, "/users/me/", &before).await,
            200,
            "a token from one replica is good at the other"
        );

        // The new key is published at once and signs three seconds later, at both replicas.
        let unix_now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
        // The key is made after this, in whole seconds: it cannot sign before `before.floor() + 3`.
        let old_key_signs_until = unix_now().floor() + 3.0;
        let (status, said) = keys(&database, &["rotate", "--activate-in", "3"]);
        assert_eq!(status, 0, "{said}");
        let published_kids = async |base: &str| {
            let set = get_json(&format!("{base}/.well-known/jwks.json")).await;
            let keys = set["keys"].as_array().unwrap().iter();
            keys.filter_map(|key| key["kid"].as_str().map(str::to_owned)).collect::<Vec<_>>()
        };
        let started = Instant::now();
        while published_kids(&second.base).await.len() < 2 {
            assert!(started.elapsed() < Duration::from_secs(5), "the new key is published within a reload");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let new_kid = published_kids(&second.base).await.into_iter().find(|kid| *kid != old_kid).unwrap();
        let still_old = johndoe_token(&second.base, "me items").await;
        if unix_now() < old_key_signs_until {
            assert_eq!(kid(&still_old), old_kid, "published ahead: the old key still signs");
        }
        let mut after = (String::new(), String::new());
        // Each login starts a refresh-token family, and a user keeps at most 20 (issue 21): beyond them the
        // oldest is revoked, and `before` with it. Polling every second keeps this test's logins well under.
        while after.0.is_empty() || kid(&after.0) == old_kid || kid(&after.1) == old_kid {
            assert!(started.elapsed() < Duration::from_secs(10), "both replicas sign with the new key within 10 s");
            tokio::time::sleep(Duration::from_millis(1000)).await;
            after = (johndoe_token(&first.base, "me items").await, johndoe_token(&second.base, "me items").await);
        }
        assert_eq!((kid(&after.0), kid(&after.1)), (new_kid.clone(), new_kid.clone()));
        assert!(said.contains(&new_kid) && said.contains(&old_kid), "{said}");

        // Tokens signed before the rotation still verify at both, as do the new ones.
        for replica in [&first, &second] {
            for token in [&before, &after.0, &after.1] {
                assert_eq!(bearer_status(&replica.base, "/users/me/", token).await, 200, "{}", replica.base);
            }
        }
        // Both keys are published until the old key's tokens have expired; `demo keys list` says so.
        let published = get_json(&format!("{}/.well-known/jwks.json", second.base)).await;
        let kids: Vec<&str> =
            published["keys"].as_array().unwrap().iter().filter_map(|key| key["kid"].as_str()).collect();
        assert_eq!(kids, [old_kid.as_str(), new_kid.as_str()]);
        let (status, listed) = keys(&database, &["list"]);
        assert_eq!(status, 0);
        let line = |kid: &str| listed.lines().find(|line| line.starts_with(kid)).unwrap_or_default().to_owned();
        assert!(line(&old_kid).contains("no longer signs; trusted until"), "{listed}");
        assert!(line(&new_kid).contains("current"), "{listed}");

        // A third demo, a resource server finding the keys through the first's discovery document.
        let issuer = start_demo_with(None, &["--issuer", &first.base, "--audience", &first.base]);
        for token in [&before, &after.0, &after.1] {
            assert_eq!(
                bearer_status(&issuer.base, "/users/me/", token).await,
                200,
                "the issuer-mode demo accepts {}",
                kid(token)
            );
        }
        // A token of another issuer's key, or with the kid forged, is refused everywhere.
        let mut forged = after.0.clone();
        forged.replace_range(forged.len() - 4.., "AAAA");
        for base in [&first.base, &second.base, &issuer.base] {
            assert_eq!(bearer_status(base, "/users/me/", &forged).await, 401, "{base}");
        }
    });
}

#[test]
fn the_discovery_document_and_key_set_follow_the_openid_connect_discovery_rules() {
    run(async || {
        let ([first, _second], _database) = issuing_replicas();
        let configuration_url = format!("{}/.well-known/openid-configuration", first.base);
        let document = get_json(&configuration_url).await;
        // OpenID Connect Discovery 1.0 §3 and §4.3: the issuer is the URL the document was fetched under, minus
        // the well-known suffix; an http(s) URL with no query or fragment.
        let issuer = document["issuer"].as_str().expect("issuer");
        assert_eq!(format!("{issuer}/.well-known/openid-configuration"), configuration_url);
        assert!(!issuer.contains(['?', '#']), "{issuer}");
        for required in ["authorization_endpoint", "token_endpoint", "jwks_uri"] {
            let url = document[required].as_str().unwrap_or_else(|| panic!("{required} is required"));
            assert!(url.starts_with(issuer) && !url.contains('#'), "{required}: {url}");
        }
        for required in ["response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"]
        {
            assert!(document[required].is_array(), "{required} is a required array: {document}");
        }
        let subject_types = document["subject_types_supported"].as_array().unwrap();
        assert!(!subject_types.is_empty() && subject_types.iter().all(|t| t == "public" || t == "pairwise"));
        let algorithms = document["id_token_signing_alg_values_supported"].as_array().unwrap();
        assert_eq!(algorithms, &[Value::from("ES256")], "the signing key's algorithm, never `none`");
        assert_eq!(document["scopes_supported"], serde_json::json!(["me", "items", "items:write", "reports", "admin"]));
        assert_eq!(document["grant_types_supported"], serde_json::json!(["password", "refresh_token"]));
        assert_eq!(document["revocation_endpoint"].as_str(), Some(format!("{issuer}/revoke").as_str()));
        assert_eq!(document["token_endpoint"].as_str(), Some(format!("{issuer}/token").as_str()));

        // The key set (RFC 7517): public members only, each key with a unique kid, `use` sig and its `alg`.
        let key_set = get_json(document["jwks_uri"].as_str().unwrap()).await;
        let keys = key_set["keys"].as_array().expect("a `keys` array");
        assert!(!keys.is_empty());
        for key in keys {
            assert_eq!(key["use"], "sig", "{key}");
            assert_eq!(key["alg"], "ES256", "{key}");
            assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("EC"), Some("P-256")), "{key}");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "a published key has no `{private}`: {key}");
            }
        }
        let mut kids: Vec<&str> = keys.iter().filter_map(|key| key["kid"].as_str()).collect();
        kids.dedup();
        assert_eq!(kids.len(), keys.len(), "unique kids");

        // The named authorization endpoint exists, and says this issuer has no interactive login.
        let authorize = reqwest::get(document["authorization_endpoint"].as_str().unwrap()).await.unwrap();
        assert_eq!(authorize.status(), 400);
        let body: Value = authorize.json().await.unwrap();
        assert_eq!(body["error"], "unsupported_response_type");
    });
}

#[test]
fn a_refresh_token_rotated_at_one_replica_is_rotated_for_both_and_its_reuse_at_the_other_revokes_the_family() {
    run(async || {
        let [first, second] = replicas(&redis::shared().fresh_url());
        let client = reqwest::Client::new();
        let token_request = async |base: &str, fields: &[(&str, &str)]| {
            let response = client.post(format!("{base}/token")).form(fields).send().await.expect("an answer");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        };
        let login = [("username", "johndoe"), ("password", "secret"), ("scope", "me")];
        let (status, body) = token_request(&first.base, &login).await;
        assert_eq!(status, 200, "{body}");
        let issued = body["refresh_token"].as_str().expect("a refresh token").to_owned();

        // Used at the second replica: rotated there, and so for the first too.
        let (status, body) =
            token_request(&second.base, &[("grant_type", "refresh_token"), ("refresh_token", &issued)]).await;
        assert_eq!(status, 200, "{body}");
        let rotated = body["refresh_token"].as_str().expect("a new refresh token").to_owned();
        let (status, body) =
            token_request(&first.base, &[("grant_type", "refresh_token"), ("refresh_token", &rotated)]).await;
        assert_eq!(status, 200, "the first replica takes the token the second issued: {body}");
        let latest = body["refresh_token"].as_str().expect("a newer refresh token").to_owned();

        // The first token again, at the first replica: a reuse, which revokes the family at both.
        let (status, _) =
            token_request(&first.base, &[("grant_type", "refresh_token"), ("refresh_token", &issued)]).await;
        assert_eq!(status, 400);
        let (status, body) =
            token_request(&second.base, &[("grant_type", "refresh_token"), ("refresh_token", &latest)]).await;
        assert_eq!(status, 400, "the family is revoked for every replica: {body}");
    });
}

/// What one refresh-token request at `base` came to: its status, and the new refresh and access tokens.
async fn refresh_at(client: &reqwest::Client, base: &str, refresh_token: &str) -> (u16, Option<(String, String)>) {
    let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let response = client.post(format!("{base}/token")).form(&fields).send().await.expect("an answer");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let tokens = body["refresh_token"].as_str().zip(body["access_token"].as_str());
    (status, tokens.map(|(refresh, access)| (refresh.to_owned(), access.to_owned())))
}

/// Whether the owner, learning of a theft, replays the stolen token (a reuse) or logs out with it.
#[derive(Debug, Clone, Copy)]
enum OwnerAction {
    Replay,
    Revoke,
}

/// A thief rotating a stolen refresh token as fast as the replicas answer, at one replica, while the owner
/// replays the stolen token or revokes it at the other, on PostgreSQL: once the owner is answered, the
/// family is revoked for good: the thief's latest refresh token is refused at both replicas, and so (within
/// the reload interval) is the thief's latest access token. Many trials, the owner's moment varied.
#[test]
fn a_thief_rotating_while_the_owner_replays_or_revokes_never_keeps_the_family() {
    run(async || {
        let database = postgres::shared().fresh_database();
        let args = ["--database-url", database.as_str(), "--key-reload-secs", "1"];
        let [thiefs, owners] = [start_demo_with(Some(SECRET), &args), start_demo_with(Some(SECRET), &args)];
        let client = reqwest::Client::new();
        let login = [("username", "johndoe"), ("password", "secret"), ("scope", "me")];
        let mut kept_access_tokens = Vec::new();
        for trial in 0..60 {
            let action = if trial % 2 == 0 { OwnerAction::Replay } else { OwnerAction::Revoke };
            let response = client.post(format!("{}/token", thiefs.base)).form(&login).send().await.expect("an answer");
            let body: Value = response.json().await.expect("a JSON body");
            let stolen = body["refresh_token"].as_str().expect("a refresh token").to_owned();
            // The thief uses it first, so the owner's copy is a used one.
            let (status, tokens) = refresh_at(&client, &thiefs.base, &stolen).await;
            let (mut latest, mut latest_access) = tokens.unwrap_or_else(|| panic!("trial {trial}: {status}"));
            let thief = async {
                // Nine more: the family's ten rotations a minute.
                for _ in 0..9 {
                    match refresh_at(&client, &thiefs.base, &latest).await {
                        (200, Some((refresh, access))) => (latest, latest_access) = (refresh, access),
                        _ => break,
                    }
                }
            };
            let owner = async {
                tokio::time::sleep(Duration::from_millis((trial as u64 * 7) % 40)).await;
                match action {
                    OwnerAction::Replay => assert_eq!(refresh_at(&client, &owners.base, &stolen).await.0, 400),
                    OwnerAction::Revoke => {
                        let fields = [("token", stolen.as_str())];
                        let response = client.post(format!("{}/revoke", owners.base)).form(&fields).send().await;
                        assert_eq!(response.expect("an answer").status(), 200);
                    }
                }
            };
            tokio::join!(thief, owner);
            for replica in [&thiefs, &owners] {
                let (status, _) = refresh_at(&client, &replica.base, &latest).await;
                assert_eq!(status, 400, "trial {trial} ({action:?}): the thief's latest token still refreshes");
            }
            kept_access_tokens.push(latest_access);
        }
        // The access tokens the thief got are refused too, at both replicas, after their reload.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        for (trial, access_token) in kept_access_tokens.iter().enumerate() {
            for replica in [&thiefs, &owners] {
                assert_eq!(bearer_status(&replica.base, "/users/me/", access_token).await, 401, "trial {trial}");
            }
        }
    });
}

/// The policy the in-process throttle's unit tests check, held by Redis instead: the pair locked after its
/// attempts, the owner elsewhere let through, a client failing across accounts locked, a success clearing
/// the pair's failures only. Two token endpoints stand for two replicas.
#[test]
fn the_redis_throttle_holds_the_policy_across_endpoints() {
    use scopes_runtime::{
        Account, Authority, PasswordRequestForm, TokenEndpoint, issuing::ClientAddress, issuing::PasswordPolicy,
        issuing::RedisThrottle, issuing::ThrottlePolicy, store::MemoryStore,
    };
    run(async || {
        let policy = ThrottlePolicy {
            attempts_per_pair: 3,
            attempts_per_client: 5,
            account_free_failures: 2,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            ..ThrottlePolicy::default()
        };
        let cheap = PasswordPolicy::argon2id(64, 1, 1).unwrap();
        let hash = cheap.hash("secret").unwrap();
        let users = MemoryStore::new(["johndoe", "a", "b", "c", "d", "e", "f"].map(|name| Account::new(name, &hash)));
        let redis = RedisThrottle::open(&redis::shared().fresh_url(), &[7; 32]).unwrap();
        let authority = Authority::hs256(SECRET).unwrap();
        let endpoint = || {
            TokenEndpoint::new(authority.clone(), &demo::SCOPE_REGISTRY)
                .with_password_policy(cheap)
                .with_redis_throttle(redis.clone())
                .with_throttle(policy)
        };
        let replicas = [endpoint(), endpoint()];
        let attempt = async |replica: usize, username: &str, password: &str, client: &str| {
            let form =
                PasswordRequestForm::from_fields([("username", username), ("password", password)], false).unwrap();
            let client = ClientAddress(Some(client.parse().unwrap()));
            let started = Instant::now();
            let status = replicas[replica].grant(client, form, &users).await.status().as_u16();
            (status, started.elapsed())
        };

        for round in 0..3 {
            assert_eq!(attempt(round % 2, "johndoe", "wrong", "192.0.2.1").await.0, 400);
        }
        assert_eq!(attempt(1, "johndoe", "secret", "192.0.2.1").await.0, 429, "the pair is locked at both");
        // The owner elsewhere: slowed down (three failures, two free: 200 ms), not locked out.
        let (status, took) = attempt(0, "johndoe", "secret", "198.51.100.9").await;
        assert_eq!(status, 200);
        assert!(took >= Duration::from_millis(200), "slowed down by the account's failures: {took:?}");

        // A client failing across accounts is locked for all of them, at both replicas.
        for (round, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
            assert_eq!(attempt(round % 2, name, "wrong", "203.0.113.7").await.0, 400);
        }
        assert_eq!(attempt(0, "f", "secret", "203.0.113.7").await.0, 429);
        assert_eq!(attempt(1, "f", "secret", "203.0.113.8").await.0, 200, "another client is not");

        // A success clears the pair's failures, not the account's.
        for _ in 0..2 {
            assert_eq!(attempt(0, "a", "wrong", "192.0.2.50").await.0, 400);
        }
        assert_eq!(attempt(1, "a", "secret", "192.0.2.50").await.0, 200);
        for _ in 0..3 {
            assert_eq!(attempt(0, "a", "wrong", "192.0.2.50").await.0, 400, "the pair counts afresh");
        }
        assert_eq!(attempt(1, "a", "secret", "192.0.2.50").await.0, 429);
    });
}

/// `--signing-alg` keeps its keys in the database: with the memory store, or against a database whose
/// current key is of another algorithm, the demo refuses to start and says what to do.
#[test]
fn a_replica_that_cannot_share_the_signing_keys_refuses_to_start() {
    let refused = |args: &[&str]| {
        let output = Command::new(demo_binary())
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("the demo runs");
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let log = refused(&["--signing-alg", "ES256", "--database-url", "memory:"]);
    assert!(log.contains("refusing to start") && log.contains("not memory:"), "{log}");

    let dir = tempfile::tempdir().expect("a directory");
    let database = format!("sqlite://{}/keys.db", dir.path().display());
    let (status, said) = keys(&database, &["rotate", "--alg", "EdDSA"]);
    assert_eq!(status, 0, "{said}");
    let log = refused(&["--signing-alg", "ES256", "--database-url", &database]);
    assert!(log.contains("is EdDSA") && log.contains("demo keys rotate --alg ES256"), "{log}");
    let (status, _) = keys(&database, &["rotate", "--alg", "HS256"]);
    assert_eq!(status, 2, "a shared secret is no key pair");
}

/// Each `--signing-alg`: the demo signs with a key of that algorithm, publishes it with its `alg`, and
/// accepts its own tokens, as does an issuer-mode demo pointed at it.
#[test]
fn every_signing_algorithm_issues_tokens_the_demo_and_an_issuer_mode_demo_accept() {
    run(async || {
        for algorithm in ["ES256", "EdDSA", "RS256"] {
            let dir = tempfile::tempdir().expect("a directory");
            let database = format!("sqlite://{}/keys.db", dir.path().display());
            let issuer = start_demo_with(None, &["--signing-alg", algorithm, "--database-url", &database]);
            let token = johndoe_token(&issuer.base, "me items").await;
            let header = jsonwebtoken::decode_header(&token).expect("a JWT");
            assert_eq!(format!("{:?}", header.alg), algorithm);
            let published = get_json(&format!("{}/.well-known/jwks.json", issuer.base)).await;
            assert_eq!(published["keys"][0]["alg"], algorithm);
            assert_eq!(published["keys"][0]["kid"].as_str(), header.kid.as_deref());
            assert_eq!(bearer_status(&issuer.base, "/users/me/", &token).await, 200, "{algorithm}");
            let verifier = start_demo_with(None, &["--issuer", &issuer.base, "--audience", &issuer.base]);
            assert_eq!(bearer_status(&verifier.base, "/users/me/", &token).await, 200, "{algorithm} through discovery");
        }
    });
}
