//! Verifying a provider's tokens with its published keys (`KeySet`, `Authority::from_key_set`), over HTTP
//! against a guarded router: every algorithm a provider signs with, each key's algorithm pinned, the audience
//! required, and the scope claims of the common providers.
//!
//! The keys are test-only, made by `tests/fixtures/keys/generate.js`: private keys as DER, public ones as the
//! JWK Set a provider would publish.

use axum::http::{StatusCode, header};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scopes_runtime::{Authority, KeySet, ScopeClaim, TokenError, keys::KeySetError, requires};
use scopes_tests::cases::bearer;
use scopes_tests::minimal::{AppState, User};
use scopes_tests::tokens::{b64, now};
use scopes_tests::transport::{InProcess, Transport};
use serde_json::{Value, json};

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "https://api.example";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");

#[requires(scopes = ["me", "items"])]
async fn items(_user: User) -> &'static str {
    "items"
}

fn jwks() -> String {
    std::fs::read_to_string(format!("{KEYS}jwks.json")).expect("the test key set")
}

fn authority() -> Authority {
    Authority::from_key_set(KeySet::from_jwks(&jwks()).expect("a key set"), AUDIENCE).with_issuer(ISSUER)
}

fn app(authority: Authority) -> InProcess {
    let router = axum::Router::new().route("/items", axum::routing::get(items));
    InProcess::new(router.with_state(AppState { authority }))
}

/// The claims a provider's access token carries, `me items` granted.
fn claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "johndoe", "scope": "me items", "exp": now() + 300, "iat": now()})
}

fn signing_key(kid: &str, algorithm: Algorithm) -> EncodingKey {
    let der = std::fs::read(format!("{KEYS}{kid}.der")).expect("a test key");
    match algorithm {
        Algorithm::RS256 | Algorithm::PS256 => EncodingKey::from_rsa_der(&der),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_der(&der),
        _ => EncodingKey::from_ed_der(&der),
    }
}

/// A token signed with the test key `key` (its file name), with `kid` and `alg` in the header.
fn signed_with(key: &str, key_algorithm: Algorithm, header: Header, claims: &Value) -> String {
    jsonwebtoken::encode(&header, claims, &signing_key(key, key_algorithm)).expect("signs")
}

fn header(algorithm: Algorithm, kid: &str) -> Header {
    Header { kid: Some(kid.into()), typ: Some("at+jwt".into()), ..Header::new(algorithm) }
}

const EVERY_ALGORITHM: [(&str, Algorithm); 5] = [
    ("rs256", Algorithm::RS256),
    ("ps256", Algorithm::PS256),
    ("es256", Algorithm::ES256),
    ("es384", Algorithm::ES384),
    ("eddsa", Algorithm::EdDSA),
];

fn token(kid: &str, algorithm: Algorithm, claims: &Value) -> String {
    signed_with(kid, algorithm, header(algorithm, kid), claims)
}

async fn status_of(app: &InProcess, token: &str) -> (StatusCode, String) {
    let response = app.send(bearer("/items", token)).await;
    let challenge = response.headers.get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    (response.status, challenge.unwrap_or_default())
}

#[tokio::test]
async fn every_algorithm_a_provider_signs_with_is_verified() {
    let app = app(authority());
    for (kid, algorithm) in EVERY_ALGORITHM {
        assert_eq!(status_of(&app, &token(kid, algorithm, &claims())).await.0, StatusCode::OK, "{kid}");
    }
}

/// Tokens a resource server must refuse, each with what is wrong with it.
fn forged_and_foreign_tokens() -> Vec<(&'static str, String)> {
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = claims();
        change(&mut claims);
        token("es256", Algorithm::ES256, &claims)
    };
    let good = token("rs256", Algorithm::RS256, &claims());
    let [head, _, signature]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let mut altered = claims();
    altered["scope"] = json!("me items admin");
    let altered = format!("{head}.{}.{signature}", b64(altered.to_string().as_bytes()));
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none","kid":"rs256"}"#), b64(claims().to_string().as_bytes()));
    // The classic confusion: an HMAC "signed" with the public key, which anyone can read.
    let public_rsa = serde_json::from_str::<Value>(&jwks()).unwrap()["keys"][0].to_string();
    let hmac_with_public_key = jsonwebtoken::encode(
        &Header { kid: Some("rs256".into()), ..Header::new(Algorithm::HS256) },
        &claims(),
        &EncodingKey::from_secret(public_rsa.as_bytes()),
    )
    .unwrap();
    vec![
        ("for another audience", with(&|c| c["aud"] = json!("https://other.example"))),
        ("with no audience", with(&|c| drop(c.as_object_mut().unwrap().remove("aud")))),
        ("from another issuer", with(&|c| c["iss"] = json!("https://evil.example"))),
        ("expired beyond the leeway", with(&|c| c["exp"] = json!(now() - 120))),
        ("with no `exp`", with(&|c| drop(c.as_object_mut().unwrap().remove("exp")))),
        ("with no `sub`", with(&|c| drop(c.as_object_mut().unwrap().remove("sub")))),
        ("with a `scope` that is not a string", with(&|c| c["scope"] = json!(["me", "items"]))),
        ("altered after signing", altered),
        ("signed `none`", unsigned),
        ("HMAC-keyed with the public key", hmac_with_public_key),
        (
            "naming another key's algorithm",
            signed_with("rs256", Algorithm::RS256, header(Algorithm::PS256, "rs256"), &claims()),
        ),
        (
            "signed by a key the kid does not name",
            signed_with("ps256", Algorithm::RS256, header(Algorithm::RS256, "rs256"), &claims()),
        ),
        (
            "with an unknown kid",
            signed_with("es256", Algorithm::ES256, header(Algorithm::ES256, "es256-next"), &claims()),
        ),
        (
            "with no kid, the set having several keys",
            signed_with("es256", Algorithm::ES256, Header::new(Algorithm::ES256), &claims()),
        ),
        (
            "naming a critical extension",
            signed_with(
                "es256",
                Algorithm::ES256,
                Header { crit: Some(vec!["exp".into()]), ..header(Algorithm::ES256, "es256") },
                &claims(),
            ),
        ),
    ]
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused_with_a_bearer_challenge() {
    let app = app(authority());
    for (what, token) in forged_and_foreign_tokens() {
        let (status, challenge) = status_of(&app, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a token {what}");
        assert!(
            challenge.starts_with("Bearer ") && challenge.contains(r#"error="invalid_token""#),
            "{what}: {challenge}"
        );
    }
}

#[tokio::test]
async fn a_token_without_a_required_scope_is_403() {
    let mut claims = claims();
    claims["scope"] = json!("me");
    let (status, challenge) = status_of(&app(authority()), &token("eddsa", Algorithm::EdDSA, &claims)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(challenge.contains(r#"scope="me items""#), "{challenge}");
}

#[tokio::test]
async fn the_audience_check_is_dropped_only_on_request() {
    let mut claims = claims();
    claims["aud"] = json!("https://other.example");
    let token = token("es256", Algorithm::ES256, &claims);
    assert_eq!(status_of(&app(authority()), &token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app(authority().with_any_audience()), &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_access_token_type_can_be_required() {
    let app = app(authority().with_token_type("at+jwt"));
    for (typ, expected) in
        [("at+jwt", StatusCode::OK), ("application/AT+JWT", StatusCode::OK), ("JWT", StatusCode::UNAUTHORIZED)]
    {
        let header = Header { typ: Some(typ.into()), ..header(Algorithm::ES256, "es256") };
        assert_eq!(
            status_of(&app, &signed_with("es256", Algorithm::ES256, header, &claims())).await.0,
            expected,
            "{typ}"
        );
    }
}

#[tokio::test]
async fn the_scope_claims_of_common_providers_are_read() {
    let providers: [(&str, ScopeClaim, Value); 4] = [
        ("Entra ID", ScopeClaim::Scp, json!({"scp": "me items"})),
        ("Okta", ScopeClaim::Scp, json!({"scp": ["me", "items"]})),
        ("Auth0", ScopeClaim::Permissions, json!({"permissions": ["me", "items"], "scope": "openid"})),
        (
            "Keycloak",
            ScopeClaim::pointer("/realm_access/roles").unwrap(),
            json!({"realm_access": {"roles": ["items", "me", "offline_access"]}}),
        ),
    ];
    for (provider, claim, scopes) in providers {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove("scope");
        claims.as_object_mut().unwrap().extend(scopes.as_object().unwrap().clone());
        let app = app(authority().with_scope_claim(claim));
        assert_eq!(status_of(&app, &token("rs256", Algorithm::RS256, &claims)).await.0, StatusCode::OK, "{provider}");
    }
}

#[test]
fn each_keys_algorithm_is_pinned_from_alg_or_from_its_type() {
    let mut set: Value = serde_json::from_str(&jwks()).unwrap();
    for key in set["keys"].as_array_mut().unwrap() {
        key.as_object_mut().unwrap().remove("alg");
    }
    let keys = KeySet::from_jwks(&set.to_string()).unwrap();
    // Without `alg`, the PS256 key is taken for RS256 (OpenID Connect's default) and refuses PS256 tokens.
    let authority = Authority::from_key_set(keys, AUDIENCE);
    for (kid, algorithm) in [
        ("rs256", Algorithm::RS256),
        ("es256", Algorithm::ES256),
        ("es384", Algorithm::ES384),
        ("eddsa", Algorithm::EdDSA),
    ] {
        let verified = authority.verify(&token(kid, algorithm, &claims()));
        assert!(verified.is_ok(), "{kid}: {verified:?}");
    }
    assert_eq!(authority.verify(&token("ps256", Algorithm::PS256, &claims())), Err(TokenError::WrongAlgorithm));
}

#[test]
fn keys_that_cannot_verify_are_left_out_with_the_reason() {
    let mut set: Value = serde_json::from_str(&jwks()).unwrap();
    let keys = set["keys"].as_array_mut().unwrap();
    let mut mislabelled = keys[2].clone();
    mislabelled["kid"] = json!("ec-said-rsa");
    mislabelled["alg"] = json!("RS256");
    let mut encryption = keys[0].clone();
    encryption["kid"] = json!("for-encryption");
    encryption["use"] = json!("enc");
    let duplicate = keys[1].clone();
    keys.extend([
        mislabelled,
        encryption,
        duplicate,
        json!({"kty": "oct", "kid": "shared", "k": "c2VjcmV0"}),
        json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA"}),
        json!({"kty": "unknown", "kid": "odd"}),
    ]);
    let keys = KeySet::from_jwks(&set.to_string()).unwrap();
    assert_eq!(keys.kids(), ["rs256", "ps256", "es256", "es384", "eddsa"]);
    assert_eq!(keys.skipped().len(), 6, "{:#?}", keys.skipped());
    assert!(keys.skipped()[0].contains("ec-said-rsa"), "{:?}", keys.skipped());
    assert!(!format!("{keys:?}").contains(&set["keys"][0]["n"].as_str().unwrap()[..20]), "no key material in Debug");
}

#[test]
fn a_document_that_is_not_a_usable_key_set_is_an_error() {
    assert!(matches!(KeySet::from_jwks("not json"), Err(KeySetError::NotAJwkSet(_))));
    assert!(matches!(KeySet::from_jwks(r#"{"keys": {}}"#), Err(KeySetError::NotAJwkSet(_))));
    let only_symmetric = r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#;
    assert!(
        matches!(KeySet::from_jwks(only_symmetric), Err(KeySetError::NoUsableKey { skipped }) if skipped.len() == 1)
    );
}

#[test]
fn an_authority_of_keys_issues_nothing() {
    assert!(authority().issue("johndoe", &["me"]).is_err());
}
