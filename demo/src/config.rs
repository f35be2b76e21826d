//! The demo's configuration: flags, with environment variables as fallbacks.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rand::RngCore;
use scopes_runtime::ResponseStyle;
use scopes_runtime::verifying::RequestParsing;

use crate::serve::ServeLimits;

/// FastAPI's OAuth2-scopes tutorial app, on the scopes framework.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the log says which).
    #[arg(long, env = "DEMO_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,

    /// Secret that signs and verifies tokens, at least 32 bytes. Without one, a random secret is generated
    /// and tokens do not survive a restart. Prefer `DEMO_SECRET_KEY` or `--secret-key-file`: a command
    /// line is readable by every local user (`/proc/PID/cmdline`), so given here it is logged as a warning.
    #[arg(long, env = "DEMO_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<SecretKey>,

    /// A file holding the secret (its first line; readable by the server's user only, ideally 0600).
    #[arg(long, env = "DEMO_SECRET_KEY_FILE", conflicts_with = "secret_key")]
    pub secret_key_file: Option<std::path::PathBuf>,

    /// Sign tokens with a key pair instead of the secret: `ES256`, `EdDSA` or `RS256`. The key is made at the
    /// first start and kept in the database (`--database-url`), shared by every replica using it, and
    /// rotated with `demo keys rotate`; the public keys are served at `/.well-known/jwks.json`, found
    /// through `/.well-known/openid-configuration`. Tokens then carry `kid`, `iss` and `aud` (both
    /// `--public-url`), `jti`, `iat`, and their scopes in `scope`.
    #[arg(long, env = "DEMO_SIGNING_ALG")]
    pub signing_alg: Option<scopes_runtime::keys::SigningAlgorithm>,

    /// This server's public base URL, as clients reach it: the issuer (`iss`) of the tokens it signs with
    /// `--signing-alg`, or with `--issuer`, the `resource` of its protected-resource metadata (RFC 9728).
    /// Defaults to `http://` and the bound address.
    #[arg(long, env = "DEMO_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// With `--signing-alg`: seconds between reloads of the signing keys from the database, which is when
    /// a rotation made elsewhere (`demo keys rotate`) starts signing here. A token signed with a key not
    /// yet loaded prompts a reload at once.
    #[arg(long, env = "DEMO_KEY_RELOAD_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub key_reload_secs: u64,

    /// Accept the signing secret printed in FastAPI's tutorial, which anyone can read and forge tokens
    /// with: for a throwaway development run only. Without it the demo refuses to start with that secret.
    #[arg(long, env = "DEMO_ALLOW_PUBLISHED_SECRET")]
    pub allow_published_secret: bool,

    /// Where the users are kept: `sqlite://FILE` (created, migrated and seeded with the seed's users when
    /// missing) or `postgres://USER@HOST:PORT/DATABASE` (likewise); the server and `demo users` share it.
    /// `memory:` keeps the seed's users in memory, gone with the process.
    #[arg(long, env = "DEMO_DATABASE_URL", default_value = crate::users::DEFAULT_DATABASE_URL, global = true)]
    pub database_url: ServiceUrl,

    /// Keep the login throttle's counts in Redis (`redis://HOST:PORT/`), so that every replica sharing
    /// it enforces one policy. While Redis cannot be reached, logins are answered 503. Without it, each
    /// process counts on its own.
    #[arg(long, env = "DEMO_REDIS_URL")]
    pub redis_url: Option<ServiceUrl>,

    /// DPoP-bound tokens (RFC 9449): `off` (bearer tokens only), `allowed` (bearer tokens, and DPoP-bound
    /// tokens with their proofs) or `required` (DPoP-bound tokens only). Proofs must name the request's URL
    /// under `--public-url`; with `--redis-url`, the proofs seen are remembered in Redis, so a proof used at
    /// one replica is refused at every other. Whatever the mode, a DPoP-bound token sent as a bearer token
    /// is refused.
    #[arg(long, env = "DEMO_DPOP", default_value_t = scopes_runtime::verifying::dpop::DpopMode::Off)]
    pub dpop: scopes_runtime::verifying::dpop::DpopMode,

    /// How refusals are answered: `seed` (exactly as FastAPI's tutorial) or `rfc` (RFC 6750 / RFC 6749).
    #[arg(long, env = "DEMO_STYLE", value_enum, default_value_t = Style::Seed)]
    pub style: Style,

    /// Serve Prometheus metrics at `/metrics` on this address: a listener of its own, apart from the API
    /// (keep it off the public network). Off unless given; port 0 picks a free port (the log says which).
    #[arg(long, env = "DEMO_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,

    /// How the log is written: `text`, for people, or `json`, one object per line for a log pipeline (the
    /// authorization events, target `scopes::authz`, with their fields at the top level). `RUST_LOG` sets
    /// the levels: `info` unless it is set (refusals are logged at INFO, grants at DEBUG).
    #[arg(long, env = "DEMO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub provider: ProviderFlags,

    #[command(flatten)]
    pub limits: LimitFlags,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A signing secret; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub String);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl std::str::FromStr for SecretKey {
    type Err = std::convert::Infallible;

    fn from_str(secret: &str) -> Result<Self, Self::Err> {
        Ok(SecretKey(secret.to_owned()))
    }
}

/// A database's or Redis' URL; its `Debug` leaves out a password it may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceUrl(pub String);

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once('@') {
            Some((credentials, host)) if credentials.contains(':') && credentials.contains("://") => {
                let (scheme, _) = credentials.split_once("://").unwrap_or_default();
                write!(f, "ServiceUrl({scheme}://<redacted>@{host})")
            }
            _ => write!(f, "ServiceUrl({})", self.0),
        }
    }
}

impl ServiceUrl {
    /// Whether it carries a password (`scheme://user:password@host`).
    pub fn has_password(&self) -> bool {
        match self.0.split_once("://").and_then(|(_, rest)| rest.split_once('@')) {
            Some((credentials, _)) => credentials.contains(':'),
            None => false,
        }
    }
}

impl std::str::FromStr for ServiceUrl {
    type Err = std::convert::Infallible;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(ServiceUrl(url.to_owned()))
    }
}

/// The resource-server mode: tokens from an identity provider instead of the demo's own `/token`.
#[derive(Debug, Clone, Args)]
pub struct ProviderFlags {
    /// Verify tokens from the identity provider at this issuer URL (keys found by OpenID Connect
    /// discovery), instead of issuing them: `/token` is not served, and users are who the tokens say.
    #[arg(long, env = "DEMO_ISSUER", requires = "audience")]
    pub issuer: Option<String>,
    /// The audience (`aud`) tokens must be issued for: this API's resource identifier at the provider.
    /// Given more than once (or comma-separated in `DEMO_AUDIENCE`), a token naming any of them is accepted.
    #[arg(long, env = "DEMO_AUDIENCE", requires = "issuer", value_delimiter = ',')]
    pub audience: Vec<String>,
    /// Where the provider's tokens carry their scopes: scope, scp, scopes, permissions, or a JSON pointer
    /// such as /realm_access/roles.
    #[arg(long, env = "DEMO_SCOPE_CLAIM", default_value = "scope", requires = "issuer")]
    pub scope_claim: scopes_runtime::ScopeClaim,
    /// Accept tokens whose header does not say `typ: at+jwt` (RFC 9068): for providers that do not type
    /// their access tokens (see the README). Without it, such a token (an ID token, say, whose `aud` is
    /// this API's client id) is refused.
    #[arg(long, env = "DEMO_ACCEPT_UNTYPED_TOKENS", requires = "issuer")]
    pub accept_untyped_tokens: bool,
    /// Introspect every token at the provider's introspection endpoint (RFC 7662, found by discovery)
    /// instead of verifying it here, authenticating as this client (`client_secret_basic`): for opaque
    /// tokens, or to see a revocation at once. Needs `--introspection-client-secret`.
    #[arg(long, env = "DEMO_INTROSPECTION_CLIENT_ID", requires_all = ["issuer", "introspection_client_secret"])]
    pub introspection_client_id: Option<String>,
    /// The secret of `--introspection-client-id` (give it in the environment: on the command line every
    /// local user can read it).
    #[arg(
        long,
        env = "DEMO_INTROSPECTION_CLIENT_SECRET",
        hide_env_values = true,
        requires = "introspection_client_id"
    )]
    pub introspection_client_secret: Option<SecretKey>,
    /// Seconds an introspection answer is remembered (never past the token's `exp`); 0 asks the provider
    /// on every request.
    #[arg(long, env = "DEMO_INTROSPECTION_CACHE_SECS", default_value_t = 30)]
    pub introspection_cache_secs: u64,
    /// The OAuth client id Swagger UI logs in with at the provider (authorization code with PKCE).
    #[arg(long, env = "DEMO_DOCS_CLIENT_ID", requires = "issuer")]
    pub docs_client_id: Option<String>,
}

/// The connection limits (`serve::ServeLimits`), in whole seconds and counts.
#[derive(Debug, Clone, Copy, Args)]
pub struct LimitFlags {
    /// Seconds a request head may take to arrive; a half-sent head, or an idle keep-alive connection, is
    /// closed after it.
    #[arg(long, env = "DEMO_HEADER_READ_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may pause before the request is answered 408.
    #[arg(long, env = "DEMO_BODY_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,
    /// Seconds one request may take in all before it is answered 408.
    #[arg(long, env = "DEMO_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,
    /// Connections open at once.
    #[arg(long, env = "DEMO_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// Password checks running at once (each on a thread that keeps 19 MiB of Argon2 memory); logins beyond
    /// them wait in a bounded queue. Defaults to the number of cores, at most 4.
    #[arg(long, env = "DEMO_PASSWORD_CHECKS", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub password_checks: Option<u64>,
    /// Bytes of verified tokens remembered, so that a token's signature is checked once rather than with every
    /// request (see `TokenCache`); 0 verifies every token every time.
    #[arg(long, env = "DEMO_TOKEN_CACHE_BYTES", default_value_t = scopes_runtime::verifying::TokenCache::DEFAULT_MAX_BYTES)]
    pub token_cache_bytes: u64,
    /// Connections open at once from one client address (an IPv6 client by its /64).
    #[arg(long, env = "DEMO_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_client: u64,
}

impl LimitFlags {
    /// `authority` with the token cache these flags ask for.
    pub fn token_cache(&self, authority: scopes_runtime::Authority) -> scopes_runtime::Authority {
        match self.token_cache_bytes {
            0 => authority.without_token_cache(),
            bytes => authority.with_token_cache(scopes_runtime::verifying::TokenCache::new(bytes)),
        }
    }

    pub fn serve_limits(&self) -> ServeLimits {
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        ServeLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_timeout: Duration::from_secs(self.body_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_connections: count(self.max_connections),
            max_connections_per_client: count(self.max_connections_per_client),
            ..ServeLimits::default()
        }
    }
}

/// The `--log-format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
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

    pub fn request_parsing(self) -> RequestParsing {
        crate::request_parsing_for(&self.response_style())
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
    /// Manage the users in the database (`--database-url`), also while the server runs.
    Users {
        #[command(subcommand)]
        command: crate::cli::UsersCommand,
    },
    /// Rotate and list the signing keys in the database (`--database-url`), also while servers run.
    Keys {
        #[command(subcommand)]
        command: crate::cli::KeysCommand,
    },
}

impl Config {
    /// The flags of this process (its arguments and environment), and a warning for each secret given on
    /// its command line, where every local user can read it: the signing secret, and a password inside
    /// `--database-url` or `--redis-url`. Log them once logging is set up.
    pub fn from_process() -> (Config, Vec<String>) {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Config::command().get_matches();
        let config = Config::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        let on_command_line = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        let mut warnings = Vec::new();
        if on_command_line("introspection_client_secret") {
            warnings.push(
                "--introspection-client-secret on the command line is readable by every local user \
                 (/proc/PID/cmdline, ps): give it in DEMO_INTROSPECTION_CLIENT_SECRET"
                    .to_owned(),
            );
        }
        if on_command_line("secret_key") {
            warnings.push(
                "--secret-key on the command line is readable by every local user (/proc/PID/cmdline, ps): \
                 give it in DEMO_SECRET_KEY or a file named by --secret-key-file"
                    .to_owned(),
            );
        }
        for (id, flag, variable, url) in [
            ("database_url", "--database-url", "DEMO_DATABASE_URL", Some(&config.database_url)),
            ("redis_url", "--redis-url", "DEMO_REDIS_URL", config.redis_url.as_ref()),
        ] {
            if on_command_line(id) && url.is_some_and(ServiceUrl::has_password) {
                warnings.push(format!(
                    "{flag} holds a password, which on the command line every local user can read \
                     (/proc/PID/cmdline, ps): give the URL in {variable} instead"
                ));
            }
        }
        (config, warnings)
    }

    /// The configured secret (from `--secret-key`, `DEMO_SECRET_KEY` or the first line of
    /// `--secret-key-file`), or a fresh random one (hex, 32 bytes of entropy) and `true`.
    pub fn secret_or_random(&self) -> Result<(String, bool), String> {
        if let Some(path) = &self.secret_key_file {
            let read = std::fs::read_to_string(path)
                .map_err(|error| format!("--secret-key-file {}: {error}", path.display()))?;
            let secret = read.lines().next().unwrap_or_default().to_owned();
            if secret.is_empty() {
                return Err(format!("--secret-key-file {}: the first line is empty", path.display()));
            }
            return Ok((secret, false));
        }
        Ok(match &self.secret_key {
            Some(secret) => (secret.0.clone(), false),
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_shows_in_debug() {
        let config = Config::parse_from(["demo", "--secret-key", "a-very-secret-signing-key-of-32-bytes"]);
        let printed = format!("{config:?}");
        assert!(!printed.contains("a-very-secret"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[test]
    fn a_database_password_never_shows_in_debug() {
        let config = Config::parse_from(["demo", "--database-url", "postgres://app:hunter2@db:5432/users"]);
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2") && printed.contains("postgres://<redacted>@db:5432/users"), "{printed}");
        let config = Config::parse_from(["demo", "--redis-url", "redis://:hunter2@cache:6379/"]);
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2") && printed.contains("redis://<redacted>@cache:6379/"), "{printed}");
    }

    #[test]
    fn a_secret_is_read_from_the_first_line_of_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "a-very-secret-signing-key-of-32-bytes\n").unwrap();
        let config = Config::parse_from(["demo", "--secret-key-file", file.to_str().unwrap()]);
        assert_eq!(config.secret_or_random().unwrap(), ("a-very-secret-signing-key-of-32-bytes".to_owned(), false));
        std::fs::write(&file, "\n").unwrap();
        assert!(config.secret_or_random().unwrap_err().contains("empty"));
        let missing = Config::parse_from(["demo", "--secret-key-file", "/nonexistent/secret"]);
        assert!(missing.secret_or_random().unwrap_err().contains("/nonexistent/secret"));
        assert!(
            Config::try_parse_from(["demo", "--secret-key", "x", "--secret-key-file", "f"]).is_err(),
            "one or the other"
        );
    }

    #[test]
    fn a_url_with_a_password_is_told_apart() {
        assert!(ServiceUrl("postgres://app:hunter2@db/users".into()).has_password());
        assert!(ServiceUrl("redis://:hunter2@cache:6379/".into()).has_password());
        assert!(!ServiceUrl("postgres://app@db/users".into()).has_password());
        assert!(!ServiceUrl("sqlite://demo.db".into()).has_password());
    }

    #[test]
    fn the_default_limits_close_a_half_sent_request_within_a_minute() {
        let limits = Config::parse_from(["demo"]).limits.serve_limits();
        assert_eq!(limits, ServeLimits::default());
        assert!(limits.header_read_timeout + limits.body_timeout <= Duration::from_secs(60));
    }
}
