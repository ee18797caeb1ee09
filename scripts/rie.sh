#!/usr/bin/env bash
# Builds the AWS Lambda Runtime Interface Emulator from source (Go toolchain, Go module proxy),
# pinned to one commit, and caches the static binary. Prints the binary's path.
#   bash scripts/rie.sh            # build if absent, print path
#   FAAS_RIE_BIN=/path bash scripts/rie.sh
set -euo pipefail
# The module's tags are two-part (v1.x), so pin a pseudo-version of a commit.
RIE_VERSION="${FAAS_RIE_VERSION:-v0.0.0-20261030222936-bef5c4ba774d}"
BIN="${FAAS_RIE_BIN:-/var/lib/faas-stack/bin/aws-lambda-rie}"
STAMP="$BIN.version"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$RIE_VERSION" ]]; then
  echo "$BIN"
  exit 0
fi
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "rie.sh: the Go toolchain is needed (apt-get install golang-go, or /usr/local/go)" >&2; exit 1; }
mkdir -p "$(dirname "$BIN")"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Build for the host's architecture: the binary runs inside amd64 containers natively and in arm64
# ones only when built for arm64 (GOARCH=arm64 via FAAS_RIE_GOARCH).
CGO_ENABLED=0 GOARCH="${FAAS_RIE_GOARCH:-$(go env GOARCH)}" GOBIN="$WORK" \
  go install "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@${RIE_VERSION}" >&2
if [[ -f "$WORK/aws-lambda-rie" ]]; then src="$WORK/aws-lambda-rie"; else src="$(find "$WORK" -name aws-lambda-rie -type f | head -1)"; fi
install -m 0755 "$src" "$BIN"
echo "$RIE_VERSION" >"$STAMP"
echo "$BIN"
