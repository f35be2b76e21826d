#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

#[requires(any("s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16"))]
async fn read(_user: User) {}

fn main() {}
