#!/usr/bin/env python3
"""Assembles the hand-written held-out tool-calling set (issue 9) from its hand-written sources.

tools/handwritten_tool_calling_schemas.py holds the function schemas, and
tools/handwritten_tool_calling_rows.py holds the requests, the tools offered to each request and the
expected calls or plain-text answer. This script only copies the offered schemas into each row,
shuffles the rows with a fixed seed and writes the two files below. It generates or templates
nothing.

  python3 tools/build_handwritten_tool_calling.py
  -> tests/data/handwritten/tool_calling_schemas.json, tests/data/handwritten/tool_calling.jsonl
"""
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from handwritten_tool_calling_schemas import SCHEMAS  # noqa: E402
from handwritten_tool_calling_rows import ROWS  # noqa: E402

OUT_DIR = os.path.join(HERE, "..", "tests", "data", "handwritten")


def main():
    by_name = {}
    for tool in SCHEMAS:
        name = tool["function"]["name"]
        if name in by_name:
            sys.exit(f"duplicate schema name {name}")
        by_name[name] = tool
    lines = []
    for k, row in enumerate(ROWS):
        system, user, offered, expected = row
        for name in offered:
            if name not in by_name:
                sys.exit(f"row {k}: unknown tool {name}")
        if len(set(offered)) != len(offered):
            sys.exit(f"row {k}: a tool offered twice")
        messages = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": user})
        if isinstance(expected, str):
            messages.append({"role": "assistant", "content": expected})
        else:
            calls = []
            for name, args in expected:
                if name not in offered:
                    sys.exit(f"row {k}: expected call to {name}, which is not offered")
                calls.append({"type": "function", "function": {"name": name, "arguments": args}})
            messages.append({"role": "assistant", "tool_calls": calls})
        lines.append(json.dumps({"messages": messages, "tools": [by_name[t] for t in offered]},
                                ensure_ascii=False))
    # The sources are grouped by domain; a fixed shuffle makes any prefix (eval --max-examples N)
    # a mix of domains, call and no-call rows.
    random.Random(9).shuffle(lines)
    with open(os.path.join(OUT_DIR, "tool_calling_schemas.json"), "w") as f:
        json.dump(SCHEMAS, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "tool_calling.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    calls = sum(1 for r in ROWS if not isinstance(r[3], str))
    print(f"{len(ROWS)} rows ({len(ROWS) - calls} no-call), {len(SCHEMAS)} schemas")


if __name__ == "__main__":
    main()
