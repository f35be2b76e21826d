//! Key material, below everything that verifies, issues or stores it: the algorithms an issuer signs with
//! ([`SigningAlgorithm`]), its key pairs ([`SigningKey`]) and the ring that rotates them ([`KeyRing`]);
//! public key sets as providers publish them ([`KeySet`]); what signs an authority's tokens; and the clock
//! and randomness keys are dated and made with.

pub(crate) mod clock;
mod ecdsa;
mod key_set;
pub(crate) mod random;
mod ring;
pub(crate) mod signer;
pub(crate) mod signing_key;

pub use ecdsa::verify_ecdsa_with_ring;
pub use key_set::{KeySet, KeySetError};
pub(crate) use key_set::{Unselected, VerifyingKey};
pub use ring::KeyRing;
pub use signing_key::{ROTATION_GRACE, SigningAlgorithm, SigningKey, SigningKeyError, UnknownAlgorithm};
