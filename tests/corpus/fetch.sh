#!/usr/bin/env bash
# Fetches the hostile-image corpora of ../shared/docs/security.md §3 that licences allow us to
# use, into DIR (default /var/tmp/imgd-corpus), once: later runs reuse what is there. Nothing
# is committed to the repository. Only package registries are used.
#
#   pillow/    Pillow 13.0.0 sdist Tests/images            MIT-CMU (bmp/: public domain)
#   thumbor/   thumbor 7.8.0 sdist tests/fixtures/images    MIT
#   go/        Debian golang-1.19-src image testdata        BSD-3-Clause
#   gdkpixbuf/ Debian gdk-pixbuf-tests test images          GPL-2+ (fetched at test time only)
#   rsvg/      Debian librsvg2-tests error and crash fixtures  LGPL-2+
#   vips/      Debian source vips test-suite images          LGPL-2.1+
#   libpng/    Debian source libpng1.6 pngsuite + testpngs   libpng licence
#   libjpeg/   Debian source libjpeg-turbo testimages        IJG/BSD-style
#
# Then: IMGD_CORPUS_DIR=DIR cargo test -p imgd --test it corpus -- --nocapture
set -euo pipefail
dir="${1:-/var/tmp/imgd-corpus}"
mkdir -p "$dir"
cd "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -d pillow ]; then
  pip download --quiet --no-deps --no-binary pillow pillow==13.0.0 -d "$work"
  tar xzf "$work"/pillow-13.0.0.tar.gz -C "$work" pillow-13.0.0/Tests/images
  mv "$work"/pillow-13.0.0/Tests/images pillow
fi
if [ ! -d thumbor ]; then
  pip download --quiet --no-deps --no-binary thumbor thumbor==7.8.0 -d "$work"
  tar xzf "$work"/thumbor-7.8.0.tar.gz -C "$work" --wildcards '*/tests/fixtures/images/*'
  mv "$work"/thumbor-7.8.0/tests/fixtures/images thumbor
fi
if [ ! -d go ] || [ ! -d gdkpixbuf ]; then
  if ! (cd "$work" && apt-get download golang-1.19-src gdk-pixbuf-tests >/dev/null 2>&1); then
    apt-get update >/dev/null && (cd "$work" && apt-get download golang-1.19-src gdk-pixbuf-tests >/dev/null)
  fi
  if [ ! -d go ]; then
    dpkg-deb -x "$work"/golang-1.19-src_*.deb "$work/go-x"
    mkdir -p go
    cp -r "$work"/go-x/usr/share/go-1.19/src/image/testdata go/image
    cp -r "$work"/go-x/usr/share/go-1.19/src/image/png/testdata go/png
    cp -r "$work"/go-x/usr/share/go-1.19/src/image/gif go/gif 2>/dev/null || true
    cp -r "$work"/go-x/usr/share/go-1.19/src/image/jpeg go/jpeg 2>/dev/null || true
    find go -name '*.go' -delete
  fi
  if [ ! -d gdkpixbuf ]; then
    dpkg-deb -x "$work"/gdk-pixbuf-tests_*.deb "$work/gdk-x"
    mv "$work"/gdk-x/usr/libexec/installed-tests/gdk-pixbuf gdkpixbuf
    find gdkpixbuf -type f \( -name '*.conf' -o -perm -u+x \) -delete
  fi
fi
if [ ! -d rsvg ]; then
  (cd "$work" && apt-get download librsvg2-tests >/dev/null 2>&1) \
    || (apt-get update >/dev/null && cd "$work" && apt-get download librsvg2-tests >/dev/null)
  dpkg-deb -x "$work"/librsvg2-tests_*.deb "$work/rsvg-x"
  f="$work/rsvg-x/usr/libexec/installed-tests/RSVG/fixtures"
  mkdir -p rsvg
  for sub in errors crash render-crash; do
    [ -d "$f/$sub" ] && cp -r "$f/$sub" "rsvg/$sub"
  done
fi
if [ ! -d vips ] || [ ! -d libpng ] || [ ! -d libjpeg ]; then
  # Source packages through a scratch apt state whose deb-src entries are derived from this
  # machine's own apt sources (the system configuration is not changed).
  S="$work/apt"
  mkdir -p "$S/parts" "$S/lists/partial" "$S/cache/archives/partial" "$S/dl"
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/*.sources > "$S/parts/src.sources"
  APTO=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$S/parts"
        -o "Dir::State::Lists=$S/lists" -o "Dir::Cache=$S/cache")
  apt-get "${APTO[@]}" update >/dev/null 2>&1 || true
  # Only the upstream tarballs are needed; a missing Debian patch tarball is not an error.
  (cd "$S/dl" && apt-get "${APTO[@]}" source --download-only vips libpng1.6 libjpeg-turbo >/dev/null 2>&1) || true
  if [ ! -d vips ]; then
    tar xf "$S"/dl/vips_*.orig.tar.* -C "$work" --wildcards '*/test/test-suite/images/*'
    mv "$work"/*vips-*/test/test-suite/images vips
  fi
  if [ ! -d libpng ]; then
    tar xf "$S"/dl/libpng1.6_*.orig.tar.* -C "$work" --wildcards '*/contrib/pngsuite/*' '*/contrib/testpngs/*'
    mkdir -p libpng
    mv "$work"/libpng-*/contrib/pngsuite libpng/pngsuite
    mv "$work"/libpng-*/contrib/testpngs libpng/testpngs
  fi
  if [ ! -d libjpeg ]; then
    tar xf "$S"/dl/libjpeg-turbo_*.orig.tar.* -C "$work" --wildcards '*/testimages/*'
    mv "$work"/libjpeg-turbo-*/testimages libjpeg
  fi
fi
echo "corpus in $dir: $(find . -type f | wc -l) files"
