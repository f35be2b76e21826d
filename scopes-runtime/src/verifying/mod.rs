//! Verifying tokens: reading the bearer token of a request ([`bearer`]) as strictly as [`RequestParsing`]
//! says; the [`Policy`] every token is held to; the [`Verifier`] interface a shared secret, a key set in
//! hand ([`KeySet`](crate::keys::KeySet)), providers whose keys are fetched and kept fresh ([`Provider`])
//! and an issuer's key ring implement, and an app's own verifier can; the [`Claims`] it yields, with the
//! scopes read where each issuer writes them ([`ScopeClaim`]); and the [`Revocations`] refused although
//! they verify.

pub mod bearer;
pub(crate) mod cache;
mod claims;
pub mod dpop;
mod error;
mod fetch;
mod introspection;
mod live_keys;
pub(crate) mod parsing;
mod policy;
mod provider;
pub(crate) mod providers;
mod revocations;
pub(crate) mod ring_keys;
mod scope_claim;
pub(crate) mod shared_secret;
pub(crate) mod static_keys;
pub(crate) mod verifier;

pub use cache::TokenCache;
pub use claims::{ClaimError, ClaimFormat, Claims};
pub use error::TokenError;
pub use fetch::ProviderMetadata;
pub use introspection::{ClientAuth, Introspection};
pub use parsing::RequestParsing;
pub use policy::Policy;
pub use provider::{KeyRefresh, Provider, ProviderError};
pub use revocations::{Revocations, Revoked};
pub use scope_claim::ScopeClaim;
pub use verifier::{Verifier, Verifying};
