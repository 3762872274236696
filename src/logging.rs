//! Logging: JSON lines on stderr in the shape Terraform's plugin log reader (hclog) understands.
//!
//! Terraform reads every stderr line of a plugin. A JSON object with `@level`, `@message`, `@timestamp` (exactly
//! six fractional digits) is re-logged at that level with the other keys as fields; anything else is logged as a
//! plain debug line. Stdout is reserved for the go-plugin handshake line, so nothing here ever writes to it.
//!
//! The level comes from `TF_LOG_PROVIDER`, else `TF_LOG`: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `OFF`; `JSON`
//! and any other non-empty value mean `TRACE`, as in Terraform. Unset means off: Terraform would drop the lines.
//!
//! Rule: never log a credential, a token, a private key, or a whole configuration or state value (they can carry
//! secrets). Log names, paths, counts and durations. As a second line of defence, every message and string field
//! passes through [`redact`], and fields whose key names a secret are replaced whole. Wrap anything that might
//! carry a secret in [`Redacted`] before it goes near a format string.
//!
//! Use the macros: `logging::debug!("configured", region = "eu-west-1", attempts = 3)`. The message is any
//! `AsRef<str>`; field values are anything `serde_json::Value: From<_>` (strings, integers, floats, bools).
//!
//! This module must not depend on any other module of the crate.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::{Map, Value};

/// Severity of a log line, least severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warn = 4,
    Error = 5,
}

impl Level {
    /// The `@level` value hclog expects.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Reads a `TF_LOG`-style value. `None` means logging is off.
    pub fn from_tf_log(value: &str) -> Option<Level> {
        match value.trim().to_ascii_uppercase().as_str() {
            "" | "OFF" => None,
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARN" => Some(Level::Warn),
            "ERROR" => Some(Level::Error),
            // TRACE, JSON, and values Terraform does not know: Terraform itself falls back to TRACE.
            _ => Some(Level::Trace),
        }
    }
}

/// 0 = off, otherwise the least severe level written.
static MIN_LEVEL: AtomicU8 = AtomicU8::new(0);

/// Sets the level from `TF_LOG_PROVIDER`, else `TF_LOG`; `default` applies when neither is set.
pub fn init_from_env(default: Option<Level>) {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let level = match var("TF_LOG_PROVIDER").or_else(|| var("TF_LOG")) {
        Some(v) => Level::from_tf_log(&v),
        None => default,
    };
    set_level(level);
}

/// Sets the least severe level written; `None` turns logging off.
pub fn set_level(level: Option<Level>) {
    MIN_LEVEL.store(level.map_or(0, |l| l as u8), Ordering::Relaxed);
}

/// Whether a line at `level` would be written. The macros check this before building any field.
pub fn enabled(level: Level) -> bool {
    let min = MIN_LEVEL.load(Ordering::Relaxed);
    min != 0 && level as u8 >= min
}

/// Writes one line if `level` is enabled. Prefer the macros, which fill in `module` and skip work when disabled.
pub fn write(level: Level, module: &str, message: &str, fields: &[(&str, Value)]) {
    if !enabled(level) {
        return;
    }
    let line = render(level, module, message, fields, &timestamp());
    // One write call per line so concurrent tasks do not interleave; a failed stderr write has nowhere to go.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The JSON line for one entry, newline included.
fn render(level: Level, module: &str, message: &str, fields: &[(&str, Value)], timestamp: &str) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), level.as_str().into());
    obj.insert("@message".into(), redact(message).into_owned().into());
    obj.insert("@timestamp".into(), timestamp.into());
    obj.insert("@module".into(), module.into());
    for (key, value) in fields {
        if key.starts_with('@') {
            continue; // reserved for hclog
        }
        let value = if is_secret_key(key) {
            Value::from(REDACTED)
        } else {
            match value {
                Value::String(s) => Value::from(redact(s).into_owned()),
                other => other.clone(),
            }
        };
        obj.insert((*key).to_string(), value);
    }
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

/// `2006-01-02T15:04:05.000000Z`: the only layout hclog's reader parses (it drops lines it cannot parse).
fn timestamp() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// `eksidentity::plugin::listen` -> `eksidentity.plugin`: hclog shows it as `@module`.
#[doc(hidden)]
pub fn module_name(module_path: &str) -> String {
    module_path.split("::").take(2).collect::<Vec<_>>().join(".")
}

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// A value that must never be printed. `Display` and `Debug` both show `[redacted]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Key names whose values are secrets wherever they appear (field names, `key=value`, `"key": "value"`).
const SECRET_KEYS: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "credential",
    "authorization",
    "signature",
    "private_key",
    "privatekey",
    "private-key",
    "session_policy_secret",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| key.contains(k))
}

/// Masks what looks like a secret in free text (error messages from SDKs, URLs, headers):
/// - the value after a secret-sounding key (`X-Amz-Security-Token=...`, `"SecretAccessKey": "..."`,
///   `Authorization: ...` up to the end of the line),
/// - AWS access key ids (`AKIA...`, `ASIA...`), keeping the 4-letter prefix,
/// - long mixed-case alphanumeric runs (40+ characters with upper, lower and digits: secret keys, session
///   tokens, JWT segments). Hex digests and ARNs are left alone.
pub fn redact(text: &str) -> Cow<'_, str> {
    match redact_key_values(text) {
        Cow::Borrowed(_) => redact_words(text),
        Cow::Owned(masked) => Cow::Owned(redact_words(&masked).into_owned()),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-')
}

/// Replaces access key ids and long high-entropy words.
fn redact_words(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut changed = false;
    let mut rest = text;
    while let Some(start) = rest.find(is_word_char) {
        let end = rest[start..].find(|c| !is_word_char(c)).map_or(rest.len(), |i| start + i);
        let word = &rest[start..end];
        out.push_str(&rest[..start]);
        match classify_word(word) {
            Some(masked) => {
                out.push_str(&masked);
                changed = true;
            }
            None => out.push_str(word),
        }
        rest = &rest[end..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn classify_word(word: &str) -> Option<String> {
    const KEY_ID_PREFIXES: &[&str] = &["AKIA", "ASIA", "AIDA", "AROA", "AGPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"];
    // Access key ids may be glued to a `/date/region/...` credential scope: look at the first path segment.
    let head = word.split('/').next().unwrap_or(word);
    if head.len() == 20
        && KEY_ID_PREFIXES.iter().any(|p| head.starts_with(p))
        && head.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Some(format!("{}{}{}", &head[..4], "*".repeat(16), &word[head.len()..]));
    }
    // Split on `-`, `_` and `.` so resource names are judged by their parts; `/` and `+` stay, because AWS
    // secret keys and session tokens contain them. A long mixed-case path is masked too: a cheap false positive.
    for part in word.split(['-', '_', '.']) {
        let long = part.len() >= 40;
        let mixed = part.chars().any(|c| c.is_ascii_uppercase())
            && part.chars().any(|c| c.is_ascii_lowercase())
            && part.chars().any(|c| c.is_ascii_digit());
        if long && mixed {
            return Some(REDACTED.to_string());
        }
    }
    None
}

/// Masks the value following a secret-sounding key: `key=value`, `key: value`, `"key":"value"`.
fn redact_key_values(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in SECRET_KEYS {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let key_end = from + i + key.len();
            from = key_end;
            // Skip the rest of the key name (`token` in `X-Amz-Security-Token`, `secretaccesskey`), quotes, spaces.
            let bytes = text.as_bytes();
            let mut j = key_end;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-') {
                j += 1;
            }
            while j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'' || bytes[j] == b' ') {
                j += 1;
            }
            if j >= bytes.len() || !(bytes[j] == b'=' || bytes[j] == b':') {
                continue;
            }
            j += 1;
            while j < bytes.len() && (bytes[j] == b' ' || bytes[j] == b'"' || bytes[j] == b'\'') {
                j += 1;
            }
            let start = j;
            let to_line_end = *key == "authorization";
            while j < bytes.len() {
                let b = bytes[j];
                let stop = if to_line_end {
                    b == b'\n' || b == b'\r'
                } else {
                    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'&' | b',' | b';' | b'}' | b')')
                };
                if stop {
                    break;
                }
                j += 1;
            }
            if j > start {
                spans.push((start, j));
            }
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in spans {
        if start < pos {
            continue; // overlapping match of two keys
        }
        out.push_str(&text[pos..start]);
        out.push_str(REDACTED);
        pos = end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// Logs at a level: `log!(Level::Debug, "message", key = value, ...)`. Prefer the level macros.
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_log {
    ($level:expr, $message:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let level = $level;
        if $crate::logging::enabled(level) {
            $crate::logging::write(
                level,
                &$crate::logging::module_name(module_path!()),
                ::std::convert::AsRef::<str>::as_ref(&$message),
                &[$((stringify!($key), ::serde_json::Value::from($value))),*],
            );
        }
    }};
}

/// `logging::trace!("message", key = value, ...)`
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_trace {
    ($($t:tt)*) => { $crate::__eksidentity_log!($crate::logging::Level::Trace, $($t)*) };
}

/// `logging::debug!("message", key = value, ...)`
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_debug {
    ($($t:tt)*) => { $crate::__eksidentity_log!($crate::logging::Level::Debug, $($t)*) };
}

/// `logging::info!("message", key = value, ...)`
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_info {
    ($($t:tt)*) => { $crate::__eksidentity_log!($crate::logging::Level::Info, $($t)*) };
}

/// `logging::warn!("message", key = value, ...)`
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_warn {
    ($($t:tt)*) => { $crate::__eksidentity_log!($crate::logging::Level::Warn, $($t)*) };
}

/// `logging::error!("message", key = value, ...)`
#[macro_export]
#[doc(hidden)]
macro_rules! __eksidentity_error {
    ($($t:tt)*) => { $crate::__eksidentity_log!($crate::logging::Level::Error, $($t)*) };
}

pub use crate::__eksidentity_debug as debug;
pub use crate::__eksidentity_error as error;
pub use crate::__eksidentity_info as info;
pub use crate::__eksidentity_log as log;
pub use crate::__eksidentity_trace as trace;
pub use crate::__eksidentity_warn as warn;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_terraform() {
        assert_eq!(Level::from_tf_log("off"), None);
        assert_eq!(Level::from_tf_log(""), None);
        assert_eq!(Level::from_tf_log("debug"), Some(Level::Debug));
        assert_eq!(Level::from_tf_log("WARN"), Some(Level::Warn));
        assert_eq!(Level::from_tf_log("JSON"), Some(Level::Trace));
        assert_eq!(Level::from_tf_log("1"), Some(Level::Trace));
    }

    #[test]
    fn line_is_hclog_json() {
        let line = render(
            Level::Info,
            "eksidentity.plugin",
            "listening",
            &[("network", "unix".into()), ("port", 0.into())],
            "2024-05-01T10:11:12.123456Z",
        );
        assert!(line.ends_with('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "listening");
        assert_eq!(v["@module"], "eksidentity.plugin");
        assert_eq!(v["@timestamp"], "2024-05-01T10:11:12.123456Z");
        assert_eq!(v["network"], "unix");
        assert_eq!(v["port"], 0);
    }

    #[test]
    fn timestamp_has_six_fraction_digits() {
        let ts = timestamp();
        // 2024-05-01T10:11:12.123456Z
        assert_eq!(ts.len(), 27, "{ts}");
        assert_eq!(&ts[19..20], ".");
        assert!(ts.ends_with('Z'));
    }

    #[test]
    fn secret_fields_are_replaced_whole() {
        let line = render(
            Level::Debug,
            "m",
            "x",
            &[("session_token", "abc".into()), ("SecretAccessKey", "def".into()), ("region", "eu-west-1".into())],
            "t",
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["session_token"], REDACTED);
        assert_eq!(v["SecretAccessKey"], REDACTED);
        assert_eq!(v["region"], "eu-west-1");
    }

    #[test]
    fn redacts_key_values_in_text() {
        let url = "https://sts.amazonaws.com/?X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F&Action=GetCallerIdentity";
        let r = redact(url);
        assert!(!r.contains("FwoGZXIvYXdzEJr"), "{r}");
        assert!(r.contains("Action=GetCallerIdentity"), "{r}");

        let json = r#"{"AccessKeyId":"x","SecretAccessKey": "wJalrXUtnFEMI","Expiration":"soon"}"#;
        let r = redact(json);
        assert!(!r.contains("wJalrXUtnFEMI"), "{r}");
        assert!(r.contains("Expiration"), "{r}");

        let header = "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/sts\nnext";
        let r = redact(header);
        assert_eq!(r, "Authorization: [redacted]\nnext");
    }

    #[test]
    fn redacts_key_ids_and_long_mixed_words() {
        let r = redact("using key AKIAIOSFODNN7EXAMPLE now");
        assert_eq!(r, "using key AKIA**************** now");
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"; // AWS's documented example secret
        let text = format!("secret is {secret}.");
        let r = redact(&text);
        assert!(!r.contains("bPxRfiCY"), "{r}");
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "arn:aws:iam::123456789012:role/eksidentity/demo-default-app-0123456789abcdef0123456789",
            "thumbprint 9e99a48a9960b14926bb7f3b02e22da2b0ab7280",
            "namespace default, service account app, mode irsa",
        ] {
            let r = redact(text);
            assert!(matches!(r, Cow::Borrowed(_)), "{text} -> {r}");
        }
    }

    #[test]
    fn redacted_wrapper_never_prints() {
        let r = Redacted("hunter2");
        assert_eq!(format!("{r} {r:?}"), "[redacted] [redacted]");
    }

    #[test]
    fn module_names_are_short() {
        assert_eq!(module_name("eksidentity::plugin::listen"), "eksidentity.plugin");
        assert_eq!(module_name("eksidentity"), "eksidentity");
    }
}
