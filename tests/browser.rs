//! What a person sees in Swagger UI at `/docs`, driven in headless Chromium through ChromeDriver:
//! the Authorize dialog offers the password flow with both scopes and their descriptions; logging in
//! with the right scopes makes "Try it out" on `GET /users/me/items/` answer 200 with the items, and with
//! only `me` it answers 401 "Not enough permissions".
//!
//! With the demo in issuer mode, the Authorize dialog logs in at a real provider (oidc-provider) with the
//! authorization code flow and PKCE, through the provider's own login and consent pages, and "Try it out"
//! then reads the items with the provider's token.
//!
//! Needs Debian's `chromium` and `chromium-driver`; `scripts/test` installs them when missing.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use scopes_tests::SECRET;
use scopes_tests::provider::{AUDIENCE, RunningProvider, generate_keys};
use scopes_tests::server::{start_demo, start_demo_at};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const WAIT: Duration = Duration::from_secs(20);

/// A ChromeDriver process on a free port, killed when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_chromedriver() -> ChromeDriver {
    for program in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(program).exists(),
            "{program} is missing: run `scripts/test`, which installs Debian's chromium and chromium-driver"
        );
    }
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    ChromeDriver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn connect(driver: &ChromeDriver, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,2000", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let started = Instant::now();
    loop {
        match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&driver.url).await {
            Ok(client) => return client,
            Err(error) if started.elapsed() < WAIT => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("no WebDriver session within {WAIT:?}: {error}"),
        }
    }
}

async fn find(client: &Client, css: &str) -> Element {
    find_by(client, Locator::Css(css), css).await
}

/// The dialog's button labelled `label`, found by the text a person reads on it.
async fn dialog_button(client: &Client, label: &str) -> Element {
    let xpath = format!("//div[contains(@class, 'modal-ux')]//button[normalize-space() = '{label}']");
    find_by(client, Locator::XPath(&xpath), &xpath).await
}

async fn find_by(client: &Client, locator: Locator<'_>, css: &str) -> Element {
    match client.wait().at_most(WAIT).for_element(locator).await {
        Ok(element) => element,
        Err(error) => {
            let _ = save_screenshot(client, "browser-failure.png").await;
            let requests = client
                .execute("return performance.getEntriesByType('resource').map(e => e.name)", vec![])
                .await
                .map(|r| r.to_string())
                .unwrap_or_default();
            panic!(
                "`{css}` did not appear within {WAIT:?} ({error}); screenshot in target/browser-failure.png; \
                 the page requested: {requests}"
            );
        }
    }
}

async fn save_screenshot(client: &Client, name: &str) -> std::io::Result<()> {
    let png = client.screenshot().await.map_err(std::io::Error::other)?;
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target)?;
    std::fs::write(target.join(name), png)
}

/// Waits until `element`'s text is non-empty and returns it.
async fn text_of(client: &Client, css: &str) -> String {
    let started = Instant::now();
    loop {
        let text = find(client, css).await.text().await.unwrap_or_default();
        if !text.trim().is_empty() || started.elapsed() > WAIT {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens `/docs`, logs in as johndoe through the Authorize dialog ticking `scopes`, runs "Try it out" on
/// `GET /users/me/items/`, and returns the live response's status and body as Swagger UI shows them.
/// Also returns the dialog's text, to check what it offers.
async fn authorize_and_read_items(client: &Client, base: &str, scopes: &[&str]) -> (String, String, String) {
    client.goto(&format!("{base}/docs")).await.expect("open /docs");
    find(client, "button.btn.authorize").await.click().await.expect("click Authorize");
    let dialog = find(client, ".modal-ux").await;
    find(client, "#oauth_username").await.send_keys("johndoe").await.expect("type the username");
    find(client, "#oauth_password").await.send_keys("secret").await.expect("type the password");
    let dialog_text = dialog.text().await.expect("dialog text");
    for scope in scopes {
        // The checkbox itself is hidden behind its styled label; a person clicks the label.
        let checkbox = find(client, &format!(".modal-ux input[type=checkbox][data-value='{scope}']")).await;
        let id = checkbox.attr("id").await.expect("attribute").expect("the checkbox has an id");
        find(client, &format!(".modal-ux label[for='{id}']")).await.click().await.expect("tick the scope");
        assert!(checkbox.is_selected().await.expect("checkbox state"), "scope `{scope}` is ticked");
    }
    dialog_button(client, "Authorize").await.click().await.expect("log in");
    // After a successful login the dialog offers "Logout" instead.
    dialog_button(client, "Logout").await;
    dialog_button(client, "Close").await.click().await.expect("close the dialog");

    find(client, "#operations-default-read_own_items .opblock-summary")
        .await
        .click()
        .await
        .expect("expand the operation");
    find(client, "#operations-default-read_own_items button.try-out__btn").await.click().await.expect("Try it out");
    find(client, "#operations-default-read_own_items button.execute").await.click().await.expect("Execute");
    let live = "#operations-default-read_own_items .live-responses-table tbody .response";
    let status = text_of(client, &format!("{live} .response-col_status")).await;
    let body = text_of(client, &format!("{live} .response-col_description pre")).await;
    (dialog_text, status, body)
}

#[tokio::test]
async fn swagger_ui_logs_in_with_scopes_and_tries_the_items_endpoint() {
    let demo = start_demo(Some(SECRET));
    let driver = start_chromedriver();
    let profile = std::env::temp_dir().join(format!("scopes-browser-test-{}", std::process::id()));
    let client = connect(&driver, &profile).await;

    let (dialog, status, body) = authorize_and_read_items(&client, &demo.base, &["me", "items"]).await;
    save_screenshot(&client, "browser-items-200.png").await.expect("screenshot");
    for offered in
        ["OAuth2PasswordBearer", "password", "me", "Read information about the current user.", "items", "Read items."]
    {
        assert!(dialog.contains(offered), "the Authorize dialog shows {offered:?}:\n{dialog}");
    }
    assert!(status.trim().starts_with("200"), "status {status:?}, body {body:?}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body, got {body:?}"));
    assert_eq!(body, json!([{"item_id": "Foo", "owner": "johndoe"}]));

    // The database keeps refresh tokens: the page shows the revocation endpoint, and the token request's
    // refresh-token grant.
    let revoke = text_of(&client, "#operations-default-revoke_token .opblock-summary").await;
    assert!(revoke.contains("/revoke") && revoke.contains("Revoke Token"), "{revoke}");
    find(&client, "#operations-default-login_for_access_token .opblock-summary").await.click().await.expect("expand");
    let token = text_of(&client, "#operations-default-login_for_access_token .opblock-body").await;
    assert!(token.contains("refresh_token") && token.contains("grant_type"), "{token}");

    let (_, status, body) = authorize_and_read_items(&client, &demo.base, &["me"]).await;
    save_screenshot(&client, "browser-items-401.png").await.expect("screenshot");
    assert!(status.trim().starts_with("401"), "status {status:?}, body {body:?}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body, got {body:?}"));
    assert_eq!(body, json!({"detail": "Not enough permissions"}));

    client.close().await.expect("close the browser");
    let _ = std::fs::remove_dir_all(profile);
}

/// The element matching `xpath`, found by what a person reads on the page.
async fn find_xpath(client: &Client, xpath: &str) -> Element {
    find_by(client, Locator::XPath(xpath), xpath).await
}

/// Switches to the window that is not `main`, waiting for it to open.
async fn switch_to_popup(client: &Client, main: &fantoccini::wd::WindowHandle) {
    let started = Instant::now();
    loop {
        let windows = client.windows().await.expect("window handles");
        if let Some(popup) = windows.into_iter().find(|window| window != main) {
            client.switch_to_window(popup).await.expect("switch to the login window");
            return;
        }
        assert!(started.elapsed() < WAIT, "no login window opened within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn swagger_ui_logs_in_at_the_provider_with_pkce_and_tries_the_items_endpoint() {
    // The provider must know the redirect URI, so the demo's port is chosen before either starts.
    let demo_port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let redirect = format!("http://127.0.0.1:{demo_port}/docs/oauth2-redirect.html");
    let provider =
        RunningProvider::start_with(&generate_keys(&["r1:RS256"]), 0, &[("PROVIDER_REDIRECT_URIS", redirect.as_str())]);
    let demo = start_demo_at(
        &format!("127.0.0.1:{demo_port}"),
        None,
        &["--issuer", &provider.issuer, "--audience", AUDIENCE, "--docs-client-id", "swagger"],
    );
    let driver = start_chromedriver();
    let profile = std::env::temp_dir().join(format!("scopes-browser-provider-{}", std::process::id()));
    let client = connect(&driver, &profile).await;

    client.goto(&format!("{}/docs", demo.base)).await.expect("open /docs");
    find(&client, "button.btn.authorize").await.click().await.expect("click Authorize");
    // The dialog offers the provider's flows; the authorization code one is a person's login.
    let flow = "//div[contains(@class, 'modal-ux')]//div[contains(@class, 'auth-container')]\
                [.//*[contains(normalize-space(), 'authorizationCode')]]";
    let dialog_text = find_xpath(&client, flow).await.text().await.expect("dialog text");
    assert!(dialog_text.contains(&format!("{}/auth", provider.issuer)), "{dialog_text}");
    for scope in ["me", "items"] {
        let checkbox = find_xpath(&client, &format!("{flow}//input[@type='checkbox'][@data-value='{scope}']")).await;
        let id = checkbox.attr("id").await.expect("attribute").expect("the checkbox has an id");
        find(&client, &format!(".modal-ux label[for='{id}']")).await.click().await.expect("tick the scope");
    }
    let main = client.window().await.expect("the main window");
    find_xpath(&client, &format!("{flow}//button[normalize-space() = 'Authorize']"))
        .await
        .click()
        .await
        .expect("log in");

    // The provider's own pages, in the window Swagger UI opened: sign in, then consent.
    switch_to_popup(&client, &main).await;
    find(&client, "input[name=login]").await.send_keys("johndoe").await.expect("type the login");
    find(&client, "input[name=password]").await.send_keys("anything").await.expect("type the password");
    find(&client, "button[type=submit]").await.click().await.expect("sign in");
    find_xpath(&client, "//button[normalize-space() = 'Continue']").await.click().await.expect("consent");
    // The redirect page hands the code back to Swagger UI and closes its window.
    client.switch_to_window(main).await.expect("back to Swagger UI");
    find_xpath(&client, &format!("{flow}//button[normalize-space() = 'Logout']")).await;
    dialog_button(&client, "Close").await.click().await.expect("close the dialog");

    find(&client, "#operations-default-read_own_items .opblock-summary").await.click().await.expect("expand");
    find(&client, "#operations-default-read_own_items button.try-out__btn").await.click().await.expect("Try it out");
    find(&client, "#operations-default-read_own_items button.execute").await.click().await.expect("Execute");
    let live = "#operations-default-read_own_items .live-responses-table tbody .response";
    let status = text_of(&client, &format!("{live} .response-col_status")).await;
    let body = text_of(&client, &format!("{live} .response-col_description pre")).await;
    save_screenshot(&client, "browser-provider-items-200.png").await.expect("screenshot");
    assert!(status.trim().starts_with("200"), "status {status:?}, body {body:?}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON body, got {body:?}"));
    assert_eq!(body, json!([{"item_id": "Foo", "owner": "johndoe"}]));

    client.close().await.expect("close the browser");
    let _ = std::fs::remove_dir_all(profile);
}
