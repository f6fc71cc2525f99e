#!/usr/bin/env bash
# The prepared device check (issues 4, 5 and 25): run ON the GPU machine, from the repo root,
#   bash comparisons/gpu/run.sh lp        # ~9 min: CUDA tests, 8760-h and 7 x 8760-h LPs, the 32-scenario sweep
#   bash comparisons/gpu/run.sh graphs    # ~4 min: CUDA graphs vs eager (comparisons/gpu/graphs.py), GPU tests
#   bash comparisons/gpu/run.sh imaging   # ~9 min: unrolled PnP training (deblurring, then MRI) on the GPU
#   bash comparisons/gpu/run.sh real      # ~8.5 min: issue 25's GPU goal: the real models, PDHG at 1e-4 on the GPU
#                                         # against HiGHS's simplex and IPM on that machine's CPU
# with the wheels of fetch_wheels.sh carried in .whl (device tool: carry [".whl"], timeout_s 600).
# Each part has its own time cap (the sum stays under the tool's 10-minute command limit), logs
# go to $OUT (or ./gpu-out) as they are written, trained weights too: what finished comes back
# even when a later part runs out of time. Record the figures in comparisons/RESULTS.md.
# A dry run on a CPU: NO_WHEELS=1 DEVICE=cpu PYTHON=.venv/bin/python bash comparisons/gpu/run.sh lp (353 s on
# a 2-core Intel Xeon); the imaging part keeps ~40 GB of activations for the backward (12-40 unrolled
# iterations of 16 128² crops), which a GPU's memory holds and a 23-GB CPU machine does not.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-gpu-out}
mkdir -p "$out"
if [ -z "${NO_WHEELS:-}" ] && ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || { echo "wheel install failed"; exit 1; }
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD:${PYTHONPATH:-}
py=${PYTHON:-python3}
dev=${DEVICE:-cuda}
step() {  # step NAME SECONDS COMMAND...: one capped part, its log in $out/NAME.log
    local name=$1 cap=$2; shift 2
    echo "== $name (cap ${cap} s): $*"
    local t=$SECONDS
    timeout "$cap" "$@" > "$out/$name.log" 2>&1
    echo "== $name: rc $? in $((SECONDS - t)) s"; tail -n 40 "$out/$name.log"
}
(nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; $py -c "import torch; print('torch', torch.__version__, \
'cuda', torch.cuda.is_available())") | tee "$out/machine.txt"
case "${1:-}" in
lp)
    # default device "auto" = cuda there: the PDHG tests check the CUDA paths against HiGHS
    step tests 70 $py -m pytest -q -x -o addopts="" -p no:cacheprovider tests/test_pdhg_lp.py \
        tests/test_pdhg_batch.py tests/test_pdhg_infeasibility.py tests/test_pdhg_warm.py tests/test_pdhg_stream.py
    step year 170 $py comparisons/lp_speed.py --device "$dev" --sizes year --tols 1e-4,1e-6 --highs-exact simplex \
        --skip-highs-ipm --skip-highs-pdlp --float32 --sweep 0 --time-limit 100
    step multi 120 $py comparisons/lp_speed.py --device "$dev" --sizes multi --tols 1e-4,1e-6 --highs-exact "" \
        --skip-highs-ipm --skip-highs-pdlp --skip-ortools --float32 --sweep 0 --time-limit 50
    step sweep 180 $py comparisons/lp_speed.py --device "$dev" --sizes "" --sweep 32 --sweep-size year --stream 8 \
        --sample 0 --time-limit 60
    ;;
graphs)
    # CUDA-graph replay of the plain iterations (the default on CUDA) against eager, and the GPU paths' tests
    step tests 110 $py -m pytest -q -o addopts="" -p no:cacheprovider tests/test_pdhg_cuda_graph.py \
        tests/test_imaging_wrappers.py tests/test_pdhg_batch.py tests/test_pdhg_stream.py
    step graphs 130 $py comparisons/gpu/graphs.py --device "$dev"
    ;;
imaging)
    # from the shipped unrolled weights, larger batches and crops than a CPU allows; saved when validation improves
    step deblur 310 $py imaging/scripts/train_unrolled_pnp.py --device "$dev" --task deblur --base dncnn17N_deblur \
        --minutes 4 --batch 16 --crop 128 --lr 1e-5 --val-every 0.4 --threads 8 --out "$out/dncnn17N_deblur_gpu.npz"
    step mri 220 $py imaging/scripts/train_unrolled_pnp.py --device "$dev" --task mri --base dncnn6N_mri \
        --minutes 2.5 --batch 12 --crop 128 --lr 2e-5 --val-every 0.4 --threads 8 --out "$out/dncnn6N_mri_gpu.npz"
    ;;
real)
    # the bundled systems as gridprox builds them (no PyPSA on the device image; gp:three-country@2920 is the same
    # system and size as the PyPSA-written LP of the CPU table) and the 8,760-h LPs the defaults were not tuned on;
    # each row is in real.log as it finishes (HiGHS stopped at 45 s gives a bound on the ratio)
    step polish_tests 60 $py -m pytest -q -x -o addopts="" -p no:cacheprovider tests/test_pdhg_polish.py
    step real 440 $py comparisons/real_models.py --device "$dev" --time-limit 45 --json "$out/real.json" \
        --solvers pdhg-1e-4,highs-simplex,highs-ipm \
        --instances "${INSTANCES:-gp:three-country@2920,gp:model-energy,gp:de-stochastic,gp:three-country@720,synthetic:seed1,synthetic:seed3,synthetic:seed2}"
    ;;
*)
    echo "usage: bash comparisons/gpu/run.sh lp|graphs|imaging|real"; exit 2 ;;
esac
