#!/usr/bin/env bash
# Set up a fresh machine (Debian 12 + CUDA 13 at /usr/local/cuda), build mm01,
# and run the main job on the built-in default model.
#
#   scripts/setup.sh            install what is missing, build, run the main job
#   scripts/setup.sh --deps     only install what is missing
#   scripts/setup.sh --build    install + build, no main job
#
# Idempotent: when everything is there it only checks and builds incrementally.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MM01_BUILD_DIR:-$root/build}
mode=${1:-all}

apt_packages=(cmake ninja-build g++ git python3 python3-pip
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  nlohmann-json3-dev libgtest-dev python3-numpy)
# lit runs RUN lines with the python that runs lit (Debian's): python3-numpy above.
pip_modules=(numpy)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi
for m in "${pip_modules[@]}"; do
  python3 -c "import $m" 2>/dev/null || python3 -m pip install -q "$m"
done
[ "$mode" = "--deps" ] && exit 0

if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
fi
ninja -C "$build"
[ "$mode" = "--build" ] && exit 0

# Main job: the built-in default model (deterministic synthetic weights).
model=$build/default-model
if [ ! -f "$model/model.safetensors" ]; then
  "$build/bin/mm01-synth-checkpoint" "$model"
fi
"$build/bin/mm01-compile" "$model" --emit=mlir -o "$build/default-model.mlir"
"$build/bin/mm01-compile" "$model" --emit=summary
echo "model IR written to $build/default-model.mlir"
# Compile it for the CPU target and generate: a 2 x 64-token prompt, 8 tokens.
python3 -c "import numpy as np; np.save('$build/default-prompt.npy', (np.arange(128, dtype=np.int64).reshape(2, 64) * 37) % 1024)"
"$build/bin/mm01-run" "$model" --target=cpu --input-ids "$build/default-prompt.npy" \
  --generate 8 --dump "$build/default-model-out.npz" -v
echo "logits and generated tokens written to $build/default-model-out.npz"
# The same model as a GPU engine for sm_90a when the CUDA toolkit is here
# (no GPU needed to compile), and run on the GPU when there is one.
cuda=${CUDA_HOME:-/usr/local/cuda}
if [ -x "$cuda/bin/ptxas" ]; then
  "$build/bin/mm01-compile" "$model" --target=sm_90a --max-batch=2 --max-context=256 \
    --cuda-toolkit="$cuda" -o "$build/default-model.mm01"
  "$build/bin/mm01-engine-info" "$build/default-model.mm01" | sed -n '1,7p'
  echo "GPU engine written to $build/default-model.mm01"
  if nvidia-smi -L >/dev/null 2>&1; then
    "$build/bin/mm01-run" "$build/default-model.mm01" --input-ids "$build/default-prompt.npy" \
      --generate 8 --dump "$build/default-model-gpu-out.npz" -v
  fi
fi
