//! A trusted identity provider: its issuer, where its keys are published, and how they are kept fresh.

use std::fmt;
use std::time::Duration;

use super::scope_claim::ScopeClaim;

/// A provider whose tokens an [`Authority`](crate::Authority) accepts, and whose keys it fetches.
///
/// Its keys are found by OpenID Connect discovery (`{issuer}/.well-known/openid-configuration`, falling
/// back to RFC 8414's `/.well-known/oauth-authorization-server`), or at a JWKS URL given directly. The
/// discovery document must name exactly this issuer (OpenID Connect Discovery §4.3), and every token
/// verified with these keys must carry it as `iss`.
///
/// URLs must be `https`, except on loopback addresses (`localhost`, `127.0.0.1`, `[::1]`) or after
/// [`allowing_plain_http`](Self::allowing_plain_http).
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::{verifying::KeyRefresh, Provider, ScopeClaim};
///
/// let keycloak = Provider::discover("https://sso.example/realms/api")
///     .with_scope_claim(ScopeClaim::pointer("/realm_access/roles").unwrap());
/// let mut refresh = KeyRefresh::default();
/// refresh.unknown_kid_cooldown = Duration::from_secs(5);
/// let entra = Provider::with_jwks_url(
///     "https://login.microsoftonline.com/TENANT/v2.0",
///     "https://login.microsoftonline.com/TENANT/discovery/v2.0/keys",
/// )
/// .with_scope_claim(ScopeClaim::Scp)
/// .with_refresh(refresh);
/// assert_eq!(keycloak.issuer(), "https://sso.example/realms/api");
/// # let _ = entra;
/// ```
#[derive(Clone)]
pub struct Provider {
    pub(crate) issuer: String,
    pub(crate) jwks_url: Option<String>,
    /// Where its tokens carry their scopes; `None`: where the authority's policy says.
    pub(crate) scope_claim: Option<ScopeClaim>,
    pub(crate) refresh: KeyRefresh,
    pub(crate) client: Option<reqwest::Client>,
    pub(crate) plain_http: bool,
    /// The audiences its tokens must name, when they differ from the authority's.
    pub(crate) audiences: Option<Vec<String>>,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .field("scope_claim", &self.scope_claim)
            .field("refresh", &self.refresh)
            .field("custom_http_client", &self.client.is_some())
            .field("plain_http", &self.plain_http)
            .field("audiences", &self.audiences)
            .finish()
    }
}

impl Provider {
    /// The provider at `issuer`, its keys found through its discovery document.
    pub fn discover(issuer: impl Into<String>) -> Self {
        Provider {
            issuer: issuer.into(),
            jwks_url: None,
            scope_claim: None,
            refresh: KeyRefresh::default(),
            client: None,
            plain_http: false,
            audiences: None,
        }
    }

    /// The provider at `issuer`, its keys at `jwks_url`, without discovery.
    pub fn with_jwks_url(issuer: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Provider { jwks_url: Some(jwks_url.into()), ..Self::discover(issuer) }
    }

    /// Reads the scopes of this provider's tokens from `claim` (the default is where the authority's
    /// [`Policy`](super::Policy) reads them: `scope` unless set otherwise).
    pub fn with_scope_claim(mut self, claim: ScopeClaim) -> Self {
        self.scope_claim = Some(claim);
        self
    }

    /// Accepts this provider's tokens only when their `aud` names one of `audiences`, in place of the
    /// authority's audiences: for an API known to each provider by another identifier.
    ///
    /// ```
    /// use scopes_runtime::Provider;
    /// let provider = Provider::discover("https://sso.example").with_audiences(["api", "https://api.example"]);
    /// assert_eq!(provider.audiences(), Some(&["api".to_owned(), "https://api.example".to_owned()][..]));
    /// ```
    pub fn with_audiences<A: Into<String>>(mut self, audiences: impl IntoIterator<Item = A>) -> Self {
        self.audiences = Some(audiences.into_iter().map(Into::into).collect());
        self
    }

    /// The audiences set with [`with_audiences`](Self::with_audiences); `None`: the authority's.
    pub fn audiences(&self) -> Option<&[String]> {
        self.audiences.as_deref()
    }

    /// Fetches and refreshes keys as `refresh` says.
    pub fn with_refresh(mut self, refresh: KeyRefresh) -> Self {
        self.refresh = refresh;
        self
    }

    /// Fetches with `client` (for a custom CA, a proxy, or client certificates). The fetch timeout and
    /// size limit of [`KeyRefresh`] still apply to each request. The default client uses rustls with the
    /// Mozilla roots.
    ///
    /// ```
    /// use scopes_runtime::Provider;
    /// let client = reqwest::Client::builder().https_only(true).build().unwrap();
    /// let provider = Provider::discover("https://auth.example").with_http_client(client);
    /// # let _ = provider;
    /// ```
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Accepts `http://` URLs on any host: only inside a network where nobody can alter the key set on
    /// its way (a container network in development), since whoever can will sign tokens this API accepts.
    pub fn allowing_plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    /// The issuer, as tokens must name it in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// How a [`Provider`]'s keys are fetched and kept fresh.
///
/// The set is refetched in the background before its time to live runs out: the time `Cache-Control:
/// max-age` gives, within [`min_ttl`](Self::min_ttl) and [`max_ttl`](Self::max_ttl). A token naming a `kid`
/// the set lacks (the provider may have rotated) triggers one fetch shared by every request waiting on it,
/// at most once per [`unknown_kid_cooldown`](Self::unknown_kid_cooldown); a `kid` still unknown after a
/// fetch is refused without another for [`negative_cache`](Self::negative_cache). When a fetch fails, the
/// last good set stays in use; with none yet, tokens are answered 503 until a fetch succeeds.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::verifying::KeyRefresh;
/// let mut refresh = KeyRefresh::default();
/// refresh.fetch_timeout = Duration::from_secs(2);
/// assert_eq!(refresh.unknown_kid_cooldown, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyRefresh {
    /// The least time a fetched set is kept before it is refetched, whatever the provider says. 1 minute.
    pub min_ttl: Duration,
    /// The most time a fetched set is kept before it is refetched, whatever the provider says. 1 day.
    pub max_ttl: Duration,
    /// How long a set is kept when the provider sends no `max-age`. 10 minutes.
    pub default_ttl: Duration,
    /// The least time between two fetches prompted by tokens (unknown `kid`s, or no set yet); also how
    /// soon a failed fetch is retried. 10 seconds.
    pub unknown_kid_cooldown: Duration,
    /// How long a `kid` still unknown after a fetch is refused without prompting another. 5 minutes.
    pub negative_cache: Duration,
    /// The time limit on each HTTP request, connecting included. 5 seconds.
    pub fetch_timeout: Duration,
    /// The largest discovery or JWK Set document read. 256 KiB.
    pub max_document_bytes: usize,
}

impl Default for KeyRefresh {
    fn default() -> Self {
        KeyRefresh {
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 60 * 60),
            default_ttl: Duration::from_secs(10 * 60),
            unknown_kid_cooldown: Duration::from_secs(10),
            negative_cache: Duration::from_secs(5 * 60),
            fetch_timeout: Duration::from_secs(5),
            max_document_bytes: 256 * 1024,
        }
    }
}

/// The providers cannot be trusted as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// No provider was given.
    #[error("no identity provider was given")]
    NoProvider,
    /// Two providers name the same issuer.
    #[error("the issuer `{0}` is given twice")]
    DuplicateIssuer(String),
    /// An issuer or JWKS URL is not an absolute `http(s)` URL.
    #[error("`{url}` is not a usable URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL is plain `http` on a host that is not loopback.
    #[error(
        "`{0}` is plain http: anyone on the way could replace the keys; use https, or \
         `Provider::allowing_plain_http` inside a trusted network"
    )]
    PlainHttp(String),
    /// Built outside a Tokio runtime, which keeps the keys fresh.
    #[error("an authority with identity providers must be built inside a Tokio runtime, which refreshes their keys")]
    NoRuntime,
}

/// Whether `url`'s host is `localhost` or a loopback address.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// Checks that `url` is absolute, `https` (or `http` on loopback or when allowed), and has a host.
pub(crate) fn check_url(url: &str, plain_http: bool) -> Result<reqwest::Url, ProviderError> {
    let invalid = |reason: String| ProviderError::InvalidUrl { url: url.to_owned(), reason };
    let parsed = reqwest::Url::parse(url).map_err(|error| invalid(error.to_string()))?;
    if parsed.host().is_none() {
        return Err(invalid("it has no host".into()));
    }
    let loopback = is_loopback(&parsed);
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback || plain_http => Ok(parsed),
        "http" => Err(ProviderError::PlainHttp(url.to_owned())),
        other => Err(invalid(format!("the scheme `{other}` is not http(s)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_unless_loopback_or_allowed() {
        assert!(check_url("https://auth.example/realms/x", false).is_ok());
        for loopback in ["http://127.0.0.1:8080", "http://localhost:3000/x", "http://[::1]:1/", "http://127.9.9.9"] {
            assert!(check_url(loopback, false).is_ok(), "{loopback}");
        }
        assert_eq!(
            check_url("http://auth.example", false),
            Err(ProviderError::PlainHttp("http://auth.example".into()))
        );
        assert!(check_url("http://auth.example", true).is_ok());
        for bad in ["auth.example", "ftp://auth.example", "https://", "file:///etc/passwd", ""] {
            assert!(matches!(check_url(bad, true), Err(ProviderError::InvalidUrl { .. })), "{bad}");
        }
    }
}
