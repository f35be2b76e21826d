//! `jwt-authorizer-peer ISSUER AUDIENCE`: `GET /users/me/items/` as the demo serves it in issuer mode
//! (scopes `me` and `items` from the `scope` claim, `iss` and `aud` checked), behind jwt-authorizer's
//! layer, with keys by OpenID Connect discovery of ISSUER. Prints `listening on http://ADDR` when ready.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jwt_authorizer::{Authorizer, IntoLayer, JwtAuthorizer, JwtClaims, Validation};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Clone, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: String,
}

async fn read_own_items(JwtClaims(claims): JwtClaims<Claims>) -> Result<Json<Value>, StatusCode> {
    let granted: Vec<&str> = claims.scope.split(' ').collect();
    if !["me", "items"].iter().all(|scope| granted.contains(scope)) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(Json(json!([{ "item_id": "Foo", "owner": claims.sub }])))
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (issuer, audience) = match (args.next(), args.next()) {
        (Some(issuer), Some(audience)) => (issuer, audience),
        _ => {
            eprintln!("usage: jwt-authorizer-peer ISSUER AUDIENCE");
            std::process::exit(2);
        }
    };
    let authorizer: Authorizer<Claims> = JwtAuthorizer::from_oidc(&issuer)
        .validation(Validation::new().iss(&[issuer.as_str()]).aud(&[audience.as_str()]))
        .build()
        .await
        .expect("jwt-authorizer discovers the provider");
    let app = Router::new().route("/users/me/items/", get(read_own_items)).layer(authorizer.into_layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    println!("listening on http://{}", listener.local_addr().expect("bound"));
    axum::serve(listener, app).await.expect("serving");
}
