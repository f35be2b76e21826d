//! Describing the API: routers that know who may call each route ([`routing`]), the OpenAPI document's
//! security ([`openapi`]), and RFC 9728 protected-resource metadata ([`protected_resource`]).

#[cfg(feature = "openapi")]
pub mod openapi;
pub(crate) mod protected_resource;
pub mod routing;
