//! `cargo run -p demo`: serve the seed app; `cargo run -p demo -- routes`: print who may call each route;
//! `cargo run -p demo -- --issuer URL --audience AUD`: serve it as a resource server for an identity
//! provider's tokens; `cargo run -p demo -- --signing-alg ES256`: sign with rotating key pairs, as an
//! OpenID issuer; `cargo run -p demo -- users ...` / `keys ...`: manage the users / the signing keys.
//! `--help` lists the flags.

use std::time::Duration;

use std::io::IsTerminal;

use demo::AppState;
use demo::cli::PasswordSource;
use demo::config::LogFormat;
use demo::config::{Command, Config, ServiceUrl};
use demo::items::store::ItemStore;
use demo::routes::{IssuerFeatures, TokenSource};
use demo::users::UserStore;
use metrics_exporter_prometheus::PrometheusBuilder;
use scopes_runtime::store::SqlOptions;
use scopes_runtime::verifying::dpop::{Dpop, DpopMode, DpopReplays};
use scopes_runtime::verifying::{ClientAuth, Introspection};
use scopes_runtime::{
    Authority, Provider, SqlStore, describing::IssuerMetadata, issuing::PasswordCheckLimits, issuing::RedisThrottle,
    keys::KeyRing, keys::SigningAlgorithm, verifying::Revocations,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Before anything signs or verifies a token: ES256 and ES384 signatures are checked with ring, quicker
    // than aws-lc at them (BENCHMARKS.md); every other algorithm stays with aws-lc.
    scopes_runtime::keys::verify_ecdsa_with_ring();
    let (config, warnings) = Config::from_process();
    if let Some(Command::Users { .. } | Command::Keys { .. }) = &config.command {
        // Standard output is the command's answer, for scripts to read: the log goes to standard error.
        init_logs(config.log_format, true);
        warnings.iter().for_each(|warning| tracing::warn!("{warning}"));
        let mut out = std::io::stdout();
        let (name, done) = match &config.command {
            Some(Command::Users { command }) => {
                let stdin = std::io::stdin();
                let mut lines = stdin.lock();
                let password = if std::io::stdin().is_terminal() {
                    PasswordSource::Terminal
                } else {
                    PasswordSource::Lines(&mut lines)
                };
                ("users", demo::cli::run(command.clone(), &config.database_url.0, password, &mut out).await)
            }
            Some(Command::Keys { command }) => {
                ("keys", demo::cli::run_keys(command.clone(), &config.database_url.0, &mut out).await)
            }
            _ => unreachable!("matched above"),
        };
        if let Err(error) = done {
            eprintln!("demo {name}: {error}");
            std::process::exit(error.exit_code());
        }
        return Ok(());
    }
    init_logs(config.log_format, false);
    warnings.iter().for_each(|warning| tracing::warn!("{warning}"));
    if let Some(command @ (Command::Openapi | Command::Routes)) = &config.command {
        // Describing the API needs no token endpoint (nor its stand-in hash): only a provider's metadata.
        let source = match &config.provider.issuer {
            Some(issuer) => TokenSource::of(&provider_state(&config, issuer, config.bind).await),
            None => TokenSource::own(IssuerFeatures {
                refresh_tokens: config.database_url.0 != demo::users::MEMORY_URL,
                published_keys: config.signing_alg.is_some(),
            }),
        };
        if let Command::Openapi = command {
            let document = demo::routes::openapi(&config.style.response_style(), &source)
                .to_pretty_json()
                .map_err(std::io::Error::other)?;
            println!("{document}");
        } else {
            print!("{}", demo::routes::route_table(&source));
        }
        return Ok(());
    }
    // Installed before anything is recorded: the first key-set fetch happens while the state is built.
    if let Some(bind) = config.metrics_bind {
        serve_metrics(bind, config.limits.serve_limits()).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let state = match &config.provider.issuer {
        Some(issuer) => provider_state(&config, issuer, listener.local_addr()?).await,
        None => own_state(&config, listener.local_addr()?).await,
    };
    // A request id (the client's `x-request-id`, or a new UUID) on every request and its response: the
    // access log's span (at DEBUG, `RUST_LOG=info,tower_http=debug`) and the decision event both carry it.
    let access_log = TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<axum::body::Body>| {
        let request_id = request.headers().get(REQUEST_ID).and_then(|id| id.to_str().ok()).unwrap_or_default();
        tracing::debug_span!("request", method = %request.method(), path = request.uri().path(), request_id)
    });
    let app = demo::router(state)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(access_log)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    // The address comes last: tests and scripts read it from the end of this line.
    tracing::info!("answering in the {:?} style; listening on http://{}", config.style, listener.local_addr()?);
    demo::serve::serve(listener, app, config.limits.serve_limits(), shutdown_signal()).await
}

/// The header a request's id travels in.
const REQUEST_ID: axum::http::HeaderName = axum::http::HeaderName::from_static("x-request-id");

/// Logs as `format` says, at the levels `RUST_LOG` sets (`info` unless set), to standard error or output.
fn init_logs(format: LogFormat, to_stderr: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match (format, to_stderr) {
        (LogFormat::Text, false) => logs.init(),
        (LogFormat::Text, true) => logs.with_writer(std::io::stderr).init(),
        (LogFormat::Json, false) => logs.json().flatten_event(true).init(),
        (LogFormat::Json, true) => logs.json().flatten_event(true).with_writer(std::io::stderr).init(),
    }
}

/// Installs the Prometheus recorder, and serves its text at `/metrics` on `bind`, a listener of its own.
async fn serve_metrics(bind: std::net::SocketAddr, limits: demo::serve::ServeLimits) -> std::io::Result<()> {
    let handle = PrometheusBuilder::new().install_recorder().map_err(std::io::Error::other)?;
    scopes_runtime::observing::metrics::describe();
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("serving Prometheus metrics at http://{}/metrics", listener.local_addr()?);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        // Histograms are drained into their summaries here rather than at each scrape.
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let metrics = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let text = handle.render();
            async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
        }),
    );
    tokio::spawn(demo::serve::serve(listener, metrics, limits, std::future::pending()));
    Ok(())
}

/// The seed's app: its own users, in the configured database, tokens signed with the configured (or a
/// random) secret, or with `--signing-alg`, with the database's key pairs.
async fn own_state(config: &Config, bound: std::net::SocketAddr) -> AppState {
    // A secret that cannot sign stops the start before the database is touched.
    let secret = config.signing_alg.is_none().then(|| secret_authority(config));
    let users = match UserStore::open(&config.database_url.0).await {
        Ok(users) => users,
        Err(error) => refuse_to_start(&format!("--database-url {:?}: {error}", config.database_url)),
    };
    let authority = match (secret, config.signing_alg) {
        (Some(secret), _) => secret,
        (None, Some(algorithm)) => issuer_authority(config, algorithm, &users, bound).await,
        (None, None) => unreachable!("a secret authority without --signing-alg"),
    };
    let authority = authority
        .with_response_style(config.style.response_style())
        .with_request_parsing(config.style.request_parsing());
    let authority = config.limits.token_cache(authority);
    let authority = with_dpop(authority, config, bound);
    let authority = match &users {
        UserStore::Sql(store) => with_revocations(authority, store, config).await,
        UserStore::Memory(_) => authority,
    };
    let items = match &users {
        UserStore::Sql(store) => item_store(ItemStore::in_database(store.clone()).await),
        UserStore::Memory(_) => ItemStore::default(),
    };
    // Building the state makes the stand-in hash for unknown users, before the first login.
    let state = AppState::with_users(authority, users).with_items(items);
    let state = match config.limits.password_checks {
        Some(concurrent) => state.with_check_limits(PasswordCheckLimits {
            concurrent: usize::try_from(concurrent).unwrap_or(1),
            ..PasswordCheckLimits::default()
        }),
        None => state,
    };
    match &config.redis_url {
        Some(url) => {
            let key_secret = throttle_key_secret(config, state.users()).await;
            state.with_redis_throttle(shared_throttle(url, &key_secret).await)
        }
        None => state,
    }
}

/// The seed's HS256 authority, with the configured (or a random) secret.
fn secret_authority(config: &Config) -> Authority {
    let (secret, generated) = config.secret_or_random().unwrap_or_else(|error| refuse_to_start(&error));
    if generated {
        tracing::warn!(
            "no --secret-key-file, DEMO_SECRET_KEY or --secret-key given: signing tokens with a random secret; \
             tokens will not survive a restart"
        );
    }
    let authority = if config.allow_published_secret {
        Authority::hs256_allowing_published_secret(secret.as_bytes())
    } else {
        Authority::hs256(secret.as_bytes())
    };
    authority.unwrap_or_else(|error| {
        refuse_to_start(&format!(
            "{error} (give --secret-key or DEMO_SECRET_KEY, e.g. `openssl rand -hex 32`; \
             --allow-published-secret accepts the tutorial's for a throwaway development run)"
        ))
    })
}

/// An issuer's authority: the database's current key pair signs (made now with `algorithm` when there is
/// none), every published one verifies; `iss` and `aud` are the public URL.
async fn issuer_authority(
    config: &Config,
    algorithm: SigningAlgorithm,
    users: &UserStore,
    bound: std::net::SocketAddr,
) -> Authority {
    let UserStore::Sql(store) = users else {
        refuse_to_start(
            "--signing-alg keeps the keys in the database, for every replica to share: \
             give a sqlite:// or postgres:// --database-url, not memory:",
        )
    };
    let current = match store.current_signing_key_or_generate(algorithm).await {
        Ok(current) => current,
        Err(error) => refuse_to_start(&format!("--signing-alg: the signing key: {error}")),
    };
    if current.algorithm() != algorithm {
        refuse_to_start(&format!(
            "--signing-alg {algorithm}: the database's current signing key `{}` is {}; every replica signs with \
             it. Start with --signing-alg {}, or rotate to {algorithm} with `demo keys rotate --alg {algorithm}`",
            current.kid(),
            current.algorithm(),
            current.algorithm(),
        ));
    }
    let reload = Duration::from_secs(config.key_reload_secs);
    let ring = match KeyRing::from_store(store.clone(), Authority::DEFAULT_TOKEN_LIFETIME, reload).await {
        Ok(ring) => ring,
        Err(error) => refuse_to_start(&format!("--signing-alg: loading the signing keys: {error}")),
    };
    let issuer = public_url(config, bound);
    tracing::info!(
        kid = current.kid(),
        "signing tokens with {algorithm} as {issuer}; its keys are published at {issuer}{}",
        IssuerMetadata::JWKS_PATH
    );
    Authority::from_key_ring(ring, &issuer, &issuer)
}

/// The authority refusing what the database says is revoked (access tokens by `jti`, and those of revoked
/// refresh-token families by `sid`), reloaded as often as the keys, and at least every 5 s: a logout or a
/// password change at one replica ends those tokens at every replica within that time. Its tokens carry the
/// ids that takes.
async fn with_revocations(authority: Authority, store: &SqlStore, config: &Config) -> Authority {
    let reload = Duration::from_secs(config.key_reload_secs.min(MAX_REVOCATION_RELOAD_SECS));
    match Revocations::from_store(store.clone(), authority.token_lifetime(), reload).await {
        Ok(revocations) => authority.with_token_ids().with_revocations(revocations),
        Err(error) => refuse_to_start(&format!("--database-url: reading the revoked tokens: {error}")),
    }
}

/// The longest a replica takes to refuse a token another revoked.
const MAX_REVOCATION_RELOAD_SECS: u64 = 5;

/// The introspection `--introspection-client-id` asks for, at the provider at `issuer`.
fn introspection(config: &Config, issuer: &str) -> Option<Introspection> {
    let flags = &config.provider;
    let (id, secret) = (flags.introspection_client_id.as_ref()?, flags.introspection_client_secret.as_ref()?);
    let ttl = Duration::from_secs(flags.introspection_cache_secs);
    tracing::info!(%issuer, cache_secs = flags.introspection_cache_secs, "tokens are introspected at the provider");
    Some(Introspection::discover(issuer, ClientAuth::secret_basic(id, &secret.0)).with_cache_ttl(ttl))
}

/// `authority` taking DPoP-bound tokens as `--dpop` says, their proofs naming URLs under `--public-url`
/// and remembered in Redis when `--redis-url` is given.
fn with_dpop(authority: Authority, config: &Config, bound: std::net::SocketAddr) -> Authority {
    if config.dpop == DpopMode::Off {
        return authority;
    }
    let url = public_url(config, bound);
    let dpop = Dpop::new(config.dpop, &url).unwrap_or_else(|error| refuse_to_start(&format!("--public-url: {error}")));
    let dpop = match &config.redis_url {
        Some(redis) => match DpopReplays::redis(&redis.0) {
            Ok(replays) => dpop.with_replays(replays),
            Err(error) => refuse_to_start(&format!("--redis-url: {error}")),
        },
        None => dpop,
    };
    tracing::info!(mode = %config.dpop, public_url = %url, "DPoP-bound tokens are taken");
    authority.with_dpop(dpop)
}

/// `--public-url`, or `http://` and the bound address; without a trailing slash.
fn public_url(config: &Config, bound: std::net::SocketAddr) -> String {
    config.public_url.clone().unwrap_or_else(|| format!("http://{bound}")).trim_end_matches('/').to_owned()
}

/// The secret the login throttle's Redis key names are digested under: the database's, which every
/// replica sharing it shares; with `memory:` (no replicas to share with), one derived from the signing
/// secret.
async fn throttle_key_secret(config: &Config, users: Option<&UserStore>) -> Vec<u8> {
    match users {
        Some(UserStore::Sql(store)) => match store.shared_secret("redis-throttle-keys").await {
            Ok(secret) => secret,
            Err(error) => refuse_to_start(&format!("--redis-url: the throttle's key secret: {error}")),
        },
        _ => {
            let (secret, _) = config.secret_or_random().unwrap_or_else(|error| refuse_to_start(&error));
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
            aws_lc_rs::hmac::sign(&key, b"redis-throttle-keys").as_ref().to_vec()
        }
    }
}

/// The login throttle in Redis at `url`, its key names digested under `key_secret`. Redis that is down
/// now does not stop the start: logins are answered 503 until it answers.
async fn shared_throttle(url: &ServiceUrl, key_secret: &[u8]) -> RedisThrottle {
    let throttle = match RedisThrottle::open(&url.0, key_secret) {
        Ok(throttle) => throttle,
        Err(error) => refuse_to_start(&format!("--redis-url {url:?}: {error}")),
    };
    match throttle.ping().await {
        Ok(()) => tracing::info!("the login throttle's counts are kept in Redis, shared by every replica using it"),
        Err(error) => tracing::error!(
            %error,
            "--redis-url {url:?}: Redis cannot be reached; logins are answered 503 until it can"
        ),
    }
    throttle
}

/// A resource server for the provider at `issuer`: its keys by discovery, no users of its own.
async fn provider_state(config: &Config, issuer: &str, bound: std::net::SocketAddr) -> AppState {
    let audiences = &config.provider.audience;
    let first_audience = audiences.first().cloned().unwrap_or_default();
    let authority = match introspection(config, issuer) {
        Some(introspection) => Authority::from_introspection(introspection, first_audience),
        None => {
            let provider = Provider::discover(issuer).with_scope_claim(config.provider.scope_claim.clone());
            // An access token says it is one (RFC 9068 §4, RFC 8725 §3.11): an ID token for a client whose
            // id is this API's audience is not.
            let typed = !config.provider.accept_untyped_tokens;
            Authority::from_providers([provider], first_audience)
                .map(|authority| if typed { authority.with_token_type("at+jwt") } else { authority })
                .map(|authority| config.limits.token_cache(authority))
        }
    };
    let authority = match authority {
        Ok(authority) => authority
            .with_audiences(audiences.iter().cloned())
            .with_response_style(config.style.response_style())
            .with_request_parsing(config.style.request_parsing()),
        Err(error) => refuse_to_start(&format!("--issuer: {error}")),
    };
    let authority = with_dpop(authority, config, bound);
    // The document names the provider's endpoints once discovered; a provider that is down now is
    // documented by its discovery URL instead, and its tokens are checked once it is up.
    if !authority.wait_for_keys(STARTUP_DISCOVERY_WAIT).await {
        tracing::warn!(%issuer, "the identity provider is not reachable yet; its tokens are answered 503 until it is");
    }
    let resource = public_url(config, bound);
    // The users are the provider's; the items are kept in the database all the same.
    let items = match config.database_url.0.as_str() {
        demo::users::MEMORY_URL => ItemStore::default(),
        url => match SqlStore::connect_with(url, SqlOptions::default()).await {
            Ok(store) => item_store(ItemStore::in_database(store).await),
            Err(error) => refuse_to_start(&format!("--database-url {:?}: {error}", config.database_url)),
        },
    };
    AppState::for_provider(authority, &resource, config.provider.docs_client_id.clone()).with_items(items)
}

/// The item store, or the start refused with why it could not be opened.
fn item_store(opened: Result<ItemStore, scopes_runtime::store::StoreError>) -> ItemStore {
    opened.unwrap_or_else(|error| refuse_to_start(&format!("--database-url: the items table: {error}")))
}

/// How long start-up waits for the provider's discovery document and keys before serving without them.
const STARTUP_DISCOVERY_WAIT: Duration = Duration::from_secs(5);

fn refuse_to_start(reason: &str) -> ! {
    tracing::error!("refusing to start: {reason}");
    std::process::exit(2);
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
