//! A flood of distinct valid tokens against one authority's token cache: the process' resident memory before
//! and after, against the cache's configured bound. Each token is shaped as a provider's access token (`iss`,
//! `aud`, `jti`, `client_id`, `scope`, `iat`), minted just before it is verified and dropped after, so what
//! grows is what the cache keeps.
//!
//! `cargo run --release -p demo --example token_flood -- [TOKENS] [BOUND_BYTES] [provider|seed]` (100 000, the
//! default bound of 16 MiB, and a provider's token shape unless given; `seed` is the demo's own tokens: `sub`,
//! `scopes`, `exp`). See BENCHMARKS.md.

use scopes_runtime::verifying::TokenCache;
use scopes_runtime::{Authority, Claims};

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let tokens: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let bound: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(TokenCache::DEFAULT_MAX_BYTES);
    let seed_shaped = args.next().as_deref() == Some("seed");
    let authority = Authority::hs256(b"token-flood-benchmark-secret-32-bytes")
        .expect("a long enough secret")
        .with_token_cache(TokenCache::new(bound));
    let cache = authority.token_cache().expect("a cache").clone();
    let exp = 4_000_000_000;
    let token = |n: u64| {
        let mut claims = Claims::new(format!("user-{n}"), ["me", "items"], exp);
        if seed_shaped {
            return authority.sign(&claims).expect("signing");
        }
        for (name, value) in [
            ("iss", "https://auth.example/realms/api".to_owned()),
            ("aud", "https://api.example".to_owned()),
            ("jti", format!("{n:032x}")),
            ("client_id", "todo-web".to_owned()),
        ] {
            claims.extra.insert(name.into(), value.into());
        }
        claims.extra.insert("iat".into(), (exp - 1800).into());
        authority.sign(&claims).expect("signing")
    };
    // Warm up: the allocator's arenas and the cache's tables, on a few tokens.
    for n in 0..1000 {
        authority.verify(&token(u64::MAX - n)).expect("verified");
    }
    cache.clear();
    let before = resident_kib();
    let mut length = 0;
    for n in 0..tokens {
        let minted = token(n);
        length = minted.len();
        authority.verify(&minted).expect("verified");
    }
    let after = resident_kib();
    let grown = after.saturating_sub(before);
    println!(
        "{tokens} distinct tokens of {length} bytes: the cache holds {} ({} bytes counted, bound {bound}); \
         resident memory {before} KiB -> {after} KiB, grown {grown} KiB = {:.2}x the bound",
        cache.len(),
        cache.weight(),
        (grown * 1024) as f64 / bound as f64,
    );
}
