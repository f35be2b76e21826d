//! Refresh tokens and revocation over HTTP, against the demo binary with its users in a fresh SQLite
//! database: rotation on every use, narrowing but never widening, reuse detection revoking the family, RFC
//! 7009 revocation, disabled and removed users, and simultaneous uses of one token; sessions that end with
//! a password change or a logout (the access tokens too), access tokens that follow account changes, and
//! storage that stays bounded.

use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use scopes_tests::SECRET;
use scopes_tests::cli::users_ok;
use scopes_tests::logins::{TokenAnswer, login, post_form};
use scopes_tests::server::{RunningDemo, demo_binary, start_demo_with};
use scopes_tests::transport::{OverTcp, bearer_status};

/// A demo answering in the RFC style, its users in a fresh SQLite file; and that file's URL.
fn demo() -> (RunningDemo, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}/users.db", dir.path().display());
    let demo = start_demo_with(Some(SECRET), &["--style", "rfc", "--database-url", &url]);
    (demo, dir, url)
}

/// `fields` posted to `path` (`/token`, `/revoke`) at `base`; its answers are never cached.
async fn post(base: &str, path: &str, fields: &[(&str, &str)]) -> TokenAnswer {
    let answer = post_form(&OverTcp::new(base.to_owned()), path, fields).await;
    let cache = answer.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(cache, "no-store", "{path} answers are never cached");
    answer
}

async fn refresh(base: &str, refresh_token: &str, scope: Option<&str>) -> TokenAnswer {
    let mut fields = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    post(base, "/token", &fields).await
}

fn users(url: &str, args: &[&str]) {
    // Without input: these subcommands read none.
    let output =
        Command::new(demo_binary()).arg("users").args(args).args(["--database-url", url]).output().expect("runs");
    assert!(output.status.success(), "demo users {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

#[test]
fn every_refresh_rotates_the_token_and_keeps_the_grant() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        let first = login(&demo.over_tcp(), "johndoe", "secret", "me items").await;
        assert_eq!(first.status, 200, "{}", first.body);
        let mut current = first.refresh_token();
        for round in 0..3 {
            let next = refresh(&demo.base, &current, None).await;
            assert_eq!(next.status, 200, "round {round}: {}", next.body);
            assert_eq!(next.body["scope"], "me items", "the same scopes as the login");
            assert_eq!(next.body["token_type"], "bearer");
            assert_ne!(next.refresh_token(), current, "a new refresh token every time");
            assert_eq!(bearer_status(&demo.base, "/users/me/items/", &next.access_token()).await, 200);
            current = next.refresh_token();
        }
    });
}

#[test]
fn a_refresh_may_narrow_the_scopes_but_never_widen_them() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me items").await;
        let narrowed = refresh(&demo.base, &login.refresh_token(), Some("me")).await;
        assert_eq!((narrowed.status, narrowed.body["scope"].as_str()), (200, Some("me")), "{}", narrowed.body);
        assert_eq!(bearer_status(&demo.base, "/users/me/", &narrowed.access_token()).await, 200);
        assert_eq!(bearer_status(&demo.base, "/users/me/items/", &narrowed.access_token()).await, 403);

        // Wider than the login's grant (johndoe may hold `admin`, but did not ask for it then): refused, and
        // the refresh token is not used up by the refusal.
        let current = narrowed.refresh_token();
        let widened = refresh(&demo.base, &current, Some("me admin")).await;
        assert_eq!((widened.status, widened.error()), (400, "invalid_scope"), "{}", widened.body);
        // Narrowing once does not narrow the grant: without `scope`, the login's scopes again.
        let again = refresh(&demo.base, &current, None).await;
        assert_eq!((again.status, again.body["scope"].as_str()), (200, Some("me items")), "{}", again.body);
    });
}

#[test]
fn reusing_a_rotated_token_revokes_its_whole_family() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let stolen = login.refresh_token();
        let rotated = refresh(&demo.base, &stolen, None).await;
        assert_eq!(rotated.status, 200);
        // The thief replays the token the client already used: refused, and the family is revoked, so the
        // client's current token stops working too.
        let replay = refresh(&demo.base, &stolen, None).await;
        assert_eq!((replay.status, replay.error()), (400, "invalid_grant"), "{}", replay.body);
        let client = refresh(&demo.base, &rotated.refresh_token(), None).await;
        assert_eq!((client.status, client.error()), (400, "invalid_grant"), "{}", client.body);
        // Another login is another family, untouched.
        let other = self::login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        assert_eq!(refresh(&demo.base, &other.refresh_token(), None).await.status, 200);
    });
}

#[test]
fn simultaneous_uses_of_one_token_rotate_it_at_most_once() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        let token = login(&demo.over_tcp(), "johndoe", "secret", "me").await.refresh_token();
        let uses: Vec<_> = (0..12).map(|_| refresh(&demo.base, &token, None)).collect();
        let answers = join_all(uses).await;
        let won: Vec<&TokenAnswer> = answers.iter().filter(|answer| answer.status == 200).collect();
        assert!(won.len() <= 1, "{} of 12 simultaneous uses rotated the token", won.len());
        assert!(answers.iter().all(|answer| answer.status == 200 || answer.error() == "invalid_grant"));
        // The others were reuses: the family is revoked, the winner's new token with it.
        if let Some(winner) = won.first() {
            assert_eq!(refresh(&demo.base, &winner.refresh_token(), None).await.status, 400);
        }
    });
}

#[test]
fn revocation_follows_rfc_7009() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let rotated = refresh(&demo.base, &login.refresh_token(), None).await.refresh_token();
        let revoked = post(&demo.base, "/revoke", &[("token", &rotated), ("token_type_hint", "refresh_token")]).await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        let after = refresh(&demo.base, &rotated, None).await;
        assert_eq!((after.status, after.error()), (400, "invalid_grant"));

        // An unknown token, or an access token, is answered 200 as well (§2.2); a missing one is a bad request.
        assert_eq!(post(&demo.base, "/revoke", &[("token", "not-a-token")]).await.status, 200);
        assert_eq!(post(&demo.base, "/revoke", &[("token", &login.access_token())]).await.status, 200);
        let missing = post(&demo.base, "/revoke", &[("token_type_hint", "refresh_token")]).await;
        assert_eq!((missing.status, missing.error()), (400, "invalid_request"), "{}", missing.body);
    });
}

#[test]
fn disabling_or_removing_a_user_revokes_their_refresh_tokens() {
    let (demo, _dir, url) = demo();
    runtime().block_on(async {
        let johndoe = login(&demo.over_tcp(), "johndoe", "secret", "me").await.refresh_token();
        users(&url, &["disable", "johndoe"]);
        let refused = refresh(&demo.base, &johndoe, None).await;
        assert_eq!((refused.status, refused.error()), (400, "invalid_grant"), "{}", refused.body);
        // Enabled again, the revoked tokens stay revoked: a new login is needed.
        users(&url, &["enable", "johndoe"]);
        assert_eq!(refresh(&demo.base, &johndoe, None).await.status, 400);

        // A disabled user may log in (the seed's way) but gets no refresh token.
        let alice = login(&demo.over_tcp(), "alice", "secretalice", "me").await;
        assert_eq!(alice.status, 200);
        assert!(alice.body.get("refresh_token").is_none(), "{}", alice.body);

        let again = login(&demo.over_tcp(), "johndoe", "secret", "me").await.refresh_token();
        users(&url, &["remove", "johndoe"]);
        assert_eq!(refresh(&demo.base, &again, None).await.error(), "invalid_grant");
    });
}

#[test]
fn without_a_database_there_is_no_refresh_grant() {
    let demo = start_demo_with(Some(SECRET), &["--style", "rfc", "--database-url", "memory:"]);
    runtime().block_on(async {
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        assert_eq!(login.status, 200);
        assert!(login.body.get("refresh_token").is_none(), "{}", login.body);
        let refused = refresh(&demo.base, "anything", None).await;
        assert_eq!((refused.status, refused.error()), (400, "unsupported_grant_type"), "{}", refused.body);
        let revoke = reqwest::Client::new().post(format!("{}/revoke", demo.base)).form(&[("token", "x")]).send().await;
        assert_eq!(revoke.unwrap().status(), 404, "no /revoke without refresh tokens");
    });
}

/// The status `GET path` with `access_token` is answered with, once it is `expected`, polling for up to
/// `within`; the last status seen otherwise.
async fn status_within(base: &str, path: &str, access_token: &str, expected: u16, within: Duration) -> u16 {
    let deadline = Instant::now() + within;
    loop {
        let status = bearer_status(base, path, access_token).await;
        if status == expected || Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How long another process's change (the user CLI's) may take to reach the server: its reload interval.
const RELOAD_BOUND: Duration = Duration::from_secs(6);

#[test]
fn a_password_change_ends_every_session_of_the_user() {
    let (demo, _dir, url) = demo();
    runtime().block_on(async {
        let first = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let second = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let rotated = refresh(&demo.base, &second.refresh_token(), None).await;
        assert_eq!(rotated.status, 200, "{}", rotated.body);
        assert_eq!(bearer_status(&demo.base, "/users/me/", &rotated.access_token()).await, 200);

        users_ok(&url, &["passwd", "johndoe"], "a new password\n");

        // Every refresh family of the user is revoked, rotated or not...
        for refresh_token in [first.refresh_token(), rotated.refresh_token()] {
            let refused = refresh(&demo.base, &refresh_token, None).await;
            assert_eq!((refused.status, refused.error()), (400, "invalid_grant"), "{}", refused.body);
        }
        // ...and with them the access tokens they issued, within the server's reload interval.
        for access_token in [first.access_token(), second.access_token(), rotated.access_token()] {
            assert_eq!(status_within(&demo.base, "/users/me/", &access_token, 401, RELOAD_BOUND).await, 401);
        }
        // The new password opens a new session; the old one nothing.
        assert_eq!(login(&demo.over_tcp(), "johndoe", "secret", "me").await.status, 400);
        let again = login(&demo.over_tcp(), "johndoe", "a new password", "me").await;
        assert_eq!(bearer_status(&demo.base, "/users/me/", &again.access_token()).await, 200);
        assert_eq!(refresh(&demo.base, &again.refresh_token(), None).await.status, 200);
    });
}

#[test]
fn revoking_an_access_token_or_its_family_refuses_the_access_token_at_once() {
    let (demo, _dir, _url) = demo();
    runtime().block_on(async {
        // An access token, by its `jti`: refused at once; the session's refresh token still works.
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        assert_eq!(bearer_status(&demo.base, "/users/me/", &login.access_token()).await, 200);
        let revoked = post(&demo.base, "/revoke", &[("token", &login.access_token())]).await;
        assert_eq!(revoked.status, 200, "{}", revoked.body);
        assert_eq!(bearer_status(&demo.base, "/users/me/", &login.access_token()).await, 401);
        let refreshed = refresh(&demo.base, &login.refresh_token(), None).await;
        assert_eq!(bearer_status(&demo.base, "/users/me/", &refreshed.access_token()).await, 200);

        // A logout (the refresh token revoked): every access token of the family is refused at once, the
        // login's and the refresh's.
        let logout = post(&demo.base, "/revoke", &[("token", &refreshed.refresh_token())]).await;
        assert_eq!(logout.status, 200, "{}", logout.body);
        assert_eq!(bearer_status(&demo.base, "/users/me/", &refreshed.access_token()).await, 401);
        assert_eq!(refresh(&demo.base, &refreshed.refresh_token(), None).await.error(), "invalid_grant");

        // Revoking a refresh token the client already used ends the family as well.
        let other = self::login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let next = refresh(&demo.base, &other.refresh_token(), None).await;
        assert_eq!(post(&demo.base, "/revoke", &[("token", &other.refresh_token())]).await.status, 200);
        assert_eq!(refresh(&demo.base, &next.refresh_token(), None).await.error(), "invalid_grant");
        assert_eq!(bearer_status(&demo.base, "/users/me/", &next.access_token()).await, 401);

        // A reuse revokes the access tokens too, and the log names whose family it was and from where.
        let third = self::login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let stolen = third.refresh_token();
        let owner = refresh(&demo.base, &stolen, None).await;
        assert_eq!(refresh(&demo.base, &stolen, None).await.error(), "invalid_grant");
        assert_eq!(bearer_status(&demo.base, "/users/me/", &owner.access_token()).await, 401);
        let warning = demo.wait_for_log("no longer current", Duration::from_secs(5)).expect("a reuse is logged");
        assert!(warning.contains("user=\"johndoe\""), "quoted, so no username forges a line: {warning}");
        assert!(warning.contains("family=") && warning.contains("client=127.0.0.1"), "{warning}");
        assert!(!warning.contains(&stolen), "the token itself is never logged: {warning}");
    });
}

#[test]
fn an_access_token_holds_only_what_the_account_still_allows_and_dies_with_the_account() {
    let (demo, _dir, url) = demo();
    runtime().block_on(async {
        users_ok(&url, &["add", "bob", "--scopes", "me,items"], "bob's password\n");
        let bob = login(&demo.over_tcp(), "bob", "bob's password", "me items").await;
        assert_eq!(bearer_status(&demo.base, "/users/me/items/", &bob.access_token()).await, 200);

        // A scope taken from the account stops working at once, refused as any missing scope is.
        users_ok(&url, &["revoke", "bob", "items"], "");
        assert_eq!(bearer_status(&demo.base, "/users/me/items/", &bob.access_token()).await, 403);
        assert_eq!(bearer_status(&demo.base, "/users/me/", &bob.access_token()).await, 200);
        users_ok(&url, &["grant", "bob", "items"], "");
        assert_eq!(bearer_status(&demo.base, "/users/me/items/", &bob.access_token()).await, 200);

        // The name removed and given to someone else: the first bob's token is not the second's.
        std::thread::sleep(Duration::from_millis(1100)); // the new account is made a second later
        users_ok(&url, &["remove", "bob"], "");
        users_ok(&url, &["add", "bob", "--scopes", "me,items"], "the second bob\n");
        assert_eq!(bearer_status(&demo.base, "/users/me/", &bob.access_token()).await, 401);
        let second_bob = login(&demo.over_tcp(), "bob", "the second bob", "me").await;
        assert_eq!(bearer_status(&demo.base, "/users/me/", &second_bob.access_token()).await, 200);
    });
}

/// The number of rows of `table` in the SQLite database at `url`.
async fn rows(url: &str, table: &str) -> i64 {
    use sqlx::Connection;
    let mut connection = sqlx::SqliteConnection::connect(url).await.expect("the database opens");
    let count: (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut connection).await.expect("counted");
    count.0
}

#[test]
fn refresh_storage_stays_bounded_per_family_and_per_user() {
    let (demo, _dir, url) = demo();
    runtime().block_on(async {
        // One row per family, however often it rotates; ten rotations a minute, then 429 with the token
        // still current (used at once after the refusal, it is not a reuse).
        let login = login(&demo.over_tcp(), "johndoe", "secret", "me").await;
        let mut current = login.refresh_token();
        for round in 0..10 {
            let next = refresh(&demo.base, &current, None).await;
            assert_eq!(next.status, 200, "rotation {round}: {}", next.body);
            current = next.refresh_token();
        }
        assert_eq!(rows(&url, "refresh_families").await, 1);
        let throttled = refresh(&demo.base, &current, None).await;
        assert_eq!(throttled.status, 429, "{}", throttled.body);
        assert_eq!(rows(&url, "refresh_families").await, 1);
        assert_eq!(post(&demo.base, "/revoke", &[("token", &current)]).await.status, 200);

        // Twenty live families per user: the 21st login revokes the oldest.
        let mut statuses = Vec::new();
        let mut sessions = Vec::new();
        for _ in 0..21 {
            sessions.push(self::login(&demo.over_tcp(), "johndoe", "secret", "me").await.refresh_token());
        }
        for session in &sessions {
            statuses.push(refresh(&demo.base, session, None).await.status);
        }
        let mut expected = vec![200; 21];
        expected[0] = 400;
        assert_eq!(statuses, expected, "the oldest family is revoked, the twenty newest live");
        assert_eq!(rows(&url, "refresh_families").await, 22, "one row per family, revoked ones kept a day");
    });
}
