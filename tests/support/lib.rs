//! Shared by the integration tests: the seed's recorded behaviour as a table of cases
//! ([`cases`]), the tokens they use ([`tokens`]), and the two ways of sending them ([`transport`]):
//! straight into the demo's router, or over TCP to the demo binary; [`logins`], logging in from chosen loopback addresses; and [`minimal`], an app for tests that
//! declare their own registry.

pub mod cases;
pub mod cli;
pub mod dpop;
pub mod logins;
pub mod minimal;
pub mod postgres;
pub mod provider;
pub mod redis;
pub mod server;
pub mod tokens;
pub mod transport;

/// The signing secret every test server uses, so tests can mint tokens of any shape.
pub const SECRET: &str = "test-secret-for-the-scopes-integration-tests";
