//! Describing the API: the OpenAPI document's
//! security ([`openapi`]), RFC 9728 protected-resource metadata ([`ProtectedResourceMetadata`]), and an
//! issuer's discovery document ([`IssuerMetadata`]).

mod issuer_metadata;
#[cfg(feature = "openapi")]
pub mod openapi;
mod protected_resource;
#[cfg(feature = "swagger-ui")]
mod swagger_ui;

pub use issuer_metadata::IssuerMetadata;
pub use protected_resource::ProtectedResourceMetadata;
