use scopes_runtime::requires;

struct User;

#[requires(scopes = ["me"])]
async fn read(_user: User) {}

fn main() {}
