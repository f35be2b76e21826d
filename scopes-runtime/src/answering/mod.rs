//! Answering refusals: what can go wrong ([`AuthError`]) and how each app's clients are told ([`style`]).

pub(crate) mod error;
pub mod style;

pub use error::{AuthError, Challenge, ValidationIssue};
pub use style::ResponseStyle;
