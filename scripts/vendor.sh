#!/usr/bin/env bash
# Refresh the vendored front-end files under src/shegong/static/vendor (and the test-only
# axe-core under tests/e2e/vendor) from the npm registry. The files are committed, so a
# normal install never needs npm; run this only to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/shegong/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # package@version, file inside the package, target path (under $dest unless absolute)
  local spec=$1 file=$2 target=$3
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  local tarball
  tarball=$(ls "$tmp"/*.tgz | head -1)
  tar -xzf "$tarball" -C "$tmp" "package/$file"
  case "$target" in /*|tests/*) ;; *) target="$dest/$target" ;; esac
  mkdir -p "$(dirname "$target")"
  cp "$tmp/package/$file" "$target"
  rm -rf "$tmp/package" "$tarball"
  echo "$spec $file" >> "$dest/VERSIONS.new"
}
mkdir -p "$dest"
: > "$dest/VERSIONS.new"
fetch htmx.org@2.0.11 dist/htmx.min.js htmx.min.js
fetch echarts@6.1.0 dist/echarts.min.js echarts.min.js
# Tabler (MIT): the admin UI kit, Bootstrap 5 based; its icon font (MIT)
fetch @tabler/core@1.6.1 dist/css/tabler.min.css tabler/tabler.min.css
fetch @tabler/core@1.6.1 dist/js/tabler.min.js tabler/tabler.min.js
fetch @tabler/icons-webfont@3.49.0 dist/tabler-icons.min.css tabler/tabler-icons.min.css
fetch @tabler/icons-webfont@3.49.0 dist/fonts/tabler-icons.woff2 tabler/fonts/tabler-icons.woff2
fetch @tabler/icons-webfont@3.49.0 LICENSE tabler/LICENSE-tabler-icons
# tom-select (Apache-2.0): searchable pickers
fetch tom-select@2.6.2 dist/js/tom-select.complete.min.js tom-select/tom-select.complete.min.js
fetch tom-select@2.6.2 dist/css/tom-select.bootstrap5.min.css tom-select/tom-select.bootstrap5.min.css
fetch tom-select@2.6.2 LICENSE tom-select/LICENSE
# axe-core (MPL-2.0): accessibility checks, for the browser tests only
fetch axe-core@4.14.1 axe.min.js tests/e2e/vendor/axe.min.js
fetch axe-core@4.14.1 LICENSE tests/e2e/vendor/LICENSE-axe-core
# only the .woff2 font is vendored (every supported browser reads it): the stylesheet must
# name no other file, or the production static storage (a manifest) refuses it
sed -i -E 's#url\("\./fonts/tabler-icons\.woff2\?[^"]*"\) format\("woff2"\),url\("\./fonts/tabler-icons\.woff\?[^"]*"\) format\("woff"\),url\("\./fonts/tabler-icons\.ttf\?[^"]*"\) format\("truetype"\)#url("./fonts/tabler-icons.woff2") format("woff2")#' "$dest/tabler/tabler-icons.min.css"
mv "$dest/VERSIONS.new" "$dest/VERSIONS"
echo "vendored into $dest:"; cat "$dest/VERSIONS"
