//! Reading policy documents back from IAM and comparing them by meaning, so a plan never shows a diff that is only
//! IAM's formatting.
//!
//! What is normalised, and why each is safe:
//! - percent-encoding (GetRole / GetRolePolicy return RFC 3986 encoding: `%20` for space; `+` is a literal plus
//!   and is NOT turned into a space, unlike form decoding);
//! - whitespace and object key order (JSON objects are unordered);
//! - `Statement` given as one object or as a list, and the order of statements (a policy is a set of statements);
//! - single string vs list, element order and duplicates in `Action`, `NotAction`, `Resource`, `NotResource`,
//!   principal values and condition values (IAM evaluates all of these as sets);
//! - condition values given as JSON booleans or numbers vs strings (IAM compares condition values as text);
//! - `"Principal": "*"` vs `{"AWS": "*"}`, and an AWS principal given as a bare account ID vs
//!   `arn:<partition>:iam::<account>:root` (IAM stores the latter when given the former).
//!
//! What is deliberately NOT normalised: `Version` (2008-10-17 and 2012-10-17 differ in meaning, and a missing
//! Version means 2008-10-17), `Id`, `Sid`, `Effect` (case-sensitive in IAM), the case of actions and condition keys
//! (IAM never rewrites them, so a case change is a real edit), and the order of any other array.

use std::cmp::Ordering;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::error::PolicyError;
use super::statement::{trust_policy, Statement};

/// Parses a policy document as IAM returns it (percent-encoded) or as a user writes it (plain JSON).
///
/// Text whose first non-blank character is `{` is taken as plain JSON and never percent-decoded, so a literal `%`
/// inside a plain document survives.
pub fn decode_iam_document(s: &str) -> Result<Value, PolicyError> {
    let trimmed = s.trim();
    let value = if trimmed.starts_with('{') || !trimmed.contains('%') {
        parse_json(trimmed)?
    } else {
        let decoded = percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|e| PolicyError::BadEncoding { detail: e.to_string() })?;
        parse_json(decoded.trim())?
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(PolicyError::NotObject { found: json_type_name(&value) })
    }
}

fn parse_json(s: &str) -> Result<Value, PolicyError> {
    serde_json::from_str(s).map_err(|e| PolicyError::NotJson { detail: e.to_string() })
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// True when `s` is plain JSON (not percent-encoded) whose top level is an object: the check for user-supplied
/// policy documents such as `inline_policies` values and `session_policy`.
pub fn is_json_object(s: &str) -> bool {
    serde_json::from_str::<Value>(s).map(|v| v.is_object()).unwrap_or(false)
}

/// The canonical form of a policy document: two documents mean the same to IAM exactly when their canonical forms
/// are equal (within the rules in the module doc). Keys are sorted at every level, so the serialised canonical form
/// is deterministic too. Idempotent.
pub fn canonicalize(doc: &Value) -> Value {
    let Value::Object(map) = doc else { return sort_keys(doc) };
    sorted_object(map.iter().map(|(k, v)| {
        let v = if k == "Statement" { canonical_statements(v) } else { sort_keys(v) };
        (k.clone(), v)
    }))
}

/// True when two policy documents (each plain JSON or IAM's percent-encoded form) mean the same. Text that is not a
/// JSON object on either side is equivalent only to the identical text (so a bad document never flaps).
pub fn equivalent(a: &str, b: &str) -> bool {
    // The same text means the same, whatever it is: the common case (a document compared with itself) skips
    // parsing.
    if a == b {
        return true;
    }
    match (decode_iam_document(a), decode_iam_document(b)) {
        (Ok(x), Ok(y)) => canonicalize(&x) == canonicalize(&y),
        _ => a.trim() == b.trim(),
    }
}

/// True when the document (plain or percent-encoded) holds a statement equivalent to `statement`, Sid included.
pub fn has_statement_equivalent(doc: &str, statement: &Statement) -> Result<bool, PolicyError> {
    let doc = decode_iam_document(doc)?;
    let want = canonical_statement(&statement.to_value());
    let found = statements_of(&doc).any(|s| canonical_statement(s) == want);
    Ok(found)
}

/// Where one of our expected statements stands in the document IAM holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatementState {
    /// An equivalent statement (same Sid) is there.
    Present,
    /// A statement with our Sid is there but says something else (edited outside Terraform).
    Changed,
    /// Nothing with our Sid and nothing equivalent.
    Missing,
}

/// The state of one expected statement, named by its Sid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementStatus {
    pub sid: String,
    pub state: StatementState,
}

/// Drift report for a trust policy: the wiring turns it into plan decisions and warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct TrustAnalysis {
    /// The whole document is equivalent to `trust_policy(expected)`: nothing to repair.
    pub equivalent: bool,
    /// One entry per expected statement, in the order given.
    pub statements: Vec<StatementStatus>,
    /// Statements in IAM that are neither equivalent to an expected statement nor carry an expected Sid (added by
    /// someone else), in canonical form.
    pub foreign: Vec<Value>,
}

impl TrustAnalysis {
    /// The state of the expected statement with this Sid, if it was expected.
    pub fn state_of(&self, sid: &str) -> Option<StatementState> {
        self.statements.iter().find(|s| s.sid == sid).map(|s| s.state)
    }
}

/// Compares the trust policy IAM holds (`actual`, as GetRole returns it) with the statements we expect.
pub fn analyze_trust_policy(actual: &str, expected: &[Statement]) -> Result<TrustAnalysis, PolicyError> {
    let actual_doc = decode_iam_document(actual)?;
    let expected_doc: Value = serde_json::from_str(&trust_policy(expected)).expect("our own trust policy parses");
    let equivalent = canonicalize(&actual_doc) == canonicalize(&expected_doc);

    let actual_statements: Vec<Value> = statements_of(&actual_doc).map(canonical_statement).collect();
    let expected_canonical: Vec<Value> = expected.iter().map(|s| canonical_statement(&s.to_value())).collect();

    let statements = expected
        .iter()
        .zip(&expected_canonical)
        .map(|(st, want)| {
            let state = if actual_statements.iter().any(|a| a == want) {
                StatementState::Present
            } else if actual_statements.iter().any(|a| sid_of(a) == Some(st.sid.as_str())) {
                StatementState::Changed
            } else {
                StatementState::Missing
            };
            StatementStatus { sid: st.sid.clone(), state }
        })
        .collect();

    let foreign = actual_statements
        .into_iter()
        .filter(|a| !expected_canonical.contains(a) && !expected.iter().any(|st| sid_of(a) == Some(st.sid.as_str())))
        .collect();

    Ok(TrustAnalysis { equivalent, statements, foreign })
}

fn sid_of(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// The statements of a document: `Statement` may be one object or a list.
fn statements_of(doc: &Value) -> impl Iterator<Item = &Value> {
    let slice: &[Value] = match doc.get("Statement") {
        Some(Value::Array(items)) => items,
        Some(one @ Value::Object(_)) => std::slice::from_ref(one),
        _ => &[],
    };
    slice.iter()
}

fn canonical_statements(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(items) => items.iter().map(canonical_statement).collect(),
        Value::Object(_) => vec![canonical_statement(v)],
        other => return sort_keys(other),
    };
    // Statements are a set for IAM; order them by their canonical text so the order IAM returns does not matter.
    items.sort_by_cached_key(|s| s.to_string());
    Value::Array(items)
}

fn canonical_statement(v: &Value) -> Value {
    let Value::Object(map) = v else { return sort_keys(v) };
    sorted_object(map.iter().map(|(k, v)| {
        let v = match k.as_str() {
            "Action" | "NotAction" | "Resource" | "NotResource" => value_set(v, false),
            "Principal" | "NotPrincipal" => canonical_principal(v),
            "Condition" => canonical_condition(v),
            _ => sort_keys(v),
        };
        (k.clone(), v)
    }))
}

fn canonical_principal(v: &Value) -> Value {
    match v {
        // IAM documents `"Principal": "*"` as the same as `{"AWS": "*"}`.
        Value::String(s) if s == "*" => {
            sorted_object([("AWS".to_string(), Value::Array(vec![Value::String("*".to_string())]))])
        }
        Value::Object(map) => sorted_object(map.iter().map(|(kind, principals)| {
            let mut set = value_set(principals, false);
            if kind == "AWS" {
                if let Value::Array(items) = &mut set {
                    for item in items.iter_mut() {
                        if let Some(account) = item.as_str().and_then(account_of_root_arn) {
                            *item = Value::String(account.to_string());
                        }
                    }
                    sort_dedup(items);
                }
            }
            (kind.clone(), set)
        })),
        other => sort_keys(other),
    }
}

/// `arn:<partition>:iam::<12 digits>:root` -> the account ID; IAM stores this form when given a bare account ID.
fn account_of_root_arn(s: &str) -> Option<&str> {
    let mut parts = s.split(':');
    let (arn, _partition, iam, region, account, resource) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let well_formed = arn == "arn"
        && iam == "iam"
        && region.is_empty()
        && resource == "root"
        && parts.next().is_none()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit());
    well_formed.then_some(account)
}

fn canonical_condition(v: &Value) -> Value {
    let Value::Object(operators) = v else { return sort_keys(v) };
    sorted_object(operators.iter().map(|(operator, keys)| {
        let keys = match keys {
            Value::Object(keys) => {
                sorted_object(keys.iter().map(|(key, values)| (key.clone(), value_set(values, true))))
            }
            other => sort_keys(other),
        };
        (operator.clone(), keys)
    }))
}

/// A value IAM treats as a set: one scalar or a list becomes a sorted list without duplicates. With
/// `stringify_scalars`, booleans and numbers become their text (condition values). Anything else (null, an
/// object) is not a set: it is kept, keys sorted, and compared exactly.
fn value_set(v: &Value, stringify_scalars: bool) -> Value {
    let member = |x: &Value| match x {
        Value::Bool(b) if stringify_scalars => Value::String(b.to_string()),
        Value::Number(n) if stringify_scalars => Value::String(n.to_string()),
        other => sort_keys(other),
    };
    let mut items: Vec<Value> = match v {
        Value::Array(items) => items.iter().map(member).collect(),
        Value::String(_) | Value::Bool(_) | Value::Number(_) => vec![member(v)],
        other => return sort_keys(other),
    };
    sort_dedup(&mut items);
    Value::Array(items)
}

fn sort_dedup(items: &mut Vec<Value>) {
    items.sort_by(total_order);
    items.dedup();
}

/// A total order on JSON values: by kind, then strings by text and everything else by canonical serialisation.
fn total_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

/// The value with object keys sorted at every depth; array order is kept.
fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(map) => sorted_object(map.iter().map(|(k, v)| (k.clone(), sort_keys(v)))),
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

fn sorted_object(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    let mut entries: Vec<(String, Value)> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    // Inserting in sorted order keeps the serialisation sorted under serde_json's `preserve_order` as well.
    let mut map = Map::with_capacity(entries.len());
    for (k, v) in entries {
        map.insert(k, v);
    }
    Value::Object(map)
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;

/// A document as IAM returned it, decoded to plain compact JSON for storing in state; the raw text when it does not
/// decode (so the difference still shows instead of being hidden).
pub fn decode_to_string(raw: &str) -> String {
    match decode_iam_document(raw) {
        Ok(v) => v.to_string(),
        Err(_) => raw.to_string(),
    }
}

/// Equivalence of two optional documents: both absent, or both present and equivalent.
pub fn optional_equivalent(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => equivalent(a, b),
        _ => false,
    }
}

/// Whether a document (as IAM returns it) mentions `needle` anywhere in its decoded text, for example a role's
/// trust policy naming an OIDC provider ARN.
pub fn mentions(raw: &str, needle: &str) -> bool {
    match decode_iam_document(raw) {
        Ok(v) => v.to_string().contains(needle),
        Err(_) => raw.contains(needle),
    }
}
