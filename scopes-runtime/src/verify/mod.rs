//! Verifying tokens from identity providers: their published keys ([`KeySet`], each key with its pinned
//! algorithm), where their tokens carry scopes ([`ScopeClaim`]), and providers whose keys are fetched and
//! kept fresh ([`Provider`]). [`Authority::from_key_set`](crate::Authority::from_key_set) and
//! [`Authority::from_providers`](crate::Authority::from_providers) join them with the verification policy.

mod fetch;
mod keys;
pub(crate) mod live_keys;
mod provider;
mod scope_claim;

pub use fetch::ProviderMetadata;
pub(crate) use keys::VerifyingKey;
pub use keys::{KeySet, KeySetError};
pub(crate) use provider::check_url;
pub use provider::{KeyRefresh, Provider, ProviderError};
pub use scope_claim::ScopeClaim;
