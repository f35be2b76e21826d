//! `shared/reference/seed-behaviour.md`, row by row, as requests and the exact answers the seed gives.
//!
//! Each case names the row it pins. [`run`] sends every case through a [`Transport`] and returns every
//! mismatch, so one run shows all differences at once.

use axum::http::{HeaderName, HeaderValue, Method, header};
use scopes_runtime::Claims;
use serde_json::{Value, json};

use crate::SECRET;
use crate::tokens::{HS256_HEADER, b64, now, payload, raw, signed, with_claims};
use crate::transport::{TestRequest, TestResponse, Transport};

/// What a case expects back.
pub enum Body {
    /// This JSON, exactly (compared as JSON values), with `content-type: application/json`.
    Json(Value),
    /// No body at all.
    Empty,
    /// `{"access_token": <JWT>, "token_type": "bearer", "expires_in": 1800, "scope": "..."}` whose token
    /// carries `sub` and `scopes` and expires in 30 minutes; and a `refresh_token` when the store keeps them
    /// (a database does, the memory store does not).
    IssuedToken { sub: &'static str, scopes: Vec<&'static str> },
}

pub struct Case {
    pub name: String,
    pub request: TestRequest,
    pub status: u16,
    /// Headers that must be present with this value (`{host}` stands for the transport's host), or,
    /// with `None`, absent.
    pub headers: Vec<(HeaderName, Option<String>)>,
    pub body: Body,
}

impl Case {
    pub fn new(name: impl Into<String>, request: TestRequest, status: u16, body: Body) -> Self {
        Case { name: name.into(), request, status, headers: Vec::new(), body }
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        self.headers.push((name, Some(value.into())));
        self
    }

    pub fn no_header(mut self, name: HeaderName) -> Self {
        self.headers.push((name, None));
        self
    }
}

pub fn request(method: Method, path: &str) -> TestRequest {
    TestRequest { method, path: path.into(), headers: Vec::new(), body: Vec::new() }
}

pub fn get(path: &str) -> TestRequest {
    request(Method::GET, path)
}

pub fn with_authorization(mut request: TestRequest, value: &str) -> TestRequest {
    request.headers.push((header::AUTHORIZATION, HeaderValue::from_str(value).expect("header value")));
    request
}

pub fn bearer(path: &str, token: &str) -> TestRequest {
    with_authorization(get(path), &format!("Bearer {token}"))
}

pub fn form(body: &str) -> TestRequest {
    let mut request = request(Method::POST, "/token");
    request.headers.push((header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded")));
    request.body = body.as_bytes().to_vec();
    request
}

pub fn detail(text: &str) -> Body {
    Body::Json(json!({ "detail": text }))
}

fn challenge(scope: &str) -> String {
    if scope.is_empty() { "Bearer".into() } else { format!("Bearer scope=\"{scope}\"") }
}

fn missing(field: &str) -> Value {
    json!({"type": "missing", "loc": ["body", field], "msg": "Field required", "input": null})
}

/// The three guarded endpoints with the scopes of their whole guard chain, outermost first.
pub const GUARDED: [(&str, &str); 3] = [("/users/me/", "me"), ("/users/me/items/", "items me"), ("/status/", "")];

pub fn seed_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    endpoint_successes(&mut cases);
    failure_1_no_credentials(&mut cases);
    failures_2_and_3_broken_tokens(&mut cases);
    failure_4_unknown_subject(&mut cases);
    failure_5_missing_scope(&mut cases);
    failure_6_inactive_user(&mut cases);
    token_endpoint(&mut cases);
    framework_behaviour(&mut cases);
    cases
}

/// "Endpoints": each endpoint's success answer.
fn endpoint_successes(cases: &mut Vec<Case>) {
    let full = signed("johndoe", &["me", "items"]);
    cases.push(Case::new(
        "GET /users/me/ as johndoe with `me`",
        bearer("/users/me/", &signed("johndoe", &["me"])),
        200,
        Body::Json(json!({"username":"johndoe","email":"johndoe@example.com","full_name":"John Doe","disabled":false})),
    ));
    cases.push(Case::new(
        "GET /users/me/items/ as johndoe with `me items`",
        bearer("/users/me/items/", &full),
        200,
        Body::Json(json!([{"item_id": "Foo", "owner": "johndoe"}])),
    ));
    cases.push(Case::new(
        "GET /status/ with no scopes",
        bearer("/status/", &signed("johndoe", &[])),
        200,
        Body::Json(json!({"status": "ok"})),
    ));
    cases.push(Case::new(
        "GET /status/ as the disabled alice: disabled users allowed",
        bearer("/status/", &signed("alice", &[])),
        200,
        Body::Json(json!({"status": "ok"})),
    ));
    cases.push(Case::new(
        "scopes beyond the required ones are fine",
        bearer("/users/me/", &signed("johndoe", &["me", "items", "extra"])),
        200,
        Body::Json(json!({"username":"johndoe","email":"johndoe@example.com","full_name":"John Doe","disabled":false})),
    ));
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        cases.push(Case::new(
            format!("scheme `{scheme}` is accepted (case-insensitive)"),
            with_authorization(get("/status/"), &format!("{scheme} {full}")),
            200,
            Body::Json(json!({"status": "ok"})),
        ));
    }
}

/// Failure 1: no `Authorization`, or not Bearer: 401 "Not authenticated", plain `Bearer` challenge,
/// before any scope logic.
fn failure_1_no_credentials(cases: &mut Vec<Case>) {
    for (path, _) in GUARDED {
        cases.push(
            Case::new(format!("1. GET {path} without Authorization"), get(path), 401, detail("Not authenticated"))
                .header(header::WWW_AUTHENTICATE, "Bearer"),
        );
        for value in ["Basic am9obmRvZTpzZWNyZXQ=", "Token abc", "Bearerabc", "JWT x.y.z"] {
            cases.push(
                Case::new(
                    format!("1. GET {path} with `Authorization: {value}`"),
                    with_authorization(get(path), value),
                    401,
                    detail("Not authenticated"),
                )
                .header(header::WWW_AUTHENTICATE, "Bearer"),
            );
        }
    }
}

fn invalid(path: &str, scope: &str, what: &str, token: &str) -> Case {
    Case::new(format!("{what} on {path}"), bearer(path, token), 401, detail("Could not validate credentials"))
        .header(header::WWW_AUTHENTICATE, &challenge(scope))
}

/// Tokens that must never be accepted, each with what is wrong with it: failure 2 (does not decode:
/// bad signature, malformed, expired, wrong algorithm) and failure 3 (claims of the wrong shape).
pub fn broken_tokens() -> Vec<(&'static str, String)> {
    let good = signed("johndoe", &["me", "items"]);
    let segments: Vec<&str> = good.split('.').collect();
    let exp = now() + 600;
    let live = format!(r#"{{"sub":"johndoe","scopes":["me","items"],"exp":{exp}}}"#);
    let expired = Claims::new("johndoe", ["me", "items"], now() - 5);
    let early = Claims { nbf: Some(now() + 300), ..Claims::new("johndoe", ["me", "items"], exp) };
    let mut tokens = vec![
        ("2. token signed with another key", raw(HS256_HEADER, &live, "some-other-secret-of-enough-length")),
        (
            "2. payload edited after signing",
            format!("{}.{}.{}", segments[0], b64(live.replace("johndoe", "alice")), segments[2]),
        ),
        ("2. expired token", with_claims(&expired)),
        ("2. `nbf` ahead", with_claims(&early)),
        ("2. two segments", format!("{}.{}", segments[0], segments[1])),
        ("2. four segments", format!("{good}.{}", segments[2])),
        ("2. not a JWT", "not-a-token".into()),
        ("2. payload not JSON", raw(HS256_HEADER, "not json", SECRET)),
        ("2. `alg: HS384` header", raw(r#"{"alg":"HS384","typ":"JWT"}"#, &live, SECRET)),
        ("2. `alg: HS512` header", raw(r#"{"alg":"HS512","typ":"JWT"}"#, &live, SECRET)),
        ("2. `alg: RS256` header on an HMAC token", raw(r#"{"alg":"RS256","typ":"JWT"}"#, &live, SECRET)),
        (
            "2. `kid` path trick, signed with another key",
            raw(r#"{"alg":"HS256","typ":"JWT","kid":"../../../dev/null"}"#, &live, ""),
        ),
        ("3. no `sub`", raw(HS256_HEADER, &format!(r#"{{"scopes":["me","items"],"exp":{exp}}}"#), SECRET)),
        (
            "3. `sub` is a number",
            raw(HS256_HEADER, &format!(r#"{{"sub":7,"scopes":["me","items"],"exp":{exp}}}"#), SECRET),
        ),
        (
            "3. `sub` is null",
            raw(HS256_HEADER, &format!(r#"{{"sub":null,"scopes":["me","items"],"exp":{exp}}}"#), SECRET),
        ),
        (
            "3. `scopes` is a string",
            raw(HS256_HEADER, &format!(r#"{{"sub":"johndoe","scopes":"me items","exp":{exp}}}"#), SECRET),
        ),
        (
            "3. `scopes` holds a number",
            raw(HS256_HEADER, &format!(r#"{{"sub":"johndoe","scopes":["me",1],"exp":{exp}}}"#), SECRET),
        ),
        ("3. no `exp`", raw(HS256_HEADER, r#"{"sub":"johndoe","scopes":["me","items"]}"#, SECRET)),
        (
            "3. `exp` is a string",
            raw(HS256_HEADER, &format!(r#"{{"sub":"johndoe","scopes":["me","items"],"exp":"{exp}"}}"#), SECRET),
        ),
    ];
    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned = format!("{}.{}.", b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)), b64(&live));
        tokens.push(("2. `alg: none` in any case, unsigned", unsigned));
    }
    tokens
}

/// Failures 2 and 3: the token does not decode, or its claims have the wrong shape.
fn failures_2_and_3_broken_tokens(cases: &mut Vec<Case>) {
    let broken = broken_tokens();
    for (path, scope) in GUARDED {
        for (what, token) in &broken {
            cases.push(invalid(path, scope, what, token));
        }
        cases.push(invalid(path, scope, "2. empty token", ""));
        let mut non_ascii = get(path);
        non_ascii
            .headers
            .push((header::AUTHORIZATION, HeaderValue::from_bytes(b"Bearer caf\xc3\xa9.\xff").expect("bytes")));
        cases.push(
            Case::new(
                format!("2. non-ASCII token on {path}"),
                non_ascii,
                401,
                detail("Could not validate credentials"),
            )
            .header(header::WWW_AUTHENTICATE, &challenge(scope)),
        );
        let huge = "a".repeat(64 * 1024);
        cases.push(invalid(path, scope, "2. a 64 KiB token", &huge));
    }
}

/// Failure 4: `sub` names no known user; checked before scopes.
fn failure_4_unknown_subject(cases: &mut Vec<Case>) {
    for (path, scope) in GUARDED {
        cases.push(invalid(path, scope, "4. unknown `sub`", &signed("mallory", &["me", "items"])));
        cases.push(invalid(
            path,
            scope,
            "4. unknown `sub` and no scopes (4 is checked before 5)",
            &signed("mallory", &[]),
        ));
    }
}

/// Failure 5: a required scope missing; the challenge names the whole chain's scopes, outermost first.
fn failure_5_missing_scope(cases: &mut Vec<Case>) {
    let rows: [(&str, &[&str], &str); 5] = [
        ("/users/me/", &[], "me"),
        ("/users/me/", &["items"], "me"),
        ("/users/me/items/", &["me"], "items me"),
        ("/users/me/items/", &["items"], "items me"),
        ("/users/me/", &["ME"], "me"),
    ];
    for (path, granted, scope) in rows {
        cases.push(
            Case::new(
                format!("5. {path} with scopes {granted:?}"),
                bearer(path, &signed("johndoe", granted)),
                401,
                detail("Not enough permissions"),
            )
            .header(header::WWW_AUTHENTICATE, &challenge(scope)),
        );
    }
    cases.push(
        Case::new(
            "5. disabled alice without `me` on /users/me/items/ (5 is checked before 6)",
            bearer("/users/me/items/", &signed("alice", &[])),
            401,
            detail("Not enough permissions"),
        )
        .header(header::WWW_AUTHENTICATE, "Bearer scope=\"items me\""),
    );
}

/// Failure 6: the user is disabled, where the active-user guard is used: 400, no challenge.
fn failure_6_inactive_user(cases: &mut Vec<Case>) {
    for (path, granted) in [("/users/me/", &["me"][..]), ("/users/me/items/", &["me", "items"][..])] {
        cases.push(
            Case::new(
                format!("6. disabled alice on {path}"),
                bearer(path, &signed("alice", granted)),
                400,
                detail("Inactive user"),
            )
            .no_header(header::WWW_AUTHENTICATE),
        );
    }
}

/// The token endpoint: success, wrong credentials, and the 422 shapes.
fn token_endpoint(cases: &mut Vec<Case>) {
    cases.push(Case::new(
        "POST /token as johndoe asking `me items`",
        form("username=johndoe&password=secret&scope=me+items"),
        200,
        Body::IssuedToken { sub: "johndoe", scopes: vec!["me", "items"] },
    ));
    cases.push(Case::new(
        "POST /token with no scope grants none",
        form("username=johndoe&password=secret"),
        200,
        Body::IssuedToken { sub: "johndoe", scopes: vec![] },
    ));
    // The seed grants whatever is asked; a deployable issuer grants only declared scopes the user is
    // allowed (issue 4), and says which in `scope`.
    cases.push(Case::new(
        "POST /token grants only declared scopes",
        form("grant_type=password&username=alice&password=secretalice&scope=me%20anything%20me&client_id=c&client_secret=s"),
        200,
        Body::IssuedToken { sub: "alice", scopes: vec!["me"] },
    ));
    for (what, body) in [
        ("wrong password", "username=johndoe&password=wrong"),
        ("unknown username", "username=nobody&password=secret"),
        ("another user's password", "username=johndoe&password=secretalice"),
    ] {
        cases.push(Case::new(
            format!("POST /token, {what}"),
            form(body),
            400,
            detail("Incorrect username or password"),
        ));
    }
    let both = Body::Json(json!({"detail": [missing("username"), missing("password")]}));
    cases.push(Case::new("POST /token, empty form", form(""), 422, both));
    cases.push(Case::new(
        "POST /token, no username",
        form("password=secret"),
        422,
        Body::Json(json!({"detail": [missing("username")]})),
    ));
    cases.push(Case::new(
        "POST /token, no password",
        form("username=johndoe"),
        422,
        Body::Json(json!({"detail": [missing("password")]})),
    ));
    cases.push(Case::new(
        "POST /token, empty values count as missing",
        form("username=&password="),
        422,
        Body::Json(json!({"detail": [missing("username"), missing("password")]})),
    ));
    let mut json_body = request(Method::POST, "/token");
    json_body.headers.push((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    json_body.body = br#"{"username":"johndoe","password":"secret"}"#.to_vec();
    cases.push(Case::new(
        "POST /token, JSON body is not a form",
        json_body,
        422,
        Body::Json(json!({"detail": [missing("username"), missing("password")]})),
    ));
    cases.push(Case::new(
        "POST /token, no body at all",
        request(Method::POST, "/token"),
        422,
        Body::Json(json!({"detail": [missing("username"), missing("password")]})),
    ));
    cases.push(Case::new(
        "POST /token, grant_type other than password",
        form("grant_type=client_credentials&username=johndoe&password=secret"),
        422,
        Body::Json(json!({"detail": [{
            "type": "string_pattern_mismatch",
            "loc": ["body", "grant_type"],
            "msg": "String should match pattern '^password$'",
            "input": "client_credentials",
            "ctx": {"pattern": "^password$"}
        }]})),
    ));
}

/// "Framework behaviour a user of the seed also sees": redirects, 404, 405.
fn framework_behaviour(cases: &mut Vec<Case>) {
    for (from, to) in [("/users/me", "/users/me/"), ("/users/me/items", "/users/me/items/"), ("/status", "/status/")] {
        cases.push(
            Case::new(
                format!("GET {from} redirects to {to}"),
                bearer(from, &signed("johndoe", &["me"])),
                307,
                Body::Empty,
            )
            .header(header::LOCATION, &format!("http://{{host}}{to}")),
        );
    }
    cases.push(
        Case::new("POST /token/ redirects to /token", request(Method::POST, "/token/"), 307, Body::Empty)
            .header(header::LOCATION, "http://{host}/token"),
    );
    cases.push(
        Case::new("a redirect keeps the query string", get("/status?verbose=1"), 307, Body::Empty)
            .header(header::LOCATION, "http://{host}/status/?verbose=1"),
    );
    for path in ["/", "/nope", "/users", "/users/me/items/extra", "/docs-not-here"] {
        cases.push(Case::new(format!("GET {path} is 404"), get(path), 404, detail("Not Found")));
    }
    for (method, path, allow) in [
        (Method::GET, "/token", "POST"),
        (Method::PUT, "/token", "POST"),
        (Method::POST, "/users/me/", "GET"),
        (Method::DELETE, "/users/me/items/", "GET"),
        (Method::PATCH, "/status/", "GET"),
    ] {
        cases.push(
            Case::new(format!("{method} {path} is 405"), request(method, path), 405, detail("Method Not Allowed"))
                .header(header::ALLOW, allow),
        );
    }
    cases.push(
        Case::new("HEAD /status/ is 405, as FastAPI does", request(Method::HEAD, "/status/"), 405, Body::Empty)
            .header(header::ALLOW, "GET"),
    );
}

/// Sends every case and returns a description of each mismatch; empty when all pass.
pub async fn run(transport: &impl Transport, cases: Vec<Case>) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let response = transport.send(case.request.clone()).await;
        let problems = check(&case, &response, &transport.host());
        if !problems.is_empty() {
            let body = String::from_utf8_lossy(&response.body);
            failures.push(format!("{}: {} (got {} {body})", case.name, problems.join("; "), response.status));
        }
    }
    failures
}

fn check(case: &Case, response: &TestResponse, host: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if response.status.as_u16() != case.status {
        problems.push(format!("status {} instead of {}", response.status, case.status));
    }
    for (name, expected) in &case.headers {
        let actual = response.headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let expected = expected.as_ref().map(|e| e.replace("{host}", host));
        if actual != expected {
            problems.push(format!("header {name}: {actual:?} instead of {expected:?}"));
        }
    }
    let content_type = response.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match &case.body {
        Body::Empty => {
            if !response.body.is_empty() {
                problems.push("a body where none was expected".into());
            }
        }
        Body::Json(expected) => {
            if content_type != Some("application/json") {
                problems.push(format!("content-type {content_type:?}"));
            }
            match serde_json::from_slice::<Value>(&response.body) {
                Ok(actual) if &actual == expected => {}
                Ok(actual) => problems.push(format!("body {actual} instead of {expected}")),
                Err(_) => problems.push(format!("body is not JSON, expected {expected}")),
            }
        }
        Body::IssuedToken { sub, scopes } => problems.extend(check_issued_token(&response.body, sub, scopes)),
    }
    problems
}

fn check_issued_token(body: &[u8], sub: &str, scopes: &[&str]) -> Vec<String> {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return vec!["token response is not JSON".into()];
    };
    let mut problems = Vec::new();
    let refresh_members =
        usize::from(body.get("refresh_token").is_some_and(|token| token.as_str().is_some_and(|t| t.len() == 43)));
    if body.as_object().map(|o| o.len()) != Some(4 + refresh_members)
        || body["token_type"] != "bearer"
        || body["expires_in"] != 1800
        || body["scope"] != scopes.join(" ")
    {
        problems.push(format!(
            "token response {body} is not {{access_token, token_type: bearer, expires_in: 1800, scope[, refresh_token]}}"
        ));
    }
    let Some(token) = body["access_token"].as_str() else {
        problems.push("no access_token".into());
        return problems;
    };
    let claims = payload(token);
    if claims["sub"] != sub || claims["scopes"] != json!(scopes) {
        problems.push(format!("token claims {claims} do not carry sub {sub} and scopes {scopes:?}"));
    }
    let lifetime = claims["exp"].as_u64().map(|exp| exp as i64 - now() as i64);
    if !matches!(lifetime, Some(l) if (29 * 60..=30 * 60).contains(&l)) {
        problems.push(format!("token expires in {lifetime:?}s, not 30 minutes"));
    }
    if scopes_runtime::Authority::hs256(SECRET).unwrap().verify(token).is_err() {
        problems.push("issued token does not verify".into());
    }
    problems
}
