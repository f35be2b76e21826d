"""Build-time cost of `#[requires]`: a crate of 100 annotated handlers against the same crate without the
annotations, compiled in alternating rounds after their dependencies are built. Prints each round, the
medians and the ratio. Run through `scripts/build-time-bench`.

Environment: ROUNDS (default 3), PROFILE (`dev` or `release`, default dev), EXTRA_MANIFEST (TOML appended to
both crates' manifests, `\n` for newlines, e.g. a `[profile.dev.build-override]` for experiments).
"""

import os
import statistics
import subprocess
import sys
import time

ROUNDS = int(os.environ.get("ROUNDS", "3"))
# `release` or `dev`: the profile both crates are built with.
PROFILE = os.environ.get("PROFILE", "dev")
HANDLERS = 100
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORK = os.path.join(ROOT, "target", "build-time-bench")

MANIFEST = """[package]
name = "{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
scopes-runtime = {{ path = "{root}/scopes-runtime", default-features = false }}
axum = {{ version = "0.8", default-features = false, features = ["macros"] }}

[workspace]
{extra}"""

PRELUDE = """#![allow(unused_imports)]
use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = { "me" => "Read information about the current user.", "items" => "Read items." },
}

#[derive(Clone, FromRef)]
pub struct AppState { pub authority: Authority }

pub struct User(pub String);

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
        Ok(User(claims.sub.clone()))
    }
}

/// The crate without annotations writes the same checks by hand: one extractor per scope set.
pub struct HandWritten<const SCOPES: usize>(pub String);

const SCOPE_SETS: [&[&str]; 3] = [&["me"], &["me", "items"], &[]];

impl<const SCOPES: usize> axum::extract::FromRequestParts<AppState> for HandWritten<SCOPES> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, AuthError> {
        let value = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or(AuthError::MissingCredentials)?;
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(AuthError::MissingCredentials)?;
        let claims = state.authority.verify(token).map_err(|_| AuthError::invalid_token())?;
        if !SCOPE_SETS[SCOPES].iter().all(|scope| claims.scopes.iter().any(|granted| granted == scope)) {
            return Err(AuthError::InsufficientScope { challenge: Default::default() });
        }
        Ok(HandWritten(claims.sub))
    }
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
"""


def write_crate(name, annotated):
    directory = os.path.join(WORK, name)
    os.makedirs(os.path.join(directory, "src"), exist_ok=True)
    with open(os.path.join(directory, "Cargo.toml"), "w") as manifest:
        manifest.write(MANIFEST.format(name=name, root=ROOT, extra=os.environ.get("EXTRA_MANIFEST", "").replace("\\n", "\n")))
    routes, handlers = [], []
    for i in range(HANDLERS):
        routes.append(f'        .route("/h{i}", axum::routing::get(handler_{i}))')
        if annotated:
            scopes = ['"me"', '"me", "items"', ""][i % 3]
            handlers.append(f"#[requires(scopes = [{scopes}])]\npub async fn handler_{i}(user: User) -> String {{ format!(\"{i} {{}}\", user.0) }}\n")
        else:
            handlers.append(f"pub async fn handler_{i}(user: HandWritten<{i % 3}>) -> String {{ format!(\"{i} {{}}\", user.0) }}\n")
    with open(os.path.join(directory, "src", "lib.rs"), "w") as source:
        source.write(PRELUDE + "\n".join(routes) + "\n}\n\n" + "\n".join(handlers))
    return directory


def build(directory):
    subprocess.run(["touch", os.path.join(directory, "src", "lib.rs")], check=True)
    started = time.perf_counter()
    subprocess.run(["cargo", "build", "--quiet", "--profile", PROFILE], cwd=directory, check=True)
    return time.perf_counter() - started


def main():
    crates = {"annotated": write_crate("annotated", True), "plain": write_crate("plain", False)}
    shared_target = os.path.join(WORK, "target")
    os.environ["CARGO_TARGET_DIR"] = shared_target
    for directory in crates.values():  # dependencies, once, not measured
        subprocess.run(["cargo", "build", "--quiet", "--profile", PROFILE], cwd=directory, check=True)
    times = {name: [] for name in crates}
    for round_number in range(1, ROUNDS + 1):
        for name, directory in crates.items():
            seconds = build(directory)
            times[name].append(seconds)
            print(f"round {round_number} {name:9}: {seconds:.2f} s")
    annotated, plain = statistics.median(times["annotated"]), statistics.median(times["plain"])
    print(f"\ncrate of {HANDLERS} handlers, {PROFILE} build of the crate alone (medians of {ROUNDS} rounds):")
    print(f"  with #[requires]: {annotated:.2f} s, without: {plain:.2f} s, ratio {annotated / plain:.3f}x")


if __name__ == "__main__":
    sys.exit(main())
