//! A real Redis server for the tests: Debian's `redis-server` (which the test command installs when
//! missing) on a free loopback port, in a temporary directory, persisting nothing.
//!
//! A test binary starts one server and shares it ([`shared`]), each test keeping its counts apart under a
//! key prefix of its own or a fresh database ([`RedisServer::fresh_url`]); a test that stops its server
//! (an outage) starts its own ([`RedisServer::start`]). A watchdog stops each server when the test binary
//! exits, however it exits.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A Redis server on a loopback port.
pub struct RedisServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

/// The test binary's shared server, started on first use.
pub fn shared() -> &'static RedisServer {
    static SHARED: OnceLock<RedisServer> = OnceLock::new();
    SHARED.get_or_init(RedisServer::start)
}

impl RedisServer {
    /// Starts a server on a free loopback port.
    pub fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let server = RedisServer { port, dir: tempfile::tempdir().expect("a directory"), child: Mutex::new(None) };
        server.resume();
        server
    }

    /// Starts the server again after [`RedisServer::stop`], on the same port and empty.
    pub fn resume(&self) {
        let child = Command::new(program())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            // Sixteen databases are Redis' default; tests take one each.
            .args(["--databases", "1024"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (scripts/test installs Debian's `redis-server`)");
        watch(child.id());
        *self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server listens within 10 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server at once (an outage): connections are cut, new ones refused.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `redis://127.0.0.1:PORT/N` for a database no other test of this binary uses.
    pub fn fresh_url(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        format!("redis://127.0.0.1:{}/{}", self.port, NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `redis-server`, on PATH or where Debian puts it.
fn program() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/redis-server");
    if debian.is_file() { debian } else { PathBuf::from("redis-server") }
}

/// Kills process `pid` once this test process is gone: a shared server is never dropped.
fn watch(pid: u32) {
    let script =
        format!("while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill {pid} 2>/dev/null", me = std::process::id());
    // Never waited for: it outlives this process by design (init reaps it).
    #[allow(clippy::zombie_processes)]
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
