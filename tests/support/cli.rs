//! Running the demo's administration commands (`demo users ...`, `demo keys ...`) as an operator does.

use std::process::{Command, Stdio};

use crate::server::demo_binary;

/// What a command printed, and its exit status.
pub struct Ran {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `demo GROUP ARGS --database-url URL`, with `stdin` as its input.
pub fn demo_command(group: &str, url: &str, args: &[&str], stdin: &str) -> Ran {
    let mut child = Command::new(demo_binary())
        .arg(group)
        .args(args)
        .args(["--database-url", url])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the demo runs");
    use std::io::Write;
    match child.stdin.take().expect("piped stdin").write_all(stdin.as_bytes()) {
        Ok(()) => {}
        // A command refused before it reads its input may have closed the pipe already.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(error) => panic!("writing the command's standard input: {error}"),
    }
    let output = child.wait_with_output().expect("the demo exits");
    Ran {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `demo users ARGS --database-url URL`, with `stdin` as its input.
pub fn users(url: &str, args: &[&str], stdin: &str) -> Ran {
    demo_command("users", url, args, stdin)
}

/// `demo users ...` succeeded; what it printed.
pub fn users_ok(url: &str, args: &[&str], stdin: &str) -> String {
    let ran = users(url, args, stdin);
    assert_eq!(ran.status, 0, "demo users {args:?}: {}", ran.stderr);
    ran.stdout
}
