//! Reading token requests: every form shape, limit and repeated parameter.

use super::*;

fn issues(fields: &[(&str, &str)]) -> Vec<ValidationIssue> {
    match PasswordRequestForm::from_fields(fields.iter().copied(), false) {
        Err(AuthError::InvalidForm(issues)) => issues,
        other => panic!("expected a 422, got {other:?}"),
    }
}

#[test]
fn complete_form_is_read() {
    let form = PasswordRequestForm::from_fields(
        [("username", "johndoe"), ("password", "secret"), ("scope", "me items")],
        false,
    )
    .unwrap();
    assert_eq!(form.username, "johndoe");
    assert_eq!(form.scopes(), ["me", "items"]);
    assert_eq!(form.grant_type, None);
}

#[test]
fn missing_and_empty_fields_are_listed_in_form_order() {
    assert_eq!(issues(&[]), [ValidationIssue::missing("username"), ValidationIssue::missing("password")]);
    assert_eq!(issues(&[("username", ""), ("password", "x")]), [ValidationIssue::missing("username")]);
    assert_eq!(
        issues(&[("grant_type", "client_credentials")]),
        [
            ValidationIssue::pattern_mismatch("grant_type", "client_credentials", "^password$"),
            ValidationIssue::missing("username"),
            ValidationIssue::missing("password"),
        ]
    );
}

#[test]
fn grant_type_must_be_exactly_password() {
    for bad in ["Password", "password ", "passwordx", "password\n"] {
        assert_eq!(issues(&[("grant_type", bad), ("username", "u"), ("password", "p")]).len(), 1, "{bad:?}");
    }
    assert!(
        PasswordRequestForm::from_fields([("grant_type", "password"), ("username", "u"), ("password", "p")], false)
            .is_ok()
    );
    assert!(
        PasswordRequestForm::from_fields([("grant_type", ""), ("username", "u"), ("password", "p")], false).is_ok()
    );
}

#[test]
fn strict_mode_requires_a_password_grant_type() {
    let strict = |fields: &[(&str, &str)]| PasswordRequestForm::from_fields(fields.iter().copied(), true);
    assert!(
        matches!(strict(&[("username", "u"), ("password", "p")]), Err(AuthError::InvalidForm(issues)) if issues == [ValidationIssue::missing("grant_type")])
    );
    assert!(matches!(
        strict(&[("grant_type", "client_credentials"), ("username", "u"), ("password", "p")]),
        Err(AuthError::UnsupportedGrantType)
    ));
    assert!(strict(&[("grant_type", "password"), ("username", "u"), ("password", "p")]).is_ok());
}

#[test]
fn passwords_over_the_limit_are_refused_not_truncated() {
    let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
    let at_limit = "é".repeat(MAX_PASSWORD_BYTES / 2); // 2 bytes each
    assert!(matches!(
        PasswordRequestForm::from_fields([("username", "u"), ("password", long.as_str())], false),
        Err(AuthError::PasswordTooLong)
    ));
    assert!(PasswordRequestForm::from_fields([("username", "u"), ("password", at_limit.as_str())], false).is_ok());
}

#[test]
fn a_repeated_value_is_read_last_in_the_seed_style_and_refused_in_the_strict_one() {
    let fields = [("username", "a"), ("username", "b"), ("password", "p"), ("password", "")];
    let form = PasswordRequestForm::from_fields(fields, false).unwrap_err();
    assert!(matches!(form, AuthError::InvalidForm(issues) if issues == [ValidationIssue::missing("password")]));
    let form =
        PasswordRequestForm::from_fields([("username", "a"), ("username", "b"), ("password", "p")], false).unwrap();
    assert_eq!(form.username, "b");
    let strict = [("grant_type", "password"), ("username", "a"), ("username", "b"), ("password", "p")];
    assert!(matches!(
        PasswordRequestForm::from_fields(strict, true),
        Err(AuthError::InvalidForm(issues)) if issues == [ValidationIssue::repeated("username")]
    ));
}

#[test]
fn usernames_over_256_bytes_are_refused() {
    let long = "u".repeat(MAX_USERNAME_BYTES + 1);
    assert_eq!(
        issues(&[("username", long.as_str()), ("password", "p")]),
        [ValidationIssue::too_long("username", MAX_USERNAME_BYTES)]
    );
    let at_limit = "u".repeat(MAX_USERNAME_BYTES);
    assert!(PasswordRequestForm::from_fields([("username", at_limit.as_str()), ("password", "p")], false).is_ok());
}
