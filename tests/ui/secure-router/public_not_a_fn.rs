use scopes_runtime::public;

#[public]
struct Health;

fn main() {}
