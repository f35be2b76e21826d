//! The demo binary, started as a user starts it and bound to a real port, answers every seed case.

use scopes_tests::cases::{run, seed_cases};
use scopes_tests::server::start_demo;
use scopes_tests::transport::{OverTcp, TestRequest, Transport};
use scopes_tests::{SECRET, tokens};

#[tokio::test]
async fn demo_binary_answers_as_the_seed() {
    let demo = start_demo(Some(SECRET));
    let transport = OverTcp::new(demo.base.clone());
    let failures = run(&transport, seed_cases()).await;
    assert!(failures.is_empty(), "{} case(s) differ from the seed:\n{}", failures.len(), failures.join("\n"));

    // A client following the redirect, keeping its Authorization header, reaches the endpoint.
    let token = tokens::signed("johndoe", &["me"]);
    let authorization = (axum::http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    let get = |path: &str| TestRequest {
        method: axum::http::Method::GET,
        path: path.into(),
        headers: vec![authorization.clone()],
        body: vec![],
    };
    let redirect = transport.send(get("/users/me")).await;
    let location = redirect.headers["location"].to_str().unwrap().to_owned();
    let followed = transport.send(get(location.trim_start_matches(&demo.base))).await;
    assert_eq!(followed.status, 200);
}

#[test]
fn without_a_secret_the_demo_warns_that_tokens_will_not_survive_a_restart() {
    let demo = start_demo(None);
    assert!(
        demo.log.iter().any(|line| line.contains("WARN") && line.contains("will not survive a restart")),
        "no warning in: {:#?}",
        demo.log
    );
}

/// What the demo logged when it refused to start with `secret`, having exited with status 2.
fn refused_start(secret: &str) -> String {
    let output = std::process::Command::new(scopes_tests::server::demo_binary())
        .args(["--bind", "127.0.0.1:0"])
        .env("DEMO_SECRET_KEY", secret)
        .env_remove("DEMO_ALLOW_PUBLISHED_SECRET")
        .env("NO_COLOR", "1")
        .output()
        .expect("the demo runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let log = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(log.contains("refusing to start"), "{log}");
    log
}

#[test]
fn a_secret_shorter_than_32_bytes_stops_the_demo() {
    let log = refused_start("too-short");
    assert!(log.contains("at least 32"), "{log}");
}

const PUBLISHED_SECRET: &str = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

#[test]
fn the_secret_published_in_the_tutorial_stops_the_demo() {
    let log = refused_start(PUBLISHED_SECRET);
    assert!(log.contains("published in FastAPI's tutorial"), "{log}");
}

#[test]
fn a_throwaway_run_may_accept_the_published_secret_with_a_warning() {
    let demo = scopes_tests::server::start_demo_with(Some(PUBLISHED_SECRET), &["--allow-published-secret"]);
    assert!(
        demo.log.iter().any(|line| line.contains("WARN") && line.contains("published in FastAPI's tutorial")),
        "no warning in: {:#?}",
        demo.log
    );
}
