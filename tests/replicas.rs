//! Several replicas of the demo, one policy: two demo processes on two ports share a real PostgreSQL
//! database (the users) and a real Redis (the login throttle's counts), as replicas behind a load balancer
//! do. Failing logins spread across them are throttled as one; Redis going away fails logins closed.
//!
//! The tests share the machine's two cores with the servers' password checks, so they run one at a time.

use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::join_all;
use scopes_tests::logins::{LoginAnswer, client_at, login};
use scopes_tests::redis::{self, RedisServer};
use scopes_tests::server::{RunningDemo, start_demo_with};
use scopes_tests::{SECRET, postgres};

/// One test at a time: each runs several servers' password checks on two cores.
static SERIAL: Mutex<()> = Mutex::new(());

/// Two replicas sharing a fresh PostgreSQL database and the Redis at `redis_url`.
fn replicas(redis_url: &str) -> [RunningDemo; 2] {
    let database = postgres::shared().fresh_database();
    let args = ["--database-url", database.as_str(), "--redis-url", redis_url];
    [start_demo_with(Some(SECRET), &args), start_demo_with(Some(SECRET), &args)]
}

fn run(test: impl AsyncFnOnce()) {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    runtime.block_on(test());
}

fn count(answers: &[LoginAnswer], status: u16) -> usize {
    answers.iter().filter(|answer| answer.status == status).count()
}

#[test]
fn failing_logins_alternating_between_replicas_are_throttled_as_one() {
    run(async || {
        let [first, second] = replicas(&redis::shared().fresh_url());
        let attacker = client_at(0, 15, 1);
        for attempt in 0..10 {
            let replica = if attempt % 2 == 0 { &first } else { &second };
            let answer = login(&attacker, &replica.base, "johndoe", format!("guess-{attempt}")).await;
            assert_eq!(answer.status, 400, "attempt {attempt} is among the policy's ten: {answer:?}");
        }
        // Ten in all, not ten per replica: both refuse the pair now, even with the right password.
        for replica in [&first, &second] {
            let answer = login(&attacker, &replica.base, "johndoe", "secret").await;
            assert_eq!(answer.status, 429, "{answer:?}");
            assert!(answer.retry_after.is_some_and(|seconds| seconds > 60), "locked for the window: {answer:?}");
        }
        // The owner, elsewhere, is slowed down (the account's failures are shared too), not locked out.
        let owner = login(&client_at(0, 15, 2), &second.base, "johndoe", "secret").await;
        assert_eq!(owner.status, 200, "{owner:?}");
    });
}

#[test]
fn simultaneous_guesses_at_both_replicas_get_at_most_the_free_attempts() {
    run(async || {
        let [first, second] = replicas(&redis::shared().fresh_url());
        let attacker = client_at(0, 15, 3);
        let guesses: Vec<_> = (0..40)
            .map(|i| {
                let (attacker, base) = (&attacker, if i % 2 == 0 { &first.base } else { &second.base });
                async move { login(attacker, base, "johndoe", format!("guess-{i}")).await }
            })
            .collect();
        let answers = join_all(guesses).await;
        assert_eq!(count(&answers, 200), 0);
        for answer in &answers {
            match answer.status {
                400 => {}
                429 | 503 => assert!(answer.retry_after.is_some_and(|s| s >= 1), "no Retry-After: {answer:?}"),
                other => panic!("unexpected status {other}: {answer:?}"),
            }
        }
        let checked = count(&answers, 400);
        assert!(checked <= 10, "{checked} of 40 simultaneous guesses at two replicas were checked");
    });
}

#[test]
fn logins_fail_closed_while_redis_is_down_and_recover_when_it_is_back() {
    run(async || {
        // A server of its own: this test stops it.
        let redis = RedisServer::start();
        let [first, second] = replicas(&redis.fresh_url());
        let client = client_at(0, 15, 4);
        assert_eq!(login(&client, &first.base, "johndoe", "secret").await.status, 200);

        redis.stop();
        for replica in [&first, &second] {
            let answer = login(&client, &replica.base, "johndoe", "secret").await;
            assert_eq!(answer.status, 503, "no password is checked without the shared counts: {answer:?}");
            assert!(answer.retry_after.is_some_and(|s| s >= 1), "{answer:?}");
            assert!(answer.took < Duration::from_secs(5), "answered within seconds: {answer:?}");
        }
        // Other requests do not need Redis.
        let token = scopes_tests::tokens::signed("johndoe", &["me"]);
        let me = reqwest::Client::new()
            .get(format!("{}/users/me/", second.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("the replica answers");
        assert_eq!(me.status(), 200);

        redis.resume();
        let mut answer = login(&client, &second.base, "johndoe", "secret").await;
        for _ in 0..50 {
            if answer.status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            answer = login(&client, &second.base, "johndoe", "secret").await;
        }
        assert_eq!(answer.status, 200, "logins resume once Redis is back: {answer:?}");
    });
}
