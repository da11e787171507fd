#!/usr/bin/env bash
# The whole test suite: set up the services the tests use (idempotent), then
# run every test. Tests talk to the real PostgreSQL and Redis; none are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-services.sh
export PGADVISOR_TEST_URL="${PGADVISOR_TEST_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo test --locked --all-targets "$@"
