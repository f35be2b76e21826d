//! Verifying tokens: reading the bearer token of a request ([`bearer`]), the [`Authority`](crate::Authority)
//! that checks it under one policy through one [`Verifier`](verifier::Verifier) interface, which a shared
//! secret, a key set in hand ([`KeySet`]) and providers whose keys are fetched and kept fresh
//! ([`Provider`]) implement; the [`Claims`](crate::Claims) it yields, with the scopes read where each
//! provider writes them ([`ScopeClaim`]).

pub(crate) mod authority;
pub mod bearer;
pub(crate) mod claims;
mod fetch;
mod keys;
pub(crate) mod live_keys;
mod provider;
mod providers;
mod revocations;
mod ring_keys;
mod scope_claim;
mod shared_secret;
mod static_keys;
pub(crate) mod verifier;

pub use fetch::ProviderMetadata;
pub(crate) use keys::VerifyingKey;
pub use keys::{KeySet, KeySetError};
pub(crate) use provider::check_url;
pub use provider::{KeyRefresh, Provider, ProviderError};
pub use revocations::Revocations;
pub use scope_claim::ScopeClaim;
