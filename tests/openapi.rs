//! The demo's OpenAPI document against the one the seed app serves (`tests/fixtures/seed-openapi.json`,
//! a copy of `shared/reference/seed-openapi.json`), on what matters to a client: paths and methods, the
//! security scheme and its scope descriptions, each operation's scopes, and the token form.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

fn seed() -> Value {
    serde_json::from_str(include_str!("fixtures/seed-openapi.json")).expect("the seed document is JSON")
}

fn demo() -> Value {
    serde_json::to_value(demo::routes::openapi(&scopes_runtime::ResponseStyle::Seed, &demo::routes::TokenSource::Own))
        .expect("the demo document serializes")
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// `(path, method) -> operation` for every operation of a document.
fn operations(document: &Value) -> BTreeMap<(String, String), Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((path.clone(), method.to_owned()), operation.clone());
            }
        }
    }
    operations
}

/// Follows a local `$ref` such as `#/components/schemas/Token`.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            document.pointer(pointer).unwrap_or_else(|| panic!("{reference} resolves"))
        }
        None => value,
    }
}

/// Each operation's security as `scheme -> set of scopes`, or `None` when it has none.
fn security(operation: &Value) -> Option<BTreeMap<String, BTreeSet<String>>> {
    let requirements = operation.get("security")?.as_array()?;
    let mut schemes = BTreeMap::new();
    for requirement in requirements {
        for (scheme, scopes) in requirement.as_object().expect("a security requirement") {
            let scopes = scopes.as_array().expect("scopes").iter().map(|s| s.as_str().unwrap().to_owned());
            schemes.insert(scheme.clone(), scopes.collect());
        }
    }
    Some(schemes)
}

#[test]
fn document_is_openapi_3_1() {
    let version = demo()["openapi"].as_str().unwrap().to_owned();
    assert!(version.starts_with("3.1."), "{version}");
}

/// The operations the demo adds to the seed's, to show requirement expressions, the scope hierarchy and
/// resource rules.
const BEYOND_THE_SEED: [(&str, &str); 8] = [
    ("/admin/users/", "get"),
    ("/reports/items/", "get"),
    ("/items/", "post"),
    ("/items/", "get"),
    ("/items/{item_id}", "get"),
    ("/items/{item_id}", "delete"),
    ("/healthz", "get"),
    ("/readyz", "get"),
];

#[test]
fn the_seeds_paths_and_methods_and_those_beyond_it() {
    let seed: BTreeSet<_> = operations(&seed()).into_keys().collect();
    let demo: BTreeSet<_> = operations(&demo()).into_keys().collect();
    let beyond: BTreeSet<_> =
        BEYOND_THE_SEED.iter().map(|(path, method)| (path.to_string(), method.to_string())).collect();
    assert_eq!(demo, seed.union(&beyond).cloned().collect());
}

#[test]
fn same_security_scheme_and_scope_descriptions() {
    let seed = seed();
    let demo = demo();
    let scheme = "/components/securitySchemes/OAuth2PasswordBearer";
    let (seed_scheme, demo_scheme) = (seed.pointer(scheme).unwrap(), demo.pointer(scheme).expect("the scheme"));
    assert_eq!(demo_scheme["type"], "oauth2");
    assert_eq!(demo_scheme["flows"]["password"]["tokenUrl"], seed_scheme["flows"]["password"]["tokenUrl"]);
    let (seed_scopes, demo_scopes) =
        (&seed_scheme["flows"]["password"]["scopes"], &demo_scheme["flows"]["password"]["scopes"]);
    for (name, description) in seed_scopes.as_object().unwrap() {
        assert_eq!(&demo_scopes[name], description, "the seed's scope `{name}`");
    }
    // The demo's own, each saying what it implies (transitively: `admin` reaches `items` through `items:write`).
    assert_eq!(demo_scopes["items:write"], "Create and change items. Implies: items.");
    assert_eq!(demo_scopes["reports"], "Read usage reports.");
    assert_eq!(demo_scopes["admin"], "Administer the API. Implies: me, items, items:write, reports.");
    assert_eq!(demo_scopes.as_object().unwrap().len(), 5);
    assert_eq!(demo_scheme["flows"].as_object().unwrap().len(), 1, "only the password flow");
}

#[test]
fn expressions_are_an_or_of_ands() {
    let demo = operations(&demo());
    let reports = &demo[&("/reports/items/".to_owned(), "get".to_owned())];
    assert_eq!(
        reports["security"],
        json!([{"OAuth2PasswordBearer": ["reports"]}, {"OAuth2PasswordBearer": ["admin"]}])
    );
    let admin = &demo[&("/admin/users/".to_owned(), "get".to_owned())];
    assert_eq!(admin["security"], json!([{"OAuth2PasswordBearer": ["admin", "me"]}]));
}

#[test]
fn same_scopes_for_each_operation() {
    let seed = operations(&seed());
    let demo = operations(&demo());
    for (key, seed_operation) in &seed {
        assert_eq!(security(&demo[key]), security(seed_operation), "security of {key:?}");
    }
    // Spelled out too, so a regression reads plainly.
    let items = &demo[&("/users/me/items/".to_owned(), "get".to_owned())];
    assert_eq!(items["security"], serde_json::json!([{"OAuth2PasswordBearer": ["items", "me"]}]));
    let status = &demo[&("/status/".to_owned(), "get".to_owned())];
    assert_eq!(status["security"], serde_json::json!([{"OAuth2PasswordBearer": []}]));
    assert!(demo[&("/token".to_owned(), "post".to_owned())].get("security").is_none());
}

#[test]
fn same_token_form_fields_and_required_list() {
    let (seed, demo) = (seed(), demo());
    let form = |document: &Value| {
        let body = &document["paths"]["/token"]["post"]["requestBody"];
        let schema = resolve(document, &body["content"]["application/x-www-form-urlencoded"]["schema"]).clone();
        (body["required"].clone(), schema)
    };
    let ((seed_required_body, seed_form), (demo_required_body, demo_form)) = (form(&seed), form(&demo));
    assert_eq!(demo_required_body, seed_required_body, "the body is required");
    let fields = |form: &Value| form["properties"].as_object().unwrap().keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(fields(&demo_form), fields(&seed_form));
    let required = |form: &Value| {
        form["required"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect::<BTreeSet<_>>()
    };
    assert_eq!(required(&demo_form), required(&seed_form));
    assert_eq!(demo_form["properties"]["password"]["format"], "password");
    assert_eq!(demo_form["properties"]["client_secret"]["format"], "password");
    assert_eq!(demo_form["properties"]["scope"]["default"], "");
    assert_eq!(demo_form["properties"]["grant_type"]["pattern"], "^password$");
}

/// With a database, the token request is either grant: the password grant's branch is the seed's form
/// (`username` and `password` required), the refresh-token grant's requires `grant_type=refresh_token` and
/// `refresh_token`; the fields Swagger UI's form shows are every field of both. In the RFC style the
/// password grant requires `grant_type` too.
#[test]
fn with_refresh_tokens_each_grant_is_described_as_it_is() {
    use demo::routes::{IssuerFeatures, TokenSource};
    let source = TokenSource::own(IssuerFeatures { refresh_tokens: true, published_keys: false });
    for (style, password_grant) in [
        (scopes_runtime::ResponseStyle::Seed, json!(["username", "password"])),
        (scopes_runtime::ResponseStyle::rfc("scopes demo"), json!(["grant_type", "username", "password"])),
    ] {
        let document = serde_json::to_value(demo::routes::openapi(&style, &source)).expect("serializes");
        let body = &document["paths"]["/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"];
        let schema = resolve(&document, &body["schema"]);
        let [fields, grants] =
            schema["allOf"].as_array().expect("all of: the fields, and one of the grants").as_slice()
        else {
            panic!("{schema}")
        };
        let names: BTreeSet<&str> = fields["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let every = ["client_id", "client_secret", "grant_type", "password", "refresh_token", "scope", "username"];
        assert_eq!(names, BTreeSet::from(every));
        let grants = grants["oneOf"].as_array().expect("one of the grants");
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[0]["required"], password_grant);
        assert_eq!(grants[0]["properties"]["grant_type"]["enum"], json!(["password"]));
        assert_eq!(grants[1]["required"], json!(["grant_type", "refresh_token"]));
        assert_eq!(grants[1]["properties"]["grant_type"]["enum"], json!(["refresh_token"]));
    }
}

#[test]
fn responses_and_schemas_are_described() {
    let demo = demo();
    let operations = operations(&demo);
    let token = &operations[&("/token".to_owned(), "post".to_owned())];
    for status in ["200", "400", "422"] {
        assert!(token["responses"].get(status).is_some(), "/token documents {status}");
    }
    for (path, statuses) in [
        ("/users/me/", &["200", "400", "401"][..]),
        ("/users/me/items/", &["200", "400", "401"]),
        ("/status/", &["200", "401"]),
    ] {
        let operation = &operations[&(path.to_owned(), "get".to_owned())];
        for status in statuses {
            let response = &operation["responses"][status];
            assert!(response.is_object(), "{path} documents {status}");
            assert!(response["content"]["application/json"]["schema"].is_object(), "{path} {status} has a JSON body");
        }
    }
    let schemas = demo["components"]["schemas"].as_object().unwrap();
    for name in ["Token", "User", "ErrorDetail", "HTTPValidationError"] {
        assert!(schemas.contains_key(name), "schema {name}");
    }
    let user = &schemas["User"]["properties"];
    for field in ["username", "email", "full_name", "disabled"] {
        assert!(user.get(field).is_some(), "User.{field}");
    }
}

/// `demo openapi` prints the same document the server serves.
#[tokio::test]
async fn served_document_is_the_printed_one() {
    use scopes_tests::transport::{InProcess, TestRequest, Transport};
    let app = InProcess::new(demo::router(demo::AppState::seed(scopes_tests::SECRET.as_bytes()).unwrap()));
    let request =
        TestRequest { method: axum::http::Method::GET, path: "/openapi.json".into(), headers: vec![], body: vec![] };
    let response = app.send(request).await;
    assert_eq!(response.status, 200);
    let served: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(served, demo());
}

/// `/docs` is Swagger UI's page itself, as in FastAPI, with its assets served from the binary.
#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    use scopes_tests::transport::{InProcess, TestRequest, Transport};
    let app = InProcess::new(demo::router(demo::AppState::seed(scopes_tests::SECRET.as_bytes()).unwrap()));
    let get =
        |path: &str| TestRequest { method: axum::http::Method::GET, path: path.into(), headers: vec![], body: vec![] };
    let page = app.send(get("/docs")).await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("/docs/swagger-ui-bundle.js") && html.contains("url: '/openapi.json'"), "{html}");
    for asset in ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"] {
        let response = app.send(get(asset)).await;
        assert_eq!(response.status, 200, "{asset}");
        assert!(response.body.len() > 10_000, "{asset} is the real file");
    }
    let slash = app.send(get("/docs/")).await;
    assert_eq!(slash.status, 307);
    assert_eq!(slash.headers["location"], "/docs");
    assert_eq!(app.send(get("/docs/no-such-file.js")).await.status, 404);
}

/// In the RFC style the document describes RFC bodies: 400/401/403 `OAuthError` on guarded operations, and
/// no 422 or seed-style body anywhere.
#[test]
fn rfc_style_document_describes_rfc_refusals() {
    let document = serde_json::to_value(demo::routes::openapi(
        &scopes_runtime::ResponseStyle::rfc("scopes demo"),
        &demo::routes::TokenSource::Own,
    ))
    .unwrap();
    assert!(!document.to_string().contains("HTTPValidationError"), "seed bodies remain");
    // `{"detail": ...}` stays only where the RFC style answers it: a missing item (404), a taken ID (409).
    for (path, operations) in document["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let detail = response.to_string().contains("ErrorDetail");
                assert_eq!(detail, ["404", "409"].contains(&status.as_str()), "{method} {path} {status}");
            }
        }
    }
    let oauth_error = "#/components/schemas/OAuthError";
    for (path, method) in [("/users/me/", "get"), ("/users/me/items/", "get"), ("/status/", "get")] {
        for status in ["400", "401", "403"] {
            let schema = &document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
            assert_eq!(schema["$ref"], oauth_error, "{path} {status}");
        }
    }
    let token = &document["paths"]["/token"]["post"]["responses"];
    assert!(token.get("422").is_none());
    assert_eq!(token["400"]["content"]["application/json"]["schema"]["$ref"], oauth_error);
    assert!(document["components"]["schemas"]["OAuthError"]["properties"]["error_description"].is_object());
    assert_eq!(
        document["components"]["schemas"]["TokenRequest"]["required"],
        json!(["grant_type", "username", "password"])
    );
}

/// Each operation with a resource rule keeps its scope security, names the rule (description and
/// `x-scopes-rule`), and documents the 404 its refusal and a missing item are answered with.
#[test]
fn ruled_operations_name_their_rule_and_its_404() {
    for style in [scopes_runtime::ResponseStyle::Seed, scopes_runtime::ResponseStyle::rfc("scopes demo")] {
        let document = serde_json::to_value(demo::routes::openapi(&style, &demo::routes::TokenSource::Own)).unwrap();
        for (path, method, scope, expression) in [
            ("/items/{item_id}", "get", "items", "items AND (owner OR admin)"),
            ("/items/{item_id}", "delete", "items:write", "items:write AND (owner OR admin)"),
            ("/items/", "get", "items", "items AND (owner OR admin)"),
        ] {
            let operation = &document["paths"][path][method];
            assert_eq!(operation["security"], json!([{ "OAuth2PasswordBearer": [scope] }]), "{method} {path}");
            let rule = &operation["x-scopes-rule"];
            assert_eq!(rule["name"], "owner", "{method} {path}");
            assert_eq!(rule["expression"], expression);
            assert_eq!(rule["refusal"], 404);
            assert_eq!(rule["ruled_alternatives"], json!([true, false]));
            assert_eq!(
                rule["alternatives"],
                json!([{ "scopes": [scope], "rule": true }, { "scopes": [scope, "admin"], "rule": false }]),
                "{method} {path}"
            );
            assert!(operation["description"].as_str().unwrap().contains("`owner` is a resource rule"));
            let not_found = &operation["responses"]["404"];
            assert!(not_found["description"].as_str().unwrap().starts_with("Item not found"), "{method} {path}");
            let schema = &not_found["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(schema, "#/components/schemas/ErrorDetail");
        }
        let create = &document["paths"]["/items/"]["post"];
        assert!(create.get("x-scopes-rule").is_none(), "creating an item has no rule");
        assert!(document["components"]["schemas"]["ErrorDetail"].is_object());
    }
}
