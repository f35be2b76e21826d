//! Every expression form over HTTP, on a small app of its own (the demo shows `scopes` and `any`): nested
//! `all` inside `any`, `scopes` beside `any`, and implication through a chain, each granted and refused.

use axum::Router;
use axum::http::header;
use scopes_runtime::routing::{SecureRouter, get};
use scopes_runtime::{ResponseStyle, requires};
use scopes_tests::cases::{Case, bearer, detail, run};
use scopes_tests::minimal::{AppState, User};
use scopes_tests::tokens::signed;
use scopes_tests::transport::{InProcess, Transport};

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Who you are.",
        "read" => "Read.",
        "write" => "Write." implies ["read"],
        "audit" => "Audit.",
        "root" => "Everything." implies ["write", "audit", "me"],
    },
}

#[requires(any("audit", all("read", "me")))]
async fn nested(_user: User) -> &'static str {
    "nested"
}

#[requires(scopes = ["me"], any("read", "audit"))]
async fn beside(_user: User) -> &'static str {
    "beside"
}

#[requires(all("read", "audit"))]
async fn chained(_user: User) -> &'static str {
    "chained"
}

fn app() -> InProcess {
    let state = AppState::new(ResponseStyle::Seed);
    let (router, _) = SecureRouter::<AppState>::new()
        .route("/nested", get(nested))
        .route("/beside", get(beside))
        .route("/chained", get(chained))
        .into_parts();
    let router: Router = router.with_state(state);
    InProcess::new(router)
}

fn refused(path: &str, scopes: &[&str], challenge: &str) -> Case {
    let name = format!("{path} refuses {scopes:?}");
    Case::new(name, bearer(path, &signed("someone", scopes)), 401, detail("Not enough permissions"))
        .header(header::WWW_AUTHENTICATE, challenge)
}

#[tokio::test]
async fn each_form_grants_and_refuses_as_its_normal_form_says() {
    let app = app();
    let cases = vec![
        refused("/nested", &["read"], r#"Bearer scope="audit", Bearer scope="read me""#),
        refused("/nested", &["me"], r#"Bearer scope="audit", Bearer scope="read me""#),
        refused("/beside", &["read", "audit"], r#"Bearer scope="me read", Bearer scope="me audit""#),
        refused("/beside", &["me"], r#"Bearer scope="me read", Bearer scope="me audit""#),
        refused("/chained", &["write"], r#"Bearer scope="read audit""#),
    ];
    let failures = run(&app, cases).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Granted answers are plain text: checked by status and body here.
    for (path, scopes) in [
        ("/nested", &["audit"][..]),
        ("/nested", &["read", "me"][..]),
        ("/nested", &["write", "me"][..]),
        ("/nested", &["root"][..]),
        ("/beside", &["me", "audit"][..]),
        ("/beside", &["me", "write"][..]),
        ("/chained", &["write", "audit"][..]),
        ("/chained", &["root"][..]),
    ] {
        let response = app.send(bearer(path, &signed("someone", scopes))).await;
        assert_eq!(response.status, 200, "{path} with {scopes:?}");
        assert_eq!(response.body, path.trim_start_matches('/').as_bytes(), "{path} with {scopes:?}");
    }
}

/// A guarded handler's own refusal answers in the authority's style, as the guard's refusals do, with no
/// layer added by the app: the seed's 400 "Inactive user" here, not the library default's 403.
#[requires(scopes = ["me"])]
async fn refuses_itself(_user: User) -> Result<&'static str, scopes_runtime::AuthError> {
    Err(scopes_runtime::AuthError::InactiveUser)
}

/// A public handler's responses pass through as they are: its state need not hold an authority.
#[scopes_runtime::public]
async fn refuses_publicly() -> Result<&'static str, scopes_runtime::AuthError> {
    Err(scopes_runtime::AuthError::InactiveUser)
}

#[tokio::test]
async fn a_handlers_own_refusal_answers_in_the_authoritys_style() {
    for (style, status, body) in [
        (ResponseStyle::Seed, 400, r#"{"detail":"Inactive user"}"#),
        (ResponseStyle::rfc("api"), 403, r#"{"error":"access_denied","error_description":"the user is inactive"}"#),
    ] {
        let (router, _) = SecureRouter::<AppState>::new()
            .route("/refuses", get(refuses_itself))
            .route("/public", get(refuses_publicly))
            .into_parts();
        let app = InProcess::new(router.with_state(AppState::new(style)));
        let answer = app.send(bearer("/refuses", &signed("someone", &["me"]))).await;
        assert_eq!((answer.status.as_u16(), String::from_utf8_lossy(&answer.body).as_ref()), (status, body));
        // The public route answers in the library's default style (RFC), whatever the authority's.
        assert_eq!(app.send(scopes_tests::cases::get("/public")).await.status, 403);
    }
}
