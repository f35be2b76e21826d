//! Requirement expressions, the scope hierarchy and the route table, over HTTP against the demo's router,
//! in both response styles, denial challenges included.
//!
//! The demo declares `items:write` implies `items`, and `admin` implies `me`, `items:write` and `reports`
//! (so `items` through a chain of two). `GET /reports/items/` requires `any("reports", "admin")` of any
//! authenticated user; `GET /admin/users/` requires `admin` on top of the active-user guard's `me`.

use axum::http::header;
use scopes_runtime::ResponseStyle;
use scopes_runtime::registry::Refusal;
use scopes_runtime::routing::Access;
use scopes_runtime::testing::scopes;
use scopes_tests::SECRET;
use scopes_tests::cases::{Body, Case, bearer, detail, form, run};
use scopes_tests::tokens::signed;
use scopes_tests::transport::InProcess;
use serde_json::json;

const REALM: &str = "scopes demo";

fn app(style: ResponseStyle) -> InProcess {
    InProcess::new(demo::router(demo::AppState::new(SECRET.as_bytes(), style).expect("a long enough secret")))
}

fn assert_all_pass(failures: Vec<String>) {
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

fn ok(name: &str, path: &str, scopes: &[&str]) -> Case {
    let body = match path {
        "/reports/items/" => json!({"users": 2, "items": 2}),
        "/admin/users/" => json!(["alice", "johndoe"]),
        "/users/me/items/" => json!([{"item_id": "Foo", "owner": "johndoe"}]),
        "/users/me/" => {
            json!({"username": "johndoe", "email": "johndoe@example.com", "full_name": "John Doe", "disabled": false})
        }
        other => panic!("no expected body for {other}"),
    };
    Case::new(name, bearer(path, &signed("johndoe", scopes)), 200, Body::Json(body))
}

/// Each alternative of `any(...)` opens the endpoint on its own; `admin` also through the hierarchy; the
/// seed's endpoints open for a token holding only a scope that implies theirs. The scopes are the demo's,
/// checked against its registry at compile time from this other crate (`scopes![in demo: ...]`).
fn granted_cases() -> Vec<Case> {
    vec![
        ok("any(): the first alternative", "/reports/items/", &scopes![in demo: "reports"]),
        ok("any(): the second alternative", "/reports/items/", &scopes![in demo: "admin"]),
        ok("any(): both", "/reports/items/", &scopes![in demo: "admin", "reports"]),
        ok(
            "admin alone meets admin and the guard's me (admin implies me)",
            "/admin/users/",
            &scopes![in demo: "admin"],
        ),
        ok("admin meets me and items, items through items:write", "/users/me/items/", &scopes![in demo: "admin"]),
        ok("admin meets the guard's me", "/users/me/", &scopes![in demo: "admin"]),
        ok("items:write implies items; me explicitly", "/users/me/items/", &scopes![in demo: "me", "items:write"]),
    ]
}

#[tokio::test]
async fn expressions_and_implications_grant_in_both_styles() {
    for style in [ResponseStyle::Seed, ResponseStyle::rfc(REALM)] {
        assert_all_pass(run(&app(style), granted_cases()).await);
    }
}

/// Seed style: 401 "Not enough permissions", one `Bearer scope="..."` challenge per scope set that
/// would have been enough (the first is what a one-challenge client reads).
#[tokio::test]
async fn seed_style_denials_name_every_sufficient_set() {
    let refused = |name: &str, path: &str, scopes: &[&str], challenge: &str| {
        Case::new(name, bearer(path, &signed("johndoe", scopes)), 401, detail("Not enough permissions"))
            .header(header::WWW_AUTHENTICATE, challenge)
    };
    assert_all_pass(
        run(
            &app(ResponseStyle::Seed),
            vec![
                refused(
                    "any(): neither alternative",
                    "/reports/items/",
                    &["me", "items"],
                    r#"Bearer scope="reports", Bearer scope="admin""#,
                ),
                refused(
                    "admin required; me is not enough",
                    "/admin/users/",
                    &["me", "items"],
                    r#"Bearer scope="admin me""#,
                ),
                refused(
                    "an implied scope does not imply its implier",
                    "/admin/users/",
                    &["me", "items:write", "reports"],
                    r#"Bearer scope="admin me""#,
                ),
                refused(
                    "items alone lacks the guard's me",
                    "/users/me/items/",
                    &["items"],
                    r#"Bearer scope="items me""#,
                ),
            ],
        )
        .await,
    );
}

/// RFC style: 403 `insufficient_scope`; the body's `scope` is the first sufficient set and
/// `scope_alternatives` lists them all when there are several; one challenge per set.
#[tokio::test]
async fn rfc_style_denials_name_every_sufficient_set() {
    let description = "the access token lacks a required scope";
    let token = signed("johndoe", &["me"]);
    let either = Case::new(
        "any(): neither alternative",
        bearer("/reports/items/", &token),
        403,
        Body::Json(json!({
            "error": "insufficient_scope",
            "error_description": description,
            "scope": "reports",
            "scope_alternatives": ["reports", "admin"],
        })),
    )
    .header(
        header::WWW_AUTHENTICATE,
        &format!(
            r#"Bearer realm="{REALM}", error="insufficient_scope", error_description="{description}", scope="reports", Bearer realm="{REALM}", error="insufficient_scope", error_description="{description}", scope="admin""#
        ),
    );
    let admin = Case::new(
        "admin required",
        bearer("/admin/users/", &token),
        403,
        Body::Json(json!({"error": "insufficient_scope", "error_description": description, "scope": "admin me"})),
    )
    .header(
        header::WWW_AUTHENTICATE,
        &format!(
            r#"Bearer realm="{REALM}", error="insufficient_scope", error_description="{description}", scope="admin me""#
        ),
    );
    assert_all_pass(run(&app(ResponseStyle::rfc(REALM)), vec![either, admin]).await);
}

/// The token endpoint grants a scope a user is allowed through the hierarchy, and only what was asked.
#[tokio::test]
async fn login_grants_declared_scopes_of_the_hierarchy() {
    let cases = vec![
        Case::new(
            "admin and reports",
            form("username=johndoe&password=secret&scope=admin+reports"),
            200,
            Body::IssuedToken { sub: "johndoe", scopes: vec!["admin", "reports"] },
        ),
        Case::new(
            "an undeclared scope is left out (seed style)",
            form("username=johndoe&password=secret&scope=items:write+superuser"),
            200,
            Body::IssuedToken { sub: "johndoe", scopes: vec!["items:write"] },
        ),
    ];
    assert_all_pass(run(&app(ResponseStyle::Seed), cases).await);
}

/// `demo routes` prints this table; tests read the same data.
#[test]
fn the_route_table_is_the_authorization_report() {
    let table = demo::routes::route_table(&demo::routes::TokenSource::Own);
    let report = table.to_string();
    let expected = "\
POST   /token            public
GET    /users/me/        me
GET    /users/me/items/  items AND me
GET    /status/          authenticated
GET    /admin/users/     admin AND me
GET    /reports/items/   reports OR admin
                           note: `admin` adds nothing: it implies `reports`, already enough
POST   /items/           items:write
GET    /items/           items AND (owner OR admin)
GET    /items/{item_id}  items AND (owner OR admin)
DELETE /items/{item_id}  items:write AND (owner OR admin)
GET    /healthz          public
GET    /readyz           public
GET    /openapi.json     public
GET    /docs             public
GET    /docs/            public
GET    /docs/{*file}     public
";
    assert_eq!(report, expected);
    let reports = table.find("GET", "/reports/items/").unwrap();
    assert_eq!(reports.access.alternatives(), Some(vec![vec!["reports"], vec!["admin"]]));
    assert_eq!(table.find("POST", "/token").unwrap().access, Access::Public);
    // The rule is in the report, and in `Access` for tests.
    let delete = &table.find("DELETE", "/items/{item_id}").unwrap().access;
    let rule = delete.rule().expect("DELETE /items/{item_id} has a resource rule");
    assert_eq!((rule.name, rule.refusal, rule.path_params), ("owner", Refusal::NotFound, &["item_id"][..]));
    assert_eq!(rule.ruled, [true, false], "the owner needs the rule; an admin does not");
    assert_eq!(delete.alternatives(), Some(vec![vec!["items:write"]]), "admin implies items:write");
    assert_eq!(table.find("POST", "/items/").unwrap().access.rule(), None);
}

/// The report is what the router enforces: every route it calls guarded refuses a request without a token,
/// and every route it calls public answers one without asking for a token.
#[tokio::test]
async fn every_route_is_enforced_as_the_report_says() {
    use axum::http::Method;
    use scopes_tests::cases::request;
    use scopes_tests::transport::Transport;

    let app = app(ResponseStyle::Seed);
    for route in demo::routes::route_table(&demo::routes::TokenSource::Own).routes() {
        let path = route.path.replace("{*file}", "swagger-ui.css");
        let method = Method::from_bytes(route.method.as_bytes()).expect("a method");
        let response = app.send(request(method, &path)).await;
        let asks_for_a_token = response.status == 401 && response.headers.contains_key(header::WWW_AUTHENTICATE);
        match route.access {
            Access::Public => assert!(!asks_for_a_token, "{} {path} is reported public", route.method),
            Access::Requires(_) | Access::Ruled(..) => {
                assert!(asks_for_a_token, "{} {path} is reported guarded", route.method)
            }
        }
    }
}

/// The same report from the binary, as a reviewer runs it: with the default database, which keeps refresh
/// tokens (so `/revoke` is routed), and with the seed's users in memory (the seed's routes).
#[test]
fn demo_routes_prints_the_report() {
    use demo::routes::{IssuerFeatures, TokenSource};
    let demo = scopes_tests::server::demo_binary();
    let database = tempfile::tempdir().expect("a temporary directory");
    let default_database = format!("sqlite://{}/demo.db", database.path().display());
    let with_refresh = TokenSource::own(IssuerFeatures { refresh_tokens: true, published_keys: false });
    for (database_url, source) in [(default_database.as_str(), with_refresh), ("memory:", TokenSource::Own)] {
        let output = std::process::Command::new(&demo)
            .args(["routes", "--database-url", database_url])
            .output()
            .expect("runs demo");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(String::from_utf8(output.stdout).unwrap(), demo::routes::route_table(&source).to_string());
    }
}

/// The extractor `#[requires]` generates holds the guard chain's future once, plus the mapping of its
/// result and what the decision's event is made of (the subject and issuer moved out of the claims, the
/// outcome: at most 128 bytes). Awaited inside an `async` block it would be held twice (as captured, and as
/// awaited), and axum boxes every handler's future on every request (BENCHMARKS.md, "Load").
#[test]
fn the_generated_extractor_holds_the_guard_chain_once() {
    use axum::extract::FromRequestParts;
    use scopes_runtime::__private::Authorized;
    use scopes_runtime::{Requirement, enforcement::Authorize};

    let state = demo::AppState::new(SECRET.as_bytes(), ResponseStyle::Seed).expect("a long enough secret");
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    let chain = std::mem::size_of_val(&<demo::auth::ActiveUser as Authorize<demo::AppState>>::authorize(
        &mut parts,
        &state,
        state.authority.clone(),
        Requirement::new(&[&[]]),
    ));
    let extractor = std::mem::size_of_val(&Authorized::<
        demo::auth::ActiveUser,
        demo::routes::__scopes_requirement_read_own_items,
    >::from_request_parts(&mut parts, &state));
    assert!(
        extractor <= chain + 128 + 2 * std::mem::size_of::<usize>(),
        "the extractor's future is {extractor} bytes for a guard chain of {chain}"
    );
}
