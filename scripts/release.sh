#!/usr/bin/env bash
# Builds the release binary and packages it the way the Terraform registry and provider mirrors expect:
#   dist/terraform-provider-eksidentity_<version>_<os>_<arch>.zip   holding terraform-provider-eksidentity_v<version>
#   dist/terraform-provider-eksidentity_<version>_manifest.json     a copy of terraform-registry-manifest.json
#   dist/terraform-provider-eksidentity_<version>_SHA256SUMS        sha256sum of the two above
# Only the provider binary is packaged. The zip is reproducible (fixed timestamps and modes), so the same commit and
# toolchain give the same SHA256SUMS. Signing SHA256SUMS (the registry wants a detached GPG signature) is not done.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
version="${1:?usage: release.sh <version>}"
name=terraform-provider-eksidentity
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "release: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

echo "release: cargo build --release --bin $name (this takes a few minutes)"
cargo build --release --locked --bin "$name"

dist="$root/dist"
mkdir -p "$dist"
rm -f "$dist/${name}_${version}"_*
zip="$dist/${name}_${version}_${os}_${arch}.zip"
manifest="$dist/${name}_${version}_manifest.json"
sums="$dist/${name}_${version}_SHA256SUMS"

python3 - "$root/target/release/$name" "${name}_v${version}" "$zip" <<'PY'
import sys, zipfile
src, member, out = sys.argv[1:4]
info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16  # a regular, executable file
info.compress_type = zipfile.ZIP_DEFLATED
info.create_system = 3  # unix, so the mode above is honoured by unzip
with open(src, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
cp terraform-registry-manifest.json "$manifest"
(cd "$dist" && sha256sum "$(basename "$zip")" "$(basename "$manifest")" > "$(basename "$sums")")

echo "release: wrote"
for f in "$zip" "$manifest" "$sums"; do
  echo "  ${f#"$root"/} ($(stat -c %s "$f") bytes)"
done
