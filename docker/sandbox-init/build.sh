#!/usr/bin/env bash
# Builds the static sandbox helper for both architectures into docker/sandbox-init/bin/
# (CGO off: no libc needed in the image). Run by scripts/stack.sh; needs Go only where it builds.
set -euo pipefail
cd "$(dirname "$0")"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
mkdir -p bin
for arch in amd64 arm64; do
  out="bin/faas-sandbox-init-$arch"
  if [ ! -x "$out" ] || [ -n "$(find . -maxdepth 1 -name '*.go' -newer "$out")" ]; then
    CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOFLAGS=-mod=mod "$GO" build -trimpath -ldflags='-s -w' -o "$out.tmp" .
    mv "$out.tmp" "$out"
  fi
done
