#!/usr/bin/env bash
# Builds the Debian package (debian/) with dpkg-buildpackage into OUT_DIR (default
# build-deb): the source tree is copied there first (git's tracked and untracked, not
# ignored, files), so the build leaves the working tree as it was, and `git describe`
# goes along as .version. Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-deb}")
jobs=${JOBS:-2}
version=$(sed -n '1s/^parley (\([^)]*\)).*/\1/p' debian/changelog)
project=$(sed -n 's/^project(parley VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ "$version" != "$project" ]; then
  echo "make-deb: debian/changelog says $version, CMakeLists.txt $project" >&2
  exit 1
fi
src="$out/parley-$version"
rm -rf "$src" "$out"/parley_"$version"_* "$out"/parley-dbgsym_"$version"_*
mkdir -p "$src"
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | grep -zvE '^(debian/.*\.debhelper|tests/node_modules)' |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$src"
  git describe --tags --always --dirty >"$src/.version"
else
  tar --exclude='./build*' --exclude=./var --exclude='./tests/node_modules' -cf - . |
    tar -xf - -C "$src"
fi
cd "$src"
DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
  dpkg-buildpackage -us -uc -b >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  echo "make-deb: dpkg-buildpackage failed; the whole log: $out/build.log" >&2
  exit 1
}
ls "$out"/parley_"$version"_*.deb
