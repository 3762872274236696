//! The AWS calls one wiring costs in each phase, per mode, pinned exactly: a new call on a hot path fails here and
//! has to be justified. Shared lookups (caller identity, cluster, OIDC provider, addon, thumbprint) happen once per
//! provider process; Terraform runs one process for the plan walk and one for the apply walk.

mod harness;

use std::collections::BTreeMap;

use harness::{Env, ADDRESS};

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn phases(mode: &str) -> [BTreeMap<String, u64>; 3] {
    let env = Env::start();
    let emu = env.emu();
    let cluster = env.cluster("prod");
    let wd = env.workdir();
    wd.write(&format!(
        "{}\nresource \"{ADDRESS}\" \"app\" {{\n  mode = \"{mode}\"\n  cluster_name = \"{cluster}\"\n  namespace = \"payments\"\n  service_account = \"api\"\n  policy_arns = [\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]\n}}\n",
        env.provider_block("")
    ));
    wd.init();
    emu.clear_requests();
    wd.apply().expect_ok();
    let create = emu.request_counts();
    emu.clear_requests();
    wd.run(&["plan", "-refresh-only", "-no-color", "-input=false"]).expect_ok();
    let refresh = emu.request_counts();
    emu.clear_requests();
    wd.destroy().expect_ok();
    let destroy = emu.request_counts();
    println!("{mode}\n  create:  {create:?}\n  refresh: {refresh:?}\n  destroy: {destroy:?}");
    [create, refresh, destroy]
}

#[test]
fn emu_calls_per_phase_irsa() {
    let [create, refresh, destroy] = phases("irsa");
    // Plan and apply processes each resolve identity, cluster and provider once; then the wiring's own calls.
    assert_eq!(
        create,
        counts(&[
            ("eks:DescribeCluster", 2),
            ("iam:AttachRolePolicy", 1),
            ("iam:CreateOpenIDConnectProvider", 1),
            ("iam:CreateRole", 1),
            ("iam:GetOpenIDConnectProvider", 2),
            ("sts:GetCallerIdentity", 2),
        ])
    );
    assert_eq!(
        refresh,
        counts(&[
            ("iam:GetOpenIDConnectProvider", 1),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
        ])
    );
    assert_eq!(
        destroy,
        counts(&[
            ("eks:DescribeCluster", 1),
            ("iam:DeleteOpenIDConnectProvider", 1),
            ("iam:DeleteRole", 1),
            ("iam:DetachRolePolicy", 1),
            ("iam:GetOpenIDConnectProvider", 2),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
            ("iam:ListRoles", 1),
            ("sts:GetCallerIdentity", 1),
        ])
    );
}

#[test]
fn emu_calls_per_phase_pod_identity() {
    let [create, refresh, destroy] = phases("pod_identity");
    // The addon is described once before it is created and once when it is ACTIVE (emulator delay 0.2 s).
    assert_eq!(
        create,
        counts(&[
            ("eks:CreateAddon", 1),
            ("eks:CreatePodIdentityAssociation", 1),
            ("eks:DescribeAddon", 2),
            ("iam:AttachRolePolicy", 1),
            ("iam:CreateRole", 1),
            ("sts:GetCallerIdentity", 2),
        ])
    );
    assert_eq!(
        refresh,
        counts(&[
            ("eks:DescribeAddon", 1),
            ("eks:DescribePodIdentityAssociation", 1),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
        ])
    );
    // The release check (DescribeAddon, ListPodIdentityAssociations) runs once per cluster per process.
    assert_eq!(
        destroy,
        counts(&[
            ("eks:DeleteAddon", 1),
            ("eks:DeletePodIdentityAssociation", 1),
            ("eks:DescribeAddon", 2),
            ("eks:DescribePodIdentityAssociation", 1),
            ("eks:ListPodIdentityAssociations", 1),
            ("iam:DeleteRole", 1),
            ("iam:DetachRolePolicy", 1),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
            ("sts:GetCallerIdentity", 1),
        ])
    );
}

#[test]
fn emu_calls_per_phase_both() {
    let [create, refresh, destroy] = phases("both");
    assert_eq!(
        create,
        counts(&[
            ("eks:CreateAddon", 1),
            ("eks:CreatePodIdentityAssociation", 1),
            ("eks:DescribeAddon", 2),
            ("eks:DescribeCluster", 2),
            ("iam:AttachRolePolicy", 1),
            ("iam:CreateOpenIDConnectProvider", 1),
            ("iam:CreateRole", 1),
            ("iam:GetOpenIDConnectProvider", 2),
            ("sts:GetCallerIdentity", 2),
        ])
    );
    assert_eq!(
        refresh,
        counts(&[
            ("eks:DescribeAddon", 1),
            ("eks:DescribePodIdentityAssociation", 1),
            ("iam:GetOpenIDConnectProvider", 1),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
        ])
    );
    assert_eq!(
        destroy,
        counts(&[
            ("eks:DeleteAddon", 1),
            ("eks:DeletePodIdentityAssociation", 1),
            ("eks:DescribeAddon", 2),
            ("eks:DescribeCluster", 1),
            ("eks:DescribePodIdentityAssociation", 1),
            ("eks:ListPodIdentityAssociations", 1),
            ("iam:DeleteOpenIDConnectProvider", 1),
            ("iam:DeleteRole", 1),
            ("iam:DetachRolePolicy", 1),
            ("iam:GetOpenIDConnectProvider", 2),
            ("iam:GetRole", 1),
            ("iam:ListAttachedRolePolicies", 1),
            ("iam:ListRolePolicies", 1),
            ("iam:ListRoles", 1),
            ("sts:GetCallerIdentity", 1),
        ])
    );
}
