//! DPoP proofs for a load benchmark (benches/beyond_bearer.py): a token for johndoe granting `me items`,
//! signed with the demo's secret and bound to a fresh ES256 key, then that many proofs of the key for
//! `GET URL`, each with its own `jti` and made now, one per line after the token: a benchmark client sends a
//! new proof with every request, as a real client must (the server refuses a proof it has seen).
//!
//! `DEMO_SECRET_KEY=... cargo run --release -p demo --example dpop_proofs -- URL COUNT > proofs.txt`

use std::io::Write;

use scopes_runtime::testing::DpopKey;
use scopes_runtime::{Authority, Claims};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(count)) = (args.next(), args.next().and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: dpop_proofs URL COUNT (with DEMO_SECRET_KEY set)");
        std::process::exit(2);
    };
    let secret = std::env::var("DEMO_SECRET_KEY").unwrap_or_else(|_| {
        eprintln!("DEMO_SECRET_KEY is not set: the token must be signed with the server's secret");
        std::process::exit(2);
    });
    let authority = Authority::hs256(secret.as_bytes()).unwrap_or_else(|error| {
        eprintln!("DEMO_SECRET_KEY: {error}");
        std::process::exit(2);
    });
    let key = DpopKey::generate();
    let expires =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |now| now.as_secs()) + 3600;
    let mut claims = Claims::new("johndoe", ["me", "items"], expires);
    key.bind(&mut claims);
    let token = authority.sign(&claims).expect("the secret signs");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = writeln!(out, "{token}")
        .and_then(|()| (0..count).try_for_each(|_| writeln!(out, "{}", key.proof("GET", &url, Some(&token)))));
    if written.and_then(|()| out.flush()).is_err() {
        std::process::exit(1);
    }
}
