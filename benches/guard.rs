//! The pieces of a guarded request, and the whole guard `#[requires]` generates for `GET /users/me/items/`
//! against the hand-written extractor doing the same work (`examples/handwritten/extractor.rs`), on the same
//! request, and a route with a resource rule against the same check written by hand. `cargo bench -p demo
//! --bench guard`; the last lines print each ratio.

use std::hint::black_box;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use criterion::{BatchSize, Criterion};
use scopes_runtime::__private::Authorized;
use scopes_runtime::verifying::bearer::bearer_credentials;
use scopes_runtime::{Authority, Requirement, ResponseStyle, registry::Alternatives};

#[path = "../demo/examples/handwritten/extractor.rs"]
mod handwritten;

const SECRET: &[u8] = b"criterion-benchmark-secret-of-32-bytes";

type GeneratedGuard = Authorized<demo::auth::ActiveUser, demo::routes::__scopes_requirement_read_own_items>;

fn token() -> String {
    Authority::hs256(SECRET).unwrap().issue("johndoe", &["me", "items"]).unwrap()
}

fn request_parts(token: &str) -> Parts {
    Request::builder()
        .uri("/users/me/items/")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn pieces(c: &mut Criterion) {
    let token = token();
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
    c.bench_function("bearer parsing", |b| b.iter(|| bearer_credentials(black_box(&headers), true)));

    let authority = Authority::hs256(SECRET).unwrap();
    c.bench_function("token verification", |b| b.iter(|| authority.verify(black_box(&token)).unwrap()));

    // The demo's declared scopes, with their place in its hierarchy (`admin` implies both).
    let declared = |name| -> Alternatives {
        Box::leak(Box::new([std::slice::from_ref(demo::SCOPE_REGISTRY.scope(name).unwrap())]))
    };
    let handler = Requirement::new(declared("items"));
    let chain = handler.then(declared("me"));
    let granted = vec!["me".to_owned(), "items".to_owned()];
    c.bench_function("scope check", |b| b.iter(|| black_box(&chain).is_met_by(black_box(&granted))));
}

fn whole_guard(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let token = token();
    let generated_state = demo::AppState::new(SECRET, ResponseStyle::Seed).unwrap();
    let handwritten_state = handwritten::AppState::new(SECRET);

    let mut group = c.benchmark_group("guard for GET /users/me/items/");
    group.bench_function("generated", |b| {
        b.to_async(&runtime).iter_batched(
            || request_parts(&token),
            |mut parts| {
                let state = &generated_state;
                async move { assert!(GeneratedGuard::from_request_parts(&mut parts, state).await.is_ok()) }
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("hand-written", |b| {
        b.to_async(&runtime).iter_batched(
            || request_parts(&token),
            |mut parts| {
                let state = &handwritten_state;
                async move { assert!(handwritten::ItemsReader::from_request_parts(&mut parts, state).await.is_ok()) }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The whole router, in-process: routing, middleware, guard, handler and JSON, without the network.
fn whole_router(c: &mut Criterion) {
    let token = token();
    let demo = demo::router(demo::AppState::new(SECRET, ResponseStyle::Seed).unwrap());
    let handwritten = handwritten::router(handwritten::AppState::new(SECRET));
    compare_routers(c, "/users/me/items/", &token, [("generated", &demo), ("hand-written", &handwritten)]);
}

/// Criterion group `router GET {path}`: each router answering `path` with `token`, 200.
fn compare_routers(c: &mut Criterion, path: &str, token: &str, routers: [(&str, &axum::Router); 2]) {
    use tower::ServiceExt;
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let request = || {
        Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let mut group = c.benchmark_group(format!("router GET {path}"));
    for (name, router) in routers {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_batched(
                request,
                |request| async move { assert_eq!(router.clone().oneshot(request).await.unwrap().status(), 200) },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// A route with a resource rule (`GET /items/{item_id}`: `items AND (owner OR admin)`) against the same
/// check written by hand in the handler (`read_item_by_hand`), each a router of that one route, on an item
/// the caller owns, in memory: what declaring the rule costs over writing it.
fn ruled_route(c: &mut Criterion) {
    use scopes_runtime::routing::{SecureRouter, get};
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let token = Authority::hs256(SECRET).unwrap().issue("johndoe", &["items"]).unwrap();
    let state = demo::AppState::new(SECRET, ResponseStyle::Seed).unwrap();
    assert!(runtime.block_on(state.items.create("foo", "johndoe")).unwrap());
    let route =
        |methods| SecureRouter::new().route("/items/{item_id}", methods).into_parts().0.with_state(state.clone());
    let ruled: axum::Router = route(get(demo::items::read_item));
    let by_hand: axum::Router = route(get(demo::items::read_item_by_hand));
    compare_routers(c, "/items/foo", &token, [("rule", &ruled), ("by hand", &by_hand)]);
}

/// Criterion's mean estimate for a benchmark, from the JSON it saves.
fn mean_nanoseconds(group: &str, function: &str) -> Option<f64> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/criterion")
        .join(group.replace('/', "_"))
        .join(function)
        .join("new/estimates.json");
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["mean"]["point_estimate"].as_f64()
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    pieces(&mut criterion);
    whole_guard(&mut criterion);
    whole_router(&mut criterion);
    ruled_route(&mut criterion);
    criterion.final_summary();
    for (label, group, ours, theirs) in [
        ("whole guard", "guard for GET _users_me_items_", "generated", "hand-written"),
        ("whole router", "router GET _users_me_items_", "generated", "hand-written"),
        ("ruled route", "router GET _items_foo", "rule", "by hand"),
    ] {
        if let (Some(generated), Some(handwritten)) = (mean_nanoseconds(group, ours), mean_nanoseconds(group, theirs)) {
            println!(
                "{label}: {ours} {generated:.0} ns, {theirs} {handwritten:.0} ns, ratio {ours}/{theirs} {:.3}",
                generated / handwritten
            );
        }
    }
}
