"""Copies a BF16 safetensors checkpoint with every tensor converted to F32 or F16.

  convert_checkpoint.py SRC_DIR DST_DIR F32|F16
Only single-file checkpoints; numpy has no bfloat16, so the bits are widened
by hand (bf16 is the upper half of an f32).
"""
import json
import os
import shutil
import struct
import sys

import numpy as np

src, dst, dtype = sys.argv[1:4]
os.makedirs(dst, exist_ok=True)
shutil.copy(os.path.join(src, "config.json"), dst)
with open(os.path.join(src, "model.safetensors"), "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
meta = header.pop("__metadata__", None)
out, chunks, offset = {}, [], 0
for name, info in header.items():
    raw = data[info["data_offsets"][0]:info["data_offsets"][1]]
    if info["dtype"] != "BF16":
        sys.exit("expected BF16 tensors, %s is %s" % (name, info["dtype"]))
    f32 = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
    conv = f32 if dtype == "F32" else f32.astype(np.float16)
    b = conv.tobytes()
    out[name] = {"dtype": dtype, "shape": info["shape"], "data_offsets": [offset, offset + len(b)]}
    chunks.append(b)
    offset += len(b)
if meta is not None:
    out["__metadata__"] = meta
text = json.dumps(out).encode()
text += b" " * (-len(text) % 8)
with open(os.path.join(dst, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
