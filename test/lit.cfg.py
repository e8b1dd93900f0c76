# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MM01"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".json"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "unit", "benchmarks", "python"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mm01_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%mm01_src", config.mm01_src_root))

# The HF-written fixture: ../shared/fixtures next to the checkout, or
# MM01_FIXTURES. Tests that need it say `REQUIRES: fixtures`; when it is
# missing under CI=true the suite fails instead of skipping.
fixtures = os.environ.get("MM01_FIXTURES") or os.path.join(
    os.path.dirname(config.mm01_src_root), "shared", "fixtures")
if os.path.isdir(os.path.join(fixtures, "minimax-tiny")):
    config.available_features.add("fixtures")
    config.substitutions.append(("%fixtures", fixtures))
elif os.environ.get("CI"):
    lit_config.fatal("fixture minimax-tiny not found under %s (set MM01_FIXTURES)" % fixtures)
else:
    lit_config.warning("fixture minimax-tiny not found under %s: fixture tests skipped" % fixtures)

llvm_config.with_system_environment(["HOME", "TMP", "TEMP", "CI", "MM01_FIXTURES"])
llvm_config.use_default_substitutions()
# RUN lines use FileCheck, not, count, split-file from LLVM's tool dir.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.mm01_tools_dir, config.llvm_tools_dir]
tools = ["mm01-opt", "mm01-compile", "mm01-synth-checkpoint", "mm01-run"]
llvm_config.add_tool_substitutions(tools, tool_dirs)
