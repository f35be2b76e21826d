//! A real PostgreSQL server for the tests: a throwaway cluster (Debian's `postgresql`, which the test
//! command installs when missing) made with `initdb` in a temporary directory and served by `pg_ctl` on a
//! loopback port, with one fresh database per test.
//!
//! A test binary starts one cluster and shares it ([`shared`]); a test that stops its server (an outage)
//! starts its own ([`Cluster::start`]). A watchdog process stops each cluster and removes its directory
//! when the test binary exits, however it exits: a cluster never outlives its tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// A running cluster.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

/// The test binary's shared cluster, started on first use.
pub fn shared() -> &'static Cluster {
    static SHARED: OnceLock<Cluster> = OnceLock::new();
    SHARED.get_or_init(Cluster::start)
}

/// Where Debian installs the server's programs (`/usr/lib/postgresql/VERSION/bin`), the newest first.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/test installs Debian's `postgresql`)")
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort_by_key(|bin| {
        bin.parent().and_then(|version| version.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0)
    });
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// `program` with `args`, as the `postgres` user when running as root (initdb and the server refuse root).
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

impl Cluster {
    /// Makes a cluster in a new temporary directory and starts it on a free loopback port.
    pub fn start() -> Cluster {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("scopes-pg-{}-{}", std::process::id(), next_id()));
        std::fs::create_dir_all(&dir).expect("the cluster's directory");
        if is_root() {
            let status = Command::new("chown").arg("postgres:postgres").arg(&dir).status().expect("chown runs");
            assert!(status.success(), "chown postgres {dir:?}");
        }
        let output = as_server_user(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&dir)
            .output()
            .expect("initdb runs");
        assert!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        let cluster = Cluster { bin, dir, port: free_port() };
        cluster.watch();
        cluster.resume();
        cluster
    }

    /// Starts the server again after [`Cluster::stop`], on the same port.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let status = as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.dir)
            .args(["-o", &options, "-w", "-l"])
            .arg(self.dir.join("log"))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl start failed: {}", self.log());
    }

    /// Stops the server at once (an outage): connections are cut, new ones refused.
    pub fn stop(&self) {
        let status = as_server_user(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "pg_ctl stop failed: {}", self.log());
    }

    /// The URL of a new, empty database of its own.
    pub fn fresh_database(&self) -> String {
        let name = format!("test_{}_{}", std::process::id(), next_id());
        let output = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("psql runs");
        assert!(output.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&output.stderr));
        self.url(&name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Stops the server and removes its directory once this test process is gone.
    fn watch(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if is_root() {
            format!("runuser -u postgres -- {} -D {} -m immediate stop", pg_ctl.display(), self.dir.display())
        } else {
            format!("{} -D {} -m immediate stop", pg_ctl.display(), self.dir.display())
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        // Never waited for: it outlives this process by design (init reaps it).
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the watchdog starts");
    }
}

fn next_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
