//! The tfplugin6 service: decodes requests, dispatches to a `Provider`, encodes responses and diagnostics.
//!
//! Knows schemas and values, nothing about AWS and nothing about the transport (that is `plugin`). Generated
//! protobuf types stay inside this module; the `Provider` trait and its hand-written types are the only way in.
//! Protocol invariants (configured values unchanged by a plan, applied state consistent with the plan, no
//! unknowns in stored state) are checked here once for every resource, not in the provider.

mod convert;
mod invariants;
mod provider;
mod server;

use std::sync::Arc;

pub use provider::{
    ApplyRequest, ApplyResponse, ConfigureRequest, ImportRequest, ImportResponse, ImportedResource, PlanRequest,
    PlanResponse, Provider, ReadRequest, ReadResponse,
};
pub use server::ProviderService;

/// The largest gRPC message accepted or sent, both ways. Terraform's own provider SDKs allow the same; tonic's
/// default of 4 MiB is too small for big states.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// Generated tfplugin6 types and service traits.
#[allow(clippy::all, clippy::pedantic, dead_code, missing_docs)]
mod proto {
    tonic::include_proto!("tfplugin6");
}

/// The tfplugin6 gRPC service for `provider`, ready to add to a tonic server.
pub(crate) fn grpc_service<P: Provider>(
    provider: Arc<P>,
) -> proto::provider_server::ProviderServer<ProviderService<P>> {
    proto::provider_server::ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE)
}
