//! The fewest AWS calls each phase needs, to hold the emulator's request log against.
//!
//! Two kinds of operation:
//! - per wiring: the job cannot be done with fewer (create: the role, its attachment, the association; refresh:
//!   reading the role, its attached and inline policy lists, the association; destroy: Terraform's refresh, then
//!   removing the association, the attachment and the role). The count must equal the minimum exactly.
//! - shared: lookups and changes of objects many wirings share (account, cluster, OIDC provider, agent addon). At
//!   most once per cluster (or once at all) per plugin process; addon creation may add one DescribeAddon per
//!   cluster while the addon is CREATING. The "is it still used?" scans before releasing a shared object (ListRoles,
//!   ListPodIdentityAssociations) may run twice per cluster per process: once to learn the users, once to confirm
//!   none is left before deleting; plus once per cluster per minute of the phase, the age after which the provider
//!   checks its knowledge of other users again (src/wiring/shared.rs, KNOWN_USERS_TTL).
//!
//! Any operation not listed for a phase is unexpected: the phase misses its minimum.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Apply,
    Refresh,
    Destroy,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Apply => "apply (create)",
            Phase::Refresh => "plan -refresh-only",
            Phase::Destroy => "destroy",
        }
    }
}

/// What the bench's wirings hold (bench configuration in scale.rs).
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub wirings: usize,
    pub pod_identity: usize,
    pub clusters: usize,
    /// Managed policies attached per wiring.
    pub attachments: usize,
    /// Inline policies per wiring.
    pub inline: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Minimum {
    /// Exactly this many calls in total.
    Exact(u64),
    /// At most this many calls in total.
    AtMost(u64),
}

#[derive(Clone, Debug)]
pub struct Line {
    pub operation: String,
    pub calls: u64,
    pub minimum: Option<Minimum>,
}

impl Line {
    pub fn met(&self) -> bool {
        match self.minimum {
            Some(Minimum::Exact(n)) => self.calls == n,
            Some(Minimum::AtMost(n)) => self.calls <= n,
            None => false,
        }
    }
}

fn refresh_reads(s: &Shape) -> Counts {
    let n = s.wirings as u64;
    vec![
        ("iam:GetRole", n),
        ("iam:ListAttachedRolePolicies", n),
        ("iam:ListRolePolicies", n),
        ("iam:GetRolePolicy", n * s.inline as u64),
        ("eks:DescribePodIdentityAssociation", s.pod_identity as u64),
    ]
}

/// (operation, exact total) for the per-wiring operations, and (operation, bound) for the shared ones.
/// Operation name and a number of calls.
pub type Counts = Vec<(&'static str, u64)>;

pub fn minimum(phase: Phase, s: &Shape, processes: usize, minutes: u64) -> (Counts, Counts) {
    let n = s.wirings as u64;
    let pi = s.pod_identity as u64;
    let c = s.clusters as u64;
    let p = processes as u64;
    let lookups = vec![
        ("sts:GetCallerIdentity", p),
        ("eks:DescribeCluster", c * p),
        ("iam:GetOpenIDConnectProvider", c * p),
        ("eks:DescribeAddon", c * p),
    ];
    match phase {
        Phase::Apply => {
            let per = vec![
                ("iam:CreateRole", n),
                ("iam:AttachRolePolicy", n * s.attachments as u64),
                ("iam:PutRolePolicy", n * s.inline as u64),
                ("eks:CreatePodIdentityAssociation", pi),
            ];
            let mut shared = lookups;
            // One more DescribeAddon per cluster: the addon is CREATING right after CreateAddon.
            shared.iter_mut().filter(|(op, _)| *op == "eks:DescribeAddon").for_each(|(_, b)| *b += c);
            shared.push(("iam:CreateOpenIDConnectProvider", c));
            shared.push(("eks:CreateAddon", c));
            (per, shared)
        }
        Phase::Refresh => (refresh_reads(s), lookups),
        Phase::Destroy => {
            let mut per = refresh_reads(s);
            per.extend([
                ("eks:DeletePodIdentityAssociation", pi),
                ("iam:DetachRolePolicy", n * s.attachments as u64),
                ("iam:DeleteRolePolicy", n * s.inline as u64),
                ("iam:DeleteRole", n),
            ]);
            let mut shared = lookups;
            shared.extend([
                // "Does any role still trust the OIDC provider?" and "any association left on the cluster?"
                ("iam:ListRoles", c * p * (2 + minutes)),
                ("eks:ListPodIdentityAssociations", c * p * (2 + minutes)),
                ("iam:DeleteOpenIDConnectProvider", c),
                ("eks:DeleteAddon", c),
            ]);
            (per, shared)
        }
    }
}

/// The observed calls of a phase, each with its minimum; unexpected operations have none.
/// `minutes`: whole minutes the phase took (see the module doc).
pub fn lines(phase: Phase, s: &Shape, processes: usize, minutes: u64, observed: &BTreeMap<String, u64>) -> Vec<Line> {
    let (per, shared) = minimum(phase, s, processes, minutes);
    let mut out = Vec::new();
    for (op, n) in &per {
        let calls = observed.get(*op).copied().unwrap_or(0);
        if *n == 0 && calls == 0 {
            continue;
        }
        out.push(Line { operation: op.to_string(), calls, minimum: Some(Minimum::Exact(*n)) });
    }
    for (op, bound) in &shared {
        let calls = observed.get(*op).copied().unwrap_or(0);
        if calls == 0 {
            continue;
        }
        out.push(Line { operation: op.to_string(), calls, minimum: Some(Minimum::AtMost(*bound)) });
    }
    for (op, calls) in observed {
        if !per.iter().chain(shared.iter()).any(|(o, _)| o == op) {
            out.push(Line { operation: op.clone(), calls: *calls, minimum: None });
        }
    }
    out
}
