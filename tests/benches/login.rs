//! Login timing and latency under login load, measured against the demo's router on a loopback port.
//!
//! `cargo bench -p scopes-tests --bench login` prints:
//! 1. the median `/token` time for an unknown user and for a wrong password (they should match: an
//!    unknown user costs the same bcrypt work), in alternating rounds;
//! 2. `/status/` latency (p50, p99) alone, then while four clients post to `/token` without pause, and
//!    the ratio. The seed app, which runs bcrypt on its event loop, answers `/status/` in 600 ms (median)
//!    under the same load.
//!
//! The server runs on its own multi-threaded runtime; the clients on another, in other threads. The
//! login throttle is off, so repeated failures measure bcrypt rather than the throttle's delays.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scopes_runtime::{ResponseStyle, ThrottlePolicy};

const SECRET: &[u8] = b"benchmark-secret-of-at-least-32-bytes";
const LOGIN_ROUNDS: usize = 25;
const LOAD_CLIENTS: usize = 4;
const STATUS_SAMPLES: usize = 400;

fn start_server() -> SocketAddr {
    let (ready_tx, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("server runtime");
        runtime.block_on(async move {
            let state = demo::AppState::new(SECRET, ResponseStyle::Seed)
                .expect("secret")
                .with_throttle(ThrottlePolicy::disabled());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            ready_tx.send(listener.local_addr().expect("address")).expect("report the address");
            let app = demo::router(state).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await.expect("serve");
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

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> (u16, Duration) {
    let started = Instant::now();
    let response = client
        .post(format!("{base}/token"))
        .form(&[("username", username), ("password", password), ("scope", "me")])
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    (status, started.elapsed())
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

fn main() {
    let address = start_server();
    let base = format!("http://{address}");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        println!("scopes login benchmark, {} cores", std::thread::available_parallelism().map_or(0, |n| n.get()));

        // Warm-up: the stand-in hash for unknown users is made on first use.
        login(&client, &base, "warm-up-unknown", "x").await;
        login(&client, &base, "johndoe", "warm-up-wrong").await;

        let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
        for round in 0..LOGIN_ROUNDS {
            let (status, elapsed) = login(&client, &base, &format!("ghost-{round}"), "secret").await;
            assert_eq!(status, 400);
            unknown.push(elapsed);
            let (status, elapsed) = login(&client, &base, "johndoe", "not-the-password").await;
            assert_eq!(status, 400);
            wrong.push(elapsed);
        }
        unknown.sort();
        wrong.sort();
        let (unknown_median, wrong_median) = (percentile(&unknown, 0.5), percentile(&wrong, 0.5));
        println!(
            "/token median over {LOGIN_ROUNDS} alternating rounds: unknown user {:.1} ms, wrong password {:.1} ms, ratio {:.3}",
            millis(unknown_median),
            millis(wrong_median),
            unknown_median.as_secs_f64() / wrong_median.as_secs_f64()
        );

        let token = {
            let response = client
                .post(format!("{base}/token"))
                .form(&[("username", "johndoe"), ("password", "secret")])
                .send()
                .await
                .expect("login");
            response.json::<serde_json::Value>().await.expect("token")["access_token"].as_str().expect("a token").to_owned()
        };
        let idle = status_latencies(&client, &base, &token, STATUS_SAMPLES).await;

        let running = Arc::new(AtomicBool::new(true));
        let logins = Arc::new(AtomicU64::new(0));
        let mut load = Vec::new();
        for worker in 0..LOAD_CLIENTS {
            let (running, logins, base) = (running.clone(), logins.clone(), base.clone());
            load.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                while running.load(Ordering::Relaxed) {
                    let password = if worker % 2 == 0 { "secret" } else { "wrong" };
                    login(&client, &base, "johndoe", password).await;
                    logins.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let load_started = Instant::now();
        let loaded = status_latencies(&client, &base, &token, STATUS_SAMPLES).await;
        let load_seconds = load_started.elapsed().as_secs_f64();
        running.store(false, Ordering::Relaxed);
        for task in load {
            let _ = task.await;
        }

        for (label, latencies) in [("alone", &idle), (&*format!("while {LOAD_CLIENTS} clients post to /token"), &loaded)] {
            println!(
                "/status/ latency {label}: p50 {:.2} ms, p99 {:.2} ms ({} samples)",
                millis(percentile(latencies, 0.5)),
                millis(percentile(latencies, 0.99)),
                latencies.len()
            );
        }
        println!(
            "/status/ p99 under /token load vs alone: {:.2}x; /token throughput meanwhile {:.1} logins/s",
            percentile(&loaded, 0.99).as_secs_f64() / percentile(&idle, 0.99).as_secs_f64(),
            logins.load(Ordering::Relaxed) as f64 / load_seconds
        );
    });
}
