//! Table tests for reading and comparing policy documents, including the perpetual-diff cases users report.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::super::statement::{irsa_statement, pod_identity_statement, trust_policy, IRSA_SID, POD_IDENTITY_SID};
use super::*;

const ISSUER: &str = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

/// RFC 3986 encoding as IAM applies it: everything but unreserved characters is escaped, space as `%20`.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn iam_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

fn irsa() -> Statement {
    irsa_statement("aws", "111122223333", ISSUER, "default", "app", "sts.amazonaws.com")
}

fn both_policy() -> String {
    trust_policy(&[irsa(), pod_identity_statement("aws")])
}

/// The `both` policy as IAM might hand it back: pretty-printed, keys and statements reordered, single values
/// turned into lists and lists reordered, then percent-encoded.
fn both_policy_as_iam_returns_it() -> String {
    let doc = json!({
        "Statement": [
            {
                "Action": ["sts:TagSession", "sts:AssumeRole"],
                "Principal": {"Service": ["pods.eks.amazonaws.com"]},
                "Effect": "Allow",
                "Sid": "EksIdentityPodIdentity"
            },
            {
                "Condition": {"StringEquals": {
                    format!("{ISSUER}:sub"): ["system:serviceaccount:default:app"],
                    format!("{ISSUER}:aud"): "sts.amazonaws.com"
                }},
                "Action": ["sts:AssumeRoleWithWebIdentity"],
                "Principal": {"Federated": format!("arn:aws:iam::111122223333:oidc-provider/{ISSUER}")},
                "Effect": "Allow",
                "Sid": "EksIdentityIrsa"
            }
        ],
        "Version": "2012-10-17"
    });
    iam_encode(&serde_json::to_string_pretty(&doc).unwrap())
}

#[test]
fn equivalent_cases() {
    struct Case {
        name: &'static str,
        a: String,
        b: String,
        want: bool,
    }
    fn case(name: &'static str, a: impl Into<String>, b: impl Into<String>, want: bool) -> Case {
        Case { name, a: a.into(), b: b.into(), want }
    }
    let simple = r#"{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
    let cases = vec![
        case("identical", simple, simple, true),
        case(
            "key order differs at every level (crossplane provider-aws #792, ACK #2142)",
            simple,
            r#"{"Statement":[{"Resource":"arn:aws:s3:::b/*","Action":"s3:GetObject","Effect":"Allow","Sid":"S"}],"Version":"2012-10-17"}"#,
            true,
        ),
        case(
            "whitespace and newlines (terraform-provider-aws #21016)",
            simple,
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"S\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:GetObject\",\n      \"Resource\": \"arn:aws:s3:::b/*\"\n    }\n  ]\n}\n",
            true,
        ),
        case(
            "single action string vs one-element list",
            simple,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]}]}"#,
            true,
        ),
        case(
            "action list reordered",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["a:X","a:Y","a:Z"],"Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["a:Z","a:X","a:Y"],"Resource":"*"}]}"#,
            true,
        ),
        case(
            "duplicate actions are one set member",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["a:X","a:X"],"Resource":"*"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:X","Resource":"*"}]}"#,
            true,
        ),
        case(
            "condition values: single vs list and reordered",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:X","Resource":"*","Condition":{"StringEquals":{"k":["v2","v1"],"j":"w"}}}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:X","Resource":"*","Condition":{"StringEquals":{"j":["w"],"k":["v1","v2"]}}}]}"#,
            true,
        ),
        case(
            "condition boolean vs its text",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
            true,
        ),
        case("statement order swapped", both_policy(), trust_policy(&[pod_identity_statement("aws"), irsa()]), true),
        case(
            "Statement as one object vs one-element list",
            trust_policy(&[pod_identity_statement("aws")]),
            format!(r#"{{"Version":"2012-10-17","Statement":{}}}"#, pod_identity_statement("aws").to_json()),
            true,
        ),
        case("IAM's percent-encoded, reordered, pretty form of our document", both_policy(), both_policy_as_iam_returns_it(), true),
        case(
            "real-world encoded trust policy with %22 and %3A",
            trust_policy(&[pod_identity_statement("aws")]),
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22EksIdentityPodIdentity%22%2C%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22pods.eks.amazonaws.com%22%7D%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%2C%22sts%3ATagSession%22%5D%7D%5D%7D",
            true,
        ),
        case(
            "encoded pretty document uses %20 for spaces and %0A for newlines",
            simple,
            iam_encode("{\n    \"Version\": \"2012-10-17\",\n    \"Statement\": {\"Sid\": \"S\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/*\"}\n}"),
            true,
        ),
        case(
            "a literal + in an encoded document stays a plus",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b"}]}"#,
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%22%7D%5D%7D",
            true,
        ),
        case(
            "a literal + is not a space",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a b"}]}"#,
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2Fa+b%22%7D%5D%7D",
            false,
        ),
        case(
            "%2B decodes to +",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b"}]}"#,
            iam_encode(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b"}]}"#),
            true,
        ),
        case(
            "a literal % in a plain document is not decoded",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%25"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/100%"}]}"#,
            false,
        ),
        case(
            "principal service single vs list, reordered",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["b.amazonaws.com","a.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["a.amazonaws.com","b.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}"#,
            true,
        ),
        case(
            "AWS principal: bare account ID vs the root ARN IAM stores",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
            true,
        ),
        case(
            "AWS principal: different account",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}"#,
            false,
        ),
        case(
            "AWS principal: a role in the account is not the account",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/root"},"Action":"sts:AssumeRole"}]}"#,
            false,
        ),
        case(
            "Principal * vs AWS *",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"sts:AssumeRole"}]}"#,
            true,
        ),
        case(
            "Version 2008-10-17 vs 2012-10-17",
            simple,
            simple.replace("2012-10-17", "2008-10-17"),
            false,
        ),
        case(
            "missing Version is not 2012-10-17",
            simple,
            r#"{"Statement":[{"Sid":"S","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            false,
        ),
        case("Effect case matters", simple, simple.replace("\"Allow\"", "\"allow\""), false),
        case("Effect Allow vs Deny", simple, simple.replace("\"Allow\"", "\"Deny\""), false),
        case("Sid differs", simple, simple.replace("\"S\"", "\"T\""), false),
        case("Sid missing vs present", simple, simple.replace("\"Sid\":\"S\",", ""), false),
        case("action case is kept (IAM never rewrites it)", simple, simple.replace("s3:GetObject", "s3:getobject"), false),
        case("Resource vs NotResource", simple, simple.replace("\"Resource\"", "\"NotResource\""), false),
        case("Action vs NotAction", simple, simple.replace("\"Action\"", "\"NotAction\""), false),
        case(
            "different service account in sub",
            trust_policy(&[irsa()]),
            trust_policy(&[irsa_statement("aws", "111122223333", ISSUER, "default", "other", "sts.amazonaws.com")]),
            false,
        ),
        case(
            "StringEquals vs StringLike on sub",
            trust_policy(&[irsa()]),
            trust_policy(&[irsa()]).replace("StringEquals", "StringLike"),
            false,
        ),
        case(
            "sub and aud values swapped",
            trust_policy(&[irsa()]),
            trust_policy(&[irsa()])
                .replace("sts.amazonaws.com", "TMP")
                .replace("system:serviceaccount:default:app", "sts.amazonaws.com")
                .replace("TMP", "system:serviceaccount:default:app"),
            false,
        ),
        case("extra statement", trust_policy(&[irsa()]), both_policy(), false),
        case(
            "order of other arrays is kept",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:X","Resource":"*","X":[1,2]}]}"#,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:X","Resource":"*","X":[2,1]}]}"#,
            false,
        ),
        case("identical text that is not json", "not json", " not json ", true),
        case("text that is not json vs a document", "not json", simple, false),
    ];
    for c in &cases {
        assert_eq!(equivalent(&c.a, &c.b), c.want, "case {:?}", c.name);
        assert_eq!(equivalent(&c.b, &c.a), c.want, "case {:?} (swapped)", c.name);
    }
}

#[test]
fn decode_iam_document_cases() {
    let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
    let cases: Vec<(&str, String, Result<Value, PolicyError>)> = vec![
        ("plain json", plain.to_string(), Ok(json!({"Version":"2012-10-17","Statement":[]}))),
        ("plain json with blanks around", format!("\n  {plain}\n"), Ok(json!({"Version":"2012-10-17","Statement":[]}))),
        ("percent-encoded", iam_encode(plain), Ok(json!({"Version":"2012-10-17","Statement":[]}))),
        (
            "percent-encoded with leading newline",
            iam_encode(&format!("\n{plain}")),
            Ok(json!({"Version":"2012-10-17","Statement":[]})),
        ),
        ("lowercase hex escapes", "%7b%22a%22%3a1%7d".to_string(), Ok(json!({"a":1}))),
        ("encoded utf-8", iam_encode(r#"{"a":"é"}"#), Ok(json!({"a":"é"}))),
        (
            "bad utf-8 after decoding",
            "%7B%22a%22%3A%22%FF%22%7D".to_string(),
            Err(PolicyError::BadEncoding { detail: String::new() }),
        ),
        ("not json", "Version: 2012".to_string(), Err(PolicyError::NotJson { detail: String::new() })),
        ("encoded, not json", "%7Bnope".to_string(), Err(PolicyError::NotJson { detail: String::new() })),
        ("empty", String::new(), Err(PolicyError::NotJson { detail: String::new() })),
        ("array", "[1]".to_string(), Err(PolicyError::NotObject { found: "an array" })),
        ("string", r#""{}""#.to_string(), Err(PolicyError::NotObject { found: "a string" })),
        ("null", "null".to_string(), Err(PolicyError::NotObject { found: "null" })),
    ];
    for (name, input, want) in cases {
        let got = decode_iam_document(&input);
        match (&got, &want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "case {name:?}"),
            // Details come from serde_json / std; the kind is the contract.
            (Err(PolicyError::BadEncoding { .. }), Err(PolicyError::BadEncoding { .. }))
            | (Err(PolicyError::NotJson { .. }), Err(PolicyError::NotJson { .. })) => {}
            (Err(g), Err(w)) => assert_eq!(g, w, "case {name:?}"),
            _ => panic!("case {name:?}: got {got:?}, want {want:?}"),
        }
        if let Err(e) = got {
            let msg = e.to_string();
            assert!(msg.starts_with("policy document "), "case {name:?}: {msg}");
            assert_eq!(msg.chars().next().map(|c| c.is_lowercase()), Some(true), "case {name:?}");
        }
    }
}

#[test]
fn canonical_form_is_sorted_set_shaped_and_idempotent() {
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "S",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "111122223333"], "Service": "x.amazonaws.com"},
            "Action": ["b:Y", "a:X"],
            "Condition": {"StringLike": {"k": "v*"}, "NumericLessThan": {"n": 5}}
        }
    });
    let want = json!({
        "Statement": [{
            "Action": ["a:X", "b:Y"],
            "Condition": {"NumericLessThan": {"n": ["5"]}, "StringLike": {"k": ["v*"]}},
            "Effect": "Allow",
            "Principal": {"AWS": ["111122223333"], "Service": ["x.amazonaws.com"]},
            "Sid": "S"
        }],
        "Version": "2012-10-17"
    });
    let got = canonicalize(&doc);
    assert_eq!(got, want);
    // Serialised keys come out sorted, whatever serde_json's map ordering feature is.
    assert_eq!(
        got.to_string(),
        r#"{"Statement":[{"Action":["a:X","b:Y"],"Condition":{"NumericLessThan":{"n":["5"]},"StringLike":{"k":["v*"]}},"Effect":"Allow","Principal":{"AWS":["111122223333"],"Service":["x.amazonaws.com"]},"Sid":"S"}],"Version":"2012-10-17"}"#
    );
    assert_eq!(canonicalize(&got), got, "canonicalize must be idempotent");

    let iam = decode_iam_document(&both_policy_as_iam_returns_it()).unwrap();
    let ours = decode_iam_document(&both_policy()).unwrap();
    assert_eq!(canonicalize(&iam).to_string(), canonicalize(&ours).to_string());
}

#[test]
fn is_json_object_cases() {
    let cases = [
        ("object", r#"{"Version":"2012-10-17"}"#, true),
        ("empty object", "{}", true),
        ("pretty object", "{\n \"a\": [1, 2]\n}\n", true),
        ("array", "[]", false),
        ("string", r#""x""#, false),
        ("broken", r#"{"a":"#, false),
        ("empty", "", false),
        ("percent-encoded is not accepted from users", "%7B%7D", false),
    ];
    for (name, input, want) in cases {
        assert_eq!(is_json_object(input), want, "case {name:?}");
    }
}

#[test]
fn has_statement_equivalent_cases() {
    let pod = pod_identity_statement("aws");
    let edited_irsa =
        trust_policy(&[irsa_statement("aws", "111122223333", ISSUER, "default", "intruder", "sts.amazonaws.com")]);
    let cases = [
        ("both, as IAM returns it: irsa", both_policy_as_iam_returns_it(), irsa(), true),
        ("both, as IAM returns it: pod identity", both_policy_as_iam_returns_it(), pod.clone(), true),
        ("irsa only: pod identity absent", trust_policy(&[irsa()]), pod.clone(), false),
        ("irsa with edited subject", edited_irsa.clone(), irsa(), false),
        (
            "pod identity statement under another Sid is not ours",
            trust_policy(&[pod_identity_statement("aws")])
                .replace(POD_IDENTITY_SID, "AllowEksAuthToAssumeRoleForPodIdentity"),
            pod.clone(),
            false,
        ),
        ("empty statement list", r#"{"Version":"2012-10-17","Statement":[]}"#.to_string(), irsa(), false),
        ("no Statement key", r#"{"Version":"2012-10-17"}"#.to_string(), irsa(), false),
    ];
    for (name, doc, statement, want) in cases {
        assert_eq!(has_statement_equivalent(&doc, &statement), Ok(want), "case {name:?}");
    }
    assert!(matches!(has_statement_equivalent("[]", &pod), Err(PolicyError::NotObject { .. })));
}

#[test]
fn analyze_trust_policy_cases() {
    use StatementState::*;
    let expected = [irsa(), pod_identity_statement("aws")];
    let foreign_statement =
        json!({"Sid":"Other","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"});
    let with_foreign = {
        let mut doc: Value = serde_json::from_str(&trust_policy(&[irsa()])).unwrap();
        doc["Statement"].as_array_mut().unwrap().push(foreign_statement.clone());
        doc.to_string()
    };
    let edited_irsa =
        trust_policy(&[irsa_statement("aws", "111122223333", ISSUER, "default", "x", "sts.amazonaws.com")]);

    struct Case {
        name: &'static str,
        actual: String,
        equivalent: bool,
        irsa: StatementState,
        pod: StatementState,
        foreign: usize,
    }
    let cases = [
        Case {
            name: "in sync (IAM form)",
            actual: both_policy_as_iam_returns_it(),
            equivalent: true,
            irsa: Present,
            pod: Present,
            foreign: 0,
        },
        Case {
            name: "pod statement removed",
            actual: trust_policy(&[irsa()]),
            equivalent: false,
            irsa: Present,
            pod: Missing,
            foreign: 0,
        },
        Case {
            name: "irsa subject edited",
            actual: edited_irsa,
            equivalent: false,
            irsa: Changed,
            pod: Missing,
            foreign: 0,
        },
        Case {
            name: "someone added a statement",
            actual: with_foreign,
            equivalent: false,
            irsa: Present,
            pod: Missing,
            foreign: 1,
        },
        Case {
            name: "version changed only",
            actual: both_policy().replace("2012-10-17", "2008-10-17"),
            equivalent: false,
            irsa: Present,
            pod: Present,
            foreign: 0,
        },
    ];
    for c in cases {
        let got = analyze_trust_policy(&c.actual, &expected).unwrap();
        assert_eq!(got.equivalent, c.equivalent, "case {:?}", c.name);
        assert_eq!(got.state_of(IRSA_SID), Some(c.irsa), "case {:?}", c.name);
        assert_eq!(got.state_of(POD_IDENTITY_SID), Some(c.pod), "case {:?}", c.name);
        assert_eq!(got.foreign.len(), c.foreign, "case {:?}", c.name);
        assert_eq!(got.statements.len(), 2, "case {:?}", c.name);
    }
    let got = analyze_trust_policy(&trust_policy(&[irsa()]), &[irsa()]).unwrap();
    assert!(got.equivalent);
    assert_eq!(got.state_of(POD_IDENTITY_SID), None);

    let with_foreign =
        analyze_trust_policy(&format!(r#"{{"Version":"2012-10-17","Statement":[{foreign_statement}]}}"#), &expected)
            .unwrap();
    assert_eq!(
        with_foreign.foreign,
        vec![canonicalize(&json!({"Statement": foreign_statement}))["Statement"][0].clone()]
    );
    assert!(analyze_trust_policy("nope", &expected).is_err());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn label() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,20}"
    }

    proptest! {
        /// Whatever IAM does to the formatting of one of our trust policies, it stays equivalent; a different
        /// subject never is.
        #[test]
        fn iam_formatting_never_changes_meaning(ns in label(), sa in label(), other in label(), wildcard in any::<bool>(), pretty in any::<bool>(), encode in any::<bool>(), reverse in any::<bool>()) {
            let sa = if wildcard { "*".to_string() } else { sa };
            let mut statements = vec![irsa_statement("aws", "111122223333", ISSUER, &ns, &sa, "sts.amazonaws.com"), pod_identity_statement("aws")];
            let ours = trust_policy(&statements);
            if reverse { statements.reverse(); }
            let mut value: Value = serde_json::from_str(&trust_policy(&statements)).unwrap();
            if reverse {
                // Lists where IAM is free to reorder or to wrap single values.
                for st in value["Statement"].as_array_mut().unwrap() {
                    match st["Action"].clone() {
                        Value::String(s) => st["Action"] = json!([s]),
                        Value::Array(mut a) => { a.reverse(); st["Action"] = Value::Array(a) }
                        _ => {}
                    }
                }
            }
            let mut theirs = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
            if encode { theirs = iam_encode(&theirs); }
            prop_assert!(equivalent(&ours, &theirs));

            prop_assume!(other != sa);
            let changed = trust_policy(&[irsa_statement("aws", "111122223333", ISSUER, &ns, &other, "sts.amazonaws.com"), pod_identity_statement("aws")]);
            prop_assert!(!equivalent(&changed, &theirs));
        }
    }
}
