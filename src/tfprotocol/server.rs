//! The tfplugin6 gRPC service over a `Provider`.
//!
//! Every handler has the same shape: start the call log, convert in (decode values with the schema's type; a
//! decode error is a diagnostic with the attribute path), call the provider, check the protocol's invariants,
//! convert out, and finish the call log, which also turns the diagnostics into protocol messages.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::cty::Type;
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
    /// The cty types of the provider's schemas, built once: every request decodes and encodes values with them.
    provider_type: Type,
    resource_types: BTreeMap<String, Type>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(provider: Arc<P>) -> Self {
        let provider_type = provider.provider_schema().value_type();
        let resource_types =
            provider.resource_schemas().iter().map(|(name, schema)| (name.clone(), schema.value_type())).collect();
        Self { provider, provider_type, resource_types }
    }

    /// A resource type's schema and its value type.
    fn resource_schema(&self, type_name: &str) -> Result<(&Schema, &Type), Diagnostics> {
        let found = self.provider.resource_schemas().get(type_name).zip(self.resource_types.get(type_name));
        found.ok_or_else(|| {
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
        let config = decode_value(&self.provider_type, req.config.as_ref(), "provider configuration")?;
        let mut diagnostics = Diagnostics::from(validate_config(&schema.block, &config));
        // Cross-field checks assume each value passed its own validators; running them on a value that did not
        // would mostly repeat the same complaint.
        if !diagnostics.has_errors() {
            diagnostics.extend(self.provider.validate_provider_config(&config).await);
        }
        Ok(((), diagnostics))
    }

    async fn validate_resource(&self, req: proto::validate_resource_config::Request) -> Outcome<()> {
        let (schema, ty) = self.resource_schema(&req.type_name)?;
        let config = decode_value(ty, req.config.as_ref(), "configuration")?;
        let mut diagnostics = Diagnostics::from(validate_config(&schema.block, &config));
        if !diagnostics.has_errors() {
            diagnostics.extend(self.provider.validate_resource_config(&req.type_name, &config).await);
        }
        Ok(((), diagnostics))
    }

    async fn upgrade(&self, req: proto::upgrade_resource_state::Request) -> Outcome<Option<proto::DynamicValue>> {
        let (schema, ty) = self.resource_schema(&req.type_name)?;
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
            Diagnostics::from(Diagnostic::error(
                "Unreadable stored state",
                format!("The stored state is not valid JSON: {e}."),
            ))
        })?;
        let upgraded = self.provider.upgrade_resource_state(&req.type_name, req.version, stored).await?;
        let json = serde_json::to_vec(&conform_json(ty, upgraded)).map_err(|e| {
            Diagnostics::from(Diagnostic::provider_bug(format!("The upgraded state could not be serialized: {e}.")))
        })?;
        let wire = proto::DynamicValue { msgpack: Vec::new(), json };
        let state = decode_value(ty, Some(&wire), "stored state")?;
        Ok((Some(encode_value(ty, &state, "upgraded state")?), Diagnostics::new()))
    }

    async fn configure(&self, req: proto::configure_provider::Request) -> Outcome<()> {
        let config = decode_value(&self.provider_type, req.config.as_ref(), "provider configuration")?;
        let diagnostics =
            self.provider.configure(ConfigureRequest { terraform_version: req.terraform_version, config }).await;
        Ok(((), diagnostics))
    }

    async fn read(&self, req: proto::read_resource::Request) -> Outcome<proto::read_resource::Response> {
        let (_, ty) = self.resource_schema(&req.type_name)?;
        let current_state = decode_value(ty, req.current_state.as_ref(), "current state")?;
        let out = self
            .provider
            .read_resource(ReadRequest { type_name: req.type_name.clone(), current_state, private: req.private })
            .await;
        let mut diagnostics = out.diagnostics;
        let (new_state, unknown) = take_unknowns(out.new_state);
        if !unknown.is_empty() {
            diagnostics.push(unknowns_bug("state returned by read", &unknown));
        }
        let new_state = match encode_value(ty, &new_state, "state") {
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
        let (schema, ty) = self.resource_schema(&req.type_name)?;
        let prior_state = decode_value(ty, req.prior_state.as_ref(), "prior state")?;
        let proposed_new_state = decode_value(ty, req.proposed_new_state.as_ref(), "proposed new state")?;
        let config = decode_value(ty, req.config.as_ref(), "configuration")?;
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
            planned_state: Some(encode_value(ty, &out.planned_state, "planned state")?),
            requires_replace: out.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: out.planned_private,
            ..Default::default()
        };
        Ok((response, diagnostics))
    }

    async fn apply(
        &self,
        req: proto::apply_resource_change::Request,
    ) -> Outcome<proto::apply_resource_change::Response> {
        let (_, ty) = self.resource_schema(&req.type_name)?;
        let prior_state = decode_value(ty, req.prior_state.as_ref(), "prior state")?;
        let planned_state = decode_value(ty, req.planned_state.as_ref(), "planned state")?;
        let config = decode_value(ty, req.config.as_ref(), "configuration")?;
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
        let new_state = match encode_value(ty, &new_state, "new state") {
            Ok(v) => Some(v),
            Err(d) => {
                diagnostics.extend(d);
                None
            }
        };
        let response = proto::apply_resource_change::Response { new_state, private: out.private, ..Default::default() };
        Ok((response, diagnostics))
    }

    async fn import(
        &self,
        req: proto::import_resource_state::Request,
    ) -> Outcome<Vec<proto::import_resource_state::ImportedResource>> {
        self.resource_schema(&req.type_name)?;
        let out = self.provider.import_resource_state(ImportRequest { type_name: req.type_name, id: req.id }).await;
        let mut diagnostics = out.diagnostics;
        let mut imported = Vec::new();
        for resource in out.imported {
            let ty = match self.resource_schema(&resource.type_name) {
                Ok((_, ty)) => ty,
                Err(_) => {
                    diagnostics.push(Diagnostic::provider_bug(format!(
                        "Import returned an object of unknown type \"{}\".",
                        resource.type_name
                    )));
                    continue;
                }
            };
            match encode_value(ty, &resource.state, "imported state") {
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
        Ok(Response::new(proto::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: call.finish(diagnostics),
        }))
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
        Ok(Response::new(proto::read_data_source::Response {
            diagnostics: call.finish(diagnostics),
            ..Default::default()
        }))
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::cty::{decode_msgpack, encode_msgpack, AttributePath, Type, Value};
    use crate::schema::{one_of, Attribute, Block, NestedBlock, Nesting};
    use crate::tfprotocol::provider::{ApplyResponse, ImportResponse, ImportedResource, PlanResponse, ReadResponse};

    const THING: &str = "fake_thing";

    /// A provider whose answers the test sets, and which records what it was asked.
    #[derive(Default)]
    struct Fake {
        provider: Option<Schema>,
        resources: BTreeMap<String, Schema>,
        plan: Mutex<Option<PlanResponse>>,
        apply: Mutex<Option<ApplyResponse>>,
        read: Mutex<Option<ReadResponse>>,
        cross_field: Mutex<Diagnostics>,
        calls: Mutex<Vec<String>>,
        upgraded_from: Mutex<Option<(i64, serde_json::Value)>>,
    }

    fn fake() -> Fake {
        let resource = Schema::new(
            1,
            Block::new("A thing.")
                .attribute(Attribute::string("name").required().validator(one_of(&["a", "b"])))
                .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
                .attribute(Attribute::string("arn").computed())
                .block(NestedBlock::new(
                    "timeouts",
                    Nesting::Single,
                    Block::new("").attribute(Attribute::string("create").optional()),
                )),
        );
        Fake {
            provider: Some(Schema::new(0, Block::new("").attribute(Attribute::string("region").optional()))),
            resources: [(THING.to_string(), resource)].into(),
            ..Default::default()
        }
    }

    #[async_trait]
    impl Provider for Fake {
        fn provider_schema(&self) -> &Schema {
            self.provider.as_ref().unwrap()
        }
        fn resource_schemas(&self) -> &BTreeMap<String, Schema> {
            &self.resources
        }
        async fn validate_provider_config(&self, _config: &Value) -> Diagnostics {
            self.calls.lock().unwrap().push("validate_provider_config".into());
            Diagnostics::new()
        }
        async fn configure(&self, req: ConfigureRequest) -> Diagnostics {
            self.calls.lock().unwrap().push(format!("configure {}", req.terraform_version));
            Diagnostics::new()
        }
        async fn validate_resource_config(&self, _type_name: &str, _config: &Value) -> Diagnostics {
            self.calls.lock().unwrap().push("validate_resource_config".into());
            self.cross_field.lock().unwrap().clone()
        }
        async fn upgrade_resource_state(
            &self,
            _type_name: &str,
            version: i64,
            state: serde_json::Value,
        ) -> Result<serde_json::Value, Diagnostics> {
            *self.upgraded_from.lock().unwrap() = Some((version, state.clone()));
            Ok(state)
        }
        async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
            self.read.lock().unwrap().take().unwrap_or(ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: Diagnostics::new(),
            })
        }
        async fn plan_resource_change(&self, _req: PlanRequest) -> PlanResponse {
            self.plan.lock().unwrap().take().expect("plan answer set by the test")
        }
        async fn apply_resource_change(&self, _req: ApplyRequest) -> ApplyResponse {
            self.apply.lock().unwrap().take().expect("apply answer set by the test")
        }
        async fn import_resource_state(&self, req: ImportRequest) -> ImportResponse {
            ImportResponse {
                imported: vec![ImportedResource {
                    type_name: req.type_name,
                    state: state("a", "arn:1"),
                    private: b"p".to_vec(),
                }],
                diagnostics: Diagnostics::new(),
            }
        }
        async fn stop(&self) {
            self.calls.lock().unwrap().push("stop".into());
        }
    }

    fn thing_type() -> Type {
        fake().resources[THING].value_type()
    }

    fn object(name: &str, arn: Value) -> Value {
        Value::Object(
            [
                ("name".to_string(), Value::string(name)),
                ("tags".to_string(), Value::Null),
                ("arn".to_string(), arn),
                ("timeouts".to_string(), Value::Null),
            ]
            .into(),
        )
    }

    fn state(name: &str, arn: &str) -> Value {
        object(name, Value::string(arn))
    }

    fn config(name: &str) -> Value {
        object(name, Value::Null)
    }

    fn wire(v: &Value) -> Option<proto::DynamicValue> {
        Some(proto::DynamicValue { msgpack: encode_msgpack(&thing_type(), v).unwrap(), json: vec![] })
    }

    fn unwire(v: &Option<proto::DynamicValue>) -> Value {
        decode_msgpack(&thing_type(), &v.as_ref().expect("a value").msgpack).unwrap()
    }

    fn service(fake: Fake) -> (ProviderService<Fake>, Arc<Fake>) {
        let fake = Arc::new(fake);
        (ProviderService::new(fake.clone()), fake)
    }

    fn details(d: &[proto::Diagnostic]) -> Vec<String> {
        d.iter().map(|d| format!("{}: {}", d.summary, d.detail)).collect()
    }

    async fn validate(svc: &ProviderService<Fake>, v: &Value) -> Vec<proto::Diagnostic> {
        let req = proto::validate_resource_config::Request {
            type_name: THING.into(),
            config: wire(v),
            client_capabilities: None,
        };
        svc.validate_resource_config(Request::new(req)).await.unwrap().into_inner().diagnostics
    }

    #[tokio::test]
    async fn validation_runs_schema_validators_then_cross_field_checks() {
        let (svc, fake) = service(fake());
        assert!(validate(&svc, &config("a")).await.is_empty());
        assert_eq!(fake.calls.lock().unwrap().as_slice(), ["validate_resource_config"]);

        let d = validate(&svc, &config("zzz")).await;
        assert_eq!(d.len(), 1);
        assert_eq!(
            super::super::convert::path_from_proto(d[0].attribute.as_ref().unwrap()),
            AttributePath::attr("name")
        );
        assert_eq!(fake.calls.lock().unwrap().len(), 1, "cross-field checks skipped after a validator error");

        *fake.cross_field.lock().unwrap() =
            Diagnostic::attribute_error(AttributePath::attr("tags"), "Cross", "field").into();
        let d = validate(&svc, &config("b")).await;
        assert_eq!(details(&d), ["Cross: field"]);
    }

    #[tokio::test]
    async fn unknown_resource_types_are_errors() {
        let (svc, _) = service(fake());
        let req = proto::validate_resource_config::Request { type_name: "fake_other".into(), ..Default::default() };
        let d = svc.validate_resource_config(Request::new(req)).await.unwrap().into_inner().diagnostics;
        assert!(details(&d)[0].contains("\"fake_other\"") && details(&d)[0].contains(THING), "{:?}", details(&d));
    }

    #[tokio::test]
    async fn plan_passes_private_bytes_and_requires_replace() {
        let mut f = fake();
        *f.plan.get_mut().unwrap() = Some(PlanResponse {
            planned_state: object("a", Value::unknown()),
            requires_replace: vec![AttributePath::attr("name")],
            planned_private: b"private".to_vec(),
            diagnostics: Diagnostics::new(),
        });
        let (svc, _) = service(f);
        let req = proto::plan_resource_change::Request {
            type_name: THING.into(),
            prior_state: wire(&Value::Null),
            proposed_new_state: wire(&object("a", Value::unknown())),
            config: wire(&config("a")),
            ..Default::default()
        };
        let resp = svc.plan_resource_change(Request::new(req)).await.unwrap().into_inner();
        assert!(resp.diagnostics.is_empty(), "{:?}", details(&resp.diagnostics));
        assert_eq!(unwire(&resp.planned_state), object("a", Value::unknown()));
        assert_eq!(resp.planned_private, b"private");
        assert_eq!(resp.requires_replace.len(), 1);
    }

    #[tokio::test]
    async fn a_plan_that_changes_configuration_is_a_provider_bug() {
        let mut f = fake();
        *f.plan.get_mut().unwrap() =
            Some(PlanResponse { planned_state: object("b", Value::unknown()), ..Default::default() });
        let (svc, _) = service(f);
        let req = proto::plan_resource_change::Request {
            type_name: THING.into(),
            prior_state: wire(&Value::Null),
            proposed_new_state: wire(&config("a")),
            config: wire(&config("a")),
            ..Default::default()
        };
        let resp = svc.plan_resource_change(Request::new(req)).await.unwrap().into_inner();
        assert!(resp.planned_state.is_none());
        let d = details(&resp.diagnostics);
        assert!(d[0].starts_with("Provider bug") && d[0].contains("name"), "{d:?}");
    }

    async fn apply_with(answer: ApplyResponse, planned: Value) -> proto::apply_resource_change::Response {
        let mut f = fake();
        *f.apply.get_mut().unwrap() = Some(answer);
        let (svc, _) = service(f);
        let req = proto::apply_resource_change::Request {
            type_name: THING.into(),
            prior_state: wire(&Value::Null),
            planned_state: wire(&planned),
            config: wire(&config("a")),
            planned_private: b"pp".to_vec(),
            ..Default::default()
        };
        svc.apply_resource_change(Request::new(req)).await.unwrap().into_inner()
    }

    #[tokio::test]
    async fn apply_that_keeps_the_plan_passes() {
        let answer = ApplyResponse { new_state: state("a", "arn:1"), private: b"new".to_vec(), ..Default::default() };
        let resp = apply_with(answer, object("a", Value::unknown())).await;
        assert!(resp.diagnostics.is_empty(), "{:?}", details(&resp.diagnostics));
        assert_eq!(unwire(&resp.new_state), state("a", "arn:1"));
        assert_eq!(resp.private, b"new");
    }

    #[tokio::test]
    async fn apply_that_changes_a_known_planned_value_is_a_provider_bug() {
        let answer = ApplyResponse { new_state: state("a", "arn:2"), ..Default::default() };
        let resp = apply_with(answer, state("a", "arn:1")).await;
        let d = details(&resp.diagnostics);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].starts_with("Provider bug") && d[0].contains("After apply, arn differs"), "{d:?}");
        assert_eq!(unwire(&resp.new_state), state("a", "arn:2"), "the real state is still recorded");
    }

    #[tokio::test]
    async fn unknowns_after_apply_are_nulled_and_reported() {
        let answer = ApplyResponse { new_state: object("a", Value::unknown()), ..Default::default() };
        let resp = apply_with(answer, object("a", Value::unknown())).await;
        let d = details(&resp.diagnostics);
        assert!(d[0].contains("unknown values (arn)"), "{d:?}");
        assert_eq!(unwire(&resp.new_state), object("a", Value::Null));
    }

    #[tokio::test]
    async fn a_failed_apply_keeps_the_partial_state_without_consistency_complaints() {
        let answer = ApplyResponse {
            new_state: state("a", "arn:partial"),
            diagnostics: Diagnostic::error("AWS said no", "AccessDenied").into(),
            ..Default::default()
        };
        let resp = apply_with(answer, state("a", "arn:1")).await;
        assert_eq!(details(&resp.diagnostics), ["AWS said no: AccessDenied"]);
        assert_eq!(unwire(&resp.new_state), state("a", "arn:partial"));
    }

    #[tokio::test]
    async fn read_with_unknowns_is_a_provider_bug() {
        let mut f = fake();
        *f.read.get_mut().unwrap() =
            Some(ReadResponse { new_state: object("a", Value::unknown()), ..Default::default() });
        let (svc, _) = service(f);
        let req = proto::read_resource::Request {
            type_name: THING.into(),
            current_state: wire(&state("a", "arn:1")),
            ..Default::default()
        };
        let resp = svc.read_resource(Request::new(req)).await.unwrap().into_inner();
        assert!(details(&resp.diagnostics)[0].contains("state returned by read"));
        assert_eq!(unwire(&resp.new_state), object("a", Value::Null));
    }

    #[tokio::test]
    async fn read_passes_private_bytes_and_null_means_gone() {
        let (svc, _) = service(fake());
        let req = proto::read_resource::Request {
            type_name: THING.into(),
            current_state: wire(&state("a", "arn:1")),
            private: b"keep".to_vec(),
            ..Default::default()
        };
        let resp = svc.read_resource(Request::new(req)).await.unwrap().into_inner();
        assert_eq!(resp.private, b"keep");
        assert_eq!(unwire(&resp.new_state), state("a", "arn:1"));

        let mut f = fake();
        *f.read.get_mut().unwrap() = Some(ReadResponse::default());
        let (svc, _) = service(f);
        let req = proto::read_resource::Request {
            type_name: THING.into(),
            current_state: wire(&state("a", "arn:1")),
            ..Default::default()
        };
        let resp = svc.read_resource(Request::new(req)).await.unwrap().into_inner();
        assert_eq!(unwire(&resp.new_state), Value::Null);
    }

    async fn upgrade(
        svc: &ProviderService<Fake>,
        version: i64,
        raw: proto::RawState,
    ) -> proto::upgrade_resource_state::Response {
        let req = proto::upgrade_resource_state::Request { type_name: THING.into(), version, raw_state: Some(raw) };
        svc.upgrade_resource_state(Request::new(req)).await.unwrap().into_inner()
    }

    #[tokio::test]
    async fn upgrade_reads_json_leniently_and_answers_msgpack() {
        let (svc, fake) = service(fake());
        // Written by schema version 0: no `tags` yet, and a `legacy` attribute that is gone.
        let json = br#"{"name":"a","arn":"arn:1","legacy":true,"timeouts":null}"#.to_vec();
        let resp = upgrade(&svc, 0, proto::RawState { json, flatmap: Default::default() }).await;
        assert!(resp.diagnostics.is_empty(), "{:?}", details(&resp.diagnostics));
        assert_eq!(unwire(&resp.upgraded_state), state("a", "arn:1"));
        assert!(resp.upgraded_state.unwrap().json.is_empty(), "answered in msgpack");
        let (version, seen) = fake.upgraded_from.lock().unwrap().clone().unwrap();
        assert_eq!(version, 0);
        assert_eq!(seen["legacy"], true, "the provider sees the state as stored");
    }

    #[tokio::test]
    async fn upgrade_refuses_flatmap_and_newer_versions() {
        let (svc, _) = service(fake());
        let flatmap = proto::RawState { json: vec![], flatmap: [("name".to_string(), "a".to_string())].into() };
        let d = details(&upgrade(&svc, 0, flatmap).await.diagnostics);
        assert!(d[0].contains("flatmap"), "{d:?}");
        let json = proto::RawState { json: br#"{"name":"a"}"#.to_vec(), flatmap: Default::default() };
        let d = details(&upgrade(&svc, 7, json).await.diagnostics);
        assert!(d[0].contains("schema version 7"), "{d:?}");
        let bad = proto::RawState { json: b"{".to_vec(), flatmap: Default::default() };
        assert!(details(&upgrade(&svc, 1, bad).await.diagnostics)[0].contains("not valid JSON"));
    }

    #[tokio::test]
    async fn import_encodes_each_object_with_its_schema() {
        let (svc, _) = service(fake());
        let req =
            proto::import_resource_state::Request { type_name: THING.into(), id: "x".into(), ..Default::default() };
        let resp = svc.import_resource_state(Request::new(req)).await.unwrap().into_inner();
        assert!(resp.diagnostics.is_empty());
        assert_eq!(resp.imported_resources.len(), 1);
        let imported = &resp.imported_resources[0];
        assert_eq!(unwire(&imported.state), state("a", "arn:1"));
        assert_eq!(imported.private, b"p");
    }

    #[tokio::test]
    async fn configure_and_stop_reach_the_provider() {
        let (svc, fake) = service(fake());
        let cfg = Value::Object([("region".to_string(), Value::string("eu-west-1"))].into());
        let ty = fake.provider_schema().value_type();
        let req = proto::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(proto::DynamicValue { msgpack: encode_msgpack(&ty, &cfg).unwrap(), json: vec![] }),
            client_capabilities: None,
        };
        assert!(svc.configure_provider(Request::new(req)).await.unwrap().into_inner().diagnostics.is_empty());
        svc.stop_provider(Request::new(proto::stop_provider::Request {})).await.unwrap();
        assert_eq!(fake.calls.lock().unwrap().as_slice(), ["configure 1.0.3", "stop"]);
    }

    #[tokio::test]
    async fn schema_and_metadata_advertise_capabilities() {
        let (svc, _) = service(fake());
        let schema = svc.get_provider_schema(Request::new(proto::get_provider_schema::Request {})).await.unwrap();
        let schema = schema.into_inner();
        let caps = schema.server_capabilities.unwrap();
        assert!(caps.plan_destroy && caps.get_provider_schema_optional);
        assert_eq!(schema.resource_schemas[THING].version, 1);
        assert!(schema.data_source_schemas.is_empty());
        let meta = svc.get_metadata(Request::new(proto::get_metadata::Request {})).await.unwrap().into_inner();
        assert_eq!(meta.resources[0].type_name, THING);
        assert!(meta.server_capabilities.unwrap().plan_destroy);
        let ids = svc
            .get_resource_identity_schemas(Request::new(proto::get_resource_identity_schemas::Request {}))
            .await
            .unwrap();
        assert!(ids.into_inner().identity_schemas.is_empty());
    }

    #[tokio::test]
    async fn data_sources_do_not_exist() {
        let (svc, _) = service(fake());
        let req = proto::read_data_source::Request { type_name: "fake_data".into(), ..Default::default() };
        let d = svc.read_data_source(Request::new(req)).await.unwrap().into_inner().diagnostics;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].severity, proto::diagnostic::Severity::Error as i32);
    }
}
