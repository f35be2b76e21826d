//! The baseline for the benchmarks: the demo's `GET /users/me/items/` and `GET /status/` written in plain
//! axum + jsonwebtoken, with a hand-written extractor and no macro, answering the same bytes.
//!
//! `cargo run --release -p demo --example handwritten -- 127.0.0.1:8001` (secret from `DEMO_SECRET_KEY`).
//! BENCHMARKS.md compares the demo against it.

mod extractor;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8001".into());
    let secret = std::env::var("DEMO_SECRET_KEY").map_err(|_| std::io::Error::other("set DEMO_SECRET_KEY"))?;
    let app = extractor::router(extractor::AppState::new(secret.as_bytes()));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
