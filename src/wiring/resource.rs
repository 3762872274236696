//! The resource's entry points, in the order of its life: validate, plan, apply, read, import. Each converts
//! protocol values to the wiring's types, calls the pure or effectful part, and converts back.

use crate::cty::Value;
use crate::diag::{Diagnostic, Diagnostics};
use crate::tfprotocol::{
    ApplyRequest, ApplyResponse, ImportResponse, ImportedResource, PlanRequest, PlanResponse, ReadRequest, ReadResponse,
};

use super::context::Context;
use super::model::{Config, State};
use super::{apply, facts, import, naming, plan, read, validate, TYPE_NAME};

/// Cross-field validation (the schema validators already ran). No AWS calls.
pub fn validate_config(config: &Value) -> Diagnostics {
    validate::validate(&Config::from_value(config)).into()
}

fn state_error(e: super::model::StateError) -> Diagnostic {
    Diagnostic::provider_bug(format!("The stored state of {TYPE_NAME} is unreadable at {}: {}", e.path, e.message))
}

pub async fn plan_change(ctx: &Context, req: PlanRequest) -> PlanResponse {
    if req.proposed_new_state.is_null() {
        return PlanResponse { planned_state: Value::Null, ..PlanResponse::default() };
    }
    let config = Config::from_value(&req.config);
    let mut diagnostics: Diagnostics = validate::validate(&config).into();
    if diagnostics.has_errors() {
        return PlanResponse { diagnostics, ..PlanResponse::default() };
    }
    let prior = match &req.prior_state {
        Value::Null => None,
        v => match State::from_value(v) {
            Ok(s) => Some(s),
            Err(e) => return PlanResponse { diagnostics: state_error(e).into(), ..PlanResponse::default() },
        },
    };
    let (facts, fact_diags) = match facts::gather(ctx, &config, prior.as_ref()).await {
        Ok(f) => f,
        Err(e) => {
            diagnostics.push(e.to_diagnostic());
            return PlanResponse { diagnostics, ..PlanResponse::default() };
        }
    };
    diagnostics.extend(fact_diags.into());
    let out = plan::plan(&req.config, &config, prior.as_ref(), &facts, &ctx.default_tags);
    diagnostics.extend(out.diagnostics.into());
    PlanResponse {
        planned_state: out.planned,
        requires_replace: out.requires_replace,
        planned_private: req.prior_private,
        diagnostics,
    }
}

/// The planned state as apply's target: unknown computed values become `None`, and values derived from inputs
/// that were unknown at plan time are derived now.
fn desired_state(planned: &Value, config: &Value) -> Result<State, Diagnostic> {
    let mut v = unknown_as_null(planned);
    let cfg = Config::from_value(config);
    if let Value::Object(attrs) = &mut v {
        if attrs.get("role_name").is_none_or(Value::is_null) {
            if let Some(name) = naming::default_role_name_for_config(&cfg) {
                attrs.insert("role_name".into(), Value::String(name));
            }
        }
    }
    let mut st = State::from_value(&v).map_err(state_error)?;
    if st.id.is_empty() {
        st.id = naming::wiring_key(
            st.cluster_name.as_deref(),
            st.oidc_issuer_url.as_deref(),
            &st.namespace,
            &st.service_account,
        );
    }
    Ok(st)
}

fn unknown_as_null(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), unknown_as_null(x))).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, x)| (k.clone(), unknown_as_null(x))).collect()),
        Value::List(l) => Value::List(l.iter().map(unknown_as_null).collect()),
        Value::Set(l) => Value::Set(l.iter().map(unknown_as_null).collect()),
        other => other.clone(),
    }
}

pub async fn apply_change(ctx: &Context, req: ApplyRequest) -> ApplyResponse {
    let prior = match &req.prior_state {
        Value::Null => None,
        v => match State::from_value(v) {
            Ok(s) => Some(s),
            Err(e) => {
                return ApplyResponse {
                    new_state: req.prior_state,
                    diagnostics: state_error(e).into(),
                    ..Default::default()
                }
            }
        },
    };
    match (prior, req.planned_state.is_null()) {
        (None, true) => ApplyResponse::default(),
        (Some(prior), true) => match apply::delete(ctx, &prior).await {
            Ok(()) => ApplyResponse::default(),
            // Keep what still exists in the state: the next destroy finishes the job.
            Err((remaining, e)) => ApplyResponse {
                new_state: remaining.to_value(),
                private: req.planned_private,
                diagnostics: e.to_diagnostic().into(),
            },
        },
        (prior, false) => {
            let desired = match desired_state(&req.planned_state, &req.config) {
                Ok(d) => d,
                Err(d) => {
                    return ApplyResponse { new_state: req.prior_state, diagnostics: d.into(), ..Default::default() }
                }
            };
            let (state, error) = match &prior {
                None => apply::create(ctx, &desired).await,
                Some(p) => {
                    let (s, e) = apply::update(ctx, p, &desired).await;
                    (Some(s), e)
                }
            };
            ApplyResponse {
                new_state: state.map_or(Value::Null, |s| s.to_value()),
                private: req.planned_private,
                diagnostics: error.map(|e| e.to_diagnostic()).into_iter().collect::<Vec<_>>().into(),
            }
        }
    }
}

pub async fn read_state(ctx: &Context, req: ReadRequest) -> ReadResponse {
    let prior = match State::from_value(&req.current_state) {
        Ok(s) => s,
        Err(e) => {
            return ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: state_error(e).into(),
            }
        }
    };
    match read::read(ctx, &prior).await {
        Ok(Some(st)) => {
            ReadResponse { new_state: st.to_value(), private: req.private, diagnostics: Diagnostics::new() }
        }
        Ok(None) => ReadResponse { new_state: Value::Null, private: req.private, diagnostics: Diagnostics::new() },
        Err(e) => {
            ReadResponse { new_state: req.current_state, private: req.private, diagnostics: e.to_diagnostic().into() }
        }
    }
}

pub async fn import_state(ctx: &Context, id: &str) -> ImportResponse {
    match import::import(ctx, id).await {
        Ok(st) => ImportResponse {
            imported: vec![ImportedResource {
                type_name: TYPE_NAME.to_string(),
                state: st.to_value(),
                private: Vec::new(),
            }],
            diagnostics: Diagnostics::new(),
        },
        Err(e) => ImportResponse { imported: Vec::new(), diagnostics: e.to_diagnostic().into() },
    }
}
