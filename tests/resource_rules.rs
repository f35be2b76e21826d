//! The demo's items, whose owner (or an `admin`) alone may read or delete them: the `ItemOwner` resource
//! rule, against the demo binary on SQLite and on PostgreSQL, in both response styles. For each route:
//! the owner, another user, an admin, a missing item, a token without the scope (answered the same for an
//! item that exists and one that does not), malformed bodies (nothing stored), 40 simultaneous deletes
//! of one item by its owner (one 204), and the items still there after a restart.

use axum::http::{HeaderValue, Method, header};
use futures_util::future::join_all;
use scopes_tests::SECRET;
use scopes_tests::cases::{request, with_authorization};
use scopes_tests::cli::users_ok;
use scopes_tests::logins::login;
use scopes_tests::postgres;
use scopes_tests::server::{RunningDemo, start_demo_with};
use scopes_tests::transport::{OverTcp, TestResponse, Transport};
use serde_json::{Value, json};

/// A fresh SQLite database in a temporary directory (removed with the returned guard).
fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/items.db", dir.path().display());
    (dir, url)
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Seed,
    Rfc,
}

impl Style {
    fn flag(self) -> &'static str {
        match self {
            Style::Seed => "seed",
            Style::Rfc => "rfc",
        }
    }

    /// A valid token without the route's scope: the seed answers 401, the RFCs 403.
    fn insufficient_scope(self) -> u16 {
        match self {
            Style::Seed => 401,
            Style::Rfc => 403,
        }
    }

    /// A malformed body: the seed answers 422, the RFCs 400.
    fn invalid_body(self) -> u16 {
        match self {
            Style::Seed => 422,
            Style::Rfc => 400,
        }
    }
}

struct Client {
    app: OverTcp,
}

impl Client {
    async fn send(&self, method: Method, path: &str, token: &str, body: Option<&str>) -> TestResponse {
        let mut request = with_authorization(request(method, path), &format!("Bearer {token}"));
        if let Some(body) = body {
            request.headers.push((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
            request.body = body.as_bytes().to_vec();
        }
        self.app.send(request).await
    }

    async fn create(&self, token: &str, item_id: &str) -> TestResponse {
        self.send(Method::POST, "/items/", token, Some(&json!({ "item_id": item_id }).to_string())).await
    }

    async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.send(Method::GET, path, token, None).await
    }

    async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.send(Method::DELETE, path, token, None).await
    }

    async fn token(&self, username: &str, password: &str, scope: &str) -> String {
        let answer = login(&self.app, username, password, scope).await;
        assert_eq!(answer.status, 200, "{username} logs in for {scope}: {}", answer.body);
        answer.access_token()
    }
}

fn json_of(response: &TestResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

fn ids(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let items = json_of(response);
    items.as_array().unwrap().iter().map(|item| item["item_id"].as_str().unwrap().to_owned()).collect()
}

fn start(url: &str, style: Style) -> (RunningDemo, Client) {
    let demo = start_demo_with(Some(SECRET), &["--database-url", url, "--style", style.flag()]);
    let client = Client { app: demo.over_tcp() };
    (demo, client)
}

const NOT_FOUND: &str = r#"{"detail":"Item not found"}"#;

/// The whole contract, on the database at `url`.
async fn items_are_owned(url: &str, style: Style) {
    users_ok(url, &["add", "bob", "--scopes", "me,items,items:write"], "bob's password\n");
    let (demo, api) = start(url, style);
    let john = api.token("johndoe", "secret", "items:write").await;
    let bob = api.token("bob", "bob's password", "items:write").await;
    let admin = api.token("johndoe", "secret", "admin").await;
    let reader = api.token("johndoe", "secret", "items").await;
    let unscoped = api.token("johndoe", "secret", "me").await;

    // POST /items/: 201, owned by the caller, at its Location.
    let created = api.create(&john, "j-1.b").await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.headers[header::LOCATION], "/items/j-1.b");
    assert_eq!(json_of(&created), json!({ "item_id": "j-1.b", "owner": "johndoe" }));
    assert_eq!(api.create(&john, "a_john").await.status, 201);
    assert_eq!(api.create(&bob, "bob1").await.status, 201);
    // An ID that exists, anyone's, is 409, and the item stays its owner's.
    let taken = api.create(&bob, "j-1.b").await;
    assert_eq!(taken.status, 409, "{}", String::from_utf8_lossy(&taken.body));
    assert_eq!(json_of(&api.get("/items/j-1.b", &john).await)["owner"], "johndoe");
    // Malformed bodies and IDs: refused in the style's way, nothing stored.
    let too_long = "x".repeat(65);
    for body in [
        json!({ "item_id": "" }).to_string(),
        json!({ "item_id": "has space" }).to_string(),
        json!({ "item_id": "slash/y" }).to_string(),
        json!({ "item_id": too_long }).to_string(),
        json!({ "item_id": 7 }).to_string(),
        json!({ "name": "x" }).to_string(),
        "not json".to_owned(),
        "[]".to_owned(),
    ] {
        let refused = api.send(Method::POST, "/items/", &john, Some(&body)).await;
        assert_eq!(refused.status, style.invalid_body(), "{body}: {}", String::from_utf8_lossy(&refused.body));
        match style {
            Style::Seed => assert!(json_of(&refused)["detail"].is_array(), "{body}"),
            Style::Rfc => assert_eq!(json_of(&refused)["error"], "invalid_request", "{body}"),
        }
    }
    // Without `items:write`: refused, nothing stored.
    let read_only = api.create(&reader, "sneaky").await;
    assert_eq!(read_only.status, style.insufficient_scope());
    assert_eq!(ids(&api.get("/items/", &admin).await), ["a_john", "bob1", "j-1.b"], "nothing refused was stored");

    // GET /items/{item_id}: the owner and an admin; anyone else as a missing item.
    assert_eq!(api.get("/items/j-1.b", &john).await.status, 200);
    assert_eq!(json_of(&api.get("/items/j-1.b", &admin).await), json!({ "item_id": "j-1.b", "owner": "johndoe" }));
    for (path, token) in [("/items/j-1.b", &bob), ("/items/missing", &john), ("/items/missing", &admin)] {
        let refused = api.get(path, token).await;
        assert_eq!((refused.status.as_u16(), refused.body.as_slice()), (404, NOT_FOUND.as_bytes()), "GET {path}");
    }
    // A token without the scope: the same answer whether the item exists or not.
    let existing = api.get("/items/j-1.b", &unscoped).await;
    let missing = api.get("/items/missing", &unscoped).await;
    assert_eq!(existing.status, style.insufficient_scope());
    assert_eq!((existing.status, &existing.body), (missing.status, &missing.body));

    // GET /items/: the caller's own, every item for an admin, sorted by ID.
    assert_eq!(ids(&api.get("/items/", &reader).await), ["a_john", "j-1.b"]);
    assert_eq!(ids(&api.get("/items/", &bob).await), ["bob1"]);
    assert_eq!(ids(&api.get("/items/", &admin).await), ["a_john", "bob1", "j-1.b"]);
    assert_eq!(api.get("/items/", &unscoped).await.status, style.insufficient_scope());

    // DELETE /items/{item_id}: another user, and a token without `items:write`, change nothing.
    let refused = api.delete("/items/j-1.b", &bob).await;
    assert_eq!((refused.status.as_u16(), refused.body.as_slice()), (404, NOT_FOUND.as_bytes()));
    let existing = api.delete("/items/j-1.b", &reader).await;
    let missing = api.delete("/items/missing", &reader).await;
    assert_eq!(existing.status, style.insufficient_scope());
    assert_eq!((existing.status, &existing.body), (missing.status, &missing.body));
    assert_eq!(api.get("/items/j-1.b", &john).await.status, 200, "a refused delete deletes nothing");
    // An admin deletes anyone's; a deleted item is missing.
    assert_eq!(api.delete("/items/bob1", &admin).await.status, 204);
    assert_eq!(api.delete("/items/bob1", &admin).await.status, 404);
    assert_eq!(api.get("/items/bob1", &bob).await.status, 404);

    // 40 simultaneous deletes of one item by its owner: one deletes it, the rest find it gone.
    let deletes = join_all((0..40).map(|_| api.delete("/items/j-1.b", &john))).await;
    let mut statuses: Vec<u16> = deletes.iter().map(|response| response.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses.iter().filter(|&&status| status == 204).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == 204 || status == 404), "{statuses:?}");
    for response in deletes.iter().filter(|response| response.status == 404) {
        assert_eq!(response.body, NOT_FOUND.as_bytes());
    }

    // A restart keeps what is stored.
    drop(demo);
    let (_demo, api) = start(url, style);
    let admin = api.token("johndoe", "secret", "admin").await;
    assert_eq!(ids(&api.get("/items/", &admin).await), ["a_john"]);
    let john = api.token("johndoe", "secret", "items").await;
    assert_eq!(json_of(&api.get("/items/a_john", &john).await), json!({ "item_id": "a_john", "owner": "johndoe" }));
}

#[tokio::test]
async fn sqlite_items_are_their_owners_in_the_seed_style() {
    let (_dir, url) = sqlite();
    items_are_owned(&url, Style::Seed).await;
}

#[tokio::test]
async fn sqlite_items_are_their_owners_in_the_rfc_style() {
    let (_dir, url) = sqlite();
    items_are_owned(&url, Style::Rfc).await;
}

#[tokio::test]
async fn postgres_items_are_their_owners_in_the_seed_style() {
    items_are_owned(&postgres::shared().fresh_database(), Style::Seed).await;
}

#[tokio::test]
async fn postgres_items_are_their_owners_in_the_rfc_style() {
    items_are_owned(&postgres::shared().fresh_database(), Style::Rfc).await;
}

/// Simultaneous creations of one ID: exactly one is stored, the rest are 409.
#[tokio::test]
async fn of_simultaneous_creations_of_one_id_one_wins() {
    let (_dir, url) = sqlite();
    let (_demo, api) = start(&url, Style::Seed);
    let john = api.token("johndoe", "secret", "items:write").await;
    let created = join_all((0..40).map(|_| api.create(&john, "once"))).await;
    let statuses: Vec<u16> = created.iter().map(|response| response.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|&&status| status == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|&status| status == 201 || status == 409), "{statuses:?}");
}

/// A rule that reads a path parameter the route does not have could never load anything: the router
/// refuses it when it is built, naming the route, the rule and the parameter; a parameter that a `nest`
/// prefix supplies counts.
#[test]
fn a_rule_reading_a_parameter_the_route_lacks_stops_the_router() {
    use scopes_runtime::routing::{SecureRouter, get};
    type Routes = SecureRouter<demo::AppState>;
    let built =
        std::panic::catch_unwind(|| Routes::new().route("/items/{id}", get(demo::items::read_item)).into_parts());
    let Err(panic) = built else { panic!("the router refuses the route") };
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("GET /items/{id}") && message.contains("`owner`"), "{message}");
    assert!(message.contains("`item_id`"), "{message}");
    // At a path with the parameter, the same handler routes; and so it does under a prefix that has it.
    let _ = Routes::new().route("/things/{item_id}", get(demo::items::read_item)).into_parts();
    let nested = Routes::new().route("/", get(demo::items::read_item));
    let (_, table) = Routes::new().nest("/things/{item_id}", nested).into_parts();
    assert!(table.find("GET", "/things/{item_id}").is_some());
}
