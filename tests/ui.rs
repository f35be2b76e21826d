//! Compile-time behaviour of `#[requires]`, `#[public]`, `registry!`, `SecureRouter` and the test kit's `scopes!`: what compiles, and the message for every
//! mistake. The `.stderr` snapshots are tied to the machine's compiler (stable 1.95); refresh them with
//! `TRYBUILD=overwrite cargo test -p scopes-tests --test ui` and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/requires-target/*.rs");
    cases.compile_fail("ui/requires-args/*.rs");
    cases.compile_fail("ui/registry/*.rs");
    cases.compile_fail("ui/secure-router/*.rs");
    cases.compile_fail("ui/testing/*.rs");
}

/// The mistakes a newcomer makes first, each with one error that says what to do.
#[test]
fn diagnostics() {
    trybuild::TestCases::new().compile_fail("ui/diagnostics/*.rs");
}

/// Resource rules: a misspelt rule, a rule of another resource, a rule without its parameter and the
/// reverse, two rules, a list handler without a listing rule.
#[test]
fn rules() {
    trybuild::TestCases::new().compile_fail("ui/rules/*.rs");
}
