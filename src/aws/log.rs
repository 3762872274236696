//! One DEBUG log line per AWS call (service, operation, HTTP status, attempts, duration), and one per retried
//! attempt, through an SDK interceptor on every client. Only names, numbers and statuses are logged: never a
//! request or response body, header, or credential.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::logging;

#[derive(Debug, Default)]
pub(super) struct CallLog;

#[derive(Debug, Clone)]
struct Started {
    at: Instant,
    attempts: u32,
}

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

fn operation(cfg: &ConfigBag) -> (String, String) {
    match cfg.load::<Metadata>() {
        Some(m) => (m.service().to_string(), m.name().to_string()),
        None => ("unknown".into(), "unknown".into()),
    }
}

fn status(context: &FinalizerInterceptorContextRef<'_>) -> i64 {
    context.response().map_or(0, |r| i64::from(r.status().as_u16()))
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "eksidentity-call-log"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started { at: Instant::now(), attempts: 0 });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(mut started) = cfg.load::<Started>().cloned() else { return Ok(()) };
        started.attempts += 1;
        let code = status(context);
        if code == 0 || code >= 400 {
            let (service, op) = operation(cfg);
            logging::debug!(
                "aws attempt failed",
                service = service,
                operation = op,
                status = code,
                attempt = started.attempts
            );
        }
        cfg.interceptor_state().store_put(started);
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, op) = operation(cfg);
        let (ms, attempts) =
            cfg.load::<Started>().map_or((0.0, 0), |s| (s.at.elapsed().as_secs_f64() * 1000.0, s.attempts));
        logging::debug!(
            "aws call",
            service = service,
            operation = op,
            status = status(context),
            attempts = attempts,
            duration_ms = ms
        );
        Ok(())
    }
}
