//! The tfplugin6 gRPC service over a `Provider`.
//!
//! Every handler has the same shape: start the call log, convert in (decode values with the schema's type; a
//! decode error is a diagnostic with the attribute path), call the provider, check the protocol's invariants,
//! convert out, and finish the call log, which also turns the diagnostics into protocol messages.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::logging;
use crate::schema::{validate_config, Schema};

use super::convert::{conform_json, decode_value, diagnostics_to_proto, encode_value, path_to_proto, schema_to_proto};
use super::invariants::{check_apply, check_plan, take_unknowns, unknowns_bug};
use super::proto;
use super::proto::provider_server::Provider as GrpcProvider;
use super::provider::{ApplyRequest, ConfigureRequest, ImportRequest, PlanRequest, Provider, ReadRequest};

/// The tfplugin6 service. Holds the provider behind an `Arc` so the transport can also reach it (to stop it).
pub struct ProviderService<P> {
    provider: Arc<P>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: Arc<P>) -> Self {
        Self { provider }
    }

    fn resource_schema(&self, type_name: &str) -> Result<&Schema, Diagnostics> {
        self.provider.resource_schemas().get(type_name).ok_or_else(|| {
            let known: Vec<&str> = self.provider.resource_schemas().keys().map(String::as_str).collect();
            Diagnostic::error(
                "Unknown resource type",
                format!("This provider has no resource type \"{type_name}\". It offers: {}.", known.join(", ")),
            )
            .into()
        })
    }
}

/// What every answer carries: plan_destroy so destroys are planned by the provider too, and
/// get_provider_schema_optional because the schema never depends on configuration.
fn server_capabilities() -> proto::ServerCapabilities {
    proto::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

fn no_data_sources(type_name: &str) -> Diagnostics {
    Diagnostic::error(
        "Unknown data source",
        format!("This provider has no data sources, so there is no data source \"{type_name}\"."),
    )
    .into()
}

/// A response with its diagnostics still to attach; an `Err` ends the call with only diagnostics.
type Outcome<T> = Result<(T, Diagnostics), Diagnostics>;

fn settle<T: Default>(outcome: Outcome<T>) -> (T, Diagnostics) {
    outcome.unwrap_or_else(|diagnostics| (T::default(), diagnostics))
}

/// One RPC's log entries: a trace line when it starts, a debug line with its duration when it ends.
struct Call {
    rpc: &'static str,
    type_name: String,
    started: Instant,
}

impl Call {
    fn start(rpc: &'static str, type_name: &str) -> Self {
        logging::trace!("rpc started", rpc = rpc, type_name = type_name);
        Self { rpc, type_name: type_name.to_string(), started: Instant::now() }
    }

    /// Logs the end of the call and converts its diagnostics for the response.
    fn finish(self, diagnostics: Diagnostics) -> Vec<proto::Diagnostic> {
        let errors = diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
        let warnings = diagnostics.0.len() - errors;
        let duration_ms = (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        logging::debug!(
            "rpc finished",
            rpc = self.rpc,
            type_name = self.type_name.as_str(),
            duration_ms = duration_ms,
            errors = errors,
            warnings = warnings,
        );
        diagnostics_to_proto(diagnostics)
    }
}

type EventStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

fn unimplemented<T>(what: &str) -> Result<T, Status> {
    Err(Status::unimplemented(format!("the eksidentity provider does not offer {what}")))
}

impl<P: Provider> ProviderService<P> {
    async fn validate_provider(&self, req: proto::validate_provider_config::Request) -> Outcome<()> {
        let schema = self.provider.provider_schema();
        let config = decode_value(&schema.value_type(), req.config.as_ref(), "provider configuration")?;
        let mut diagnostics = Diagnostics::from(validate_config(&schema.block, &config));
        // Cross-field checks assume each value passed its own validators; running them on a value that did not
        // would mostly repeat the same complaint.
        if !diagnostics.has_errors() {
            diagnostics.extend(self.provider.validate_provider_config(&config).await);
        }
        Ok(((), diagnostics))
    }

    async fn validate_resource(&self, req: proto::validate_resource_config::Request) -> Outcome<()> {
        let schema = self.resource_schema(&req.type_name)?;
        let config = decode_value(&schema.value_type(), req.config.as_ref(), "configuration")?;
        let mut diagnostics = Diagnostics::from(validate_config(&schema.block, &config));
        if !diagnostics.has_errors() {
            diagnostics.extend(self.provider.validate_resource_config(&req.type_name, &config).await);
        }
        Ok(((), diagnostics))
    }

    async fn upgrade(&self, req: proto::upgrade_resource_state::Request) -> Outcome<Option<proto::DynamicValue>> {
        let schema = self.resource_schema(&req.type_name)?;
        if req.version > schema.version {
            return Err(Diagnostic::error(
                "State written by a newer provider",
                format!(
                    "This {} was stored by a provider using schema version {}, but this provider only knows \
                     versions up to {}. Upgrade the eksidentity provider.",
                    req.type_name, req.version, schema.version
                ),
            )
            .into());
        }
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            let detail = if raw.flatmap.is_empty() {
                "Terraform sent no stored state to upgrade.".to_string()
            } else {
                "The stored state is in the flatmap format of Terraform 0.11 and older, which this provider cannot \
                 read. Remove the resource from the state (`terraform state rm`) and import it again."
                    .to_string()
            };
            return Err(Diagnostic::error("Unsupported stored state", detail).into());
        }
        let stored: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
            Diagnostics::from(Diagnostic::error("Unreadable stored state", format!("The stored state is not valid JSON: {e}.")))
        })?;
        let upgraded = self.provider.upgrade_resource_state(&req.type_name, req.version, stored).await?;
        let ty = schema.value_type();
        let json = serde_json::to_vec(&conform_json(&ty, upgraded)).map_err(|e| {
            Diagnostics::from(Diagnostic::provider_bug(format!("The upgraded state could not be serialized: {e}.")))
        })?;
        let wire = proto::DynamicValue { msgpack: Vec::new(), json };
        let state = decode_value(&ty, Some(&wire), "stored state")?;
        Ok((Some(encode_value(&ty, &state, "upgraded state")?), Diagnostics::new()))
    }

    async fn configure(&self, req: proto::configure_provider::Request) -> Outcome<()> {
        let schema = self.provider.provider_schema();
        let config = decode_value(&schema.value_type(), req.config.as_ref(), "provider configuration")?;
        let diagnostics =
            self.provider.configure(ConfigureRequest { terraform_version: req.terraform_version, config }).await;
        Ok(((), diagnostics))
    }

    async fn read(&self, req: proto::read_resource::Request) -> Outcome<proto::read_resource::Response> {
        let schema = self.resource_schema(&req.type_name)?;
        let ty = schema.value_type();
        let current_state = decode_value(&ty, req.current_state.as_ref(), "current state")?;
        let out = self
            .provider
            .read_resource(ReadRequest { type_name: req.type_name.clone(), current_state, private: req.private })
            .await;
        let mut diagnostics = out.diagnostics;
        let (new_state, unknown) = take_unknowns(out.new_state);
        if !unknown.is_empty() {
            diagnostics.push(unknowns_bug("state returned by read", &unknown));
        }
        let new_state = match encode_value(&ty, &new_state, "state") {
            Ok(v) => Some(v),
            Err(d) => {
                diagnostics.extend(d);
                None
            }
        };
        let response = proto::read_resource::Response { new_state, private: out.private, ..Default::default() };
        Ok((response, diagnostics))
    }

    async fn plan(&self, req: proto::plan_resource_change::Request) -> Outcome<proto::plan_resource_change::Response> {
        let schema = self.resource_schema(&req.type_name)?;
        let ty = schema.value_type();
        let prior_state = decode_value(&ty, req.prior_state.as_ref(), "prior state")?;
        let proposed_new_state = decode_value(&ty, req.proposed_new_state.as_ref(), "proposed new state")?;
        let config = decode_value(&ty, req.config.as_ref(), "configuration")?;
        let out = self
            .provider
            .plan_resource_change(PlanRequest {
                type_name: req.type_name.clone(),
                prior_state,
                proposed_new_state,
                config: config.clone(),
                prior_private: req.prior_private,
            })
            .await;
        let mut diagnostics = out.diagnostics;
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        diagnostics.extend(check_plan(&schema.block, &config, &out.planned_state));
        if diagnostics.has_errors() {
            return Err(diagnostics);
        }
        let response = proto::plan_resource_change::Response {
            planned_state: Some(encode_value(&ty, &out.planned_state, "planned state")?),
            requires_replace: out.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: out.planned_private,
            ..Default::default()
        };
        Ok((response, diagnostics))
    }

    async fn apply(&self, req: proto::apply_resource_change::Request) -> Outcome<proto::apply_resource_change::Response> {
        let schema = self.resource_schema(&req.type_name)?;
        let ty = schema.value_type();
        let prior_state = decode_value(&ty, req.prior_state.as_ref(), "prior state")?;
        let planned_state = decode_value(&ty, req.planned_state.as_ref(), "planned state")?;
        let config = decode_value(&ty, req.config.as_ref(), "configuration")?;
        let out = self
            .provider
            .apply_resource_change(ApplyRequest {
                type_name: req.type_name.clone(),
                prior_state,
                planned_state: planned_state.clone(),
                config,
                planned_private: req.planned_private,
            })
            .await;
        let mut diagnostics = out.diagnostics;
        let (new_state, unknown) = take_unknowns(out.new_state);
        if !unknown.is_empty() {
            diagnostics.push(unknowns_bug("new state after apply", &unknown));
        } else if !diagnostics.has_errors() {
            // With errors the state is whatever exists now (a partial apply), which may differ from the plan.
            diagnostics.extend(check_apply(&planned_state, &new_state));
        }
        // The state is returned even with errors: it records what exists, so nothing is leaked.
        let new_state = match encode_value(&ty, &new_state, "new state") {
            Ok(v) => Some(v),
            Err(d) => {
                diagnostics.extend(d);
                None
            }
        };
        let response = proto::apply_resource_change::Response { new_state, private: out.private, ..Default::default() };
        Ok((response, diagnostics))
    }

    async fn import(&self, req: proto::import_resource_state::Request) -> Outcome<Vec<proto::import_resource_state::ImportedResource>> {
        self.resource_schema(&req.type_name)?;
        let out = self.provider.import_resource_state(ImportRequest { type_name: req.type_name, id: req.id }).await;
        let mut diagnostics = out.diagnostics;
        let mut imported = Vec::new();
        for resource in out.imported {
            let schema = match self.resource_schema(&resource.type_name) {
                Ok(s) => s,
                Err(_) => {
                    diagnostics.push(Diagnostic::provider_bug(format!(
                        "Import returned an object of unknown type \"{}\".",
                        resource.type_name
                    )));
                    continue;
                }
            };
            match encode_value(&schema.value_type(), &resource.state, "imported state") {
                Ok(state) => imported.push(proto::import_resource_state::ImportedResource {
                    type_name: resource.type_name,
                    state: Some(state),
                    private: resource.private,
                    identity: None,
                }),
                Err(d) => diagnostics.extend(d),
            }
        }
        Ok((imported, diagnostics))
    }
}

#[tonic::async_trait]
impl<P: Provider> GrpcProvider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<proto::get_metadata::Request>,
    ) -> Result<Response<proto::get_metadata::Response>, Status> {
        let call = Call::start("GetMetadata", "");
        let resources = self
            .provider
            .resource_schemas()
            .keys()
            .map(|name| proto::get_metadata::ResourceMetadata { type_name: name.clone() })
            .collect();
        Ok(Response::new(proto::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            resources,
            diagnostics: call.finish(Diagnostics::new()),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<proto::get_provider_schema::Request>,
    ) -> Result<Response<proto::get_provider_schema::Response>, Status> {
        let call = Call::start("GetProviderSchema", "");
        let resource_schemas: std::collections::HashMap<String, proto::Schema> =
            self.provider.resource_schemas().iter().map(|(name, s)| (name.clone(), schema_to_proto(s))).collect();
        Ok(Response::new(proto::get_provider_schema::Response {
            provider: Some(schema_to_proto(self.provider.provider_schema())),
            resource_schemas,
            server_capabilities: Some(server_capabilities()),
            diagnostics: call.finish(Diagnostics::new()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<proto::validate_provider_config::Request>,
    ) -> Result<Response<proto::validate_provider_config::Response>, Status> {
        let call = Call::start("ValidateProviderConfig", "");
        let ((), diagnostics) = settle(self.validate_provider(request.into_inner()).await);
        Ok(Response::new(proto::validate_provider_config::Response { diagnostics: call.finish(diagnostics) }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<proto::validate_resource_config::Request>,
    ) -> Result<Response<proto::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ValidateResourceConfig", &req.type_name);
        let ((), diagnostics) = settle(self.validate_resource(req).await);
        Ok(Response::new(proto::validate_resource_config::Response { diagnostics: call.finish(diagnostics) }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<proto::validate_data_resource_config::Request>,
    ) -> Result<Response<proto::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ValidateDataResourceConfig", &req.type_name);
        let diagnostics = no_data_sources(&req.type_name);
        Ok(Response::new(proto::validate_data_resource_config::Response { diagnostics: call.finish(diagnostics) }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<proto::upgrade_resource_state::Request>,
    ) -> Result<Response<proto::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("UpgradeResourceState", &req.type_name);
        let (upgraded_state, diagnostics) = settle(self.upgrade(req).await);
        Ok(Response::new(proto::upgrade_resource_state::Response { upgraded_state, diagnostics: call.finish(diagnostics) }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<proto::get_resource_identity_schemas::Request>,
    ) -> Result<Response<proto::get_resource_identity_schemas::Response>, Status> {
        let call = Call::start("GetResourceIdentitySchemas", "");
        Ok(Response::new(proto::get_resource_identity_schemas::Response {
            identity_schemas: Default::default(),
            diagnostics: call.finish(Diagnostics::new()),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        _request: Request<proto::upgrade_resource_identity::Request>,
    ) -> Result<Response<proto::upgrade_resource_identity::Response>, Status> {
        unimplemented("resource identities")
    }

    async fn configure_provider(
        &self,
        request: Request<proto::configure_provider::Request>,
    ) -> Result<Response<proto::configure_provider::Response>, Status> {
        let call = Call::start("ConfigureProvider", "");
        let ((), diagnostics) = settle(self.configure(request.into_inner()).await);
        Ok(Response::new(proto::configure_provider::Response { diagnostics: call.finish(diagnostics) }))
    }

    async fn read_resource(
        &self,
        request: Request<proto::read_resource::Request>,
    ) -> Result<Response<proto::read_resource::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ReadResource", &req.type_name);
        let (mut response, diagnostics) = settle(self.read(req).await);
        response.diagnostics = call.finish(diagnostics);
        Ok(Response::new(response))
    }

    async fn plan_resource_change(
        &self,
        request: Request<proto::plan_resource_change::Request>,
    ) -> Result<Response<proto::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("PlanResourceChange", &req.type_name);
        let (mut response, diagnostics) = settle(self.plan(req).await);
        response.diagnostics = call.finish(diagnostics);
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<proto::apply_resource_change::Request>,
    ) -> Result<Response<proto::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ApplyResourceChange", &req.type_name);
        let (mut response, diagnostics) = settle(self.apply(req).await);
        response.diagnostics = call.finish(diagnostics);
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<proto::import_resource_state::Request>,
    ) -> Result<Response<proto::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ImportResourceState", &req.type_name);
        let (imported_resources, diagnostics) = settle(self.import(req).await);
        Ok(Response::new(proto::import_resource_state::Response {
            imported_resources,
            diagnostics: call.finish(diagnostics),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        _request: Request<proto::move_resource_state::Request>,
    ) -> Result<Response<proto::move_resource_state::Response>, Status> {
        unimplemented("moving state between resource types")
    }

    async fn read_data_source(
        &self,
        request: Request<proto::read_data_source::Request>,
    ) -> Result<Response<proto::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let call = Call::start("ReadDataSource", &req.type_name);
        let diagnostics = no_data_sources(&req.type_name);
        Ok(Response::new(proto::read_data_source::Response { diagnostics: call.finish(diagnostics), ..Default::default() }))
    }

    async fn generate_resource_config(
        &self,
        _request: Request<proto::generate_resource_config::Request>,
    ) -> Result<Response<proto::generate_resource_config::Response>, Status> {
        unimplemented("configuration generation")
    }

    async fn validate_ephemeral_resource_config(
        &self,
        _request: Request<proto::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<proto::validate_ephemeral_resource_config::Response>, Status> {
        unimplemented("ephemeral resources")
    }

    async fn open_ephemeral_resource(
        &self,
        _request: Request<proto::open_ephemeral_resource::Request>,
    ) -> Result<Response<proto::open_ephemeral_resource::Response>, Status> {
        unimplemented("ephemeral resources")
    }

    async fn renew_ephemeral_resource(
        &self,
        _request: Request<proto::renew_ephemeral_resource::Request>,
    ) -> Result<Response<proto::renew_ephemeral_resource::Response>, Status> {
        unimplemented("ephemeral resources")
    }

    async fn close_ephemeral_resource(
        &self,
        _request: Request<proto::close_ephemeral_resource::Request>,
    ) -> Result<Response<proto::close_ephemeral_resource::Response>, Status> {
        unimplemented("ephemeral resources")
    }

    type ListResourceStream = EventStream<proto::list_resource::Event>;

    async fn list_resource(
        &self,
        _request: Request<proto::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        unimplemented("list resources")
    }

    async fn validate_list_resource_config(
        &self,
        _request: Request<proto::validate_list_resource_config::Request>,
    ) -> Result<Response<proto::validate_list_resource_config::Response>, Status> {
        unimplemented("list resources")
    }

    async fn get_functions(
        &self,
        _request: Request<proto::get_functions::Request>,
    ) -> Result<Response<proto::get_functions::Response>, Status> {
        let call = Call::start("GetFunctions", "");
        Ok(Response::new(proto::get_functions::Response {
            functions: Default::default(),
            diagnostics: call.finish(Diagnostics::new()),
        }))
    }

    async fn call_function(
        &self,
        _request: Request<proto::call_function::Request>,
    ) -> Result<Response<proto::call_function::Response>, Status> {
        unimplemented("functions")
    }

    async fn validate_state_store_config(
        &self,
        _request: Request<proto::validate_state_store::Request>,
    ) -> Result<Response<proto::validate_state_store::Response>, Status> {
        unimplemented("state stores")
    }

    async fn configure_state_store(
        &self,
        _request: Request<proto::configure_state_store::Request>,
    ) -> Result<Response<proto::configure_state_store::Response>, Status> {
        unimplemented("state stores")
    }

    type ReadStateBytesStream = EventStream<proto::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        _request: Request<proto::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        unimplemented("state stores")
    }

    async fn write_state_bytes(
        &self,
        _request: Request<Streaming<proto::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<proto::write_state_bytes::Response>, Status> {
        unimplemented("state stores")
    }

    async fn lock_state(
        &self,
        _request: Request<proto::lock_state::Request>,
    ) -> Result<Response<proto::lock_state::Response>, Status> {
        unimplemented("state stores")
    }

    async fn unlock_state(
        &self,
        _request: Request<proto::unlock_state::Request>,
    ) -> Result<Response<proto::unlock_state::Response>, Status> {
        unimplemented("state stores")
    }

    async fn get_states(
        &self,
        _request: Request<proto::get_states::Request>,
    ) -> Result<Response<proto::get_states::Response>, Status> {
        unimplemented("state stores")
    }

    async fn delete_state(
        &self,
        _request: Request<proto::delete_state::Request>,
    ) -> Result<Response<proto::delete_state::Response>, Status> {
        unimplemented("state stores")
    }

    async fn plan_action(
        &self,
        _request: Request<proto::plan_action::Request>,
    ) -> Result<Response<proto::plan_action::Response>, Status> {
        unimplemented("actions")
    }

    type InvokeActionStream = EventStream<proto::invoke_action::Event>;

    async fn invoke_action(
        &self,
        _request: Request<proto::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        unimplemented("actions")
    }

    async fn validate_action_config(
        &self,
        _request: Request<proto::validate_action_config::Request>,
    ) -> Result<Response<proto::validate_action_config::Response>, Status> {
        unimplemented("actions")
    }

    async fn stop_provider(
        &self,
        _request: Request<proto::stop_provider::Request>,
    ) -> Result<Response<proto::stop_provider::Response>, Status> {
        let call = Call::start("StopProvider", "");
        self.provider.stop().await;
        call.finish(Diagnostics::new());
        Ok(Response::new(proto::stop_provider::Response { error: String::new() }))
    }
}
