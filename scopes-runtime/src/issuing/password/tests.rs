//! Hashing in kept memory, both schemes verifying, and the checker under load.

use std::time::{Duration, Instant};

use super::*;
use crate::issuing::queue::PasswordCheckLimits;

fn cheap_argon2id() -> PasswordPolicy {
    PasswordPolicy::argon2id(1024, 1, 1).unwrap()
}

#[test]
fn hashes_made_in_kept_memory_are_the_argon2_crates_own_and_verify_both_ways() {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    let ours = cheap_argon2id().hash("secret").unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(Argon2::default().verify_password(b"secret", &parsed).is_ok(), "{ours}");
    assert!(Argon2::default().verify_password(b"Secret", &parsed).is_err());
    // Made by the crate (any variant), checked by us; twice on one thread, the memory reused between.
    for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i, Algorithm::Argon2d] {
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::new(2048, 1, 1, None).unwrap();
        let theirs = Argon2::new(algorithm, Version::V0x13, params).hash_password(b"secret", &salt).unwrap();
        let theirs = theirs.to_string();
        assert!(PasswordPolicy::verify("secret", &theirs) && !PasswordPolicy::verify("secreT", &theirs), "{theirs}");
    }
    // A bigger hash than the memory kept so far, then a smaller one: the kept memory grows, and serves both.
    let bigger = PasswordPolicy::argon2id(4096, 1, 1).unwrap().hash("secret").unwrap();
    assert!(PasswordPolicy::verify("secret", &bigger) && PasswordPolicy::verify("secret", &ours));
}

#[tokio::test]
async fn known_unknown_and_malformed() {
    let policy = cheap_argon2id();
    let checker = PasswordChecker::new(policy, None, PasswordCheckLimits::default());
    let hash = policy.hash("secret").unwrap();
    let matched = Verdict { matched: true, rehashed: None };
    assert_eq!(checker.verify(None, "secret".into(), Some(hash.clone())).await.unwrap(), matched);
    assert!(!checker.verify(None, "wrong".into(), Some(hash)).await.unwrap().matched);
    assert!(!checker.verify(None, "secret".into(), None).await.unwrap().matched);
    assert!(!checker.verify(None, "secret".into(), Some("not a hash".into())).await.unwrap().matched);
}

#[tokio::test]
async fn an_outdated_hash_is_replaced_only_when_the_password_matches() {
    let policy = cheap_argon2id();
    let checker = PasswordChecker::new(policy, None, PasswordCheckLimits::default());
    for outdated in [
        PasswordPolicy::bcrypt(4).unwrap().hash("secret").unwrap(),
        PasswordPolicy::argon2id(2048, 1, 1).unwrap().hash("secret").unwrap(),
    ] {
        let verdict = checker.verify(None, "secret".into(), Some(outdated.clone())).await.unwrap();
        let rehashed = verdict.rehashed.expect("a new hash");
        assert!(policy.is_current(&rehashed) && PasswordPolicy::verify("secret", &rehashed), "{rehashed}");
        let wrong = checker.verify(None, "wrong".into(), Some(outdated)).await.unwrap();
        assert_eq!(wrong, Verdict { matched: false, rehashed: None });
    }
}

#[test]
fn the_seeds_bcrypt_hash_verifies_and_is_outdated_by_default() {
    let johndoe = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
    assert!(PasswordPolicy::verify("secret", johndoe));
    assert!(!PasswordPolicy::verify("Secret", johndoe));
    assert!(!PasswordPolicy::default().is_current(johndoe));
    assert!(PasswordPolicy::bcrypt(12).unwrap().is_current(johndoe));
    assert!(!PasswordPolicy::bcrypt(11).unwrap().is_current(johndoe));
}

#[test]
fn long_passwords_count_whole_under_argon2id_and_are_refused_by_bcrypt() {
    let policy = cheap_argon2id();
    let long = "x".repeat(100);
    let hash = policy.hash(&long).unwrap();
    assert!(PasswordPolicy::verify(&long, &hash));
    assert!(!PasswordPolicy::verify(&"x".repeat(99), &hash), "the 100th byte counts");
    let refused = PasswordPolicy::bcrypt(4).unwrap().hash(&long).unwrap_err();
    assert!(refused.to_string().contains("72 bytes"), "{refused}");
}

#[test]
fn out_of_range_parameters_are_refused() {
    assert!(PasswordPolicy::argon2id(4, 1, 1).is_err());
    assert!(PasswordPolicy::argon2id(1024, 0, 1).is_err());
    assert!(PasswordPolicy::argon2id(1024, 1, 0).is_err());
}

#[test]
fn the_stand_in_follows_the_policy_and_is_made_up_front() {
    let checker = PasswordChecker::new(PasswordPolicy::bcrypt(5).unwrap(), None, PasswordCheckLimits::default());
    assert!(checker.stand_in.as_deref().unwrap().starts_with("$2b$05$"));
    let checker = PasswordChecker::new(cheap_argon2id(), None, PasswordCheckLimits::default());
    assert!(checker.stand_in.as_deref().unwrap().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
}

#[test]
fn an_argon2id_stand_in_is_a_current_hash_that_nothing_matches_and_is_made_without_hashing() {
    let (stand_in, took) = cheap_argon2id().stand_in().unwrap();
    assert!(cheap_argon2id().is_current(&stand_in), "checked with the policy's full parameters: {stand_in}");
    for password in ["stand-in for unknown users", "stand-in", "", "secret"] {
        assert!(!PasswordPolicy::verify(password, &stand_in));
    }
    assert!(took > Duration::ZERO, "the check's time is estimated");
    // Random each time: no two processes share one.
    assert_ne!(cheap_argon2id().stand_in().unwrap().0, stand_in);
}

#[tokio::test]
async fn with_legacy_hashes_a_failed_check_takes_at_least_a_legacy_checks_time() {
    let legacy = PasswordPolicy::bcrypt(8).unwrap();
    let checker = PasswordChecker::new(cheap_argon2id(), Some(legacy), PasswordCheckLimits::default());
    let floor = checker.floor();
    assert!(floor > Duration::ZERO, "timed at start-up");
    let current = cheap_argon2id().hash("secret").unwrap();
    for hash in [None, Some(current.clone())] {
        let started = Instant::now();
        assert!(!checker.verify(None, "wrong".into(), hash).await.unwrap().matched);
        assert!(started.elapsed() >= floor, "{:?} < {floor:?}", started.elapsed());
    }
    // A legacy check moves the floor towards its own time; a match is not held back.
    let old = legacy.hash("secret").unwrap();
    assert!(checker.verify(None, "wrong".into(), Some(old.clone())).await.unwrap().rehashed.is_none());
    assert!(checker.verify(None, "secret".into(), Some(old)).await.unwrap().rehashed.is_some());
    assert!(checker.verify(None, "secret".into(), Some(current)).await.unwrap().matched);
    // Without legacy hashes, nothing waits.
    let plain = PasswordChecker::new(cheap_argon2id(), Some(cheap_argon2id()), PasswordCheckLimits::default());
    assert_eq!((plain.legacy(), plain.floor()), (None, Duration::ZERO));
}
