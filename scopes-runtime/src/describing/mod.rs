//! Describing the API: the OpenAPI document's
//! security ([`openapi`]), RFC 9728 protected-resource metadata ([`protected_resource`]), and an
//! issuer's discovery document ([`issuer_metadata`]).

pub(crate) mod issuer_metadata;
#[cfg(feature = "openapi")]
pub mod openapi;
pub(crate) mod protected_resource;
