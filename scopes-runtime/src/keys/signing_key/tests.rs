//! Generated keys sign what their published halves verify; stored keys read back as they were.

use super::*;
use crate::keys::KeySet;

#[test]
fn every_algorithm_signs_what_its_published_key_verifies() {
    for algorithm in SigningAlgorithm::ALL {
        let key = SigningKey::generate(algorithm).unwrap();
        let encoding = key.encoding_key().unwrap().expect("a current key signs");
        let header = jsonwebtoken::Header { kid: Some(key.kid().into()), ..jsonwebtoken::Header::new(algorithm.jwt()) };
        let token =
            jsonwebtoken::encode(&header, &json!({"sub": "johndoe", "exp": unix_now() + 60}), &encoding).unwrap();
        let published = KeySet::from_jwks(&json!({"keys": [key.public_jwk()]}).to_string()).unwrap();
        assert_eq!(published.kids(), [key.kid()], "{algorithm}: {:?}", published.skipped());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        let verifying = published.select(&header).unwrap();
        let mut validation = jsonwebtoken::Validation::new(algorithm.jwt());
        validation.validate_aud = false;
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &verifying.key, &validation).is_ok(), "{algorithm}");
    }
}

#[test]
fn a_stored_key_reads_back_as_it_was_and_a_superseded_one_signs_nothing() {
    let key = SigningKey::generate(SigningAlgorithm::Es256).unwrap();
    let stored = key.stored_private_key().unwrap();
    let jwk = key.public_jwk().to_string();
    let stored_key = |private_key, superseded_at| StoredKey {
        kid: key.kid().into(),
        algorithm: "ES256",
        private_key,
        public_jwk: &jwk,
        created_at: 1,
        activates_at: 50,
        superseded_at,
        revoked_at: None,
    };
    let read = SigningKey::from_stored(stored_key(Some(&stored), None)).unwrap();
    assert!(read.encoding_key().unwrap().is_some());
    assert!(!read.signs_at(49) && read.signs_at(50) && read.signs_at(u64::MAX), "from its activation on");
    let superseded = SigningKey::from_stored(stored_key(None, Some(100))).unwrap();
    assert!(superseded.signs_at(99) && !superseded.signs_at(100));
    assert!(superseded.encoding_key().unwrap().is_none());
    let lifetime = Duration::from_secs(1800);
    assert_eq!(superseded.published_until(lifetime), Some(100 + 1800 + ROTATION_GRACE.as_secs()));
    assert!(superseded.is_published(lifetime, 101) && !superseded.is_published(lifetime, 100_000));
    let revoked = SigningKey::from_stored(StoredKey { revoked_at: Some(100), ..stored_key(None, Some(100)) }).unwrap();
    assert!(!revoked.is_published(lifetime, 101), "a revoked key is not published");
}
