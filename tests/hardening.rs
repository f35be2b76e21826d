//! Issue 4's behaviour over HTTP, in both response styles: RFC 6750 / RFC 6749 answers, malformed
//! headers, tokens and forms (always the documented 4xx, never a 5xx), and login throttling.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderValue, Method, header};
use scopes_runtime::{ResponseStyle, issuing::ThrottlePolicy};
use scopes_tests::SECRET;
use scopes_tests::cases::{
    Body, Case, GUARDED, bearer, broken_tokens, detail, form, get, request, run, with_authorization,
};
use scopes_tests::logins::login;
use scopes_tests::tokens::{now, raw, signed};
use scopes_tests::transport::{InProcess, TestRequest, Transport};
use serde_json::json;

// `#[requires]` finds the crate's registry at its root, even for a handler that requires no scope.
scopes_runtime::registry! { scheme = "OAuth2PasswordBearer", token_url = "token", scopes = {} }

const REALM: &str = "scopes demo";

fn state(style: ResponseStyle) -> demo::AppState {
    demo::AppState::new(SECRET.as_bytes(), style).expect("a long enough secret")
}

fn app(style: ResponseStyle) -> InProcess {
    InProcess::new(demo::router(state(style)))
}

fn rfc() -> ResponseStyle {
    ResponseStyle::rfc(REALM)
}

fn assert_all_pass(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn challenge(attributes: &[(&str, &str)]) -> String {
    let attributes: Vec<String> = attributes.iter().map(|(name, value)| format!("{name}=\"{value}\"")).collect();
    format!("Bearer {}", attributes.join(", "))
}

fn several_headers(path: &str, values: &[&str]) -> TestRequest {
    let mut request = get(path);
    for value in values {
        request.headers.push((header::AUTHORIZATION, HeaderValue::from_str(value).unwrap()));
    }
    request
}

const INVALID_TOKEN: &str = "the access token is invalid, expired, or names no known user";

/// RFC 6750 §3 for the protected resources.
fn rfc_resource_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let missing = json!({"error_description": "a bearer token is required"});
    for (path, scope) in GUARDED {
        cases.push(
            Case::new(format!("rfc: no credentials on {path}"), get(path), 401, Body::Json(missing.clone()))
                .header(header::WWW_AUTHENTICATE, &challenge(&[("realm", REALM)])),
        );
        cases.push(
            Case::new(
                format!("rfc: Basic credentials on {path}"),
                with_authorization(get(path), "Basic am9obmRvZTpzZWNyZXQ="),
                401,
                Body::Json(missing.clone()),
            )
            .header(header::WWW_AUTHENTICATE, &challenge(&[("realm", REALM)])),
        );

        let token = signed("johndoe", &["me", "items"]);
        let malformed: Vec<(&str, TestRequest, &str)> = vec![
            (
                "two Authorization headers",
                several_headers(path, &[&format!("Bearer {token}"), &format!("Bearer {token}")]),
                "several Authorization headers",
            ),
            ("empty token", with_authorization(get(path), "Bearer"), "the token is empty"),
            ("empty token after the space", with_authorization(get(path), "Bearer "), "the token is empty"),
            (
                "a space inside the token",
                bearer(path, "abc def"),
                "the token has characters outside RFC 6750's b64token",
            ),
            ("a comma in the token", bearer(path, "abc,def"), "the token has characters outside RFC 6750's b64token"),
            ("a quote in the token", bearer(path, "abc\"def"), "the token has characters outside RFC 6750's b64token"),
            ("a 64 KiB token", bearer(path, &"a".repeat(64 * 1024)), "the token is too long"),
        ];
        for (what, request, description) in malformed {
            cases.push(
                Case::new(
                    format!("rfc: {what} on {path}"),
                    request,
                    400,
                    Body::Json(json!({"error": "invalid_request", "error_description": description})),
                )
                .header(
                    header::WWW_AUTHENTICATE,
                    &challenge(&[("realm", REALM), ("error", "invalid_request"), ("error_description", description)]),
                ),
            );
        }
        let mut non_ascii = get(path);
        non_ascii.headers.push((header::AUTHORIZATION, HeaderValue::from_bytes(b"Bearer caf\xc3\xa9").unwrap()));
        cases.push(Case::new(
            format!("rfc: non-ASCII token on {path}"),
            non_ascii,
            400,
            Body::Json(json!({"error": "invalid_request", "error_description": "the token is not visible ASCII"})),
        ));

        let invalid_body = || Body::Json(json!({"error": "invalid_token", "error_description": INVALID_TOKEN}));
        let invalid_challenge =
            challenge(&[("realm", REALM), ("error", "invalid_token"), ("error_description", INVALID_TOKEN)]);
        let mut tokens = broken_tokens();
        tokens.push(("4. unknown `sub`", signed("mallory", &["me", "items"])));
        // RFC 7515 §4.1.11: a critical extension the verifier does not understand voids the token.
        let payload = format!(r#"{{"sub":"johndoe","scopes":["me","items"],"exp":{}}}"#, now() + 600);
        let crit = raw(r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#, &payload, SECRET);
        tokens.push(("a header naming a critical extension", crit));
        for (what, token) in tokens {
            cases.push(
                Case::new(format!("rfc: {what} on {path}"), bearer(path, &token), 401, invalid_body())
                    .header(header::WWW_AUTHENTICATE, &invalid_challenge),
            );
        }
        if !scope.is_empty() {
            let description = "the access token lacks a required scope";
            cases.push(
                Case::new(
                    format!("rfc: missing scope on {path}"),
                    bearer(path, &signed("johndoe", &[])),
                    403,
                    Body::Json(
                        json!({"error": "insufficient_scope", "error_description": description, "scope": scope}),
                    ),
                )
                .header(
                    header::WWW_AUTHENTICATE,
                    &challenge(&[
                        ("realm", REALM),
                        ("error", "insufficient_scope"),
                        ("error_description", description),
                        ("scope", scope),
                    ]),
                ),
            );
        }
    }
    for (path, granted) in [("/users/me/", &["me"][..]), ("/users/me/items/", &["me", "items"][..])] {
        cases.push(
            Case::new(
                format!("rfc: disabled alice on {path}"),
                bearer(path, &signed("alice", granted)),
                403,
                Body::Json(json!({"error": "access_denied", "error_description": "the user is inactive"})),
            )
            .no_header(header::WWW_AUTHENTICATE),
        );
    }
    cases.push(Case::new(
        "rfc: a valid token still works",
        bearer("/users/me/items/", &signed("johndoe", &["me", "items"])),
        200,
        Body::Json(json!([{"item_id": "Foo", "owner": "johndoe"}])),
    ));
    cases
}

fn no_store(case: Case) -> Case {
    case.header(header::CACHE_CONTROL, "no-store").header(header::PRAGMA, "no-cache")
}

fn oauth_error(code: &str, description: &str) -> Body {
    Body::Json(json!({"error": code, "error_description": description}))
}

fn oversized_form() -> TestRequest {
    form(&format!("username=johndoe&password=secret&scope={}", "a".repeat(20 * 1024)))
}

fn json_body() -> TestRequest {
    let mut request = request(Method::POST, "/token");
    request.headers.push((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    request.body = br#"{"grant_type":"password","username":"johndoe","password":"secret"}"#.to_vec();
    request
}

/// RFC 6749 §5 for the token endpoint.
fn rfc_token_cases() -> Vec<Case> {
    let long_password = "p".repeat(scopes_runtime::issuing::MAX_PASSWORD_BYTES + 1);
    let missing = |fields: &str| oauth_error("invalid_request", &format!("missing or invalid: {fields}"));
    vec![
        no_store(Case::new(
            "rfc: password grant",
            form("grant_type=password&username=johndoe&password=secret&scope=me+items"),
            200,
            Body::IssuedToken { sub: "johndoe", scopes: vec!["me", "items"] },
        )),
        no_store(Case::new(
            "rfc: repeated parameters are refused (RFC 6749 §3.2)",
            form("grant_type=password&username=nobody&username=johndoe&password=secret&scope=me&scope=items"),
            400,
            oauth_error("invalid_request", "given more than once: username, scope"),
        )),
        no_store(Case::new(
            "rfc: a username over 256 bytes",
            form(&format!("grant_type=password&username={}&password=secret", "u".repeat(257))),
            400,
            missing("username"),
        )),
        no_store(Case::new(
            "rfc: grant_type is required",
            form("username=johndoe&password=secret"),
            400,
            missing("grant_type"),
        )),
        no_store(Case::new(
            "rfc: another grant type",
            form("grant_type=client_credentials&username=johndoe&password=secret"),
            400,
            oauth_error("unsupported_grant_type", "this grant type is not served here"),
        )),
        no_store(Case::new(
            "rfc: wrong password",
            form("grant_type=password&username=johndoe&password=wrong"),
            400,
            oauth_error("invalid_grant", "incorrect username or password"),
        )),
        no_store(Case::new(
            "rfc: unknown user",
            form("grant_type=password&username=nobody&password=secret"),
            400,
            oauth_error("invalid_grant", "incorrect username or password"),
        )),
        no_store(Case::new(
            "rfc: an undeclared scope",
            form("grant_type=password&username=johndoe&password=secret&scope=me+superuser"),
            400,
            oauth_error("invalid_scope", "scope `superuser` is not declared"),
        )),
        no_store(Case::new(
            "rfc: empty fields are missing",
            form("grant_type=password&username=&password="),
            400,
            missing("username, password"),
        )),
        no_store(Case::new(
            "rfc: a JSON body is not a form",
            json_body(),
            400,
            missing("grant_type, username, password"),
        )),
        no_store(Case::new(
            "rfc: a password over 1024 bytes",
            form(&format!("grant_type=password&username=johndoe&password={long_password}")),
            400,
            oauth_error("invalid_request", "the password is longer than 1024 bytes"),
        )),
        no_store(Case::new(
            "rfc: an oversized body",
            oversized_form(),
            413,
            oauth_error("invalid_request", "the request body is too large"),
        )),
    ]
}

/// The seed style keeps FastAPI's answers, and gains the hardening that changes no recorded row.
fn seed_hardening_cases() -> Vec<Case> {
    let token = signed("johndoe", &["me"]);
    vec![
        Case::new(
            "seed: of two Authorization headers the first is read, as FastAPI does",
            several_headers("/users/me/", &[&format!("Bearer {token}"), "Bearer garbage"]),
            200,
            Body::Json(
                json!({"username":"johndoe","email":"johndoe@example.com","full_name":"John Doe","disabled":false}),
            ),
        ),
        no_store(Case::new(
            "seed: the token endpoint says no-store",
            form("username=johndoe&password=secret&scope=me"),
            200,
            Body::IssuedToken { sub: "johndoe", scopes: vec!["me"] },
        )),
        no_store(Case::new(
            "seed: a password over 1024 bytes",
            form(&format!("username=johndoe&password={}", "p".repeat(scopes_runtime::issuing::MAX_PASSWORD_BYTES + 1))),
            400,
            detail("Password longer than 1024 bytes"),
        )),
        no_store(Case::new("seed: an oversized body", oversized_form(), 413, detail("Request body too large"))),
        no_store(Case::new(
            "seed: repeated fields, the last wins, as FastAPI reads them",
            form("username=nobody&username=johndoe&password=secret&scope=me"),
            200,
            Body::IssuedToken { sub: "johndoe", scopes: vec!["me"] },
        )),
        no_store(Case::new(
            "seed: a username over 256 bytes",
            form(&format!("username={}&password=secret", "u".repeat(257))),
            422,
            Body::Json(json!({"detail": [{
                "type": "string_too_long", "loc": ["body", "username"], "msg": "String should have at most 256 bytes",
                "input": null, "ctx": {"max_length": 256},
            }]})),
        )),
        no_store(Case::new(
            "seed: errors are no-store too",
            form("username=johndoe&password=wrong"),
            400,
            detail("Incorrect username or password"),
        )),
    ]
}

#[tokio::test]
async fn rfc_style_protected_resources() {
    assert_all_pass(run(&app(rfc()), rfc_resource_cases()).await);
}

#[tokio::test]
async fn rfc_style_token_endpoint() {
    assert_all_pass(run(&app(rfc()), rfc_token_cases()).await);
}

#[tokio::test]
async fn seed_style_hardening() {
    assert_all_pass(run(&app(ResponseStyle::Seed), seed_hardening_cases()).await);
}

#[tokio::test]
async fn challenge_attributes_are_escaped() {
    let app = app(ResponseStyle::rfc("a \"quoted\" \\ realm"));
    let response = app.send(get("/status/")).await;
    assert_eq!(response.headers[header::WWW_AUTHENTICATE], r#"Bearer realm="a \"quoted\" \\ realm""#);
}

/// Small delays, so the test runs in seconds: four attempts per (account, client) pair, the account slowed
/// down after two failures.
fn quick_throttle() -> ThrottlePolicy {
    ThrottlePolicy {
        attempts_per_pair: 4,
        account_free_failures: 2,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        ..ThrottlePolicy::default()
    }
}

fn throttled_app(style: ResponseStyle, client: Option<SocketAddr>) -> InProcess {
    let router = demo::router(state(style).with_throttle(quick_throttle()));
    match client {
        Some(client) => InProcess::from_client(router, client),
        None => InProcess::new(router),
    }
}

#[tokio::test]
async fn repeated_failures_of_a_pair_are_refused_with_429_for_known_and_unknown_names() {
    for style in [ResponseStyle::Seed, rfc()] {
        let app = throttled_app(style.clone(), None);
        for username in ["johndoe", "nobody"] {
            for attempt in 1..=4 {
                assert_eq!(
                    login(&app, username, "wrong", "").await.status,
                    400,
                    "{style:?} {username} failure {attempt}"
                );
            }
            let answer = login(&app, username, "wrong", "").await;
            assert_eq!(answer.status, 429, "{style:?} {username}");
            let retry_after = answer.retry_after().expect("Retry-After");
            assert!((1..=900).contains(&retry_after), "{retry_after}");
        }
        // The pair is refused even with the right password, until the window ends.
        assert_eq!(login(&app, "johndoe", "secret", "").await.status, 429, "{style:?}");
    }
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_refused_across_names() {
    let client: SocketAddr = "203.0.113.7:5555".parse().unwrap();
    let policy = ThrottlePolicy { attempts_per_client: 6, ..quick_throttle() };
    let router = demo::router(state(rfc()).with_throttle(policy));
    let app = InProcess::from_client(router.clone(), client);
    for name in ["a", "b", "c", "d", "e", "f"] {
        assert_eq!(login(&app, name, "wrong", "").await.status, 400);
    }
    assert_eq!(login(&app, "johndoe", "secret", "").await.status, 429, "the address is refused");
    let elsewhere = InProcess::from_client(router, "198.51.100.1:5555".parse().unwrap());
    assert_eq!(login(&elsewhere, "johndoe", "secret", "").await.status, 200, "another address is not");
}

#[tokio::test]
async fn a_success_clears_the_pair() {
    let app = throttled_app(rfc(), None);
    for _ in 0..3 {
        assert_eq!(login(&app, "johndoe", "wrong", "").await.status, 400);
    }
    assert_eq!(login(&app, "johndoe", "secret", "").await.status, 200);
    for _ in 0..4 {
        assert_eq!(login(&app, "johndoe", "wrong", "").await.status, 400, "the count starts again");
    }
    assert_eq!(login(&app, "johndoe", "wrong", "").await.status, 429);
}

/// Finding 6: throttle keys were usernames as sent, up to the form's 16 KiB, purged only at 100,000 entries.
/// Now each entry is a fixed size whatever the username, and there are never more than the policy's.
#[tokio::test]
async fn the_throttle_tracks_no_more_entries_than_its_policy_allows() {
    let policy = ThrottlePolicy { max_entries: 64, ..ThrottlePolicy::default() };
    let state = state(rfc())
        .with_throttle(policy)
        .with_password_policy(scopes_runtime::issuing::PasswordPolicy::bcrypt(4).unwrap());
    let router = demo::router(state.clone());
    for round in 0..300u32 {
        let client = SocketAddr::from(([10, 1, (round / 250) as u8, (round % 250) as u8], 5555));
        let app = InProcess::from_client(router.clone(), client);
        let username = format!("{round:0>256}");
        assert_eq!(login(&app, &username, "wrong", "").await.status, 400);
        let entries = state.tokens().unwrap().throttle_entries();
        assert!(entries <= 64, "round {round}: {entries}");
    }
}

/// A store that cannot answer: the login is a 503 with `Retry-After`, and nothing is counted against the
/// user or the client (it used to count as a wrong password against both).
#[tokio::test]
async fn an_unavailable_account_store_is_a_503_that_counts_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::State;
    use scopes_runtime::{
        Account, AccountStore, Authority, PasswordRequestForm, TokenEndpoint, issuing::ClientAddress, store::StoreError,
    };

    #[derive(Clone)]
    struct Flaky {
        tokens: TokenEndpoint,
        authority: Authority,
        down: Arc<AtomicBool>,
        hash: String,
    }
    impl axum::extract::FromRef<Flaky> for Authority {
        fn from_ref(state: &Flaky) -> Authority {
            state.authority.clone()
        }
    }
    impl AccountStore for Flaky {
        async fn find(&self, username: &str) -> Result<Option<Arc<Account>>, StoreError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(StoreError::Unavailable("connection refused".into()));
            }
            Ok((username == "johndoe").then(|| Arc::new(Account::new(username, &self.hash))))
        }
        async fn replace_password_hash(&self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> {
            Ok(false)
        }
    }
    async fn token(
        State(state): State<Flaky>,
        client: ClientAddress,
        form: PasswordRequestForm,
    ) -> axum::response::Response {
        state.tokens.grant(client, form, &state).await
    }

    let authority = Authority::hs256(SECRET.as_bytes()).unwrap().with_response_style(rfc());
    let tokens = TokenEndpoint::new(authority.clone(), &demo::SCOPE_REGISTRY)
        .with_throttle(ThrottlePolicy { attempts_per_pair: 2, ..ThrottlePolicy::default() });
    let down = Arc::new(AtomicBool::new(true));
    let hash = scopes_runtime::issuing::PasswordPolicy::bcrypt(4).unwrap().hash("secret").unwrap();
    let state = Flaky { tokens: tokens.clone(), authority, down: down.clone(), hash };
    let app = InProcess::from_client(
        axum::Router::new().route("/token", axum::routing::post(token)).with_state(state),
        "192.0.2.10:4000".parse().unwrap(),
    );
    for _ in 0..5 {
        let response = app.send(form("grant_type=password&username=johndoe&password=secret")).await;
        assert_eq!(response.status, 503);
        assert_eq!(response.headers[header::RETRY_AFTER], "5");
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
    }
    assert_eq!(tokens.throttle_entries(), 0, "the outage counted against nobody");
    down.store(false, Ordering::SeqCst);
    let response = app.send(form("grant_type=password&username=johndoe&password=secret")).await;
    assert_eq!(
        response.status,
        200,
        "the pair was not locked by the outage: {}",
        String::from_utf8_lossy(&response.body)
    );
}

/// How refusals look and how strictly requests are read are separate settings: a custom renderer (here one
/// that names the refusal) changes the first only.
mod parsing_apart_from_style {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::middleware::map_response_with_state;
    use axum::response::IntoResponse;
    use scopes_runtime::authority::restyle;
    use scopes_runtime::verifying::RequestParsing;
    use scopes_runtime::{AuthError, Authority, ResponseStyle, requires};
    use scopes_tests::minimal::{AppState, User};
    use scopes_tests::transport::{InProcess, Transport};

    use super::*;

    #[requires]
    async fn status(_user: User) -> &'static str {
        "ok"
    }

    /// A handler body refusing with an `AuthError` of its own.
    async fn disabled(State(_): State<AppState>) -> Result<&'static str, AuthError> {
        Err(AuthError::InactiveUser)
    }

    fn naming_style() -> ResponseStyle {
        ResponseStyle::custom(|error: &AuthError| (StatusCode::IM_A_TEAPOT, format!("{error}")).into_response())
    }

    fn app(authority: Authority) -> InProcess {
        let state = AppState { authority: authority.clone() };
        let router = axum::Router::new()
            .route("/status", axum::routing::get(status))
            .route("/disabled", axum::routing::get(disabled))
            .with_state(state)
            .layer(map_response_with_state(authority, restyle));
        InProcess::new(router)
    }

    fn authority() -> Authority {
        Authority::hs256(SECRET.as_bytes()).unwrap().with_response_style(naming_style())
    }

    fn two_headers() -> TestRequest {
        let token = signed("johndoe", &[]);
        several_headers("/status", &[&format!("Bearer {token}"), "Bearer other"])
    }

    #[tokio::test]
    async fn a_custom_renderer_keeps_strict_reading() {
        let response = app(authority()).send(two_headers()).await;
        assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
        assert_eq!(String::from_utf8_lossy(&response.body), "malformed request: several Authorization headers");
    }

    #[tokio::test]
    async fn lenient_reading_is_chosen_apart_from_the_style() {
        let response = app(authority().with_request_parsing(RequestParsing::Lenient)).send(two_headers()).await;
        assert_eq!(response.status, StatusCode::OK, "the first header is read");
    }

    #[tokio::test]
    async fn refusals_returned_by_handlers_answer_in_the_configured_style() {
        let response = app(authority()).send(get("/disabled")).await;
        assert_eq!(response.status, StatusCode::IM_A_TEAPOT);
        assert_eq!(String::from_utf8_lossy(&response.body), "inactive user");
        let seed = Authority::hs256(SECRET.as_bytes()).unwrap().with_response_style(ResponseStyle::Seed);
        let response = app(seed).send(get("/disabled")).await;
        assert_eq!(
            (response.status, response.body),
            (StatusCode::BAD_REQUEST, br#"{"detail":"Inactive user"}"#.to_vec())
        );
    }
}
