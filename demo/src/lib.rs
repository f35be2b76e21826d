//! FastAPI's "OAuth2 scopes" tutorial app, endpoint for endpoint, on the scopes framework.
//!
//! - [`users`]: the seed's two users and their bcrypt hashes.
//! - [`auth`]: how a token becomes a user (the seed's `get_current_user`) and the active-user guard
//!   (`get_current_active_user`, which requires `me`).
//! - [`routes`]: the seed's four endpoints, two that show requirement expressions and the scope
//!   hierarchy, and the secure-by-default router with its route table.
//! - [`items`]: items of one's own, whose owner (or an `admin`) alone may read or delete them: a resource
//!   rule declared beside the scopes.
//! - [`compat`]: what FastAPI itself answers around them: trailing-slash redirects, JSON 404 and 405.
//! - [`docs`]: the OpenAPI document and Swagger UI, served from the binary.
//! - [`serve`]: serving over HTTP with header, body and request timeouts and connection caps.
//! - [`config`]: flags and environment.

use std::sync::Arc;

use axum::extract::FromRef;
use scopes_runtime::health::Readiness;
use scopes_runtime::verifying::RequestParsing;
use scopes_runtime::{
    Authority, ResponseStyle, TokenEndpoint, authority::KeyError, issuing::PasswordPolicy, issuing::ThrottlePolicy,
};

pub mod auth;
pub mod cli;
pub mod compat;
pub mod config;
pub mod docs;
pub mod items;
pub mod routes;
pub mod serve;
pub mod users;

scopes_runtime::registry! {
    // The state every handler is checked against where it is declared (a wrong principal type, or a state
    // without an `Authority`, is one error there).
    state = AppState,
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
        // Beyond the seed: a hierarchy, and a scope that only an `any(...)` endpoint asks for.
        "items:write" => "Create and change items." implies ["items"],
        "reports" => "Read usage reports.",
        "admin" => "Administer the API." implies ["me", "items:write", "reports"],
    },
}

/// What every handler and guard can reach, behind one `Arc`: axum clones the state for every request,
/// and this way that clone is one reference count rather than one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

/// The services in the [`AppState`], reached through it by `Deref`.
#[derive(Clone)]
pub struct Services {
    /// Verifies tokens (and issues them, for [`Accounts::Local`]), and says how refusals are answered.
    pub authority: Authority,
    /// Whose users these are.
    pub accounts: Accounts,
    /// The items of `/items/`.
    pub items: items::store::ItemStore,
    /// Where the login throttle's counts are kept, when it is Redis.
    pub redis: Option<scopes_runtime::issuing::RedisThrottle>,
    /// What `/readyz` checks: the provider's keys, the database, Redis, as configured.
    pub readiness: Readiness,
}

impl Services {
    /// The services, with the readiness checks of what they use.
    fn new(
        authority: Authority,
        accounts: Accounts,
        items: items::store::ItemStore,
        redis: Option<scopes_runtime::issuing::RedisThrottle>,
    ) -> Self {
        let mut readiness = Readiness::new().with_authority(&authority);
        let database = match (&accounts, &items) {
            (Accounts::Local { users: users::UserStore::Sql(store), .. }, _) => Some(store),
            (_, items::store::ItemStore::Sql(store)) => Some(store),
            _ => None,
        };
        if let Some(store) = database {
            readiness = readiness.with_sql_store("database", store);
        }
        if let Some(redis) = &redis {
            readiness = readiness.with_redis(redis);
        }
        Services { authority, accounts, items, redis, readiness }
    }
}

/// Where users come from.
#[derive(Clone)]
pub enum Accounts {
    /// The demo's own users, who log in at `/token`: the seed's way.
    Local {
        /// The password grant, with its login throttle.
        tokens: TokenEndpoint,
        /// The user database.
        users: users::UserStore,
    },
    /// An identity provider's: `/token` is not served, and each request's user is who its token says.
    Provider {
        /// This API's public base URL: its resource identifier (RFC 9728).
        resource: String,
        /// The OAuth client Swagger UI logs in as at the provider, if any.
        docs_client_id: Option<String>,
    },
}

impl AppState {
    /// The seed's users, with tokens signed under `secret` (at least 32 bytes) and refusals answered as
    /// FastAPI's tutorial does.
    pub fn seed(secret: &[u8]) -> Result<Self, KeyError> {
        Self::new(secret, ResponseStyle::Seed)
    }

    /// The seed's users, answering refusals in `style`; requests are read as FastAPI reads them in the
    /// seed style, as the RFCs say otherwise.
    pub fn new(secret: &[u8], style: ResponseStyle) -> Result<Self, KeyError> {
        let parsing = request_parsing_for(&style);
        Ok(Self::with_authority(Authority::hs256(secret)?.with_response_style(style).with_request_parsing(parsing)))
    }

    /// The seed's users, in memory, with tokens issued and verified by `authority`.
    pub fn with_authority(authority: Authority) -> Self {
        Self::with_users(authority, users::UserStore::seed())
    }

    /// The users of `users`, with tokens issued and verified by `authority`. Makes the stand-in hash for
    /// unknown users under the store's password policy: build it at start-up.
    pub fn with_users(authority: Authority, users: users::UserStore) -> Self {
        let tokens = TokenEndpoint::new(authority.clone(), &SCOPE_REGISTRY)
            .with_password_policy(users.password_policy())
            .with_legacy_hashes(users::LEGACY_PASSWORD_POLICY);
        let items = items::store::ItemStore::default();
        AppState(Arc::new(Services::new(authority, Accounts::Local { tokens, users }, items, None)))
    }

    /// A resource server at `resource` (its public base URL) for an identity provider's tokens, verified
    /// by `authority` (built with [`Authority::from_providers`]): no users of its own, no `/token`; its
    /// challenges name its protected-resource metadata. Swagger UI logs in as `docs_client_id`.
    pub fn for_provider(authority: Authority, resource: &str, docs_client_id: Option<String>) -> Self {
        let resource = resource.trim_end_matches('/').to_owned();
        let authority =
            authority.with_resource_metadata(scopes_runtime::describing::ProtectedResourceMetadata::url_for(&resource));
        let accounts = Accounts::Provider { resource, docs_client_id };
        AppState(Arc::new(Services::new(authority, accounts, items::store::ItemStore::default(), None)))
    }

    /// The same app, keeping its items in `items`.
    pub fn with_items(self, items: items::store::ItemStore) -> Self {
        let Services { authority, accounts, redis, .. } = Arc::unwrap_or_clone(self.0);
        AppState(Arc::new(Services::new(authority, accounts, items, redis)))
    }

    /// The same app, hashing passwords under `policy` instead of the store's, and not making failed logins
    /// as slow as a legacy bcrypt check: for tests that make many logins, with cheap parameters (the seed's
    /// cost-12 hashes are replaced by cheap ones at each user's first login).
    pub fn with_password_policy(self, policy: PasswordPolicy) -> Self {
        self.with_token_endpoint(|tokens| tokens.with_password_policy(policy))
    }

    /// The same app, keeping the login throttle's counts in `redis`, shared with every replica using it.
    pub fn with_redis_throttle(self, redis: scopes_runtime::issuing::RedisThrottle) -> Self {
        let throttle = redis.clone();
        let state = self.with_token_endpoint(|tokens| tokens.with_redis_throttle(throttle));
        let Services { authority, accounts, items, .. } = Arc::unwrap_or_clone(state.0);
        AppState(Arc::new(Services::new(authority, accounts, items, Some(redis))))
    }

    /// The same app, running and queueing password checks within `limits`.
    pub fn with_check_limits(self, limits: scopes_runtime::issuing::PasswordCheckLimits) -> Self {
        self.with_token_endpoint(|tokens| tokens.with_check_limits(limits))
    }

    /// The same app, throttling failed logins with `policy` instead of the default.
    pub fn with_throttle(self, policy: ThrottlePolicy) -> Self {
        self.with_token_endpoint(|tokens| tokens.with_throttle(policy))
    }

    fn with_token_endpoint(self, change: impl FnOnce(TokenEndpoint) -> TokenEndpoint) -> Self {
        let Services { authority, accounts, items, redis, .. } = Arc::unwrap_or_clone(self.0);
        let accounts = match accounts {
            Accounts::Local { tokens, users } => Accounts::Local { tokens: change(tokens), users },
            provider => provider,
        };
        AppState(Arc::new(Services::new(authority, accounts, items, redis)))
    }

    /// The token endpoint, unless users come from a provider.
    pub fn tokens(&self) -> Option<&TokenEndpoint> {
        match &self.accounts {
            Accounts::Local { tokens, .. } => Some(tokens),
            Accounts::Provider { .. } => None,
        }
    }

    /// The user database, unless users come from a provider.
    pub fn users(&self) -> Option<&users::UserStore> {
        match &self.accounts {
            Accounts::Local { users, .. } => Some(users),
            Accounts::Provider { .. } => None,
        }
    }
}

/// The seed's answers go with FastAPI's reading of requests, as its clients expect both; the RFC style
/// reads requests as the RFCs say.
pub fn request_parsing_for(style: &ResponseStyle) -> RequestParsing {
    match style {
        ResponseStyle::Seed => RequestParsing::Lenient,
        _ => RequestParsing::Strict,
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

impl FromRef<AppState> for Authority {
    fn from_ref(state: &AppState) -> Authority {
        state.authority.clone()
    }
}

pub use routes::router;
