//! Fetching a provider's metadata and key set over HTTP: discovery, the JWK Set, `Cache-Control`, and
//! the limits every request runs under.

use std::sync::LazyLock;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap};
use serde::Deserialize;

use super::provider::{Provider, check_url, is_loopback};
use crate::keys::KeySet;

/// What one fetch brought: the keys, the provider's metadata when discovered, and how long to keep them.
pub(crate) struct Fetched {
    pub(crate) keys: KeySet,
    pub(crate) metadata: Option<ProviderMetadata>,
    pub(crate) ttl: Duration,
}

/// The parts of a provider's discovery document (OpenID Connect Discovery 1.0, RFC 8414) this crate uses:
/// where keys are, and what an API's documentation tells its clients.
///
/// ```
/// use scopes_runtime::verifying::ProviderMetadata;
/// let metadata: ProviderMetadata = serde_json::from_str(r#"{
///     "issuer": "https://auth.example",
///     "jwks_uri": "https://auth.example/jwks",
///     "authorization_endpoint": "https://auth.example/auth",
///     "token_endpoint": "https://auth.example/token",
///     "grant_types_supported": ["authorization_code", "client_credentials"]
/// }"#).unwrap();
/// assert!(metadata.supports_grant("client_credentials"));
/// assert!(!metadata.supports_grant("password"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer, as its tokens name it.
    pub issuer: String,
    /// Where the provider publishes its keys.
    pub jwks_uri: String,
    /// Where a browser is sent to log in (authorization code flow).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Where tokens are requested.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The grants the provider offers; RFC 8414's default, `authorization_code` and `implicit`, when absent.
    #[serde(default)]
    pub grant_types_supported: Option<Vec<String>>,
    /// Where tokens are introspected (RFC 7662), when the provider says.
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// Where tokens are revoked (RFC 7009), when the provider says.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// The PKCE methods the provider accepts.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Whether the document came from OpenID Connect discovery (not RFC 8414's).
    #[serde(skip)]
    pub openid_connect: bool,
}

impl ProviderMetadata {
    /// Whether the provider offers `grant` (RFC 8414 §2's default when it lists none).
    pub fn supports_grant(&self, grant: &str) -> bool {
        match &self.grant_types_supported {
            Some(grants) => grants.iter().any(|supported| supported == grant),
            None => matches!(grant, "authorization_code" | "implicit"),
        }
    }
}

/// Why a fetch failed; logged, and kept for [`crate::Authority`]'s status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("GET {url}: {reason}")]
    Http { url: String, reason: String },
    /// The server answered with an error status (other than 404).
    #[error("{url}: answered {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: the document is over {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("the discovery document at {url} is not valid: {reason}")]
    BadMetadata { url: String, reason: String },
    #[error("the discovery document at {url} names the issuer `{found}`, not `{expected}`")]
    IssuerMismatch { url: String, found: String, expected: String },
    #[error("the key set at {url} is not usable: {reason}")]
    BadKeySet { url: String, reason: String },
}

/// The client used unless a provider brings its own: rustls with the Mozilla roots, no cookies, a few
/// redirects at most, each to a URL the direct rules accept ([`follows`]).
static DEFAULT_CLIENT: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match follows(attempt.previous().first(), attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refused) => attempt.error(refused),
            }
        }))
        .user_agent(concat!("scopes-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| error.to_string())
});

/// The most redirects one fetch follows.
const MAX_REDIRECTS: usize = 3;

/// Whether a fetch that started at `from` may follow a redirect to `to`: every hop is held to the rules a
/// URL given directly is ([`check_url`]: https, or plain http on a loopback address), and a redirect never
/// turns towards a loopback address from elsewhere; a provider allowed plain http for its own URLs is
/// followed over https only.
fn follows(from: Option<&reqwest::Url>, to: &reqwest::Url) -> Result<(), String> {
    let refused = |why: &str| format!("refused to follow a redirect to {to}: {why}");
    check_url(to.as_str(), false).map_err(|error| refused(&error.to_string()))?;
    if from.is_some_and(|from| !is_loopback(from)) && is_loopback(to) {
        return Err(refused("it leads from elsewhere to a loopback address"));
    }
    Ok(())
}

/// The HTTP client `provider`'s requests go through: its own, or the default (rustls, Mozilla's roots).
pub(crate) fn client_for(provider: &Provider) -> Result<&reqwest::Client, FetchError> {
    match &provider.client {
        Some(client) => Ok(client),
        None => DEFAULT_CLIENT
            .as_ref()
            .map_err(|reason| FetchError::Http { url: provider.issuer.clone(), reason: reason.clone() }),
    }
}

/// Fetches `provider`'s key set, discovering where it is first unless the provider names it.
pub(crate) async fn fetch(provider: &Provider) -> Result<Fetched, FetchError> {
    let client = client_for(provider)?;
    let (jwks_url, metadata) = match &provider.jwks_url {
        Some(url) => (url.clone(), None),
        None => {
            let metadata = discover(client, provider).await?;
            (metadata.jwks_uri.clone(), Some(metadata))
        }
    };
    // A discovered `jwks_uri` is held to the same rules as a configured one.
    check_url(&jwks_url, provider.plain_http)
        .map_err(|error| FetchError::BadMetadata { url: jwks_url.clone(), reason: error.to_string() })?;
    let (document, headers) = get(client, provider, &jwks_url)
        .await?
        .ok_or_else(|| FetchError::Http { url: jwks_url.clone(), reason: "404 Not Found".into() })?;
    let text = String::from_utf8(document)
        .map_err(|_| FetchError::BadKeySet { url: jwks_url.clone(), reason: "not UTF-8".into() })?;
    let keys =
        KeySet::from_jwks(&text).map_err(|error| FetchError::BadKeySet { url: jwks_url, reason: error.to_string() })?;
    Ok(Fetched { keys, metadata, ttl: time_to_live(&headers, provider) })
}

/// The provider's discovery document: OpenID Connect's, or RFC 8414's when that one is not found.
pub(crate) async fn discover(client: &reqwest::Client, provider: &Provider) -> Result<ProviderMetadata, FetchError> {
    let issuer = provider.issuer.trim_end_matches('/');
    let openid = format!("{issuer}/.well-known/openid-configuration");
    let (url, document, openid_connect) = match get(client, provider, &openid).await? {
        Some((document, _)) => (openid, document, true),
        None => {
            let oauth = oauth_metadata_url(&provider.issuer)
                .ok_or_else(|| FetchError::Http { url: openid.clone(), reason: "404 Not Found".into() })?;
            let found = get(client, provider, &oauth).await?;
            let (document, _) =
                found.ok_or_else(|| FetchError::Http { url: oauth.clone(), reason: "404 Not Found".into() })?;
            (oauth, document, false)
        }
    };
    let mut metadata: ProviderMetadata = serde_json::from_slice(&document)
        .map_err(|error| FetchError::BadMetadata { url: url.clone(), reason: error.to_string() })?;
    // OpenID Connect Discovery §4.3 and RFC 8414 §3.3: a document for another issuer is not this one's.
    if metadata.issuer != provider.issuer {
        return Err(FetchError::IssuerMismatch { url, found: metadata.issuer, expected: provider.issuer.clone() });
    }
    metadata.openid_connect = openid_connect;
    Ok(metadata)
}

/// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
fn oauth_metadata_url(issuer: &str) -> Option<String> {
    let url = reqwest::Url::parse(issuer).ok()?;
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    Some(format!("{origin}/.well-known/oauth-authorization-server{path}"))
}

/// GETs `url` within the provider's time and size limits: the body and headers, or `None` on 404.
async fn get(
    client: &reqwest::Client,
    provider: &Provider,
    url: &str,
) -> Result<Option<(Vec<u8>, HeaderMap)>, FetchError> {
    exchange(client.get(url).header(ACCEPT, "application/json"), provider, url).await
}

/// Sends `request` (to `url`) and reads the answer within the provider's time and size limits: the body
/// and headers, or `None` on 404.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    provider: &Provider,
    url: &str,
) -> Result<Option<(Vec<u8>, HeaderMap)>, FetchError> {
    let failed = |reason: String| FetchError::Http { url: url.to_owned(), reason };
    let limit = provider.refresh.max_document_bytes;
    let exchange = async {
        let mut response = request.send().await.map_err(|error| failed(error_chain(&error)))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(FetchError::Status { url: url.to_owned(), status: response.status().as_u16() });
        }
        let too_large = || FetchError::TooLarge { url: url.to_owned(), limit };
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| failed(error_chain(&error)))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some((body, headers)))
    };
    // One deadline for the whole exchange, so a provider trickling its answer cannot hold a fetch open.
    tokio::time::timeout(provider.refresh.fetch_timeout, exchange)
        .await
        .unwrap_or_else(|_| Err(failed(format!("no complete answer within {:?}", provider.refresh.fetch_timeout))))
}

/// An error with its causes, which say what actually failed (refused, reset, certificate).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// How long to keep a set: `max-age` (`no-cache`/`no-store` count as none), or the default, within bounds.
fn time_to_live(headers: &HeaderMap, provider: &Provider) -> Duration {
    let refresh = &provider.refresh;
    let directives = headers.get_all(CACHE_CONTROL).iter().filter_map(|value| value.to_str().ok());
    let mut max_age = None;
    for directive in directives.flat_map(|value| value.split(',')).map(str::trim) {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => max_age = Some(Duration::ZERO),
            "max-age" if max_age.is_none() => {
                max_age = value.trim_matches('"').parse::<u64>().ok().map(Duration::from_secs);
            }
            _ => {}
        }
    }
    max_age.unwrap_or(refresh.default_ttl).clamp(refresh.min_ttl, refresh.max_ttl.max(refresh.min_ttl))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redirect_is_followed_only_where_a_url_given_directly_would_be() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        let from_remote = url("https://auth.example/.well-known/openid-configuration");
        let from_loopback = url("http://127.0.0.1:8080/jwks");
        assert!(super::follows(Some(&from_remote), &url("https://keys.example/jwks")).is_ok());
        assert!(super::follows(Some(&from_loopback), &url("http://127.0.0.1:9090/jwks")).is_ok());
        for (from, to) in [
            (&from_remote, "http://keys.example/jwks"),
            (&from_loopback, "http://keys.example/jwks"),
            (&from_remote, "http://127.0.0.1:8080/jwks"),
            (&from_remote, "https://localhost/jwks"),
            (&from_remote, "file:///etc/passwd"),
        ] {
            let refused = super::follows(Some(from), &url(to)).unwrap_err();
            assert!(refused.contains("refused to follow a redirect"), "{from} -> {to}: {refused}");
        }
    }

    use super::*;
    use reqwest::header::HeaderValue;

    fn ttl(cache_control: Option<&str>) -> Duration {
        let mut headers = HeaderMap::new();
        if let Some(value) = cache_control {
            headers.insert(CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
        }
        time_to_live(&headers, &Provider::discover("https://auth.example"))
    }

    #[test]
    fn max_age_is_honoured_within_bounds() {
        assert_eq!(ttl(None), Duration::from_secs(600));
        assert_eq!(ttl(Some("public, max-age=3600")), Duration::from_secs(3600));
        assert_eq!(ttl(Some("max-age=5")), Duration::from_secs(60), "raised to the minimum");
        assert_eq!(ttl(Some("max-age=9999999")), Duration::from_secs(86400), "cut to the maximum");
        assert_eq!(ttl(Some("no-store")), Duration::from_secs(60));
        assert_eq!(ttl(Some("no-cache, max-age=3600")), Duration::from_secs(60));
        assert_eq!(ttl(Some("max-age=\"120\"")), Duration::from_secs(120));
        assert_eq!(ttl(Some("max-age=-1")), Duration::from_secs(600), "unreadable: the default");
        assert_eq!(ttl(Some("max-age=99999999999999999999999")), Duration::from_secs(600));
    }

    #[test]
    fn oauth_metadata_goes_between_host_and_path() {
        assert_eq!(
            oauth_metadata_url("https://auth.example/tenant/1").unwrap(),
            "https://auth.example/.well-known/oauth-authorization-server/tenant/1"
        );
        assert_eq!(
            oauth_metadata_url("https://auth.example:8443/").unwrap(),
            "https://auth.example:8443/.well-known/oauth-authorization-server"
        );
    }
}
