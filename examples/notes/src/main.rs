//! `cargo run -p notes`: serve the notes API on 127.0.0.1:8080 (`NOTES_SECRET` signs its tokens);
//! `cargo run -p notes -- routes`: print every route with its full path and who may call it;
//! `cargo run -p notes -- token NAME SCOPE...`: print a token for NAME with those scopes.

use notes::{AppState, route_table, router};
use scopes_runtime::Authority;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().init();
    let secret = std::env::var("NOTES_SECRET").unwrap_or_else(|_| "an example secret of at least 32 bytes!".into());
    let authority = match Authority::hs256(secret.as_bytes()) {
        Ok(authority) => authority,
        Err(error) => {
            eprintln!("notes: NOTES_SECRET: {error}");
            std::process::exit(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("routes") => {
            print!("{}", route_table(&authority));
            Ok(())
        }
        Some("token") if args.len() >= 2 => {
            match authority.issue(&args[1], &args[2..]) {
                Ok(token) => println!("{token}"),
                Err(error) => {
                    eprintln!("notes: {error}");
                    std::process::exit(1);
                }
            }
            Ok(())
        }
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
            tracing::info!("listening on http://{}", listener.local_addr()?);
            axum::serve(listener, router(AppState::new(authority))).await
        }
        Some(_) => {
            eprintln!("usage: notes [routes | token NAME SCOPE...]");
            std::process::exit(2);
        }
    }
}
