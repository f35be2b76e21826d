//! Serves `N` requests for `GET /users/me/items/` through the demo's router or the hand-written baseline's,
//! or for `GET /items/foo` (an item the caller owns, in memory) through a route with the `ItemOwner` rule or
//! one with the same check written by hand in the handler, in process, on one thread, and exits: the
//! workload `scripts/instruction-bench` counts under callgrind.
//!
//! `cargo run --release -p demo --example requests -- demo|handwritten|ruled|by-hand N`
//!
//! Every request carries the same token (the demo's token cache answers all but the first) unless
//! `DISTINCT_TOKENS=M` is set: then `M` distinct tokens (differing in `exp`) are minted before serving, whatever
//! `N` is, so that minting cancels out of a difference of two runs, and request `i` carries token `i`
//! (each a miss of the cache, for `N <= M`).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scopes_runtime::routing::{SecureMethodRouter, SecureRouter, get};
use scopes_runtime::{Authority, ResponseStyle};
use tower::ServiceExt;

#[path = "../handwritten/extractor.rs"]
mod handwritten;

const SECRET: &[u8] = b"instruction-benchmark-secret-32-bytes";

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(which), Some(count)) = (args.next(), args.next().and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: requests demo|handwritten N");
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    // `TOKEN_CACHE=off`: the demo's authority without its token cache (what a miss costs beyond verifying).
    let cached = std::env::var("TOKEN_CACHE").as_deref() != Ok("off");
    let state = || {
        let style = ResponseStyle::Seed;
        let authority = Authority::hs256(SECRET).expect("a long enough secret");
        let authority = authority.with_request_parsing(demo::request_parsing_for(&style)).with_response_style(style);
        demo::AppState::with_authority(if cached { authority } else { authority.without_token_cache() })
    };
    let item_route = |methods: SecureMethodRouter<demo::AppState>| {
        let state = state();
        assert!(runtime.block_on(state.items.create("foo", "johndoe")).expect("stored"));
        SecureRouter::new().route("/items/{item_id}", methods).into_parts().0.with_state(state)
    };
    let (router, path) = match which.as_str() {
        "demo" => (demo::router(state()), "/users/me/items/"),
        "handwritten" => (handwritten::router(handwritten::AppState::new(SECRET)), "/users/me/items/"),
        "ruled" => (item_route(get(demo::items::read_item)), "/items/foo"),
        "by-hand" => (item_route(get(demo::items::read_item_by_hand)), "/items/foo"),
        other => {
            eprintln!("unknown router {other:?}: demo, handwritten, ruled or by-hand");
            std::process::exit(2);
        }
    };
    let authority = Authority::hs256(SECRET).expect("a long enough secret");
    let minted: usize = std::env::var("DISTINCT_TOKENS").ok().and_then(|m| m.parse().ok()).unwrap_or(1);
    // Far off, and of one length (ten digits) for every token.
    let exp = 4_000_000_000;
    let bearers: Vec<String> = (0..minted.max(1))
        .map(|n| {
            let claims = scopes_runtime::Claims::new("johndoe", ["me", "items"], exp + n as u64);
            format!("Bearer {}", authority.sign(&claims).expect("signing"))
        })
        .collect();
    runtime.block_on(async {
        for n in 0..count {
            let bearer = &bearers[n % bearers.len()];
            let request =
                Request::get(path).header(header::AUTHORIZATION, bearer).body(Body::empty()).expect("request");
            let response = router.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK);
            axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body");
        }
    });
}
