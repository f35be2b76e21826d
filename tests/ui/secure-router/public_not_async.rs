use scopes_runtime::public;

#[public]
fn health() -> &'static str {
    "ok"
}

fn main() {}
