#!/usr/bin/env bash
# make demo: the main job end to end. Grows with the pipeline; see README.
set -euo pipefail
cli=${1:-build/secneuron}
"$cli" version
