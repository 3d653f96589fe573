#!/usr/bin/env bash
# Refresh the vendored front-end files under src/shegong/static/vendor from the npm registry.
# The files are committed, so a normal install never needs npm; run this only to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/shegong/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package@version, file inside the package, target name
  local spec=$1 file=$2 target=$3
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local tarball
  tarball=$(ls "$tmp"/*.tgz | head -1)
  tar -xzf "$tarball" -C "$tmp" "package/$file"
  cp "$tmp/package/$file" "$dest/$target"
  rm -rf "$tmp/package" "$tarball"
  echo "$spec $file" >> "$dest/VERSIONS.new"
}
mkdir -p "$dest"
: > "$dest/VERSIONS.new"
fetch htmx.org@2.0.11 dist/htmx.min.js htmx.min.js
fetch @picocss/pico@2.1.1 css/pico.min.css pico.min.css
fetch echarts@6.1.0 dist/echarts.min.js echarts.min.js
mv "$dest/VERSIONS.new" "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
