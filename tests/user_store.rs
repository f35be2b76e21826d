//! The demo's users in real databases: a fresh SQLite file and a fresh PostgreSQL database each answer as
//! the seed; users managed with `demo users` while the server runs, and after a restart; a bcrypt hash
//! upgraded at login; an outage answered 503 within 5 s and counted for nothing; every CLI subcommand and
//! every way it refuses (exit 2, a message, nothing written).

use std::time::{Duration, Instant};

use axum::http::header;
use scopes_runtime::{AccountStore, ResponseStyle, SqlStore, issuing::PasswordPolicy};
use scopes_tests::cases::{bearer, form, run, seed_cases};
use scopes_tests::cli::{users, users_ok};
use scopes_tests::logins::{TokenAnswer, login};
use scopes_tests::postgres::{self, Cluster};
use scopes_tests::server::{demo_binary, start_demo_with};
use scopes_tests::transport::{InProcess, OverTcp, Transport};
use scopes_tests::{SECRET, tokens};
use serde_json::Value;

/// A fresh SQLite database in a temporary directory (removed with the returned guard).
fn sqlite() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/users.db", dir.path().display());
    (dir, url)
}

/// `demo users ...` succeeded; what it printed.
fn ok(url: &str, args: &[&str], stdin: &str) -> String {
    users_ok(url, args, stdin)
}

/// `demo users ...` refused with status 2 and a message containing `says`.
fn refused(url: &str, args: &[&str], stdin: &str, says: &str) {
    let ran = users(url, args, stdin);
    assert_eq!(ran.status, 2, "demo users {args:?} should be refused: {} {}", ran.stdout, ran.stderr);
    assert!(ran.stderr.contains(says), "demo users {args:?} said {:?}, not {says:?}", ran.stderr);
}

/// The scopes a successful login's token grants.
fn granted_scopes(answer: &TokenAnswer) -> Vec<String> {
    assert_eq!(answer.status, 200, "the login succeeds: {}", answer.body);
    let scopes = tokens::payload(&answer.access_token())["scopes"].as_array().cloned().unwrap_or_default();
    scopes.iter().filter_map(|scope| scope.as_str().map(str::to_owned)).collect()
}

fn granted(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|scope| scope.to_string()).collect()
}

/// The seed's parity suite against the demo binary on a database it creates and seeds itself.
async fn answers_as_the_seed(url: &str) {
    let demo = start_demo_with(Some(SECRET), &["--database-url", url]);
    let failures = run(&OverTcp::new(demo.base.clone()), seed_cases()).await;
    assert!(failures.is_empty(), "{} case(s) differ from the seed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn a_fresh_sqlite_database_answers_as_the_seed() {
    let (_dir, url) = sqlite();
    answers_as_the_seed(&url).await;
}

#[tokio::test]
async fn a_fresh_postgres_database_answers_as_the_seed() {
    answers_as_the_seed(&postgres::shared().fresh_database()).await;
}

/// Users added, granted, revoked, disabled, given a new password and removed with the CLI, while the
/// demo binary serves from the same database; then the demo restarts and still knows them.
async fn users_are_managed_while_the_server_runs(url: &str) {
    let demo = start_demo_with(Some(SECRET), &["--database-url", url]);
    let app = OverTcp::new(demo.base.clone());

    let added = ok(url, &["add", "carol", "--scopes", "me", "--full-name", "Carol Cable"], "carol's password\n");
    assert!(added.contains("added carol, allowed me"), "{added}");
    let answer = login(&app, "carol", "carol's password", "me items").await;
    let (scopes, token) = (granted_scopes(&answer), answer.access_token());
    assert_eq!(scopes, granted(&["me"]), "only what the store allows is granted");
    let me = app.send(bearer("/users/me/", &token)).await;
    assert_eq!(me.status, 200);
    let me: Value = serde_json::from_slice(&me.body).unwrap();
    assert_eq!(me["full_name"], "Carol Cable");

    // A change made by another process (the CLI) takes effect within a second: the server keeps accounts in
    // memory and reads the database's change counter a few times a second.
    ok(url, &["grant", "carol", "items"], "");
    let login_grants = async |scopes: &[&str]| {
        granted_scopes(&login(&app, "carol", "carol's password", "me items").await) == granted(scopes)
    };
    within_a_second("the granted scope", async || login_grants(&["me", "items"]).await).await;
    ok(url, &["revoke", "carol", "me"], "");
    within_a_second("the revoked scope", async || login_grants(&["items"]).await).await;

    ok(url, &["grant", "carol", "me"], "");
    within_a_second("the granted scope", async || login_grants(&["me", "items"]).await).await;
    ok(url, &["disable", "carol"], "");
    let token = login(&app, "carol", "carol's password", "me").await.access_token(); // a disabled user still logs in
    within_a_second("the disabled user", async || {
        let inactive = app.send(bearer("/users/me/", &token)).await;
        (inactive.status.as_u16(), inactive.body.as_slice()) == (400, br#"{"detail":"Inactive user"}"#.as_slice())
    })
    .await;
    ok(url, &["enable", "carol"], "");
    within_a_second("the enabled user, with the same token", async || {
        app.send(bearer("/users/me/", &token)).await.status == 200
    })
    .await;

    ok(url, &["passwd", "carol"], "a new password\n");
    within_a_second("the new password", async || {
        let refused = login(&app, "carol", "carol's password", "me").await;
        (refused.status, &refused.body["detail"]) == (400, &Value::from("Incorrect username or password"))
    })
    .await;

    drop(demo);
    let demo = start_demo_with(Some(SECRET), &["--database-url", url]);
    let app = OverTcp::new(demo.base.clone());
    assert_eq!(
        granted_scopes(&login(&app, "carol", "a new password", "me").await),
        granted(&["me"]),
        "after a restart"
    );

    ok(url, &["remove", "carol"], "");
    within_a_second("the removed user", async || login(&app, "carol", "a new password", "me").await.status == 400)
        .await;
}

/// Asserts that `holds` comes true within a second of now (asked every 50 ms): how soon a change made by
/// another process must show.
async fn within_a_second(what: &str, mut holds: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if holds().await {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: not in effect within a second");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sqlite_users_are_managed_while_the_server_runs() {
    let (_dir, url) = sqlite();
    users_are_managed_while_the_server_runs(&url).await;
}

#[tokio::test]
async fn postgres_users_are_managed_while_the_server_runs() {
    users_are_managed_while_the_server_runs(&postgres::shared().fresh_database()).await;
}

/// Two processes' stores on one database: each keeps accounts in memory (a lookup makes no query: a row
/// changed behind the stores' back, without the change counter, still reads as it was), sees its own change
/// at once, and the other's within a second.
async fn accounts_are_cached_and_changes_seen_everywhere_within_a_second(url: &str) {
    let (here, there) = (SqlStore::connect(url).await.unwrap(), SqlStore::connect(url).await.unwrap());
    here.migrate().await.unwrap();
    here.add(&scopes_runtime::Account::new("carol", "$argon2id$stand-in").with_scopes(["me"])).await.unwrap();
    let disabled = async |store: &SqlStore| store.find("carol").await.unwrap().expect("carol").disabled;
    // The first reading of the change counter vouches for the cache.
    let full_name = async |store: &SqlStore| store.find("carol").await.unwrap().expect("carol").full_name.clone();
    let mut changes = 0;
    within_a_second("the cache in use", async || {
        let (before_here, before_there) = (full_name(&here).await, full_name(&there).await);
        changes += 1;
        sql(url, &format!("UPDATE accounts SET full_name = 'behind the back {changes}' WHERE username = 'carol'"))
            .await;
        full_name(&here).await == before_here && full_name(&there).await == before_there
    })
    .await;

    here.set_disabled("carol", true).await.unwrap();
    assert!(disabled(&here).await, "a store sees its own change at once");
    within_a_second("the other store's change", async || disabled(&there).await).await;
    there.disallow_scopes("carol", &["me".to_owned()]).await.unwrap();
    within_a_second("the other store's change", async || {
        here.find("carol").await.unwrap().unwrap().allowed_scopes.is_empty()
    })
    .await;
    there.remove("carol").await.unwrap();
    within_a_second("the removal", async || here.find("carol").await.unwrap().is_none()).await;

    // Without the cache, every lookup reads the database.
    let options = scopes_runtime::store::SqlOptions { account_cache: None, ..Default::default() };
    let uncached = SqlStore::connect_with(url, options).await.unwrap();
    uncached.add(&scopes_runtime::Account::new("dave", "$argon2id$stand-in")).await.unwrap();
    assert!(uncached.find("dave").await.unwrap().is_some());
    sql(url, "DELETE FROM accounts WHERE username = 'dave'").await;
    assert!(uncached.find("dave").await.unwrap().is_none());
}

/// Runs `statement` on the database at `url` directly, around the store.
async fn sql(url: &str, statement: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn sqlite_accounts_are_cached_and_changes_seen_everywhere_within_a_second() {
    let (_dir, url) = sqlite();
    accounts_are_cached_and_changes_seen_everywhere_within_a_second(&url).await;
}

#[tokio::test]
async fn postgres_accounts_are_cached_and_changes_seen_everywhere_within_a_second() {
    accounts_are_cached_and_changes_seen_everywhere_within_a_second(&postgres::shared().fresh_database()).await;
}

/// The seed's bcrypt hash verifies, and is an Argon2id one after johndoe's first successful login (a
/// wrong password changes nothing).
async fn a_bcrypt_hash_becomes_argon2id_at_login(url: &str) {
    let users = demo::users::UserStore::open(url).await.unwrap();
    let app = InProcess::new(demo::router(demo::AppState::with_users(authority(), users.clone())));
    let hash = |users: demo::users::UserStore| async move {
        users.find("johndoe").await.unwrap().unwrap().password_hash.clone()
    };
    assert!(hash(users.clone()).await.starts_with("$2b$12$"));
    assert_eq!(login(&app, "johndoe", "wrong", "me").await.status, 400);
    assert!(hash(users.clone()).await.starts_with("$2b$12$"), "a wrong password replaces nothing");
    assert_eq!(login(&app, "johndoe", "secret", "me").await.status, 200, "johndoe logs in");
    let upgraded = hash(users.clone()).await;
    assert!(PasswordPolicy::default().is_current(&upgraded), "{upgraded}");
    assert!(upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{upgraded}");
    assert_eq!(login(&app, "johndoe", "secret", "me").await.status, 200, "and logs in with it");
}

fn authority() -> scopes_runtime::Authority {
    let authority = scopes_runtime::Authority::hs256(SECRET.as_bytes()).unwrap();
    authority
        .with_response_style(ResponseStyle::Seed)
        .with_request_parsing(demo::request_parsing_for(&ResponseStyle::Seed))
}

#[tokio::test]
async fn a_sqlite_bcrypt_hash_becomes_argon2id_at_login() {
    let (_dir, url) = sqlite();
    a_bcrypt_hash_becomes_argon2id_at_login(&url).await;
}

#[tokio::test]
async fn a_postgres_bcrypt_hash_becomes_argon2id_at_login() {
    a_bcrypt_hash_becomes_argon2id_at_login(&postgres::shared().fresh_database()).await;
}

/// The database stops: logins and guarded requests are 503 with `Retry-After` within 5 s, nothing is
/// counted against the user or the client, and all is well once it is back.
#[tokio::test]
async fn with_the_database_stopped_a_login_is_503_within_5_seconds_and_counts_nothing() {
    let cluster = Cluster::start();
    let url = cluster.fresh_database();
    let users = demo::users::UserStore::open(&url).await.unwrap();
    let state = demo::AppState::with_users(authority(), users);
    let tokens = state.tokens().expect("the demo's own users").clone();
    let app = InProcess::from_client(demo::router(state), "192.0.2.20:4000".parse().unwrap());
    let token = scopes_tests::tokens::signed("johndoe", &["me"]);

    cluster.stop();
    for attempt in 0..3 {
        let started = Instant::now();
        let response = app.send(form("username=johndoe&password=secret&scope=me")).await;
        let took = started.elapsed();
        assert_eq!(response.status, 503, "attempt {attempt}: {}", String::from_utf8_lossy(&response.body));
        assert!(took < Duration::from_secs(5), "attempt {attempt} took {took:?}");
        assert_eq!(response.headers[header::RETRY_AFTER], "5");
        let me = app.send(bearer("/users/me/", &token)).await;
        assert_eq!(me.status, 503, "a guarded request cannot load its user either");
    }
    assert_eq!(tokens.throttle_entries(), 0, "the outage counted against nobody");

    cluster.resume();
    let back = login(&app, "johndoe", "secret", "me").await;
    assert_eq!(granted_scopes(&back), granted(&["me"]), "neither the user nor the client was locked");
}

/// Every subcommand, and every way each refuses: exit status 2, a message naming the problem, and the
/// database exactly as it was.
#[tokio::test]
async fn the_user_cli_does_what_it_says_and_refuses_without_writing() {
    let (_dir, url) = sqlite();
    let store = SqlStore::connect(&url).await.unwrap();
    let listed = ok(&url, &["list"], "");
    assert!(listed.starts_with("USERNAME") && listed.contains("alice") && listed.contains("johndoe"), "{listed}");
    store.migrate().await.unwrap();
    let snapshot = || async { format!("{:?}", store.list().await.unwrap()) };

    // add: the password from standard input; a taken name, an undeclared scope, an empty or too long
    // password, an unusable name are refused.
    let before = snapshot().await;
    refused(&url, &["add", "johndoe"], "pw\n", "a user named `johndoe` already exists");
    refused(&url, &["add", "dave", "--scopes", "me,itemz"], "pw\n", "unknown scope `itemz`");
    refused(&url, &["add", "dave"], "\n", "the password is empty");
    refused(&url, &["add", "dave"], &format!("{}\n", "p".repeat(1025)), "longer than 1024 bytes");
    refused(&url, &["add", " dave"], "pw\n", "cannot be a username");
    refused(&url, &["add", "dave", "--email", "dave at example.com"], "pw\n", "is not an e-mail address");
    assert_eq!(snapshot().await, before, "nothing was written");
    let added =
        ok(&url, &["add", "dave", "--email", "dave@example.com", "--scopes", "me,items", "--disabled"], "pw\r\n");
    assert_eq!(added.trim(), "added dave, allowed items me");
    let dave = store.find("dave").await.unwrap().unwrap();
    assert!(dave.disabled && dave.email.as_deref() == Some("dave@example.com"));
    assert!(PasswordPolicy::verify("pw", &dave.password_hash), "the line's end is not part of the password");

    // show
    let shown = ok(&url, &["show", "dave"], "");
    assert!(shown.contains("disabled:  yes") && shown.contains("scopes:    items me"), "{shown}");
    assert!(shown.contains("password:  current (Argon2id)") && !shown.contains("$argon2"), "{shown}");
    let johndoe = ok(&url, &["show", "johndoe"], "");
    assert!(johndoe.contains("outdated"), "{johndoe}");
    refused(&url, &["show", "nobody"], "", "no user named `nobody`");

    // enable, disable
    ok(&url, &["enable", "dave"], "");
    assert!(!store.find("dave").await.unwrap().unwrap().disabled);
    ok(&url, &["disable", "dave"], "");
    assert!(store.find("dave").await.unwrap().unwrap().disabled);
    refused(&url, &["enable", "nobody"], "", "no user named `nobody`");
    refused(&url, &["disable", "nobody"], "", "no user named `nobody`");

    // grant, revoke: an undeclared scope refuses the whole command.
    let before = snapshot().await;
    refused(&url, &["grant", "dave", "admin", "nope"], "", "unknown scope `nope`");
    refused(&url, &["revoke", "dave", "me", "nope"], "", "unknown scope `nope`");
    refused(&url, &["grant", "nobody", "me"], "", "no user named `nobody`");
    refused(&url, &["revoke", "nobody", "me"], "", "no user named `nobody`");
    assert_eq!(snapshot().await, before, "nothing was written");
    assert_eq!(ok(&url, &["grant", "dave", "reports", "me"], "").trim(), "dave, allowed items me reports");
    assert_eq!(ok(&url, &["revoke", "dave", "items", "admin"], "").trim(), "dave, allowed me reports");

    // passwd
    let before = snapshot().await;
    refused(&url, &["passwd", "dave"], "", "the password is empty");
    refused(&url, &["passwd", "nobody"], "pw\n", "no user named `nobody`");
    assert_eq!(snapshot().await, before, "nothing was written");
    ok(&url, &["passwd", "dave"], "another one\n");
    assert!(PasswordPolicy::verify("another one", &store.find("dave").await.unwrap().unwrap().password_hash));

    // remove
    refused(&url, &["remove", "nobody"], "", "no user named `nobody`");
    ok(&url, &["remove", "dave"], "");
    assert!(store.find("dave").await.unwrap().is_none());
    let listed = ok(&url, &["list"], "");
    assert!(!listed.contains("dave"), "{listed}");

    // A missing argument is clap's refusal, with the same status; a password is never an argument.
    let ran = users(&url, &["grant", "johndoe"], "");
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    let ran = users(&url, &["add", "erin", "--password", "pw"], "");
    assert_eq!(ran.status, 2, "{}", ran.stderr);
    assert!(store.find("erin").await.unwrap().is_none());
}

/// A database that cannot be reached is a message and status 1, within the store's timeouts.
#[test]
fn the_user_cli_reports_an_unreachable_database() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    demo_binary(); // built (if it must be) before the clock starts
    let started = Instant::now();
    let ran = users(&format!("postgres://postgres@127.0.0.1:{port}/nothing"), &["list"], "");
    assert_eq!(ran.status, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("unavailable"), "{}", ran.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}
