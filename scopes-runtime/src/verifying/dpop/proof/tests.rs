use serde_json::json;

use super::*;
use crate::keys::clock::unix_now;
use crate::testing::DpopKey;
use crate::verifying::dpop::DpopMode;

const URL: &str = "https://api.example/users/me/items/";
const TOKEN: &str = "header.claims.signature";

fn dpop() -> Dpop {
    Dpop::new(DpopMode::Required, "https://api.example").unwrap()
}

fn target(method: &Method) -> RequestTarget<'_> {
    RequestTarget { method, path: "/users/me/items/", host: Some("evil.example") }
}

fn check(dpop: &Dpop, proof: &str, key: &DpopKey) -> Result<String, ProofError> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(dpop.check_proof(proof, &target(&Method::GET), Some(TOKEN), Some(key.thumbprint())))
}

#[test]
fn a_good_proof_is_taken_once() {
    let (dpop, key) = (dpop(), DpopKey::generate());
    let proof = key.proof("GET", URL, Some(TOKEN));
    assert_eq!(check(&dpop, &proof, &key).as_deref(), Ok(key.thumbprint()));
    assert_eq!(check(&dpop, &proof, &key), Err(ProofError::Replayed));
    // The query and fragment are not part of what `htu` names; the host's case and the default port are normalized.
    for url in ["https://api.example/users/me/items/?page=2", "https://API.example:443/users/me/items/#x"] {
        assert!(check(&dpop, &key.proof("GET", url, Some(TOKEN)), &key).is_ok(), "{url}");
    }
}

#[test]
fn each_bad_proof_is_refused_for_its_reason() {
    let (dpop, key) = (dpop(), DpopKey::generate());
    let claims = |changes: serde_json::Value| {
        let mut claims = json!({"jti": key.fresh_jti(), "htm": "GET", "htu": URL, "iat": unix_now(), "ath": access_token_hash(TOKEN)});
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        key.proof_with_claims(&claims)
    };
    let invalid = |proof: String| match check(&dpop, &proof, &key) {
        Err(ProofError::Invalid(why)) => why,
        other => panic!("{other:?}"),
    };
    assert!(invalid(claims(json!({"htm": "POST"}))).contains("`htm`"));
    assert!(invalid(claims(json!({"htu": "https://evil.example/users/me/items/"}))).contains("`htu`"));
    assert!(invalid(claims(json!({"htu": "http://api.example/users/me/items/"}))).contains("`htu`"));
    assert!(invalid(claims(json!({"htu": "https://api.example/users/me/"}))).contains("`htu`"));
    assert!(invalid(claims(json!({"iat": unix_now() - 120}))).contains("`iat`"));
    assert!(invalid(claims(json!({"iat": unix_now() + 60}))).contains("`iat`"));
    assert!(invalid(claims(json!({"iat": null}))).contains("`iat`"));
    assert!(invalid(claims(json!({"ath": access_token_hash("another.token.here")}))).contains("`ath`"));
    assert!(invalid(claims(json!({"ath": null}))).contains("`ath`"));
    assert!(invalid(claims(json!({"jti": null}))).contains("`jti`"));
    assert!(invalid(claims(json!({"jti": "x".repeat(300)}))).contains("`jti`"));

    let good_claims =
        json!({"jti": key.fresh_jti(), "htm": "GET", "htu": URL, "iat": unix_now(), "ath": access_token_hash(TOKEN)});
    let with_header = |header: serde_json::Value| key.sign_proof(&header, &good_claims);
    assert!(invalid(with_header(json!({"typ": "JWT", "alg": "ES256", "jwk": key.jwk()}))).contains("`typ`"));
    assert!(invalid(with_header(json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.jwk()}))).contains("`alg`"));
    assert!(invalid(with_header(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk()}))).contains("`alg`"));
    assert!(invalid(with_header(json!({"typ": "dpop+jwt", "alg": "ES256"}))).contains("`jwk`"));
    let mut private = key.jwk().clone();
    private["d"] = json!("AAAA");
    assert!(invalid(with_header(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": private}))).contains("private"));
    // Signed by this key, but naming another: the signature does not verify with the named key.
    let other = DpopKey::generate();
    let forged = with_header(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": other.jwk()}));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let checked =
        runtime.block_on(dpop.check_proof(&forged, &target(&Method::GET), Some(TOKEN), Some(other.thumbprint())));
    assert!(matches!(checked, Err(ProofError::Invalid(why)) if why.contains("signature")), "{checked:?}");
    assert!(invalid("not a jwt".into()).contains("not a JWT"));
}

#[test]
fn a_proof_by_another_key_than_the_tokens_is_refused() {
    let (dpop, key, thief) = (dpop(), DpopKey::generate(), DpopKey::generate());
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let proof = thief.proof("GET", URL, Some(TOKEN));
    let checked =
        runtime.block_on(dpop.check_proof(&proof, &target(&Method::GET), Some(TOKEN), Some(key.thumbprint())));
    assert_eq!(checked, Err(ProofError::WrongKey));
}

#[test]
fn the_host_header_names_the_server_only_when_trusted() {
    let key = DpopKey::generate();
    let on_evil = key.proof("GET", "https://evil.example/users/me/items/", Some(TOKEN));
    assert!(check(&dpop(), &on_evil, &key).is_err());
    assert!(
        check(
            &dpop().trusting_host_header(),
            &key.proof("GET", "https://evil.example/users/me/items/", Some(TOKEN)),
            &key
        )
        .is_ok()
    );
}

#[test]
fn a_public_url_with_a_path_prefix_is_followed_by_the_requests_path() {
    let key = DpopKey::generate();
    let dpop = Dpop::new(DpopMode::Allowed, "https://example.com/api/").unwrap();
    assert!(check(&dpop, &key.proof("GET", "https://example.com/api/users/me/items/", Some(TOKEN)), &key).is_ok());
    assert!(check(&dpop, &key.proof("GET", URL, Some(TOKEN)), &key).is_err());
}
