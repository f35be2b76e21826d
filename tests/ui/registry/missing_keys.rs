scopes_runtime::registry! {
    scopes = { "me" => "Read information about the current user." },
}

fn main() {}
