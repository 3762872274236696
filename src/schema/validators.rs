//! Per-attribute validators. Each one checks a known, non-null value; the walker never calls them with a null or
//! unknown value, so a reference to another resource's future output is never rejected.

use std::fmt;
use std::sync::Arc;

use crate::cty::{AttributePath, Value};
use crate::diag::Diagnostic;

/// Checks one value. `description` is a markdown sentence for the docs ("must be one of ...").
pub trait Validator: Send + Sync {
    fn description(&self) -> String;
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>);
}

struct OneOf(Vec<&'static str>);

impl Validator for OneOf {
    fn description(&self) -> String {
        let quoted: Vec<String> = self.0.iter().map(|s| format!("`{s}`")).collect();
        format!("Must be one of {}.", quoted.join(", "))
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Some(s) = value.as_str() {
            if !self.0.contains(&s) {
                let quoted: Vec<String> = self.0.iter().map(|s| format!("\"{s}\"")).collect();
                out.push(Diagnostic::attribute_error(
                    path.clone(),
                    format!("Invalid value for {path}"),
                    format!("{path} is \"{s}\", but it must be one of {}.", quoted.join(", ")),
                ));
            }
        }
    }
}

/// The string must be one of the given values.
pub fn one_of(values: &[&'static str]) -> impl Validator {
    OneOf(values.to_vec())
}

struct IntBetween(i64, i64);

impl Validator for IntBetween {
    fn description(&self) -> String {
        format!("Must be a whole number from {} to {}.", self.0, self.1)
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Value::Number(n) = value {
            let ok = n.as_i64().is_some_and(|i| i >= self.0 && i <= self.1);
            if !ok {
                out.push(Diagnostic::attribute_error(
                    path.clone(),
                    format!("Invalid value for {path}"),
                    format!(
                        "{path} is {}, but it must be a whole number from {} to {}.",
                        fmt_number(value),
                        self.0,
                        self.1
                    ),
                ));
            }
        }
    }
}

fn fmt_number(value: &Value) -> String {
    match value {
        Value::Number(crate::cty::Number::Int(i)) => i.to_string(),
        Value::Number(crate::cty::Number::Float(f)) => f.to_string(),
        Value::Number(crate::cty::Number::Decimal(s)) => s.clone(),
        _ => "not a number".into(),
    }
}

/// The number must be a whole number in `min..=max`.
pub fn int_between(min: i64, max: i64) -> impl Validator {
    IntBetween(min, max)
}

struct StringLength(usize, usize);

impl Validator for StringLength {
    fn description(&self) -> String {
        format!("Must be {} to {} characters long.", self.0, self.1)
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Some(s) = value.as_str() {
            let n = s.chars().count();
            if n < self.0 || n > self.1 {
                out.push(Diagnostic::attribute_error(
                    path.clone(),
                    format!("Invalid length for {path}"),
                    format!(
                        "{path} is {n} character{} long, but it must be {} to {} characters long.",
                        if n == 1 { "" } else { "s" },
                        self.0,
                        self.1
                    ),
                ));
            }
        }
    }
}

/// The string's length in characters must be in `min..=max`.
pub fn string_length_between(min: usize, max: usize) -> impl Validator {
    StringLength(min, max)
}

/// A validator made from a description and a check that returns a user-facing reason on failure.
struct MatchesFn<F> {
    description: String,
    summary: String,
    check: F,
}

impl<F> Validator for MatchesFn<F>
where
    F: Fn(&str) -> Result<(), String> + Send + Sync,
{
    fn description(&self) -> String {
        self.description.clone()
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Some(s) = value.as_str() {
            if let Err(reason) = (self.check)(s) {
                // "Invalid namespace", not "Invalid namespace in namespace".
                let named = self.summary.to_lowercase().ends_with(&path.to_string().replace('_', " "));
                let summary = if named { self.summary.clone() } else { format!("{} in {path}", self.summary) };
                out.push(Diagnostic::attribute_error(path.clone(), summary, reason));
            }
        }
    }
}

/// A string validator from a closure. `summary` is the diagnostic's title ("Invalid ARN"); the closure returns
/// the detail sentence when the value is wrong.
pub fn matches_fn<F>(description: &str, summary: &str, check: F) -> impl Validator
where
    F: Fn(&str) -> Result<(), String> + Send + Sync + 'static,
{
    MatchesFn { description: description.to_string(), summary: summary.to_string(), check }
}

/// "Must be x." -> "must be x.", so that "Each element must be x." reads as one sentence.
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

struct EachSetElement(Arc<dyn Validator>);

impl Validator for EachSetElement {
    fn description(&self) -> String {
        format!("Each element {}", lower_first(&self.0.description()))
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Value::Set(items) | Value::List(items) = value {
            for item in items.iter().filter(|v| !v.is_null() && !v.is_unknown()) {
                // Set elements have no index a user could read; Terraform shows them by value.
                let element_path = match item {
                    Value::String(s) => path.push_key(s),
                    _ => path.clone(),
                };
                self.0.validate(item, &element_path, out);
            }
        }
    }
}

/// Applies `inner` to every known element of a set or list.
pub fn each_set_element(inner: impl Validator + 'static) -> impl Validator {
    EachSetElement(Arc::new(inner))
}

struct EachMapValue(Arc<dyn Validator>);

impl Validator for EachMapValue {
    fn description(&self) -> String {
        format!("Each value {}", lower_first(&self.0.description()))
    }
    fn validate(&self, value: &Value, path: &AttributePath, out: &mut Vec<Diagnostic>) {
        if let Value::Map(items) = value {
            for (key, item) in items.iter().filter(|(_, v)| !v.is_null() && !v.is_unknown()) {
                self.0.validate(item, &path.push_key(key), out);
            }
        }
    }
}

/// Applies `inner` to every known value of a map.
pub fn each_map_value(inner: impl Validator + 'static) -> impl Validator {
    EachMapValue(Arc::new(inner))
}

impl fmt::Debug for dyn Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Validator({})", self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &dyn Validator, value: Value) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        v.validate(&value, &AttributePath::attr("x"), &mut out);
        out
    }

    #[test]
    fn one_of_names_the_choices() {
        let v = one_of(&["irsa", "pod_identity"]);
        assert!(run(&v, Value::string("irsa")).is_empty());
        let d = run(&v, Value::string("oidc"));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, Some(AttributePath::attr("x")));
        assert!(d[0].detail.contains("\"irsa\", \"pod_identity\""), "{}", d[0].detail);
    }

    #[test]
    fn int_between_rejects_fractions_and_out_of_range() {
        let v = int_between(3600, 43200);
        assert!(run(&v, Value::int(3600)).is_empty());
        assert_eq!(run(&v, Value::int(60)).len(), 1);
        assert_eq!(run(&v, Value::Number(crate::cty::Number::Float(3600.5))).len(), 1);
    }

    #[test]
    fn matches_fn_summaries_name_the_attribute_once() {
        let v = matches_fn("", "Invalid cluster name", |_| Err("no".into()));
        let mut out = Vec::new();
        v.validate(&Value::string("x"), &AttributePath::attr("cluster_name"), &mut out);
        v.validate(&Value::string("x"), &AttributePath::attr("timeouts").push_attr("cluster_name"), &mut out);
        v.validate(&Value::string("x"), &AttributePath::attr("target_name"), &mut out);
        let summaries: Vec<&str> = out.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Invalid cluster name",
                "Invalid cluster name in timeouts.cluster_name",
                "Invalid cluster name in target_name"
            ]
        );
    }

    #[test]
    fn each_map_value_paths_name_the_key() {
        let v = each_map_value(string_length_between(1, 2));
        let d = run(&v, Value::Map([("long".to_string(), Value::string("abc"))].into()));
        assert_eq!(d[0].path.as_ref().unwrap().to_string(), "x[\"long\"]");
    }
}
