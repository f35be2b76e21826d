//! What a route asks of its token beyond scopes, declared in `#[requires]`, over HTTP on a small app of its
//! own: step-up authentication (RFC 9470: `acr`, `min_acr` in the authority's order, `max_age` against
//! `auth_time`), refused with the RFC's challenge and granted to a token that shows it; a route's own DPoP
//! mode; and both in the route report and the OpenAPI document.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use scopes_runtime::routing::{RouteTable, SecureRouter, get};
use scopes_runtime::testing::{DpopKey, Minter};
use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
use scopes_runtime::{Authority, Claims, ResponseStyle, requires};
use scopes_tests::SECRET;
use scopes_tests::minimal::{AppState, User};
use scopes_tests::tokens::now;
use serde_json::Value;
use tower::ServiceExt;

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "me" => "Who you are." },
}

#[requires(scopes = ["me"], acr = ["urn:example:mfa"], max_age = 300)]
async fn transfer(_user: User) -> &'static str {
    "transferred"
}

#[requires(scopes = ["me"], min_acr = "urn:example:mfa")]
async fn settings(_user: User) -> &'static str {
    "settings"
}

#[requires(scopes = ["me"], dpop = "required")]
async fn bound_only(_user: User) -> &'static str {
    "bound"
}

#[requires(scopes = ["me"])]
async fn plain(_user: User) -> &'static str {
    "plain"
}

const PUBLIC_URL: &str = "http://api.test";

fn authority() -> Authority {
    Authority::hs256(SECRET.as_bytes())
        .unwrap()
        .with_response_style(ResponseStyle::rfc("api"))
        .with_dpop(Dpop::new(DpopMode::Allowed, PUBLIC_URL).unwrap())
        .with_acr_levels(["urn:example:password", "urn:example:mfa", "urn:example:hardware-key"])
}

fn app() -> (Router, RouteTable) {
    let (router, routes) = SecureRouter::<AppState>::new()
        .route("/transfer", get(transfer))
        .route("/settings", get(settings))
        .route("/bound", get(bound_only))
        .route("/plain", get(plain))
        .into_parts();
    (router.with_state(AppState { authority: authority() }), routes)
}

/// Status, challenge and body of `GET path` with `authorization` (and a `DPoP` proof header, when given).
async fn call(app: &Router, path: &str, authorization: &str, proof: Option<String>) -> (StatusCode, String, Value) {
    let mut request = Request::get(path).header(header::HOST, "api.test").header(header::AUTHORIZATION, authorization);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, challenge, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_route_asking_acr_and_max_age_refuses_a_token_without_them_with_the_rfc_9470_challenge() {
    let (app, _) = app();
    let minter = Minter::new(&authority());
    let bearer = |token: String| format!("Bearer {token}");

    let (status, challenge, body) = call(&app, "/transfer", &bearer(minter.token("johndoe", ["me"])), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert!(challenge.starts_with(r#"Bearer realm="api", error="insufficient_user_authentication""#), "{challenge}");
    assert!(challenge.contains(r#"acr_values="urn:example:mfa", max_age="300""#), "{challenge}");
    assert!(challenge.contains(r#"DPoP realm="api""#), "DPoP is allowed here: {challenge}");

    let recent_mfa = minter.authenticated("johndoe", ["me"], "urn:example:mfa", Duration::from_secs(10));
    assert_eq!(call(&app, "/transfer", &bearer(recent_mfa), None).await.0, 200);
    for (why, token) in [
        ("too long ago", minter.authenticated("johndoe", ["me"], "urn:example:mfa", Duration::from_secs(3600))),
        ("another class", minter.authenticated("johndoe", ["me"], "urn:example:password", Duration::from_secs(10))),
    ] {
        let (status, _, body) = call(&app, "/transfer", &bearer(token), None).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (401, Some("insufficient_user_authentication")), "{why}");
    }

    // `min_acr`: the class or a stronger one, in the authority's order; the challenge offers those.
    let hardware = minter.authenticated("johndoe", ["me"], "urn:example:hardware-key", Duration::from_secs(5000));
    assert_eq!(call(&app, "/settings", &bearer(hardware), None).await.0, 200);
    let password = minter.authenticated("johndoe", ["me"], "urn:example:password", Duration::from_secs(1));
    let (status, challenge, _) = call(&app, "/settings", &bearer(password), None).await;
    assert_eq!(status, 401);
    assert!(challenge.contains(r#"acr_values="urn:example:mfa urn:example:hardware-key""#), "{challenge}");
    // A token without the scope is refused for the scope, whatever its authentication.
    let no_scope = minter.authenticated("johndoe", [], "urn:example:mfa", Duration::from_secs(1));
    assert_eq!(call(&app, "/transfer", &bearer(no_scope), None).await.0, 403);
}

#[tokio::test]
async fn a_route_of_its_own_dpop_mode_refuses_bearer_tokens_where_its_authority_takes_them() {
    let (app, _) = app();
    let minter = Minter::new(&authority());
    let plain_token = minter.token("johndoe", ["me"]);
    assert_eq!(call(&app, "/plain", &format!("Bearer {plain_token}"), None).await.0, 200);
    let (status, challenge, _) = call(&app, "/bound", &format!("Bearer {plain_token}"), None).await;
    assert_eq!(status, 401);
    assert!(challenge.starts_with(r#"DPoP realm="api""#) && !challenge.contains("Bearer"), "{challenge}");

    let key = DpopKey::generate();
    let mut claims = Claims::new("johndoe", ["me"], now() + 300);
    key.bind(&mut claims);
    let bound = minter.sign(&claims);
    let proof = key.proof("GET", &format!("{PUBLIC_URL}/bound"), Some(&bound));
    assert_eq!(call(&app, "/bound", &format!("DPoP {bound}"), Some(proof)).await.0, 200);
}

#[test]
fn the_route_report_and_the_document_say_what_each_route_asks() {
    let (_, routes) = app();
    let report = routes.to_string();
    assert!(report.contains("me; acr `urn:example:mfa`, authenticated within 300 s"), "{report}");
    assert!(report.contains("me; acr at least `urn:example:mfa`"), "{report}");
    assert!(report.contains("me; DPoP required"), "{report}");

    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    let mut doc = utoipa::openapi::OpenApiBuilder::new().build();
    for path in ["/transfer", "/bound"] {
        doc.paths.paths.insert(path.into(), PathItem::new(HttpMethod::Get, OperationBuilder::new().build()));
    }
    let _unlinked = scopes_runtime::openapi::secure(&mut doc, &SCOPE_REGISTRY, &ResponseStyle::rfc("api"), &routes);
    let doc = serde_json::to_value(&doc).unwrap();
    let transfer = &doc["paths"]["/transfer"]["get"];
    assert_eq!(transfer["x-scopes-assurance"], serde_json::json!({"acr_values": ["urn:example:mfa"], "max_age": 300}));
    assert!(transfer["description"].as_str().unwrap().contains("insufficient_user_authentication"), "{transfer}");
    assert_eq!(doc["paths"]["/bound"]["get"]["x-scopes-assurance"]["dpop"], "required");
}

#[tokio::test]
async fn where_the_server_asks_nonces_a_proof_without_one_is_answered_with_a_fresh_one() {
    use scopes_runtime::verifying::dpop::DpopNonces;
    let nonces = DpopNonces::random(Duration::from_secs(60));
    let dpop = Dpop::new(DpopMode::Required, PUBLIC_URL).unwrap().with_nonces(nonces);
    let authority = authority().with_dpop(dpop);
    let (router, _) = SecureRouter::<AppState>::new().route("/plain", get(plain)).into_parts();
    let app = router.with_state(AppState { authority: authority.clone() });

    let key = DpopKey::generate();
    let mut claims = Claims::new("johndoe", ["me"], now() + 300);
    key.bind(&mut claims);
    let token = Minter::new(&authority).sign(&claims);
    let url = format!("{PUBLIC_URL}/plain");
    let request = |proof: String| {
        Request::get("/plain")
            .header(header::AUTHORIZATION, format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap()
    };
    let refused = app.clone().oneshot(request(key.proof("GET", &url, Some(&token)))).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()[header::WWW_AUTHENTICATE].to_str().unwrap().to_owned();
    assert!(challenge.starts_with(r#"DPoP realm="api", error="use_dpop_nonce""#), "{challenge}");
    let nonce = refused.headers()["dpop-nonce"].to_str().unwrap().to_owned();

    let claims_with = |nonce: &str| {
        serde_json::json!({
            "jti": key.fresh_jti(), "htm": "GET", "htu": url, "iat": now(),
            "ath": scopes_runtime::verifying::dpop::access_token_hash(&token), "nonce": nonce,
        })
    };
    let taken = app.clone().oneshot(request(key.proof_with_claims(&claims_with(&nonce)))).await.unwrap();
    assert_eq!(taken.status(), 200);
    let made_up = app.clone().oneshot(request(key.proof_with_claims(&claims_with("made-up")))).await.unwrap();
    assert_eq!(made_up.status(), 401);
}
