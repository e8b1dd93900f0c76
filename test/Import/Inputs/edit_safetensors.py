"""Rewrites one tensor of a .safetensors file (for importer error tests).

  edit_safetensors.py FILE drop-row NAME     # shape [N, ...] -> [N-1, ...]
  edit_safetensors.py FILE rename NAME NEW   # rename a tensor
  edit_safetensors.py FILE dtype NAME DTYPE  # relabel the dtype (same bytes per element)
"""
import json
import struct
import sys

path, action, name = sys.argv[1:4]
with open(path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
meta = header.pop("__metadata__", None)
chunks = {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}
if name not in header:
    sys.exit("no tensor " + name)
if action == "drop-row":
    shape = header[name]["shape"]
    row = len(chunks[name]) // shape[0]
    shape[0] -= 1
    chunks[name] = chunks[name][:len(chunks[name]) - row]
elif action == "rename":
    header[sys.argv[4]] = header.pop(name)
    chunks[sys.argv[4]] = chunks.pop(name)
elif action == "dtype":
    header[name]["dtype"] = sys.argv[4]
else:
    sys.exit("unknown action " + action)
out, offset = {}, 0
for k in header:
    out[k] = dict(header[k], data_offsets=[offset, offset + len(chunks[k])])
    offset += len(chunks[k])
if meta is not None:
    out["__metadata__"] = meta
text = json.dumps(out).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks[k] for k in header))
