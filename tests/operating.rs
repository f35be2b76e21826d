//! The demo as an operator runs it: Prometheus metrics on `--metrics-bind` counting a known sequence
//! exactly (and, in issuer mode, the key-set fetch), labels that stay bounded under a thousand distinct
//! paths, JSON log lines whose decision event carries the request id, and `/readyz` following the real
//! identity provider, PostgreSQL and Redis as they come and go.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use scopes_tests::SECRET;
use scopes_tests::postgres::Cluster;
use scopes_tests::provider::{AUDIENCE, RunningProvider, generate_keys};
use scopes_tests::redis::RedisServer;
use scopes_tests::server::{RunningDemo, start_demo_with};
use serde_json::Value;

/// One sample of a Prometheus text exposition: the metric's name, its labels, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a scrape of `metrics` (comments skipped).
async fn scrape(metrics: &str) -> Vec<Sample> {
    let response = reqwest::get(metrics).await.expect("the metrics listener answers");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()).map(sample).collect()
}

fn sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("a value");
    let (name, labels) = match series.split_once('{') {
        Some((name, labels)) => (name, labels.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split("\",")
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once("=\"").expect("key=\"value\"");
            (key.to_owned(), value.trim_end_matches('"').to_owned())
        })
        .collect();
    Sample { name: name.to_owned(), labels, value: value.parse().expect("a number") }
}

/// The sum of `name`'s samples whose labels include every one of `labels`.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| labels.iter().all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value)))
        .map(|sample| sample.value)
        .sum()
}

/// The metrics URL the demo logged.
fn metrics_url(demo: &RunningDemo) -> String {
    let line =
        demo.log.iter().find(|line| line.contains("serving Prometheus metrics at ")).expect("the metrics address");
    let url = line.split("serving Prometheus metrics at ").nth(1).unwrap();
    url.split(|c: char| c == '"' || c.is_whitespace()).next().unwrap().to_owned()
}

async fn get(demo: &RunningDemo, path: &str, token: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().get(format!("{}{path}", demo.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the demo answers").status().as_u16()
}

async fn login(demo: &RunningDemo, password: &str, scope: &str) -> (u16, Value) {
    let form = [("username", "johndoe"), ("password", password), ("scope", scope)];
    let response = reqwest::Client::new().post(format!("{}/token", demo.base)).form(&form).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

const DECISIONS: &str = "scopes_authz_decisions_total";

#[tokio::test]
async fn metrics_count_a_known_sequence_exactly_and_stay_bounded() {
    let demo = start_demo_with(Some(SECRET), &["--metrics-bind", "127.0.0.1:0"]);
    let metrics = metrics_url(&demo);
    let (status, both) = login(&demo, "secret", "me items").await;
    assert_eq!(status, 200, "{both}");
    let (status, only_me) = login(&demo, "secret", "me").await;
    assert_eq!(status, 200, "{only_me}");
    let (both, only_me) = (both["access_token"].as_str().unwrap(), only_me["access_token"].as_str().unwrap());

    assert_eq!(get(&demo, "/users/me/", Some(both)).await, 200);
    assert_eq!(get(&demo, "/users/me/items/", Some(both)).await, 200);
    assert_eq!(get(&demo, "/users/me/items/", Some(only_me)).await, 401, "the seed answers a missing scope 401");
    assert_eq!(get(&demo, "/users/me/", Some("a.b.c")).await, 401);
    assert_eq!(login(&demo, "wrong", "me").await.0, 400);

    let samples = scrape(&metrics).await;
    assert_eq!(total(&samples, DECISIONS, &[("outcome", "granted")]), 2.0, "{samples:#?}");
    assert_eq!(total(&samples, DECISIONS, &[("outcome", "insufficient_scope")]), 1.0);
    assert_eq!(total(&samples, DECISIONS, &[("outcome", "invalid_token")]), 1.0);
    assert_eq!(total(&samples, DECISIONS, &[]), 4.0, "no other decision");
    let granted = [("route", "/users/me/items/"), ("method", "GET"), ("outcome", "granted")];
    assert_eq!(total(&samples, DECISIONS, &granted), 1.0);
    assert_eq!(total(&samples, "scopes_logins_total", &[("outcome", "invalid_grant")]), 1.0);
    assert_eq!(total(&samples, "scopes_logins_total", &[("outcome", "granted")]), 2.0);
    // `both` was verified once and then answered from the token cache: three verifications, one hit.
    assert_eq!(total(&samples, "scopes_token_verification_seconds_count", &[("verifier", "shared_secret")]), 3.0);
    assert_eq!(total(&samples, "scopes_token_cache_lookups_total", &[("result", "hit")]), 1.0);
    assert_eq!(total(&samples, "scopes_token_cache_lookups_total", &[("result", "miss")]), 3.0);

    // A thousand distinct paths: item ids under one template, and paths no route matches.
    let client = reqwest::Client::new();
    for index in 0..1_000 {
        let path = if index % 2 == 0 { format!("/items/item-{index}") } else { format!("/nowhere/{index}") };
        client.get(format!("{}{path}", demo.base)).bearer_auth(both).send().await.unwrap();
    }
    let samples = scrape(&metrics).await;
    let series: Vec<&Sample> = samples.iter().filter(|sample| sample.name.starts_with("scopes_")).collect();
    assert!(series.len() < 60, "{} series after 1 000 paths: {series:#?}", series.len());
    for sample in &series {
        for value in sample.labels.values() {
            assert!(!value.contains("item-") && !value.contains("nowhere"), "a raw path in a label: {sample:?}");
        }
    }
    let missing = [("route", "/items/{item_id}"), ("outcome", "not_found")];
    assert_eq!(total(&samples, DECISIONS, &missing), 500.0, "each item path counted under its template");
}

#[tokio::test]
async fn issuer_mode_counts_its_key_set_fetch_and_a_json_log_ties_the_request_id() {
    let provider = RunningProvider::start(&generate_keys(&["e1:ES256"]), 0);
    let args =
        ["--issuer", &provider.issuer, "--audience", AUDIENCE, "--metrics-bind", "127.0.0.1:0", "--log-format", "json"];
    let demo = start_demo_with(None, &args);
    let metrics = metrics_url(&demo);
    let token = provider.token("ES256", "me items").await;
    let response =
        reqwest::Client::new().get(format!("{}/users/me/items/", demo.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"), "an id is made for a request without one");
    let refused = reqwest::Client::new()
        .get(format!("{}/users/me/items/", demo.base))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["x-request-id"], "trace-me-42", "the client's id is kept");

    let samples = scrape(&metrics).await;
    let fetched = [("issuer", provider.issuer.as_str()), ("result", "success")];
    assert_eq!(total(&samples, "scopes_jwks_fetches_total", &fetched), 1.0, "{samples:#?}");
    assert_eq!(total(&samples, "scopes_jwks_fetches_total", &[("result", "failure")]), 0.0);
    assert_eq!(total(&samples, "scopes_jwks_key_lookups_total", &[("result", "hit")]), 1.0);
    assert_eq!(total(&samples, DECISIONS, &[("outcome", "granted")]), 1.0);
    assert_eq!(total(&samples, DECISIONS, &[("outcome", "missing_token")]), 1.0);
    let updated = total(&samples, "scopes_jwks_last_success_timestamp_seconds", &[]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert!((now - updated).abs() < 120.0, "the key set was fetched just now: {updated}");

    let line = demo.wait_for_log("trace-me-42", Duration::from_secs(10)).expect("the refusal is logged with its id");
    let event: Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["target"], "scopes::authz");
    assert_eq!(event["level"], "INFO");
    assert_eq!(event["reason"], "missing_token");
    assert_eq!(event["route"], "/users/me/items/");
    assert_eq!(event["request_id"], "trace-me-42");
    assert_eq!(event["client"], "127.0.0.1");
}

/// Polls `/readyz` until it answers `status`, for at most `limit`; the last body.
async fn readiness_becomes(demo: &RunningDemo, status: u16, limit: Duration) -> Value {
    let started = Instant::now();
    loop {
        let response = reqwest::get(format!("{}/readyz", demo.base)).await.expect("the demo answers");
        let answered = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if answered == status {
            return body;
        }
        assert!(started.elapsed() < limit, "/readyz still {answered} after {limit:?}: {body}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn readiness_waits_for_the_provider_and_follows_database_and_redis_outages() {
    // The provider: a demo started before it is not ready, and becomes ready once its keys are fetched.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let issuer = format!("http://127.0.0.1:{port}");
    let demo = start_demo_with(None, &["--issuer", &issuer, "--audience", AUDIENCE]);
    let body = readiness_becomes(&demo, 503, Duration::ZERO).await;
    assert_eq!(body["status"], "not_ready");
    assert!(body["checks"]["identity_provider"].as_str().unwrap().contains(&issuer), "{body}");
    assert_eq!(get(&demo, "/healthz", None).await, 200, "alive all the same");
    let _provider = RunningProvider::start(&generate_keys(&["e1:ES256"]), port);
    let body = readiness_becomes(&demo, 200, Duration::from_secs(30)).await;
    assert_eq!(body["checks"]["identity_provider"], "ok");
    drop(demo);

    // The database and Redis, each of their own, each stopped and resumed.
    let cluster = Cluster::start();
    let redis = RedisServer::start();
    let database = cluster.fresh_database();
    let redis_url = redis.fresh_url();
    let demo = start_demo_with(Some(SECRET), &["--database-url", &database, "--redis-url", &redis_url]);
    let body = readiness_becomes(&demo, 200, Duration::from_secs(10)).await;
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");

    cluster.stop();
    let body = readiness_becomes(&demo, 503, Duration::from_secs(10)).await;
    assert_ne!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(body["checks"]["redis"], "ok");
    assert_eq!(get(&demo, "/healthz", None).await, 200, "an outage is no reason to restart the process");
    cluster.resume();
    readiness_becomes(&demo, 200, Duration::from_secs(30)).await;

    redis.stop();
    let body = readiness_becomes(&demo, 503, Duration::from_secs(10)).await;
    assert_ne!(body["checks"]["redis"], "ok", "{body}");
    assert_eq!(body["checks"]["database"], "ok");
    redis.resume();
    readiness_becomes(&demo, 200, Duration::from_secs(30)).await;
}
