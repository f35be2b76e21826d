//! Turns the README into this crate's documentation, each ```rust block a doc test (compiled, not run) with
//! the context its prose gives it: `src/context.rs` (an app's types and handlers) and, unless the block
//! declares its own, a registry of every scope the README names. A block of items and statements runs
//! inside an `async fn` returning `Result`, so `?` and `.await` read as they would in an app's code; a block
//! declaring a registry stays at the crate root, where `registry!` must be.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let readme_path = Path::new(&manifest).join("../../README.md");
    println!("cargo::rerun-if-changed={}", readme_path.display());
    println!("cargo::rerun-if-changed=src/context.rs");
    let readme = std::fs::read_to_string(&readme_path).expect("the workspace's README.md");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("README.md");
    std::fs::write(out, doc_tests(&readme)).expect("writing the README's doc tests");
}

/// `readme` with every ```rust block wrapped as a doc test; other blocks fenced as text, so that rustdoc
/// runs none of them.
fn doc_tests(readme: &str) -> String {
    let mut out = String::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let block: Vec<&str> = lines.by_ref().take_while(|line| !line.starts_with("```")).collect();
        if info.trim() == "rust" {
            out.push_str(&wrapped(&block));
        } else {
            out.push_str("```text\n");
            push_lines(&mut out, &block);
            out.push_str("```\n");
        }
    }
    out
}

/// One README block as a standalone doc test: `registry!` must sit at a crate root, which rustdoc's merged
/// doc tests do not give it.
fn wrapped(block: &[&str]) -> String {
    let mut test = String::from("```rust,no_run,standalone_crate\n");
    let hidden = |test: &mut String, line: &str| {
        test.push_str("# ");
        test.push_str(line);
        test.push('\n');
    };
    hidden(&mut test, "#![allow(unused, non_local_definitions, unreachable_code, clippy::all)]");
    hidden(&mut test, r#"include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/context.rs"));"#);
    let declares_registry = block.iter().any(|line| line.contains("registry! {"));
    if declares_registry {
        push_lines(&mut test, block);
        hidden(&mut test, "fn main() {}");
    } else {
        hidden(&mut test, r#"include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/registry.rs"));"#);
        hidden(&mut test, "fn main() {}");
        hidden(&mut test, "async fn readme_block() -> Result<(), Box<dyn std::error::Error>> {");
        hidden(&mut test, "let state = crate::AppState::example();");
        hidden(&mut test, "let authority = state.authority.clone();");
        hidden(&mut test, "let johndoe = crate::User::example();");
        hidden(&mut test, "let response: axum::response::Response = Default::default();");
        hidden(&mut test, r#"let secret = "s3cret";"#);
        hidden(
            &mut test,
            "let (api_version_header, served_by_header) = (tower::layer::util::Identity::new(), tower::layer::util::Identity::new());",
        );
        push_lines(&mut test, block);
        hidden(&mut test, "Ok(())");
        hidden(&mut test, "}");
    }
    test.push_str("```\n");
    test
}

/// `lines` appended to `out`, each ending its line.
fn push_lines(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
}
