//! The demo's configuration: flags, with environment variables as fallbacks.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};
use rand::RngCore;
use scopes_runtime::ResponseStyle;

/// FastAPI's OAuth2-scopes tutorial app, on the scopes framework.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the log says which).
    #[arg(long, env = "DEMO_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Secret that signs and verifies tokens. Without one, a random secret is generated and tokens do
    /// not survive a restart.
    #[arg(long, env = "DEMO_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// How refusals are answered: `seed` (exactly as FastAPI's tutorial) or `rfc` (RFC 6750 / RFC 6749).
    #[arg(long, env = "DEMO_STYLE", value_enum, default_value_t = Style::Seed)]
    pub style: Style,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The `--style` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Style {
    Seed,
    Rfc,
}

impl Style {
    pub fn response_style(self) -> ResponseStyle {
        match self {
            Style::Seed => ResponseStyle::Seed,
            Style::Rfc => ResponseStyle::rfc("scopes demo"),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the OpenAPI document and exit, without starting a server.
    Openapi,
    /// Print every route with its method, path and effective requirement (a scope audit), and exit.
    Routes,
}

impl Config {
    /// The configured secret, or a fresh random one (hex, 32 bytes of entropy) and `true`.
    pub fn secret_or_random(&self) -> (String, bool) {
        match &self.secret_key {
            Some(secret) => (secret.clone(), false),
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
            }
        }
    }
}
