#!/usr/bin/env python3
"""The glaive conversations (tests/data/third_party) whose tools the hand-written tool-calling set
does not offer, for training a model that is then scored on that set (issue 9: names used for
evaluation never appear in training). Standard library only.

    python3 scripts/glaive_without_handwritten_tools.py runs/glaive_no_handwritten_tools.json
"""
import json
import sys

HANDWRITTEN = "tests/data/handwritten/tool_calling.jsonl"
GLAIVE = "tests/data/third_party/glaive_toolcall_en_demo.json"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(HANDWRITTEN) as f:
        names = {t["function"]["name"] for line in f if line.strip()
                 for t in json.loads(line)["tools"]}
    with open(GLAIVE) as f:
        conversations = json.load(f)
    kept = [c for c in conversations
            if not any(t["name"] in names for t in json.loads(c["tools"] or "[]"))]
    with open(sys.argv[1], "w") as f:
        json.dump(kept, f)
    print(f"{len(kept)} of {len(conversations)} conversations kept -> {sys.argv[1]}")


if __name__ == "__main__":
    main()
