#!/usr/bin/env bash
# Generates TypeScript types for the gRPC API (proto/switchyard/v1/*.proto)
# into src/gen/ (gitignored), with the same options the daemon and the CLI
# load the protos with (src/mgmt/proto.ts): longs String, enums String,
# defaults, oneofs.  The bootstrap runs this before tsc.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/gen
mkdir -p src/gen
node_modules/.bin/proto-loader-gen-types \
  --longs=String --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js \
  -I proto \
  --outDir=src/gen \
  switchyard/v1/switchyard.proto
