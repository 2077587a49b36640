#!/usr/bin/env python3
"""Writes tests/data/chat_templates/<model>/generated_cases.json: deterministic random
conversations (tools, parallel calls, tool results, system or none, multi-turn, generation
prompt on/off, enable_thinking) rendered with jinja2 set up exactly as transformers does
(transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment, trim_blocks,
lstrip_blocks, loopcontrols, its own tojson, raise_exception, strftime_now).

Usage: python3 tools/make_template_goldens.py [--count 240] [--check-transformers]
--check-transformers also renders every case through transformers' own
render_jinja_template (needs a Python with transformers, e.g. /root/refenv/bin/python).
"""
import argparse
import json
import os
import random

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "chat_templates")
MODELS = ["SmolLM2-135M-Instruct", "Qwen2.5-0.5B-Instruct", "Qwen3-0.6B", "Llama-3.2-1B-Instruct"]
FIXED_DATE = "17 Dec 2025"  # what the C++ test's clock gives for "%d %b %Y"


class TemplateRaised(Exception):
    pass


def make_env():
    def raise_exception(message):
        raise TemplateRaised(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        assert fmt == "%d %b %Y", fmt
        return FIXED_DATE

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


TEXTS = [
    "Hello!", "What's the weather in Paris?", "  padded with spaces  ", "line one\nline two\n",
    "Unicode: héllo wörld, 日本語, emoji 🙂", 'Quotes "double" and \'single\' and \\ backslash',
    "", "\n\nleading newlines", "tabs\tand\tmore", "<b>html & stuff</b>", "{{ not a template }}",
    "Compute 2+2.", "Book a table for 4 at 7pm tomorrow.", "Thanks, that's all.",
]
REASONING = ["Let me think.", "\nThe user wants X.\n", "step 1\nstep 2", ""]
NAMES = ["get_weather", "search_web", "book_table", "convert_currency", "send_email", "calc"]


def random_value(rng, depth=0):
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return rng.choice(TEXTS[:6] + ["Paris", "café", "42"])
    if kind == 1:
        return rng.choice([0, 1, -7, 42, 123456789012, 10**15])
    if kind == 2:
        return rng.choice([0.5, 3.0, -2.25, 0.1, 1e-7, 1e16, 123.456, 1e21, 2.5e-5])
    if kind == 3:
        return rng.choice([True, False])
    if kind == 4:
        return None
    if kind == 5:
        return rng.choice(["celsius", "fahrenheit", "EUR", "x"])
    if kind in (6, 7):
        return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randrange(0, 4))}
    return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]


def random_args(rng):
    keys = ["location", "query", "unit", "amount", "count", "options", "to", "flag", "ünïcode"]
    return {k: random_value(rng) for k in rng.sample(keys, rng.randrange(0, 4))}


def random_tool(rng, name):
    props = {}
    for p in rng.sample(["location", "query", "unit", "amount", "count", "tags"], rng.randrange(0, 4)):
        t = rng.choice(["string", "integer", "number", "boolean", "array"])
        prop = {"type": t, "description": f"The {p} (e.g. “{p}”)"}
        if t == "string" and rng.random() < 0.3:
            prop["enum"] = ["a", "b", "c"]
        if t == "array":
            prop["items"] = {"type": "string"}
        props[p] = prop
    fn = {"name": name, "description": rng.choice(["Get the weather.", "Search the web for a query.",
                                                    "Books something; returns a confirmation id."])}
    fn["parameters"] = {"type": "object", "properties": props, "required": list(props)[:1]}
    return {"type": "function", "function": fn}


def random_tool_call(rng, model):
    args = random_args(rng)
    if model == "Qwen3-0.6B" and rng.random() < 0.3:
        args = json.dumps(args)  # Qwen3 passes string arguments through unchanged
    call = {"type": "function", "function": {"name": rng.choice(NAMES), "arguments": args}}
    if rng.random() < 0.5:
        call["id"] = f"call_{rng.randrange(10**6)}"
    return call


def random_conversation(rng, model):
    msgs = []
    if rng.random() < 0.5:
        msgs.append({"role": "system", "content": rng.choice(["You are a helpful assistant.", " Be brief. ",
                                                              "Système: réponds en français.\n"])})
    tools_mode = model != "SmolLM2-135M-Instruct" and rng.random() < 0.6
    for turn in range(rng.randrange(1, 4)):
        msgs.append({"role": "user", "content": rng.choice(TEXTS)})
        if model == "Qwen3-0.6B" and rng.random() < 0.15:
            msgs.append({"role": "user", "content": "<tool_response>\nok\n</tool_response>"})
        last_turn = rng.random() < 0.4
        if last_turn:
            break
        if tools_mode and rng.random() < 0.6:
            n_calls = 1 if (model == "Llama-3.2-1B-Instruct" and rng.random() < 0.9) else rng.randrange(1, 4)
            content = rng.choice(["", "", "Let me check.", None])
            if model == "Qwen3-0.6B" and rng.random() < 0.3:
                content = f"<think>{rng.choice(REASONING)}</think>\n\n" + (content or "")
            msg = {"role": "assistant", "content": content,
                   "tool_calls": [random_tool_call(rng, model) for _ in range(n_calls)]}
            if model == "Qwen3-0.6B" and rng.random() < 0.2:
                msg["reasoning_content"] = rng.choice(REASONING)
            msgs.append(msg)
            for _ in range(n_calls):
                result = rng.choice(['{"temperature": 21.5, "unit": "celsius"}', "OK", "Error: not found",
                                     "line1\nline2"])
                tool_msg = {"role": "tool", "content": result}
                if model == "Llama-3.2-1B-Instruct" and rng.random() < 0.3:
                    tool_msg["content"] = {"result": random_value(rng)}
                if rng.random() < 0.3:
                    tool_msg["tool_call_id"] = "call_1"
                msgs.append(tool_msg)
            if rng.random() < 0.7:
                msgs.append({"role": "assistant", "content": rng.choice(TEXTS)})
        else:
            content = rng.choice(TEXTS)
            if model == "Qwen3-0.6B" and rng.random() < 0.4:
                content = f"<think>\n{rng.choice(REASONING)}\n</think>\n\n{content}"
            msg = {"role": "assistant", "content": content}
            if model == "Qwen3-0.6B" and rng.random() < 0.15:
                msg["reasoning_content"] = rng.choice(REASONING)
            msgs.append(msg)
    if model == "SmolLM2-135M-Instruct":
        for m in msgs:
            if m.get("content") is None:
                m["content"] = ""
    tools = None
    if tools_mode:
        tools = [random_tool(rng, n) for n in rng.sample(NAMES, rng.randrange(1, 4))]
    elif model == "SmolLM2-135M-Instruct" and rng.random() < 0.2:
        tools = [random_tool(rng, "ignored")]
    return msgs, tools


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--check-transformers", action="store_true")
    args = ap.parse_args()
    env = make_env()
    for model in MODELS:
        folder = os.path.join(ROOT, model)
        source = open(os.path.join(folder, "chat_template.jinja"), encoding="utf-8").read()
        special = json.load(open(os.path.join(folder, "render_cases.json"), encoding="utf-8"))["special_tokens"]
        template = env.from_string(source)
        rng = random.Random(f"toolsft-{model}")
        cases = []
        for i in range(args.count):
            msgs, tools = random_conversation(rng, model)
            agp = rng.random() < 0.5
            extra = {}
            if model == "Qwen3-0.6B" and rng.random() < 0.6:
                extra["enable_thinking"] = rng.random() < 0.5
            if model == "Llama-3.2-1B-Instruct" and rng.random() < 0.15:
                extra["tools_in_user_message"] = False
            if model == "Llama-3.2-1B-Instruct" and rng.random() < 0.1:
                extra["date_string"] = "01 Jan 2030"
            case = {"description": f"generated_{i}", "messages": msgs, "add_generation_prompt": agp}
            if tools is not None:
                case["tools"] = tools
            if extra:
                case["extra"] = extra
            try:
                case["expected"] = template.render(messages=msgs, tools=tools, documents=None,
                                                   add_generation_prompt=agp, **special, **extra)
            except TemplateRaised as e:
                case["expected_error"] = str(e)
            except jinja2.TemplateError as e:
                raise SystemExit(f"{model} case {i}: unexpected template error {e!r}")
            if args.check_transformers and "expected" in case:
                from transformers.utils.chat_template_utils import render_jinja_template
                got, _ = render_jinja_template(conversations=[msgs], tools=tools, chat_template=source,
                                               add_generation_prompt=agp, **special, **extra)
                assert got[0] == case["expected"] or model == "Llama-3.2-1B-Instruct", (model, i)
            cases.append(case)
        out = os.path.join(folder, "generated_cases.json")
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"special_tokens": special, "cases": cases}, f, ensure_ascii=False)
            f.write("\n")
        errors = sum("expected_error" in c for c in cases)
        print(f"{model}: {len(cases)} cases ({errors} expect raise_exception) -> {out}")


if __name__ == "__main__":
    main()
