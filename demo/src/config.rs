//! The demo's configuration: flags, with environment variables as fallbacks.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use rand::RngCore;

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

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the OpenAPI document and exit, without starting a server.
    Openapi,
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
