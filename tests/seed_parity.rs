//! Every row of `shared/reference/seed-behaviour.md`, against the demo's router in-process.

use scopes_tests::cases::{run, seed_cases};
use scopes_tests::transport::{InProcess, TestRequest, Transport};
use scopes_tests::{SECRET, tokens};

fn demo() -> InProcess {
    InProcess::new(demo::router(demo::AppState::seed(SECRET.as_bytes()).unwrap()))
}

#[tokio::test]
async fn demo_router_answers_as_the_seed() {
    let failures = run(&demo(), seed_cases()).await;
    assert!(failures.is_empty(), "{} case(s) differ from the seed:\n{}", failures.len(), failures.join("\n"));
}

/// A token from `/token` works on the endpoints, the way the seed's users use it.
#[tokio::test]
async fn token_from_login_opens_the_endpoints() {
    let demo = demo();
    let mut login =
        TestRequest { method: axum::http::Method::POST, path: "/token".into(), headers: vec![], body: vec![] };
    login.headers.push((axum::http::header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap()));
    login.body = b"username=johndoe&password=secret&scope=me+items".to_vec();
    let response = demo.send(login).await;
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(tokens::payload(token)["scopes"], serde_json::json!(["me", "items"]));

    let mut items =
        TestRequest { method: axum::http::Method::GET, path: "/users/me/items/".into(), headers: vec![], body: vec![] };
    items.headers.push((axum::http::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap()));
    let response = demo.send(items).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, br#"[{"item_id":"Foo","owner":"johndoe"}]"#);
}

/// Multipart bodies are forms too, as in Starlette (`curl -F`).
#[tokio::test]
async fn multipart_login_is_accepted() {
    let boundary = "XBOUNDARYX";
    let mut body = String::new();
    for (name, value) in [("username", "johndoe"), ("password", "secret"), ("scope", "me")] {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let request = TestRequest {
        method: axum::http::Method::POST,
        path: "/token".into(),
        headers: vec![(
            axum::http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}").parse().unwrap(),
        )],
        body: body.into_bytes(),
    };
    let response = demo().send(request).await;
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(tokens::payload(body["access_token"].as_str().unwrap())["scopes"], serde_json::json!(["me"]));
}
