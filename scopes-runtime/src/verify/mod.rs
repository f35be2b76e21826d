//! Verifying tokens from identity providers: their published keys ([`KeySet`], each key with its pinned
//! algorithm) and where their tokens carry scopes ([`ScopeClaim`]). [`Authority::from_key_set`](crate::Authority::from_key_set)
//! joins them with the verification policy.

mod keys;
mod scope_claim;

pub use keys::{KeySet, KeySetError};
pub use scope_claim::ScopeClaim;
