//! AWS errors, classified once so the wiring can decide what is retryable, what means "gone", and what to tell
//! the user. Messages carry the service, the operation, AWS's error code and message, and the request ID.

use std::fmt;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure this is, as far as the wiring cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsErrorKind {
    /// The object does not exist (NoSuchEntity, ResourceNotFoundException).
    NotFound,
    /// The object exists already (EntityAlreadyExists, ResourceInUseException on create).
    AlreadyExists,
    /// Cannot delete: something still depends on it (DeleteConflict).
    Conflict,
    /// IAM has not finished propagating a principal we just created ("Invalid principal in policy",
    /// "Role provided in the request does not exist"). Retried with backoff inside the operation's timeout.
    NotYetPropagated,
    /// The request was throttled even after the SDK's own retries.
    Throttled,
    /// Credentials are missing, expired or not allowed to do this.
    AccessDenied,
    /// AWS rejected the input (validation, malformed policy, limits).
    InvalidInput,
    /// No answer: connection refused, DNS, timeout.
    Transport,
    /// Anything else, including 5xx after retries.
    Other,
}

#[derive(Clone, Debug)]
pub struct AwsError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: AwsErrorKind,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
}

impl AwsError {
    pub fn is_not_found(&self) -> bool {
        self.kind == AwsErrorKind::NotFound
    }
    pub fn is_already_exists(&self) -> bool {
        self.kind == AwsErrorKind::AlreadyExists
    }

    /// An error raised by our own code around a call (for example a waiter giving up).
    pub fn local(service: &'static str, operation: &'static str, kind: AwsErrorKind, message: String) -> Self {
        Self { service, operation, kind, code: None, message, request_id: None }
    }

    /// Classifies an SDK error.
    pub fn from_sdk<E>(service: &'static str, operation: &'static str, err: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let (code, message, request_id, status) = match &err {
            SdkError::ServiceError(se) => {
                let meta = se.err().meta();
                (
                    meta.code().map(str::to_string),
                    meta.message().map(str::to_string).unwrap_or_else(|| se.err().to_string()),
                    meta.extra("aws_request_id").map(str::to_string),
                    Some(se.raw().status().as_u16()),
                )
            }
            SdkError::TimeoutError(_) => (
                None,
                format!(
                    "no answer within {} s, retries included (the endpoint refused or dropped every attempt, or kept \
                     throttling)",
                    super::clients::OPERATION_TIMEOUT.as_secs()
                ),
                None,
                None,
            ),
            SdkError::DispatchFailure(df) => (None, dispatch_message(df), None, None),
            SdkError::ResponseError(re) => {
                (None, format!("unreadable response: {}", source_chain(&err)), None, Some(re.raw().status().as_u16()))
            }
            SdkError::ConstructionFailure(_) => {
                (None, format!("request not built: {}", source_chain(&err)), None, None)
            }
            _ => (None, source_chain(&err), None, None),
        };
        let kind = classify(
            code.as_deref(),
            &message,
            status,
            matches!(err, SdkError::TimeoutError(_) | SdkError::DispatchFailure(_)),
        );
        Self { service, operation, kind, code, message, request_id }
    }
}

fn dispatch_message(df: &aws_smithy_runtime_api::client::result::DispatchFailure) -> String {
    let what = if df.is_timeout() {
        "timed out"
    } else if df.is_io() {
        "could not connect"
    } else if df.is_user() {
        "could not send the request (check credentials and region)"
    } else {
        "could not send the request"
    };
    match df.as_connector_error() {
        Some(ce) => format!("{what}: {}", source_chain(ce)),
        None => what.to_string(),
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn classify(code: Option<&str>, message: &str, status: Option<u16>, transport: bool) -> AwsErrorKind {
    use AwsErrorKind::*;
    if transport {
        return Transport;
    }
    match code {
        Some("NoSuchEntity" | "ResourceNotFoundException" | "NotFoundException") => NotFound,
        Some("EntityAlreadyExists" | "ResourceInUseException") => AlreadyExists,
        Some("DeleteConflict") => Conflict,
        Some("MalformedPolicyDocument") if message.contains("Invalid principal") => NotYetPropagated,
        Some("InvalidParameterException") if message.contains("does not exist") && message.contains("Role") => {
            NotYetPropagated
        }
        Some("Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded") => Throttled,
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "SignatureDoesNotMatch"
            | "UnrecognizedClientException",
        ) => AccessDenied,
        Some(
            "MalformedPolicyDocument"
            | "ValidationError"
            | "InvalidInput"
            | "LimitExceeded"
            | "InvalidParameterException"
            | "InvalidRequestException"
            | "ResourceLimitExceededException"
            | "UnmodifiableEntity"
            | "InvalidParameterValue"
            | "PasswordPolicyViolation",
        ) => InvalidInput,
        _ if status == Some(404) => NotFound,
        _ if status == Some(403) => AccessDenied,
        _ => Other,
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} failed", self.service, self.operation)?;
        if let Some(code) = &self.code {
            write!(f, " with {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request ID {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;

/// Turns an SDK error of `service`'s `operation` into an `AwsError` (for `map_err`).
pub(super) fn sdk_error<E>(
    service: &'static str,
    operation: &'static str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| AwsError::from_sdk(service, operation, e)
}

/// `Ok(None)` for NotFound, the error otherwise: for reads of objects that may not exist.
pub(super) fn optional<T>(r: AwsResult<T>) -> AwsResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(())` when the object was already gone: deletes are idempotent.
pub(super) fn gone_is_ok<T>(r: AwsResult<T>) -> AwsResult<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        use AwsErrorKind::*;
        let cases: &[(Option<&str>, &str, Option<u16>, AwsErrorKind)] = &[
            (Some("NoSuchEntity"), "role x cannot be found", Some(404), NotFound),
            (Some("ResourceNotFoundException"), "No addon", Some(404), NotFound),
            (Some("EntityAlreadyExists"), "Provider with url exists", Some(409), AlreadyExists),
            (Some("MalformedPolicyDocument"), "Invalid principal in policy: ...", Some(400), NotYetPropagated),
            (Some("MalformedPolicyDocument"), "Syntax errors in policy.", Some(400), InvalidInput),
            (
                Some("InvalidParameterException"),
                "Role provided in the request does not exist",
                Some(400),
                NotYetPropagated,
            ),
            (Some("InvalidParameterException"), "namespace is invalid", Some(400), InvalidInput),
            (Some("Throttling"), "Rate exceeded", Some(400), Throttled),
            (Some("ThrottlingException"), "Rate exceeded", Some(429), Throttled),
            (Some("DeleteConflict"), "must detach", Some(409), Conflict),
            (Some("ExpiredToken"), "expired", Some(403), AccessDenied),
            (None, "", Some(500), Other),
        ];
        for (code, msg, status, want) in cases {
            assert_eq!(classify(*code, msg, *status, false), *want, "{code:?} {msg}");
        }
        assert_eq!(classify(Some("NoSuchEntity"), "", None, true), Transport);
    }
}
