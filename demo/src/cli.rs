//! `demo users ...`: manage the users of the database the server uses, while it runs (SQLite in WAL mode,
//! or PostgreSQL; the server looks users up on every request, so a change shows at once). `demo keys ...`:
//! rotate and list the signing keys every replica shares through it.
//!
//! A password is never an argument (it would show in `ps` and shell history): it is read from standard
//! input, one line, when that is not a terminal, and prompted for without echo, twice, when it is. Every
//! check (the scopes against the registry, the password's length) is made before anything is written,
//! and every change is one statement or one transaction: a refused command writes nothing.

use std::io::{BufRead, Write};

use clap::Subcommand;
use scopes_runtime::{
    Account, AccountStore, Authority, SqlStore, issuing::MAX_PASSWORD_BYTES, issuing::PasswordPolicy,
    keys::SigningAlgorithm, keys::SigningKey, store::StoreError,
};

use crate::users::UserStore;

/// The `demo users` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password is read from standard input (one line), or prompted for on a terminal.
    Add {
        name: String,
        /// The user's full name.
        #[arg(long)]
        full_name: Option<String>,
        /// The user's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// The scopes the user may be granted, comma-separated (e.g. `me,items`); none when left out.
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// Add the user disabled: they may log in, but `/users/me/` answers "Inactive user".
        #[arg(long)]
        disabled: bool,
    },
    /// List every user.
    List,
    /// Show one user (never the password hash: only its scheme).
    Show { name: String },
    /// Disable a user.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Allow a user more scopes.
    Grant {
        name: String,
        #[arg(required = true)]
        scopes: Vec<String>,
    },
    /// Allow a user fewer scopes.
    Revoke {
        name: String,
        #[arg(required = true)]
        scopes: Vec<String>,
    },
    /// Set a user's password, read as `add` reads it.
    Passwd { name: String },
    /// Remove a user.
    Remove { name: String },
}

/// The `demo keys` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key, published at once (`/.well-known/jwks.json`) and signing from
    /// `--activate-in` seconds on, when the current key stops signing. The old key's private half is then
    /// erased; its public half stays published until every token it signed has expired.
    Rotate {
        /// The new key's algorithm; the current key's when left out.
        #[arg(long)]
        alg: Option<SigningAlgorithm>,
        /// Seconds until the new key signs: verifiers that cache the key set (a minute, as it is served)
        /// fetch it before its first token. 0 is for a key that may have leaked: the new key signs at once,
        /// and the key that was signing (and any key that was to sign next) is revoked: unpublished, its
        /// private half erased, and every token it signed refused by each replica at its next key reload
        /// (`--key-reload-secs`), which logs everyone out.
        #[arg(long, default_value_t = DEFAULT_ACTIVATION_SECS)]
        activate_in: u64,
    },
    /// List every signing key: the current one, those still published, and those retired.
    List,
}

/// How long after `demo keys rotate` the new key signs, by default: twice as long as the key set may be
/// cached.
pub const DEFAULT_ACTIVATION_SECS: u64 = 120;

/// Why a command failed, and its exit status: 2 for a mistake in the command (an unknown scope or user,
/// a taken name, an unusable password), 1 when the database could not do it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Refused(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<StoreError> for CliError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownUser(_) | StoreError::DuplicateUser(_) => CliError::Refused(error.to_string()),
            error => CliError::Failed(error.to_string()),
        }
    }
}

/// Where a command reads a password from.
pub enum PasswordSource<'a> {
    /// Standard input that is not a terminal: its first line.
    Lines(&'a mut dyn BufRead),
    /// A terminal: prompted for without echo, twice.
    Terminal,
}

/// Runs `command` against the database at `database_url` (created, migrated and seeded when new, as the
/// server does), writing what it has to say to `out`.
pub async fn run(
    command: UsersCommand,
    database_url: &str,
    password: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    // Checked before the database is touched: a refused command leaves even a new database uncreated.
    match &command {
        UsersCommand::Add { name, email, scopes, .. } => {
            check_name(name)?;
            if let Some(email) = email {
                check_email(email)?;
            }
            check_scopes(scopes)?
        }
        UsersCommand::Grant { scopes, .. } | UsersCommand::Revoke { scopes, .. } => check_scopes(scopes)?,
        _ => {}
    }
    let store = open(database_url).await?;
    let result = execute(&store, command, password, out).await;
    store.close().await;
    result
}

/// Runs `demo keys` `command` against the database at `database_url`, as [`run`] runs `demo users`.
pub async fn run_keys(command: KeysCommand, database_url: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let store = open(database_url).await?;
    let result = execute_keys(&store, command, out).await;
    store.close().await;
    result
}

/// The database at `database_url`, created, migrated and seeded when new, as the server opens it.
async fn open(database_url: &str) -> Result<SqlStore, CliError> {
    match UserStore::open(database_url).await? {
        UserStore::Sql(store) => Ok(store),
        UserStore::Memory(_) => {
            Err(CliError::Refused("`memory:` is no database to manage: give a sqlite:// or postgres:// URL".into()))
        }
    }
}

async fn execute_keys(store: &SqlStore, command: KeysCommand, out: &mut dyn Write) -> Result<(), CliError> {
    let keys = store.signing_keys().await?;
    let said = match command {
        KeysCommand::Rotate { alg, activate_in } => {
            let current = keys.iter().find(|key| key.is_current());
            let Some(algorithm) = alg.or(current.map(SigningKey::algorithm)) else {
                return Err(CliError::Refused(
                    "there is no signing key yet to rotate from: give --alg ES256, EdDSA or RS256 \
                     (or start the server with --signing-alg, which makes the first)"
                        .into(),
                ));
            };
            let new = store.rotate_signing_key(algorithm, std::time::Duration::from_secs(activate_in)).await?;
            if activate_in == 0 {
                // What the store revoked, as it now says: the keys revoked in the same second the new key was made.
                let stored = store.signing_keys().await?;
                let revoked: Vec<&str> = stored
                    .iter()
                    .filter(|key| key.revoked_at() == Some(new.created_at()))
                    .map(SigningKey::kid)
                    .collect();
                let revoked = if revoked.is_empty() { "no key".to_owned() } else { revoked.join(", ") };
                format!(
                    "emergency rotation: {algorithm} key {} signs from now; revoked {revoked}: no longer published, \
                     and every token it signed is refused by each replica at its next key reload (everyone holding \
                     one logs in again)",
                    new.kid()
                )
            } else {
                let from = date(new.activates_at());
                match current {
                    Some(old) => format!(
                        "rotated: {algorithm} key {} is published and signs from {from}; {} signs until then and \
                         stays published until {}",
                        new.kid(),
                        old.kid(),
                        date(new.activates_at() + published_for().as_secs())
                    ),
                    None => format!("{algorithm} key {} is published and signs from {from}", new.kid()),
                }
            }
        }
        KeysCommand::List => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let rows: Vec<[String; 4]> = keys
                .iter()
                .map(|key| {
                    let published_until = key.published_until(Authority::DEFAULT_TOKEN_LIFETIME);
                    // What a verifier does with its tokens: trusted while it is published.
                    let state = match (key.revoked_at(), key.activates_at(), key.superseded_at(), published_until) {
                        (Some(revoked), ..) => {
                            format!("revoked {}: not trusted, its tokens are refused", date(revoked))
                        }
                        (None, activates, _, _) if now < activates => {
                            format!("published, trusted; signs from {}", date(activates))
                        }
                        (None, _, None, _) => "current: signs; trusted".to_owned(),
                        (None, _, Some(superseded), Some(until)) if now < superseded => {
                            format!("signs until {}; trusted until {}", date(superseded), date(until))
                        }
                        (None, _, _, Some(until)) if now < until => {
                            format!("no longer signs; trusted until {} for its tokens", date(until))
                        }
                        (None, _, _, until) => format!("retired {}: not trusted", until.map(date).unwrap_or_default()),
                    };
                    [key.kid().to_owned(), key.algorithm().to_string(), date(key.created_at()), state]
                })
                .collect();
            table(["KID", "ALG", "CREATED", "STATE"], &rows)
        }
    };
    writeln!(out, "{said}").map_err(|error| CliError::Failed(format!("writing the output: {error}")))
}

/// How long a superseded key stays published: the demo's tokens live the default lifetime.
fn published_for() -> std::time::Duration {
    Authority::DEFAULT_TOKEN_LIFETIME + scopes_runtime::keys::ROTATION_GRACE
}

/// Unix seconds as an HTTP date (`Tue, 24 Nov 2026 10:00:00 GMT`).
fn date(unix_seconds: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds))
}

async fn execute(
    store: &SqlStore,
    command: UsersCommand,
    password: PasswordSource<'_>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let policy = PasswordPolicy::default();
    let said = match command {
        UsersCommand::Add { name, full_name, email, scopes, disabled } => {
            if store.find(&name).await?.is_some() {
                return Err(StoreError::DuplicateUser(name).into());
            }
            let hash = hash_password(&policy, read_password(password, &name)?)?;
            let account = Account { full_name, email, disabled, ..Account::new(&name, hash).with_scopes(scopes) };
            store.add(&account).await?;
            let stored = store.find(&name).await?;
            format!("added {name}{}", scope_list(&stored.map_or(account.allowed_scopes, |a| a.allowed_scopes.clone())))
        }
        UsersCommand::List => {
            let accounts = store.list().await?;
            let rows: Vec<[String; 5]> = accounts
                .iter()
                .map(|account| {
                    [
                        account.username.clone(),
                        if account.disabled { "yes" } else { "no" }.to_owned(),
                        account.allowed_scopes.join(" "),
                        account.full_name.clone().unwrap_or_default(),
                        account.email.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(["USERNAME", "DISABLED", "SCOPES", "FULL NAME", "EMAIL"], &rows)
        }
        UsersCommand::Show { name } => {
            let account = found(store, &name).await?;
            let scheme = if policy.is_current(&account.password_hash) {
                "current (Argon2id)"
            } else {
                "outdated (replaced at the next successful login)"
            };
            [
                format!("username:  {}", account.username),
                format!("full name: {}", account.full_name.unwrap_or_default()),
                format!("email:     {}", account.email.unwrap_or_default()),
                format!("disabled:  {}", if account.disabled { "yes" } else { "no" }),
                format!("scopes:    {}", account.allowed_scopes.join(" ")),
                format!("password:  {scheme}"),
            ]
            .join("\n")
        }
        UsersCommand::Disable { name } => {
            store.set_disabled(&name, true).await?;
            format!("disabled {name}")
        }
        UsersCommand::Enable { name } => {
            store.set_disabled(&name, false).await?;
            format!("enabled {name}")
        }
        UsersCommand::Grant { name, scopes } => {
            store.allow_scopes(&name, &scopes).await?;
            format!("{name}{}", scope_list(&found(store, &name).await?.allowed_scopes))
        }
        UsersCommand::Revoke { name, scopes } => {
            store.disallow_scopes(&name, &scopes).await?;
            format!("{name}{}", scope_list(&found(store, &name).await?.allowed_scopes))
        }
        UsersCommand::Passwd { name } => {
            found(store, &name).await?;
            let hash = hash_password(&policy, read_password(password, &name)?)?;
            store.set_password_hash(&name, &hash).await?;
            format!("changed the password of {name}")
        }
        UsersCommand::Remove { name } => {
            store.remove(&name).await?;
            format!("removed {name}")
        }
    };
    writeln!(out, "{said}").map_err(|error| CliError::Failed(format!("writing the output: {error}")))
}

async fn found(store: &SqlStore, name: &str) -> Result<Account, CliError> {
    store
        .find(name)
        .await?
        .map(std::sync::Arc::unwrap_or_clone)
        .ok_or_else(|| StoreError::UnknownUser(name.to_owned()).into())
}

/// Every scope must be declared in the registry; the message lists those that are not, and those that are.
fn check_scopes(scopes: &[String]) -> Result<(), CliError> {
    let unknown: Vec<&str> =
        scopes.iter().map(String::as_str).filter(|scope| crate::SCOPE_REGISTRY.scope(scope).is_none()).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let declared: Vec<&str> = crate::SCOPE_REGISTRY.scopes().iter().map(|scope| scope.name).collect();
    Err(CliError::Refused(format!(
        "unknown scope{} {}; the declared scopes are {}",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.iter().map(|scope| format!("`{scope}`")).collect::<Vec<_>>().join(", "),
        declared.join(", ")
    )))
}

/// A username the token endpoint can be asked for: not empty, at most its limit, no surrounding space.
fn check_name(name: &str) -> Result<(), CliError> {
    if name.is_empty() || name.trim() != name || name.len() > scopes_runtime::issuing::MAX_USERNAME_BYTES {
        return Err(CliError::Refused(format!(
            "`{name}` cannot be a username: it must be 1 to {} bytes, with no surrounding spaces",
            scopes_runtime::issuing::MAX_USERNAME_BYTES
        )));
    }
    Ok(())
}

/// An address of the shape `local@domain`: one `@`, something on each side, no spaces. (Whether it
/// reaches anyone is the mail system's to say.)
fn check_email(email: &str) -> Result<(), CliError> {
    let shaped = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.contains(char::is_whitespace)
    });
    if shaped {
        Ok(())
    } else {
        Err(CliError::Refused(format!("`{email}` is not an e-mail address (expected `name@domain`)")))
    }
}

fn read_password(source: PasswordSource<'_>, name: &str) -> Result<String, CliError> {
    let password = match source {
        PasswordSource::Lines(input) => {
            let mut line = String::new();
            input
                .read_line(&mut line)
                .map_err(|error| CliError::Failed(format!("reading the password from standard input: {error}")))?;
            line.strip_suffix('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).unwrap_or(&line).to_owned()
        }
        PasswordSource::Terminal => {
            let prompt = |text: &str| {
                rpassword::prompt_password(text)
                    .map_err(|error| CliError::Failed(format!("reading the password: {error}")))
            };
            let first = prompt(&format!("password for {name}: "))?;
            if prompt("again: ")? != first {
                return Err(CliError::Refused("the passwords differ; nothing was changed".to_owned()));
            }
            first
        }
    };
    if password.is_empty() {
        return Err(CliError::Refused("the password is empty (it is read from standard input, one line)".to_owned()));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(CliError::Refused(format!("the password is longer than {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(password)
}

fn hash_password(policy: &PasswordPolicy, password: String) -> Result<String, CliError> {
    policy.hash(&password).map_err(|error| CliError::Failed(format!("hashing the password: {error}")))
}

fn scope_list(scopes: &[String]) -> String {
    if scopes.is_empty() { ", allowed no scope".to_owned() } else { format!(", allowed {}", scopes.join(" ")) }
}

/// Left-aligned columns, two spaces apart.
fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:width$}")).collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(rows.iter().map(|row| line(row.iter().map(String::as_str).collect())));
    lines.join("\n")
}
