//! What an operator and an app's audit trail see of each authorization decision: the `scopes::authz`
//! events (captured by a test subscriber) for every kind of refusal and a grant, with their fields and
//! values, no token or secret in any event, a 10 KB subject cut; the token endpoint's events; and the same
//! decisions as typed values through the authority's audit hook.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use demo::AppState;
use demo::items::store::ItemStore;
use scopes_runtime::observing::{AuditEvent, InvalidToken, MAX_FIELD_BYTES, Outcome, Revocation};
use scopes_runtime::verifying::{Policy, Verifier, Verifying};
use scopes_runtime::{Authority, Claims, ResponseStyle, TokenError};
use scopes_tests::SECRET;
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// One captured event: its target, level and every field (the message as `message`).
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    level: tracing::Level,
    fields: BTreeMap<String, String>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let metadata = event.metadata();
        let captured = Captured { target: metadata.target().to_owned(), level: *metadata.level(), fields };
        self.0.lock().unwrap().push(captured);
    }
}

impl Capture {
    /// Every event captured so far, of every target, at every level down to DEBUG, and forgets them.
    fn take(&self) -> Vec<Captured> {
        std::mem::take(&mut self.0.lock().unwrap())
    }

    /// The one `scopes::authz` event captured since the last call; panics on none or several.
    fn one_decision(&self) -> Captured {
        let events = self.take();
        let decisions: Vec<_> = events.iter().filter(|event| event.target == "scopes::authz").cloned().collect();
        assert_eq!(decisions.len(), 1, "one decision event per request: {events:#?}");
        decisions.into_iter().next().unwrap()
    }
}

/// Captures every event on this thread (the test's current-thread runtime) at DEBUG and above.
fn capture() -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let subscriber =
        Registry::default().with(capture.clone().with_filter(tracing_subscriber::filter::LevelFilter::DEBUG));
    let guard = tracing::subscriber::set_default(subscriber);
    (capture, guard)
}

const CLIENT: &str = "127.0.0.7:40000";

/// `method path` from `CLIENT` with `request_id`, and `Authorization: Bearer token` when given.
async fn send(app: &axum::Router, method: &str, path: &str, token: Option<&str>, request_id: &str) -> StatusCode {
    let mut request = Request::builder().method(method).uri(path).header("x-request-id", request_id);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
    app.clone().oneshot(request).await.unwrap().status()
}

/// The demo app in the RFC style, its items in memory with `Foo` owned by johndoe and `Bar` by someone else.
async fn app(authority: Authority) -> axum::Router {
    let items = ItemStore::default();
    items.create("Foo", "johndoe").await.unwrap();
    items.create("Bar", "someone").await.unwrap();
    demo::router(AppState::with_authority(authority).with_items(items))
}

fn authority() -> Authority {
    Authority::hs256(SECRET.as_bytes()).unwrap().with_response_style(ResponseStyle::rfc("test"))
}

fn assert_no_secret(events: &[Captured], secrets: &[&str]) {
    for event in events {
        for (name, value) in &event.fields {
            for secret in secrets {
                assert!(!value.contains(secret), "field `{name}` of {event:?} holds a token or secret");
            }
        }
    }
}

/// A request and its decision event: path, method, token, status, level, reason, subject.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, u16, tracing::Level, &'a str, Option<&'a str>);

#[tokio::test]
async fn every_refusal_and_a_grant_is_one_event_with_its_fields() {
    let authority = authority();
    let johndoe = authority.issue("johndoe", &["me", "items"]).unwrap();
    let only_me = authority.issue("johndoe", &["me"]).unwrap();
    let writer = authority.issue("johndoe", &["items:write"]).unwrap();
    let alice = authority.issue("alice", &["me"]).unwrap();
    let expired = authority.sign(&scopes_runtime::Claims::new("johndoe", ["me"], 1_000_000_000)).unwrap();
    let other_secret = Authority::hs256(b"another secret of at least 32 bytes!!!").unwrap();
    let foreign = other_secret.issue("johndoe", &["me"]).unwrap();
    let app = app(authority).await;
    let (capture, _guard) = capture();

    // (path, method, token, status, level, reason, subject)
    let cases: Vec<Case<'_>> = vec![
        ("/users/me/", "GET", Some(&johndoe), 200, tracing::Level::DEBUG, "granted", Some("johndoe")),
        ("/users/me/", "GET", None, 401, tracing::Level::INFO, "missing_token", None),
        ("/users/me/", "GET", Some("not a token"), 400, tracing::Level::INFO, "malformed", None),
        ("/users/me/", "GET", Some(&expired), 401, tracing::Level::INFO, "invalid_token:expired", None),
        ("/users/me/", "GET", Some(&foreign), 401, tracing::Level::INFO, "invalid_token:bad_signature", None),
        ("/users/me/items/", "GET", Some(&only_me), 403, tracing::Level::INFO, "insufficient_scope", Some("johndoe")),
        ("/users/me/", "GET", Some(&alice), 403, tracing::Level::INFO, "inactive", Some("alice")),
        ("/items/Bar", "DELETE", Some(&writer), 404, tracing::Level::INFO, "rule_refused", Some("johndoe")),
        ("/items/Nope", "DELETE", Some(&writer), 404, tracing::Level::INFO, "not_found", Some("johndoe")),
        ("/items/Foo", "GET", Some(&johndoe), 200, tracing::Level::DEBUG, "granted", Some("johndoe")),
    ];
    let mut seen = Vec::new();
    for (index, (path, method, token, status, level, reason, subject)) in cases.into_iter().enumerate() {
        let request_id = format!("request-{index}");
        let answered = send(&app, method, path, token, &request_id).await;
        assert_eq!(answered.as_u16(), status, "{method} {path} ({reason})");
        let event = capture.one_decision();
        assert_eq!(event.level, level, "{reason}: {event:?}");
        assert_eq!(event.field("reason"), Some(reason), "{event:?}");
        let decision = if reason == "granted" { "granted" } else { "refused" };
        assert_eq!(event.field("decision"), Some(decision));
        assert_eq!(event.field("event"), Some("decision"));
        assert_eq!(event.field("method"), Some(method));
        let template = if path.starts_with("/items/") { "/items/{item_id}" } else { path };
        assert_eq!(event.field("route"), Some(template), "the route template, never the raw path");
        assert_eq!(event.field("subject"), subject, "{event:?}");
        assert_eq!(event.field("client"), Some("127.0.0.7"));
        assert_eq!(event.field("request_id"), Some(request_id.as_str()));
        seen.push(event);
    }
    let requirement = |index: usize| seen[index].field("requirement").unwrap_or_default().to_owned();
    assert_eq!(requirement(0), "me", "the guard's scope, from the layer below the handler");
    assert_eq!(requirement(5), "items me");
    assert_eq!(seen[7].field("rule"), Some("owner"), "{:?}", seen[7]);
    assert_no_secret(&seen, &[&johndoe, &only_me, &writer, &alice, &expired, &foreign, SECRET]);
}

/// Verifies one opaque token, naming a 10 KB subject: what a provider's introspection could answer (a JWT
/// that large is refused as malformed before it is read).
#[derive(Debug)]
struct LongSubject;

const OPAQUE: &str = "opaque-token-0123456789";

/// A token this verifier cannot check now, as a provider's token is before its keys are fetched.
const UNCHECKABLE: &str = "uncheckable-0123456789";

impl Verifier for LongSubject {
    fn verify<'a>(&'a self, token: &'a str, _: &'a Policy) -> Verifying<'a> {
        let claims = Claims::new("s".repeat(10 * 1024), ["me"], 4_000_000_000);
        Verifying::ready(match token {
            OPAQUE => Ok(claims),
            UNCHECKABLE => Err(TokenError::KeysUnavailable { retry_after: std::time::Duration::from_secs(5) }),
            _ => Err(TokenError::Malformed("unknown".into())),
        })
    }
}

#[tokio::test]
async fn a_token_that_cannot_be_checked_now_is_an_unavailable_decision_at_warn() {
    let app = app(Authority::from_verifier(LongSubject, Policy::new())).await;
    let (capture, _guard) = capture();
    assert_eq!(send(&app, "GET", "/users/me/items/", Some(UNCHECKABLE), "down").await, 503);
    let event = capture.one_decision();
    assert_eq!(event.level, tracing::Level::WARN);
    assert_eq!(event.field("reason"), Some("unavailable"));
    assert_eq!(event.field("route"), Some("/users/me/items/"));
    assert_eq!(event.field("subject"), None, "the token was never verified");
    assert_eq!(event.field("requirement"), Some("items me"));
}

#[tokio::test]
async fn a_10_kb_subject_is_cut_and_no_token_is_logged() {
    let authority = Authority::from_verifier(LongSubject, Policy::new());
    let app = app(authority).await;
    let (capture, _guard) = capture();
    assert_eq!(send(&app, "GET", "/users/me/", Some(OPAQUE), "long").await, 401);
    let events = capture.take();
    let decision = events.iter().find(|event| event.target == "scopes::authz").expect("a decision event");
    assert_eq!(decision.field("reason"), Some("invalid_token:unknown_principal"));
    let subject = decision.field("subject").expect("the subject, cut");
    assert!(subject.len() <= MAX_FIELD_BYTES + '…'.len_utf8(), "{} bytes", subject.len());
    assert!(subject.starts_with("ssss") && subject.ends_with('…'));
    for event in &events {
        for value in event.fields.values() {
            assert!(value.len() < 1024, "no field is logged whole at 10 KB: {event:?}");
            assert!(!value.contains(OPAQUE), "the token is never logged: {event:?}");
        }
    }
}

#[tokio::test]
async fn the_token_endpoint_reports_logins_without_the_password() {
    let app = app(authority()).await;
    let (capture, _guard) = capture();
    let login = |password: &'static str| {
        let app = app.clone();
        async move {
            let body = format!("grant_type=password&username=johndoe&password={password}&scope=me");
            let mut request = Request::builder()
                .method("POST")
                .uri("/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            request.extensions_mut().insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
            app.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    assert_eq!(login("wrong-password").await, 400);
    assert_eq!(login("secret").await, 200);
    let events: Vec<_> = capture.take().into_iter().filter(|event| event.field("event") == Some("login")).collect();
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0].field("outcome"), Some("invalid_grant"));
    assert_eq!(events[1].field("outcome"), Some("granted"));
    for event in &events {
        assert_eq!(event.target, "scopes::authz");
        assert_eq!(event.level, tracing::Level::INFO);
        assert_eq!(event.field("username"), Some("johndoe"));
        assert_eq!(event.field("client"), Some("127.0.0.7"));
    }
    assert_no_secret(&events, &["wrong-password", "secret"]);
}

/// What the hook heard of a decision: its outcome, route, subject and method.
type Heard = (Outcome, Option<String>, Option<String>, String);

#[tokio::test]
async fn the_audit_hook_receives_each_decision_as_a_typed_value() {
    let heard: Arc<Mutex<Vec<Heard>>> = Arc::default();
    let into = heard.clone();
    let authority = authority().with_audit_hook(move |event: &AuditEvent<'_>| {
        if let AuditEvent::Decision(decision) = event {
            let route = decision.route.map(str::to_owned);
            let subject = decision.subject.as_deref().map(str::to_owned);
            into.lock().unwrap().push((decision.outcome, route, subject, decision.method.to_owned()));
        }
    });
    let johndoe = authority.issue("johndoe", &["me", "items"]).unwrap();
    let expired = authority.sign(&scopes_runtime::Claims::new("johndoe", ["me"], 1_000_000_000)).unwrap();
    let app = app(authority).await;
    // No subscriber is needed: the hook hears every decision whatever the log level.
    assert_eq!(send(&app, "GET", "/users/me/items/", Some(&johndoe), "a").await, 200);
    assert_eq!(send(&app, "GET", "/users/me/", Some(&expired), "b").await, 401);
    assert_eq!(send(&app, "GET", "/healthz", None, "c").await, 200);
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard,
        [
            (Outcome::Granted, Some("/users/me/items/".to_owned()), Some("johndoe".to_owned()), "GET".to_owned()),
            (Outcome::InvalidToken(InvalidToken::Expired), Some("/users/me/".to_owned()), None, "GET".to_owned()),
        ],
        "one event per guarded request; a public route decides nothing"
    );
}

/// Posts `body` (a form) to `path` from `CLIENT`; the status and the JSON answer.
async fn post_form(app: &axum::Router, path: &str, body: String) -> (u16, serde_json::Value) {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

/// What the hook heard of the token endpoint: each event's kind, outcome, user and whether it named a family.
type Heard2 = (&'static str, &'static str, Option<String>, bool);

#[tokio::test]
async fn refreshes_a_reuse_and_a_revocation_reach_the_hook_and_the_log() {
    let heard: Arc<Mutex<Vec<Heard2>>> = Arc::default();
    let into = heard.clone();
    let authority = authority().with_token_ids().with_audit_hook(move |event: &AuditEvent<'_>| {
        let entry = match event {
            AuditEvent::Login(login) => ("login", login.outcome.label(), Some(login.username.to_string()), false),
            AuditEvent::Refresh(refresh) => {
                let user = refresh.user.as_deref().map(str::to_owned);
                ("refresh", refresh.outcome.label(), user, refresh.family.is_some())
            }
            AuditEvent::Revocation(Revocation::RefreshFamily { .. }) => ("revocation", "refresh_family", None, true),
            AuditEvent::Revocation(_) => ("revocation", "other", None, false),
            _ => return,
        };
        into.lock().unwrap().push(entry);
    });
    let database = tempfile::tempdir().unwrap();
    let users =
        demo::users::UserStore::open(&format!("sqlite://{}/users.db", database.path().display())).await.unwrap();
    let app = demo::router(AppState::with_users(authority, users));
    let (capture, _guard) = capture();

    let (status, login) =
        post_form(&app, "/token", "grant_type=password&username=johndoe&password=secret".into()).await;
    assert_eq!(status, 200, "{login}");
    let first = login["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = post_form(&app, "/token", format!("grant_type=refresh_token&refresh_token={first}")).await;
    assert_eq!(status, 200, "{rotated}");
    let (status, _) = post_form(&app, "/token", format!("grant_type=refresh_token&refresh_token={first}")).await;
    assert_eq!(status, 400, "a used refresh token presented again is refused");
    let second = rotated["refresh_token"].as_str().unwrap().to_owned();
    let (_, again) = post_form(&app, "/token", "grant_type=password&username=johndoe&password=secret".into()).await;
    let third = again["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = post_form(&app, "/revoke", format!("token={third}")).await;
    assert_eq!(status, 200);

    let johndoe = Some("johndoe".to_owned());
    assert_eq!(
        heard.lock().unwrap().clone(),
        [
            ("login", "granted", johndoe.clone(), false),
            ("refresh", "granted", johndoe.clone(), true),
            ("refresh", "reused", johndoe.clone(), true),
            ("login", "granted", johndoe.clone(), false),
            ("revocation", "refresh_family", None, true),
        ]
    );
    let events = capture.take();
    let reused = events.iter().find(|event| event.field("outcome") == Some("reused")).expect("the reuse is logged");
    assert_eq!(reused.level, tracing::Level::WARN);
    assert_eq!(reused.field("user"), Some("johndoe"));
    let family = reused.field("family").expect("a digest naming the family");
    assert_eq!(family.len(), 16);
    assert_no_secret(&events, &[&first, &second, &third, "secret"]);
}
