//! Login timing and latency under login load, measured against the demo's router served by the demo's own
//! stack (`demo::serve`) on loopback ports, under each password policy: Argon2id at OWASP's parameters (the
//! default) and bcrypt at cost 12 (the seed's), each server's users hashed under its own policy.
//!
//! `cargo bench -p scopes-tests --bench login` prints:
//! 1. for each policy, the first `/token` time after start-up for an unknown user, then the median for an
//!    unknown user and for a wrong password, in rounds alternating between the policies (an unknown user
//!    costs the same work as a known one, from the very first login, since the stand-in hash is made at
//!    start-up), and the ratio of the policies' medians;
//! 2. `/status/` latency (p50, p99) alone, then while four clients post to `/token` without pause, and the
//!    logins per second meanwhile, for each policy in turn, twice. The seed app, which runs bcrypt on its
//!    event loop, answers `/status/` in 600 ms (median) under the same load;
//! 3. under the demo's default throttle and queue, 60 failing logins sent at once from 60 addresses
//!    (127.0.1.x), and a correct login from another address 0.5 s later: how each was answered and how fast.
//!
//! The servers run on their own multi-threaded runtime; the clients on another, in other threads. For 1
//! and 2 the login throttle is off, so repeated failures measure the password checks rather than the
//! throttle's delays.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use demo::users::{UserStore, seed_accounts};
use scopes_runtime::{Authority, ResponseStyle, issuing::PasswordPolicy, issuing::ThrottlePolicy, store::MemoryStore};
use scopes_tests::logins::{TokenAnswer, client_at, login};
use scopes_tests::transport::OverTcp;

const SECRET: &[u8] = b"benchmark-secret-of-at-least-32-bytes";
const LOGIN_ROUNDS: usize = 25;
const LOAD_CLIENTS: usize = 4;
const STATUS_SAMPLES: usize = 400;
const FLOOD: u8 = 60;

/// The demo with the seed's users, their passwords hashed under `policy` (which also makes the stand-in).
fn start_server(throttle: Option<ThrottlePolicy>, policy: PasswordPolicy) -> SocketAddr {
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
        runtime.block_on(async move {
            let authority = Authority::hs256(SECRET).expect("secret").with_response_style(ResponseStyle::Seed);
            let authority = authority.with_request_parsing(demo::request_parsing_for(&ResponseStyle::Seed));
            let accounts = seed_accounts().into_iter().map(|account| {
                let password = if account.username == "johndoe" { "secret" } else { "secretalice" };
                scopes_runtime::Account { password_hash: policy.hash(password).expect("a hash"), ..account }
            });
            let users = UserStore::Memory(MemoryStore::new(accounts));
            let state = demo::AppState::with_users(authority, users).with_password_policy(policy);
            let state = match throttle {
                Some(policy) => state.with_throttle(policy),
                None => state,
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ready_tx.send(listener.local_addr().expect("address")).expect("report the address");
            let limits = demo::serve::ServeLimits::default();
            demo::serve::serve(listener, demo::router(state), limits, std::future::pending()).await.expect("serve");
        });
    });
    ready.recv().expect("the server starts")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn status_latencies(client: &reqwest::Client, base: &str, token: &str, samples: usize) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let response = client.get(format!("{base}/status/")).bearer_auth(token).send().await.expect("answer");
        assert_eq!(response.status(), 200);
        let _ = response.bytes().await;
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    latencies
}

/// The policies compared, by name.
fn policies() -> [(&'static str, PasswordPolicy); 2] {
    [
        ("Argon2id (OWASP: 19 MiB, 2 passes, 1 lane)", PasswordPolicy::OWASP_ARGON2ID),
        ("bcrypt cost 12", PasswordPolicy::bcrypt(12).expect("a valid cost")),
    ]
}

fn main() {
    let servers: Vec<(&str, String)> = policies()
        .into_iter()
        .map(|(name, policy)| (name, format!("http://{}", start_server(Some(ThrottlePolicy::disabled()), policy))))
        .collect();
    let flood_base = format!("http://{}", start_server(None, PasswordPolicy::default()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let to = |base: &str| OverTcp::with_client(base.to_owned(), client.clone());
        println!("scopes login benchmark, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

        // The first login after start-up, before anything warmed up: the stand-in hash was made at start-up.
        let mut first = Vec::new();
        for (_, base) in &servers {
            let TokenAnswer { status, took, .. } = login(&to(base), "first-unknown", "x", "me").await;
            assert_eq!(status, 400);
            first.push(took);
            login(&to(base), "johndoe", "warm-up-wrong", "me").await;
        }

        // Alternating between the policies, round by round, so drift in the machine falls on both alike.
        let mut unknown = vec![Vec::new(); servers.len()];
        let mut wrong = vec![Vec::new(); servers.len()];
        // Which of the two goes first alternates too: the first login after the other server's is the one
        // whose caches the other's work has cooled.
        for round in 0..LOGIN_ROUNDS {
            for (index, (_, base)) in servers.iter().enumerate() {
                for unknown_user in if round % 2 == 0 { [true, false] } else { [false, true] } {
                    if unknown_user {
                        let answer = login(&to(base), &format!("ghost-{round}"), "secret", "me").await;
                        assert_eq!(answer.status, 400);
                        unknown[index].push(answer.took);
                    } else {
                        let answer = login(&to(base), "johndoe", "not-the-password", "me").await;
                        assert_eq!(answer.status, 400);
                        wrong[index].push(answer.took);
                    }
                }
            }
        }
        let mut medians = Vec::new();
        for (index, (name, _)) in servers.iter().enumerate() {
            unknown[index].sort();
            wrong[index].sort();
            let (unknown_median, wrong_median) = (percentile(&unknown[index], 0.5), percentile(&wrong[index], 0.5));
            println!(
                "{name}: /token median over {LOGIN_ROUNDS} rounds: unknown user {:.1} ms, wrong password {:.1} ms, \
                 ratio {:.3}; the first login after start-up (unknown user) {:.1} ms, {:.3}x that median",
                millis(unknown_median),
                millis(wrong_median),
                unknown_median.as_secs_f64() / wrong_median.as_secs_f64(),
                millis(first[index]),
                first[index].as_secs_f64() / wrong_median.as_secs_f64()
            );
            medians.push(wrong_median);
        }
        println!(
            "/token median, {} against {}: {:.3}x",
            servers[0].0,
            servers[1].0,
            medians[0].as_secs_f64() / medians[1].as_secs_f64()
        );

        for round in 1..=2 {
            for (name, base) in &servers {
                under_login_load(&client, name, base, round).await;
            }
        }

        flood(&flood_base).await;
    });
}

/// `/status/` latency alone, then while `LOAD_CLIENTS` clients log in without pause (half with the right
/// password, half with a wrong one), and the logins per second meanwhile.
async fn under_login_load(client: &reqwest::Client, name: &str, base: &str, round: usize) {
    let token = {
        let response = client
            .post(format!("{base}/token"))
            .form(&[("username", "johndoe"), ("password", "secret")])
            .send()
            .await
            .expect("login");
        response.json::<serde_json::Value>().await.expect("token")["access_token"].as_str().expect("a token").to_owned()
    };
    let idle = status_latencies(client, base, &token, STATUS_SAMPLES).await;

    let running = Arc::new(AtomicBool::new(true));
    let logins = Arc::new(AtomicU64::new(0));
    let mut load = Vec::new();
    for worker in 0..LOAD_CLIENTS {
        let (running, logins, base) = (running.clone(), logins.clone(), base.to_owned());
        load.push(tokio::spawn(async move {
            let client = OverTcp::new(base);
            while running.load(Ordering::Relaxed) {
                let password = if worker % 2 == 0 { "secret" } else { "wrong" };
                login(&client, "johndoe", password, "me").await;
                logins.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (counted_before, load_started) = (logins.load(Ordering::Relaxed), Instant::now());
    let loaded = status_latencies(client, base, &token, STATUS_SAMPLES).await;
    let load_seconds = load_started.elapsed().as_secs_f64();
    let counted = logins.load(Ordering::Relaxed) - counted_before;
    running.store(false, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    println!(
        "{name}, round {round}: /status/ alone p50 {:.2} ms, p99 {:.2} ms; while {LOAD_CLIENTS} clients post to \
         /token p50 {:.2} ms, p99 {:.2} ms ({STATUS_SAMPLES} samples each); /token meanwhile {:.1} logins/s",
        millis(percentile(&idle, 0.5)),
        millis(percentile(&idle, 0.99)),
        millis(percentile(&loaded, 0.5)),
        millis(percentile(&loaded, 0.99)),
        counted as f64 / load_seconds
    );
}

/// 60 failing logins at once from 60 addresses, half for `johndoe` and half for unknown names, and a
/// correct login from another address 0.5 s later, against the demo's default throttle and queue.
async fn flood(base: &str) {
    let flooders: Vec<OverTcp> = (1..=FLOOD).map(|i| client_at(base, 0, 1, i)).collect();
    let flood = futures_util::future::join_all(flooders.iter().enumerate().map(|(i, client)| async move {
        login(client, if i % 2 == 0 { "johndoe" } else { "nobody" }, "wrong", "me").await
    }));
    // The newcomer follows `Retry-After` as a client should, once, and reports both answers.
    let newcomer = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let client = client_at(base, 0, 2, 1);
        let started = Instant::now();
        let answer = login(&client, "johndoe", "secret", "me").await;
        let (status, took, retry_after) = (answer.status, answer.took, answer.retry_after());
        let retried = match retry_after {
            Some(seconds) => {
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                Some(login(&client, "johndoe", "secret", "me").await.status)
            }
            None => None,
        };
        (status, took, retry_after, retried, started.elapsed())
    };
    let (flood, (newcomer_status, newcomer_took, retry_after, retried, in_all)) = tokio::join!(flood, newcomer);
    let count = |status: u16| flood.iter().filter(|answer| answer.status == status).count();
    let mut took: Vec<Duration> = flood.iter().map(|answer| answer.took).collect();
    took.sort();
    println!(
        "flood of {FLOOD} failing logins from {FLOOD} addresses: {} checked (400), {} turned away at once (503), \
         {} throttled (429); answered in p50 {:.0} ms, max {:.0} ms",
        count(400),
        count(503),
        count(429),
        millis(percentile(&took, 0.5)),
        millis(took[took.len() - 1])
    );
    println!(
        "a correct login sent 0.5 s into the flood: {newcomer_status} after {:.0} ms (bar: answered within 3 s)",
        millis(newcomer_took)
    );
    if let (Some(seconds), Some(status)) = (retry_after, retried) {
        println!(
            "  retried after its Retry-After of {seconds} s: {status}, {:.0} ms after the first try",
            millis(in_all)
        );
    }
}
