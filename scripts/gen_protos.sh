#!/usr/bin/env bash
# Regenerate src/tracewarn/protocol/proto/*_pb2.py(i) from the .proto files beside them.
# Needs the dev extra (grpcio-tools, whose bundled protoc matches the pinned protobuf runtime):
#   pip install -e '.[dev]' && bash scripts/gen_protos.sh
set -euo pipefail
cd "$(dirname "$0")/../src"
"${PYTHON:-python}" -m grpc_tools.protoc -I . --python_out=. --pyi_out=. tracewarn/protocol/proto/*.proto
echo "generated with $("${PYTHON:-python}" -m grpc_tools.protoc --version)"
