#!/usr/bin/env bash
# Creates the Python virtual environment the replays in References/ run in, with pinned CPU
# builds of NumPy, PyTorch, Lightning, JAX, TensorFlow and Keras (several GB), and prints the
# python to pass to `compare-levels --references --python PATH` (or to export as
# NEURAL_LEVELS_PYTHON).
#
#   bash scripts/install-references.sh            # into .venv-references (ignored by git)
#   bash scripts/install-references.sh DIR        # anywhere else (relative to the current folder)
#   REFERENCES_FRAMEWORKS="numpy torch" bash scripts/install-references.sh   # only some
#
# The versions below are the ones the measurements in References/README.md were taken with.
# PyTorch should be its CPU build (2.13.0+cpu, a few hundred MB instead of several GB with CUDA):
# put that wheel in a folder and name it in PIP_FIND_LINKS (pip prefers it), or point pip at
# an index that serves CPU builds (PIP_EXTRA_INDEX_URL).
set -euo pipefail
venv=${1:-"$(dirname "$0")/../.venv-references"}
mkdir -p "$venv" && venv=$(cd "$venv" && pwd)
frameworks=${REFERENCES_FRAMEWORKS:-"numpy torch lightning jax tensorflow"}

numpy_pins=(numpy==2.4.6 safetensors==0.8.0)
declare -A pins=(
    [numpy]=""
    [torch]="torch==2.13.0"
    [lightning]="lightning==2.6.6"
    [jax]="jax[cpu]==0.10.2"
    [tensorflow]="tensorflow-cpu==2.21.0 keras==3.15.1"
)
requirements=("${numpy_pins[@]}")
for f in $frameworks; do
    [[ -v "pins[$f]" ]] || { echo "install-references: unknown framework '$f' (numpy torch lightning jax tensorflow)" >&2; exit 64; }
    read -r -a extra <<<"${pins[$f]}"
    requirements+=("${extra[@]}")
done

python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q "${requirements[@]}"
TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" - <<'PY'
import importlib
for name in ("numpy", "safetensors", "torch", "lightning", "jax", "tensorflow", "keras"):
    try:
        module = importlib.import_module(name)
        print(f"  {name:12s} {module.__version__}")
    except ImportError:
        print(f"  {name:12s} (not installed)")
PY
echo "python for compare-levels --references --python: $venv/bin/python"
