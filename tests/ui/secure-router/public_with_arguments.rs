use scopes_runtime::public;

#[public(scopes = ["me"])]
async fn health() -> &'static str {
    "ok"
}

fn main() {}
