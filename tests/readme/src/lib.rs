//! The workspace's README, as this crate's documentation: every ```rust block in it is a doc test, compiled
//! by `cargo test` in the context `context.rs` gives it (see `build.rs`).

#[doc = include_str!(concat!(env!("OUT_DIR"), "/README.md"))]
pub mod readme {}
