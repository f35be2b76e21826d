//! What a scope name may be (RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`), and the
//! "did you mean" used by every message about names.

/// Why `name` is not a scope token, or `None` when it is one.
pub fn scope_token_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a scope must not be empty".into());
    }
    let bad = name.chars().find(|&c| !matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))?;
    let shown = match bad {
        ' ' => "a space".to_string(),
        '"' => "`\"`".to_string(),
        '\\' => "`\\`".to_string(),
        c if c.is_control() || c.is_whitespace() => format!("{:?}", c),
        c => format!("`{c}`"),
    };
    Some(format!(
        "scope `{name}` contains {shown}; RFC 6749 scope tokens are printable ASCII without spaces, `\"` or `\\`"
    ))
}

/// The candidate closest to `name`, when it is close enough to be a likely typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(name.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `` `me`, `items` `` for a message.
pub fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_scope_tokens() {
        for name in ["me", "items:read", "https://api.example.com/read", "a!#$%&'()*+,-./[]^_`{|}~"] {
            assert_eq!(scope_token_problem(name), None, "{name}");
        }
    }

    #[test]
    fn refuses_empty_space_quote_backslash_and_non_ascii() {
        assert!(scope_token_problem("").unwrap().contains("empty"));
        assert!(scope_token_problem("read items").unwrap().contains("a space"));
        assert!(scope_token_problem("a\"b").unwrap().contains("`\"`"));
        assert!(scope_token_problem("a\\b").unwrap().contains("`\\`"));
        assert!(scope_token_problem("caf\u{e9}").unwrap().contains("`\u{e9}`"));
        assert!(scope_token_problem("tab\there").unwrap().contains("'\\t'"));
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(closest("itemz", ["me", "items"]), Some("items"));
        assert_eq!(closest("mee", ["me", "items"]), Some("me"));
        assert_eq!(closest("admin", ["me", "items"]), None);
    }
}
