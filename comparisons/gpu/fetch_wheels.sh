#!/usr/bin/env bash
# Run HERE (a machine with pip and network) before a GPU session's device run: fetches into
# <repo>/.whl the wheels the device image lacks (its python 3.12 has torch, scipy, pandas,
# scikit-image, pyarrow, tqdm, msgpack; not cvxpy, highspy, OR-Tools). scs is left out (43 MB,
# over the 64-MiB transfer with OR-Tools; cvxpy imports without it and nothing here uses it).
# The versions are the ones the CPU results were measured with. 39 MB in all.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
    cvxpy==1.9.3 highspy==1.16.0 clarabel==0.11.1 osqp==1.1.3 qdldl==0.1.9.post1 \
    ortools==9.15.6755 immutabledict==4.3.1 protobuf==6.33.6
du -sh .whl
