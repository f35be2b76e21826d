//! An app's own `Verifier` serving `#[requires]` routes: opaque tokens, which no JWT verifier could check,
//! looked up in an allow-list, at once or after a wait (as an introspection endpoint answers). The
//! authority holds the claims to its policy (audience, expiry) through `Policy::check`, and applies its
//! revocations after the verifier, whichever it is; refusals are the library's own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{StatusCode, header};
use scopes_runtime::routing::{SecureRouter, get};
use scopes_runtime::verifying::{Policy, TokenError, Verifier, Verifying};
use scopes_runtime::{Authority, Claims, requires, store::Revoked, verifying::Revocations};
use scopes_tests::cases::bearer;
use scopes_tests::minimal::{AppState, User};
use scopes_tests::tokens::now;
use scopes_tests::transport::{InProcess, Transport};

// Opaque tokens come from elsewhere: the scheme names that issuer's token URL.
scopes_runtime::registry! {
    scheme = "LegacyTokens",
    token_url = "https://legacy.example/token",
    scopes = {
        "me" => "Read your profile.",
        "items" => "Read your items.",
    },
}

/// The audience the allow-list's tokens must name.
const AUDIENCE: &str = "https://api.example";

#[requires(scopes = ["me", "items"])]
async fn items(_user: User) -> &'static str {
    "items"
}

#[requires(scopes = ["me"])]
async fn me(_user: User) -> &'static str {
    "me"
}

/// Opaque tokens and what each stands for; a lookup that takes `delay` when it has one (an introspection
/// endpoint), counted.
struct AllowList {
    tokens: HashMap<&'static str, Claims>,
    delay: Option<Duration>,
    lookups: Arc<AtomicUsize>,
}

impl std::fmt::Debug for AllowList {
    /// How many tokens, never which: a verifier's `Debug` shows in the authority's.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllowList").field("tokens", &self.tokens.len()).field("delay", &self.delay).finish()
    }
}

impl AllowList {
    fn new(delay: Option<Duration>) -> Self {
        let claims = |sub: &str, scopes: &[&str], exp: u64, aud: &str, jti: &str| {
            let mut claims = Claims::new(sub, scopes.iter().copied(), exp);
            claims.extra.insert("aud".into(), aud.into());
            claims.extra.insert("jti".into(), jti.into());
            claims
        };
        let tokens = HashMap::from([
            ("opaque-johndoe", claims("johndoe", &["me", "items"], now() + 600, AUDIENCE, "j1")),
            ("opaque-alice", claims("alice", &["me"], now() + 600, AUDIENCE, "a1")),
            ("opaque-expired", claims("johndoe", &["me", "items"], now() - 10, AUDIENCE, "e1")),
            ("opaque-elsewhere", claims("johndoe", &["me", "items"], now() + 600, "https://other.example", "o1")),
        ]);
        AllowList { tokens, delay, lookups: Arc::default() }
    }

    fn look_up(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let claims = self.tokens.get(token).cloned();
        let claims = claims.ok_or_else(|| TokenError::Malformed("not a token of the allow-list".into()))?;
        policy.check(&claims)?;
        Ok(claims)
    }
}

impl Verifier for AllowList {
    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        match self.delay {
            None => Verifying::ready(self.look_up(token, policy)),
            Some(delay) => Verifying::wait(async move {
                tokio::time::sleep(delay).await;
                self.look_up(token, policy)
            }),
        }
    }
}

fn authority(verifier: AllowList) -> Authority {
    Authority::from_verifier(verifier, Policy::new().with_audience(AUDIENCE))
}

fn app(authority: Authority) -> InProcess {
    let (router, routes) =
        SecureRouter::<AppState>::new().route("/items", get(items)).route("/me", get(me)).into_parts();
    assert_eq!(routes.to_string(), "GET /items  me AND items\nGET /me     me\n");
    InProcess::new(router.with_state(AppState { authority }))
}

async fn status_of(app: &InProcess, path: &str, token: &str) -> (StatusCode, String) {
    let response = app.send(bearer(path, token)).await;
    let challenge = response.headers.get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    (response.status, challenge.unwrap_or_default())
}

/// What each token earns at each route: the same answers whether the verifier answers at once or waits.
async fn assert_served_as_the_list_says(app: &InProcess) {
    assert_eq!(status_of(app, "/items", "opaque-johndoe").await.0, StatusCode::OK);
    assert_eq!(status_of(app, "/me", "opaque-alice").await.0, StatusCode::OK);
    let (status, challenge) = status_of(app, "/items", "opaque-alice").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "alice lacks items");
    assert!(challenge.contains(r#"error="insufficient_scope""#), "{challenge}");
    for refused in ["opaque-unknown", "opaque-expired", "opaque-elsewhere", "eyJhbGciOiJub25lIn0.e30."] {
        let (status, challenge) = status_of(app, "/me", refused).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{refused}");
        assert!(challenge.contains(r#"error="invalid_token""#), "{refused}: {challenge}");
    }
}

#[tokio::test]
async fn an_allow_list_answering_at_once_serves_requires_routes() {
    assert_served_as_the_list_says(&app(authority(AllowList::new(None)))).await;
}

#[tokio::test]
async fn a_verifier_that_waits_serves_them_alike_and_forty_requests_at_once() {
    let verifier = AllowList::new(Some(Duration::from_millis(20)));
    let lookups = verifier.lookups.clone();
    let app = Arc::new(app(authority(verifier)));
    assert_served_as_the_list_says(&app).await;

    let before = lookups.load(Ordering::Relaxed);
    let requests = (0..40).map(|index| {
        let app = app.clone();
        async move {
            let (token, expected) = if index % 2 == 0 {
                ("opaque-johndoe", StatusCode::OK)
            } else {
                ("opaque-alice", StatusCode::FORBIDDEN)
            };
            assert_eq!(status_of(&app, "/items", token).await.0, expected, "request {index}");
        }
    });
    futures_util::future::join_all(requests).await;
    assert_eq!(lookups.load(Ordering::Relaxed) - before, 40, "each request verified once, none skipped");
}

#[tokio::test]
async fn the_synchronous_verify_refuses_what_would_wait_and_answers_what_is_at_hand() {
    let waiting = authority(AllowList::new(Some(Duration::from_millis(20))));
    assert!(matches!(waiting.verify("opaque-johndoe"), Err(TokenError::KeysUnavailable { .. })));
    assert_eq!(waiting.verify_async("opaque-johndoe").await.unwrap().sub, "johndoe");
    let at_once = authority(AllowList::new(None));
    assert_eq!(at_once.verify("opaque-johndoe").unwrap().scopes, ["me", "items"]);
    assert_eq!(at_once.verify("opaque-expired"), Err(TokenError::Expired));
}

#[tokio::test]
async fn revocations_apply_to_an_apps_own_verifier_too() {
    let revocations =
        Revocations::load(|_| async { Ok(Revoked::default()) }, Duration::from_secs(1800), Duration::from_secs(60))
            .await
            .unwrap();
    let app = app(authority(AllowList::new(None)).with_revocations(revocations.clone()));
    assert_eq!(status_of(&app, "/items", "opaque-johndoe").await.0, StatusCode::OK);
    revocations.add_access_token("j1");
    assert_eq!(status_of(&app, "/items", "opaque-johndoe").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, "/me", "opaque-alice").await.0, StatusCode::OK, "only the revoked token");
}

#[test]
fn the_authority_debug_shows_the_verifier_and_policy_never_a_token() {
    let shown = format!("{:?}", authority(AllowList::new(None)));
    assert!(shown.contains("AllowList") && shown.contains(AUDIENCE), "{shown}");
    assert!(!shown.contains("opaque-"), "{shown}");
    let secret = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    assert!(!format!("{secret:?}").contains("0123456789abcdef"), "the secret never shows");
}
