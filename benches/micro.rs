//! Criterion micro benches of the per-resource hot paths: the cty codecs on a realistic state of
//! `eksidentity_service_account_role` (every RPC about a resource decodes and encodes it; UpgradeResourceState
//! reads it as JSON), and trust/inline policy comparison (every refresh compares what IAM returns, URL-encoded,
//! with what the state holds).
//!
//! `make bench` runs these with short warm-up and measurement times; the system bench quotes their medians.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use eksidentity::cty::{decode_json, decode_msgpack, encode_json, encode_msgpack, Type, Value};
use eksidentity::policy::{self, equivalent};
use eksidentity::wiring::model::{Mode, State, Timeouts};
use eksidentity::wiring::schema::resource_schema;

const ISSUER_HOST_PATH: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5C0A1F7E2B9D4C3E8F6A0B1C2D3E4F50";
const ACCOUNT: &str = "123456789012";

fn trust_document() -> String {
    policy::trust_policy(&[
        policy::irsa_statement("aws", ACCOUNT, ISSUER_HOST_PATH, "payments", "api", "sts.amazonaws.com"),
        policy::pod_identity_statement("aws"),
    ])
}

const INLINE_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadInvoices","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket","s3:GetObjectVersion"],"Resource":["arn:aws:s3:::payments-invoices","arn:aws:s3:::payments-invoices/*"]},{"Sid":"WriteReceipts","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::payments-receipts/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}"#;
const INLINE_SQS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:eu-west-1:123456789012:payments-events"}]}"#;

/// A `both`-mode wiring as it sits in the state after apply: three managed policies, two inline policies, tags,
/// the OIDC provider, the association and the agent addon.
fn realistic_state() -> State {
    let s = |v: &str| v.to_string();
    let map =
        |pairs: &[(&str, &str)]| -> BTreeMap<String, String> { pairs.iter().map(|(k, v)| (s(k), s(v))).collect() };
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/prod-payments-api");
    State {
        id: s("prod/payments/api"),
        mode: Mode::Both,
        cluster_name: Some(s("prod")),
        namespace: s("payments"),
        service_account: s("api"),
        role_name: s("prod-payments-api"),
        role_path: s("/"),
        role_description: Some(s("payments API in prod")),
        permissions_boundary: Some(format!("arn:aws:iam::{ACCOUNT}:policy/boundary")),
        max_session_duration: 3600,
        policy_arns: Some(BTreeSet::from([
            s("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
            s("arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"),
            format!("arn:aws:iam::{ACCOUNT}:policy/payments-kms"),
        ])),
        inline_policies: Some(map(&[("s3", INLINE_S3), ("sqs", INLINE_SQS)])),
        tags: Some(map(&[("app", "payments"), ("team", "billing")])),
        tags_all: map(&[("app", "payments"), ("team", "billing"), ("env", "prod"), ("managed-by", "terraform")]),
        audience: Some(s("sts.amazonaws.com")),
        oidc_issuer_url: Some(format!("https://{ISSUER_HOST_PATH}")),
        manage_agent_addon: true,
        agent_addon_version: Some(s("v1.3.4-eksbuild.1")),
        target_role_arn: None,
        disable_session_tags: false,
        session_policy: None,
        role_arn: Some(role_arn.clone()),
        role_unique_id: Some(s("AROAQXJ4EXAMPLE7UNIQ")),
        trust_policy: Some(trust_document()),
        oidc_provider_arn: Some(format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_HOST_PATH}")),
        oidc_thumbprint: Some(s("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")),
        oidc_thumbprint_list: Some(vec![s("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")]),
        association_id: Some(s("a-0f3c9d2e1b4a5c6d7")),
        association_arn: Some(format!(
            "arn:aws:eks:eu-west-1:{ACCOUNT}:podidentityassociation/prod/a-0f3c9d2e1b4a5c6d7"
        )),
        external_id: None,
        service_account_annotations: map(&[("eks.amazonaws.com/role-arn", &role_arn)]),
        timeouts: Some(Timeouts { create: Some(s("30m")), update: None, delete: None }),
    }
}

/// IAM's form of a document: RFC 3986 percent-encoding of the JSON text (as GetRole and GetRolePolicy return it).
fn iam_encoded(doc: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(doc, KEEP).to_string()
}

/// The trust document as IAM hands it back: keys and statements reordered, whitespace added, then encoded.
fn trust_as_iam_returns() -> String {
    let v: serde_json::Value = serde_json::from_str(&trust_document()).unwrap();
    let mut statements = v["Statement"].as_array().unwrap().clone();
    statements.reverse();
    let reordered = serde_json::json!({ "Statement": statements, "Version": "2012-10-17" });
    iam_encoded(&serde_json::to_string_pretty(&reordered).unwrap())
}

fn codecs(c: &mut Criterion) {
    let ty: Type = resource_schema().value_type();
    let value: Value = realistic_state().to_value();
    let msgpack = encode_msgpack(&ty, &value).expect("state encodes");
    let json = encode_json(&ty, &value).expect("state encodes as JSON");
    // The benches are only meaningful if the codecs give the state back.
    assert_eq!(decode_msgpack(&ty, &msgpack).unwrap(), value, "msgpack round trip");
    assert_eq!(decode_json(&ty, &json).unwrap(), value, "JSON round trip");
    eprintln!("micro: the state is {} bytes of msgpack, {} bytes of JSON", msgpack.len(), json.len());

    let mut g = c.benchmark_group("cty");
    g.bench_function("msgpack_decode_state", |b| b.iter(|| decode_msgpack(&ty, black_box(&msgpack)).unwrap()));
    g.bench_function("msgpack_encode_state", |b| b.iter(|| encode_msgpack(&ty, black_box(&value)).unwrap()));
    g.bench_function("msgpack_roundtrip_state", |b| {
        b.iter(|| encode_msgpack(&ty, &decode_msgpack(&ty, black_box(&msgpack)).unwrap()).unwrap())
    });
    g.bench_function("json_decode_state", |b| b.iter(|| decode_json(&ty, black_box(&json)).unwrap()));
    g.finish();
}

fn policies(c: &mut Criterion) {
    let trust = trust_document();
    let from_iam = trust_as_iam_returns();
    assert!(from_iam.starts_with("%7B"), "IAM form is percent-encoded");
    assert!(equivalent(&trust, &from_iam), "the reordered, encoded trust policy means the same");
    let changed = trust.replace("payments:api", "payments:worker");
    assert!(!equivalent(&trust, &changed));
    let inline_from_iam = {
        let v: serde_json::Value = serde_json::from_str(INLINE_S3).unwrap();
        iam_encoded(&serde_json::to_string_pretty(&v).unwrap())
    };
    assert!(equivalent(INLINE_S3, &inline_from_iam));

    let mut g = c.benchmark_group("policy");
    g.bench_function("equivalent_trust_identical", |b| b.iter(|| equivalent(black_box(&trust), black_box(&trust))));
    g.bench_function("equivalent_trust_iam_encoded", |b| {
        b.iter(|| equivalent(black_box(&trust), black_box(&from_iam)))
    });
    g.bench_function("equivalent_trust_differs", |b| b.iter(|| equivalent(black_box(&trust), black_box(&changed))));
    g.bench_function("equivalent_inline_iam_encoded", |b| {
        b.iter(|| equivalent(black_box(INLINE_S3), black_box(&inline_from_iam)))
    });
    g.finish();
}

criterion_group!(benches, codecs, policies);
criterion_main!(benches);
