//! The example app (`examples/notes`) over HTTP on a bound port: a `SecureRouter` nested under `/api/v1`,
//! two merged, a layer over everything and a route layer over the API, a public fallback, Swagger UI through the
//! router; its route table with full paths, and its document with every operation linked.

use notes::{AppState, route_table, router};
use scopes_runtime::Authority;
use serde_json::{Value, json};

const SECRET: &str = "the notes example's test secret, 32+ bytes";

struct Running {
    base: String,
    authority: Authority,
}

async fn start() -> Running {
    let authority = Authority::hs256(SECRET).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState::new(authority.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Running { base, authority }
}

impl Running {
    fn token(&self, scopes: &[&str]) -> String {
        self.token_of("ann", scopes)
    }

    fn token_of(&self, subject: &str, scopes: &[&str]) -> String {
        self.authority.issue(subject, scopes).unwrap()
    }

    async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let mut request = reqwest::Client::new().request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|value| value.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_nested_api_is_guarded_at_its_full_paths() {
    let app = start().await;
    let refused = app.send("GET", "/api/v1/notes", None, None).await;
    assert_eq!(refused.status(), 401);
    assert!(header(&refused, "www-authenticate").unwrap().starts_with("Bearer"));
    assert_eq!(header(&refused, "x-api-version").as_deref(), Some("1"), "the route layer wraps the API");
    assert_eq!(header(&refused, "x-served-by").as_deref(), Some("notes"), "the layer wraps everything");

    let writer = app.token(&["notes:write"]);
    let written = app.send("POST", "/api/v1/notes", Some(&writer), Some(json!({"text": "hello"}))).await;
    assert_eq!(written.status(), 201);
    assert_eq!(written.json::<Value>().await.unwrap(), json!({"id": 1, "author": "ann", "text": "hello"}));

    let reader = app.token(&["notes:read"]);
    let listed = app.send("GET", "/api/v1/notes", Some(&reader), None).await;
    assert_eq!(listed.json::<Value>().await.unwrap(), json!([{"id": 1, "author": "ann", "text": "hello"}]));
    assert_eq!(app.send("GET", "/api/v1/notes/1", Some(&writer), None).await.status(), 200, "write implies read");
    assert_eq!(app.send("POST", "/api/v1/notes", Some(&reader), Some(json!({"text": "x"}))).await.status(), 403);

    assert_eq!(app.send("GET", "/api/v1/admin/stats", Some(&writer), None).await.status(), 403);
    let admin = app.token(&["admin"]);
    let stats = app.send("GET", "/api/v1/admin/stats", Some(&admin), None).await;
    assert_eq!(stats.json::<Value>().await.unwrap(), json!({"notes": 1}));
    // Not served outside the prefix.
    assert_eq!(app.send("GET", "/notes", Some(&admin), None).await.status(), 404);

    // A note's author, or an admin, may change it; another writer is answered as if it did not exist.
    let bob = app.token_of("bob", &["notes:write"]);
    let refused = app.send("PUT", "/api/v1/notes/1", Some(&bob), Some(json!({"text": "mine now"}))).await;
    assert_eq!(refused.status(), 404);
    assert_eq!(app.send("PUT", "/api/v1/notes/9", Some(&bob), Some(json!({"text": "x"}))).await.status(), 404);
    let edited = app.send("PUT", "/api/v1/notes/1", Some(&writer), Some(json!({"text": "edited"}))).await;
    assert_eq!(edited.json::<Value>().await.unwrap(), json!({"id": 1, "author": "ann", "text": "edited"}));
    let admin_of_another_name = app.token_of("root", &["admin"]);
    let by_admin = app.send("PUT", "/api/v1/notes/1", Some(&admin_of_another_name), Some(json!({"text": "ok"}))).await;
    assert_eq!(by_admin.status(), 200);
    assert_eq!(app.send("PUT", "/api/v1/notes/1", Some(&reader), Some(json!({"text": "x"}))).await.status(), 403);
}

#[tokio::test]
async fn public_routes_the_fallback_and_swagger_ui_are_served_to_anyone() {
    let app = start().await;
    let health = app.send("GET", "/health", None, None).await;
    assert_eq!(health.status(), 200);
    assert_eq!(header(&health, "x-served-by").as_deref(), Some("notes"));
    assert_eq!(header(&health, "x-api-version"), None, "the API's route layer is the API's alone");

    let missing = app.send("GET", "/nowhere", None, None).await;
    assert_eq!(missing.status(), 404);
    assert_eq!(header(&missing, "x-served-by").as_deref(), Some("notes"), "the layer wraps the fallback too");
    assert_eq!(missing.json::<Value>().await.unwrap(), json!({"detail": "Not Found"}));

    let page = app.send("GET", "/docs/", None, None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger-ui"));
    assert_eq!(app.send("GET", "/docs/swagger-ui.css", None, None).await.status(), 200);
}

#[tokio::test]
async fn the_route_table_has_full_paths_and_the_document_links_every_operation() {
    assert_eq!(
        route_table(&Authority::hs256(SECRET).unwrap()).to_string(),
        "GET  /api/v1/notes        notes:read\n\
         POST /api/v1/notes        notes:write\n\
         GET  /api/v1/notes/{id}   notes:read\n\
         PUT  /api/v1/notes/{id}   notes:write AND (author OR admin)\n\
         GET  /api/v1/admin/stats  admin\n\
         GET  /health              public\n\
         GET  /openapi.json        public\n\
         GET  /docs                public\n\
         GET  /docs/               public\n\
         GET  /docs/{*rest}        public\n\
         *    (fallback)           public\n"
    );
    let app = start().await;
    let document: Value = app.send("GET", "/openapi.json", None, None).await.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(paths.keys().collect::<Vec<_>>(), ["/api/v1/admin/stats", "/api/v1/notes", "/api/v1/notes/{id}"]);
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let expected = match (method.as_str(), path.as_str()) {
                ("post" | "put", _) => "notes:write",
                (_, "/api/v1/admin/stats") => "admin",
                _ => "notes:read",
            };
            assert_eq!(operation["security"], json!([{"OAuth2": [expected]}]), "{method} {path}");
            assert!(operation["responses"].get("401").is_some(), "{method} {path} documents its refusal");
        }
    }
    assert_eq!(document["info"]["title"], "notes");
}
