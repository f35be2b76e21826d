//! `cargo run -p demo`: serve the seed app; `cargo run -p demo -- routes`: print who may call each route.
//! `--help` lists the flags.

use clap::Parser;
use demo::config::{Command, Config};
use scopes_runtime::Authority;
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let config = Config::parse();
    if let Some(Command::Openapi) = config.command {
        let document =
            demo::routes::openapi(&config.style.response_style()).to_pretty_json().map_err(std::io::Error::other)?;
        println!("{document}");
        return Ok(());
    }
    if let Some(Command::Routes) = config.command {
        print!("{}", demo::routes::route_table());
        return Ok(());
    }

    let (secret, generated) = config.secret_or_random();
    if generated {
        tracing::warn!(
            "no --secret-key or DEMO_SECRET_KEY given: signing tokens with a random secret; \
             tokens will not survive a restart"
        );
    }
    let authority = if config.allow_published_secret {
        Authority::hs256_allowing_published_secret(secret.as_bytes())
    } else {
        Authority::hs256(secret.as_bytes())
    };
    let authority = match authority {
        Ok(authority) => authority
            .with_response_style(config.style.response_style())
            .with_request_parsing(config.style.request_parsing()),
        Err(error) => {
            tracing::error!(
                "refusing to start: {error} (give --secret-key or DEMO_SECRET_KEY, e.g. `openssl rand -hex 32`; \
                 --allow-published-secret accepts the tutorial's for a throwaway development run)"
            );
            std::process::exit(2);
        }
    };
    // Building the state makes the stand-in hash for unknown users, before the first login.
    let app = demo::router(demo::AppState::with_authority(authority)).layer(TraceLayer::new_for_http());

    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    // The address comes last: tests and scripts read it from the end of this line.
    tracing::info!("answering in the {:?} style; listening on http://{}", config.style, listener.local_addr()?);
    demo::serve::serve(listener, app, config.limits.serve_limits(), shutdown_signal()).await
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
