//! Pure checks of single input values, shared by the schema validators and the spec conversion.
//!
//! Each returns `Err(sentence)` with a detail a user can act on. No AWS calls, no schema knowledge.

/// Partitions whose ARNs we accept.
const PARTITIONS: &[&str] =
    &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"];

/// Kubernetes namespace: an RFC 1123 label.
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("\"{s}\" must be 1 to 63 characters long (a Kubernetes namespace is a DNS-1123 label)."));
    }
    if !label_chars_ok(s) {
        return Err(format!(
            "\"{s}\" is not a DNS-1123 label: use lowercase letters, digits and '-', starting and ending with a \
             letter or digit (for example \"payments\")."
        ));
    }
    Ok(())
}

fn label_chars_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && alnum(b[0]) && alnum(b[b.len() - 1]) && b.iter().all(|&c| alnum(c) || c == b'-')
}

/// Kubernetes service account name: an RFC 1123 subdomain. `*` is handled by the caller.
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!(
            "\"{s}\" must be 1 to 253 characters long (a service account name is a DNS-1123 subdomain)."
        ));
    }
    if !s.split('.').all(|label| label.len() <= 63 && label_chars_ok(label)) {
        return Err(format!(
            "\"{s}\" is not a DNS-1123 subdomain: use lowercase letters, digits, '-' and '.', with each part \
             starting and ending with a letter or digit (for example \"api-server\")."
        ));
    }
    Ok(())
}

/// EKS cluster name.
pub fn eks_cluster_name(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 100
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{s}\" is not a valid EKS cluster name: 1 to 100 characters, letters, digits, '-' and '_', \
             starting with a letter or digit."
        ))
    }
}

/// IAM names (roles, inline policies) allow letters, digits and `+=,.@_-`.
fn iam_name_chars(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || b"+=,.@_-".contains(&c))
}

pub fn iam_role_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 {
        return Err(format!("\"{s}\" is {} characters long; IAM role names are 1 to 64 characters.", s.len()));
    }
    if !iam_name_chars(s) {
        return Err(format!(
            "\"{s}\" contains characters IAM does not allow in a role name: use letters, digits and +=,.@_-"
        ));
    }
    Ok(())
}

pub fn iam_policy_name(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 128 || !iam_name_chars(s) {
        return Err(format!(
            "\"{s}\" is not a valid inline policy name: 1 to 128 characters, letters, digits and +=,.@_-"
        ));
    }
    Ok(())
}

pub fn iam_path(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 512
        && s.starts_with('/')
        && s.ends_with('/')
        && !s.contains("//")
        && s.bytes().all(|c| (0x21..=0x7e).contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{s}\" is not a valid IAM path: it must start and end with '/', for example \"/\" or \"/workloads/\"."
        ))
    }
}

pub fn iam_description(s: &str) -> Result<(), String> {
    if s.chars().count() > 1000 {
        return Err("IAM role descriptions are at most 1000 characters.".into());
    }
    let ok = s.chars().all(|c| matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{a1}'..='\u{ff}'));
    if ok {
        Ok(())
    } else {
        Err("IAM allows only printable Latin-1 characters, tabs and newlines in a role description.".into())
    }
}

/// Splits `arn:partition:service:region:account:resource`; `None` if it is not shaped like an ARN.
fn arn_parts(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    let parts = [it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?];
    (parts[0] == "arn").then_some(parts)
}

fn check_iam_arn(s: &str, kind: &str, example: &str) -> Result<(), String> {
    let bad = || format!("\"{s}\" is not an IAM {kind} ARN; expected something like \"{example}\".");
    let [_, partition, service, region, account, resource] = arn_parts(s).ok_or_else(bad)?;
    let account_ok = (account.len() == 12 && account.bytes().all(|c| c.is_ascii_digit())) || account == "aws";
    let prefix = format!("{kind}/");
    let resource_ok = resource.len() > prefix.len() && resource.starts_with(&prefix);
    if !PARTITIONS.contains(&partition) || service != "iam" || !region.is_empty() || !account_ok || !resource_ok {
        return Err(bad());
    }
    Ok(())
}

pub fn iam_policy_arn(s: &str) -> Result<(), String> {
    check_iam_arn(s, "policy", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
}

pub fn iam_role_arn(s: &str) -> Result<(), String> {
    check_iam_arn(s, "role", "arn:aws:iam::123456789012:role/target")?;
    // An AWS-managed account cannot own roles.
    if s.split(':').nth(4) == Some("aws") {
        return Err(format!("\"{s}\" names the account \"aws\"; a role ARN has a 12-digit account ID."));
    }
    Ok(())
}

/// A policy document must be a JSON object (IAM rejects anything else, later and less clearly).
pub fn json_object(s: &str) -> Result<(), String> {
    match serde_json::from_str::<serde_json::Value>(s) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        Ok(_) => Err("The policy document is valid JSON but not a JSON object; IAM policies are objects with \
                      \"Version\" and \"Statement\"."
            .into()),
        Err(e) => Err(format!(
            "The policy document is not valid JSON: {e}. Tip: build it with jsonencode() or \
                               an aws_iam_policy_document data source."
        )),
    }
}

pub fn https_url(s: &str) -> Result<(), String> {
    let Some(rest) = s.strip_prefix("https://") else {
        return Err(format!("\"{s}\" must be an https:// URL (OIDC issuers are always served over HTTPS)."));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "\"{s}\" is not a valid issuer URL: expected https://host/path without query or fragment."
        ));
    }
    Ok(())
}

pub fn tag_key(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().count() > 128 {
        return Err(format!("Tag key \"{s}\" must be 1 to 128 characters long."));
    }
    if s.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("Tag key \"{s}\" uses the reserved prefix \"aws:\"."));
    }
    if s.starts_with("eksidentity:") {
        return Err(format!(
            "Tag key \"{s}\" uses the prefix \"eksidentity:\", which this provider reserves for its ownership tags."
        ));
    }
    Ok(())
}

pub fn tag_value(s: &str) -> Result<(), String> {
    if s.chars().count() > 256 {
        return Err("Tag values are at most 256 characters long.".into());
    }
    Ok(())
}

/// A Go-style duration as Terraform users write it in `timeouts`: "30s", "20m", "1h30m".
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || {
        format!(
            "\"{s}\" is not a duration; write a number followed by a unit, for example \"30s\", \"20m\" or \"1h30m\"."
        )
    };
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    if total <= 0.0 {
        return Err(format!("\"{s}\" must be longer than zero."));
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        for ok in ["a", "payments", "team-1", "0abc"] {
            assert!(dns1123_label(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Payments", "-a", "a-", "a_b", "a.b", &"x".repeat(64)] {
            assert!(dns1123_label(bad).is_err(), "{bad}");
        }
        for ok in ["api", "api.v1", "a-b.c-d"] {
            assert!(dns1123_subdomain(ok).is_ok(), "{ok}");
        }
        for bad in ["", "API", "a..b", ".a", "a.", "a_b", "*"] {
            assert!(dns1123_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn arns() {
        assert!(iam_policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_ok());
        assert!(iam_policy_arn("arn:aws-cn:iam::123456789012:policy/team/x").is_ok());
        for bad in [
            "AmazonS3ReadOnlyAccess",
            "arn:aws:iam::aws:role/x",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:aws:policy/x",
            "arn:aws:iam::12345:policy/x",
            "arn:aws:iam::aws:policy/",
            "arn:nope:iam::aws:policy/x",
        ] {
            assert!(iam_policy_arn(bad).is_err(), "{bad}");
        }
        assert!(iam_role_arn("arn:aws:iam::123456789012:role/path/target").is_ok());
        assert!(iam_role_arn("arn:aws:iam::aws:role/x").is_err());
    }

    #[test]
    fn role_names_and_paths() {
        assert!(iam_role_name("eks-prod-payments-api").is_ok());
        assert!(iam_role_name(&"r".repeat(65)).is_err());
        assert!(iam_role_name("has space").is_err());
        assert!(iam_path("/").is_ok());
        assert!(iam_path("/a/b/").is_ok());
        for bad in ["", "a/", "/a", "//", "/a b/"] {
            assert!(iam_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20m").unwrap().as_secs(), 1200);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("1.5s").unwrap().as_millis(), 1500);
        for bad in ["", "20", "m", "20 minutes", "-1m", "0s", "1d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_and_urls() {
        assert!(json_object("{\"Version\":\"2012-10-17\"}").is_ok());
        assert!(json_object("[1]").is_err());
        assert!(json_object("{").is_err());
        assert!(https_url("https://oidc.eks.us-east-1.amazonaws.com/id/ABC").is_ok());
        assert!(https_url("http://x").is_err());
        assert!(https_url("https://").is_err());
    }

    #[test]
    fn tags() {
        assert!(tag_key("team").is_ok());
        assert!(tag_key("aws:x").is_err());
        assert!(tag_key("eksidentity:wiring").is_err());
        assert!(tag_value(&"v".repeat(257)).is_err());
    }
}
