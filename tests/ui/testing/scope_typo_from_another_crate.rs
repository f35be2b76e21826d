// From another crate (an app's integration tests), `scopes![in app: ...]` checks each scope against that
// crate's registry: here the demo's.
use scopes_runtime::testing::scopes;

fn main() {
    let _ = scopes![in demo: "me", "itmes"];
}
