//! Starting the demo binary as a user does, on a free loopback port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Builds the demo binary (a no-op when it is fresh) and returns its path, as cargo reports it; or the
/// binary `SCOPES_DEMO_BINARY` names, to run the same tests against another build (an earlier commit's, to
/// see a test fail before its fix).
pub fn demo_binary() -> PathBuf {
    if let Some(other) = std::env::var_os("SCOPES_DEMO_BINARY") {
        return PathBuf::from(other);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "demo", "--bin", "demo", "--message-format=json"])
        .current_dir(workspace)
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "building the demo failed:\n{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the demo executable")
}

/// A running demo; killed when dropped, so a failing test leaves no server behind.
pub struct RunningDemo {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What it logged up to its "listening" line.
    pub log: Vec<String>,
    /// What it logs after.
    later: std::sync::Mutex<mpsc::Receiver<String>>,
    /// Where its default database is; removed after the process is gone (fields drop after `drop`).
    _database: tempfile::TempDir,
}

impl RunningDemo {
    /// A transport to it over TCP.
    pub fn over_tcp(&self) -> crate::transport::OverTcp {
        crate::transport::OverTcp::new(self.base.clone())
    }

    /// The first line it logged after its "listening" line, and not read by an earlier call, that contains
    /// `text`, waiting for it up to `timeout`.
    pub fn wait_for_log(&self, text: &str, timeout: Duration) -> Option<String> {
        let lines = self.later.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(std::time::Instant::now())?;
            match lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }
}

impl Drop for RunningDemo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_demo(secret: Option<&str>) -> RunningDemo {
    start_demo_with(secret, &[])
}

/// The demo with `args` after `--bind 127.0.0.1:0`.
pub fn start_demo_with(secret: Option<&str>, args: &[&str]) -> RunningDemo {
    start_demo_at("127.0.0.1:0", secret, args)
}

/// The demo bound to `bind`, with `args`. Its users are in a fresh SQLite database of its own (removed
/// with it), unless `args` name one with `--database-url`.
pub fn start_demo_at(bind: &str, secret: Option<&str>, args: &[&str]) -> RunningDemo {
    let database = tempfile::tempdir().expect("a temporary directory");
    let mut command = Command::new(demo_binary());
    command
        .args(["--bind", bind])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("DEMO_DATABASE_URL", format!("sqlite://{}/demo.db", database.path().display()))
        .env_remove("DEMO_SECRET_KEY");
    if let Some(secret) = secret {
        command.env("DEMO_SECRET_KEY", secret);
    }
    let child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the demo starts");
    // Owned by the guard from here on, so any failure below still kills the process.
    let (lines_tx, lines) = mpsc::channel();
    let later = std::sync::Mutex::new(lines);
    let mut demo = RunningDemo { child, base: String::new(), log: Vec::new(), later, _database: database };
    let stdout = demo.child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        // Read to the end even when nobody listens any more: a full pipe would stall the demo's logging.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    while demo.base.is_empty() {
        let line = demo.later.lock().expect("one reader").recv_timeout(Duration::from_secs(30));
        let line = line.expect("the demo logs its address within 30 s");
        // The address ends the line, or (with `--log-format json`) the message string.
        if let Some(address) = line.split("listening on ").nth(1) {
            demo.base = address.split(|c: char| c == '"' || c.is_whitespace()).next().unwrap_or_default().to_owned();
        }
        demo.log.push(line);
    }
    demo
}
