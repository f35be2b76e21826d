//! The baseline for the benchmarks: the demo's `GET /users/me/items/` and `GET /status/` written in plain
//! axum + jsonwebtoken, with a hand-written extractor and no macro, answering the same bytes.
//!
//! `cargo run --release -p demo --example handwritten -- 127.0.0.1:8001` (secret from `DEMO_SECRET_KEY`).
//! BENCHMARKS.md compares the demo against it. It serves through the same stack as the demo binary (request
//! tracing, connection info, `demo::serve`'s timeouts and caps), so the comparison isolates the guard.

use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

mod extractor;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8001".into());
    let secret = std::env::var("DEMO_SECRET_KEY").map_err(|_| std::io::Error::other("set DEMO_SECRET_KEY"))?;
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let app = extractor::router(extractor::AppState::new(secret.as_bytes())).layer(TraceLayer::new_for_http());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    demo::serve::serve(listener, app, demo::serve::ServeLimits::default(), std::future::pending()).await
}
