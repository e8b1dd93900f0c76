"""The probes' result files: a markdown table printed and written beside
the rows it was made from."""
import json
import os


def write_record(out_dir, stem, lines, rows):
    """Prints the markdown `lines`, writes OUT_DIR/STEM.md and STEM.json (rows)."""
    md = "\n".join(lines) + "\n"
    print(md)
    with open(os.path.join(out_dir, stem + ".md"), "w") as f:
        f.write(md)
    with open(os.path.join(out_dir, stem + ".json"), "w") as f:
        json.dump(rows, f, indent=1)
