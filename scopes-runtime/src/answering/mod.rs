//! Answering refusals: what can go wrong ([`error`]) and how each app's clients are told ([`style`]).

pub(crate) mod error;
pub mod style;
