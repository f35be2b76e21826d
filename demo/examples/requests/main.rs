//! Serves `N` requests for `GET /users/me/items/` through the demo's router or the hand-written baseline's,
//! in process, on one thread, and exits: the workload `scripts/instruction-bench` counts under callgrind.
//!
//! `cargo run --release -p demo --example requests -- demo|handwritten N`

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
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
    let router = match which.as_str() {
        "demo" => demo::router(demo::AppState::new(SECRET, ResponseStyle::Seed).expect("a long enough secret")),
        "handwritten" => handwritten::router(handwritten::AppState::new(SECRET)),
        other => {
            eprintln!("unknown router {other:?}: demo or handwritten");
            std::process::exit(2);
        }
    };
    let token = Authority::hs256(SECRET).expect("a long enough secret").issue("johndoe", &["me", "items"]);
    let bearer = format!("Bearer {}", token.expect("signing"));
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    runtime.block_on(async {
        for _ in 0..count {
            let request = Request::get("/users/me/items/")
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .expect("request");
            let response = router.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), StatusCode::OK);
            axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the body");
        }
    });
}
