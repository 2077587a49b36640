"""toolsft serve, driven by the official `openai` Python client over loopback.

Run by ctest (tests/CMakeLists.txt) with the virtual environment scripts/setup.sh makes:
    .venv/bin/python tests/serve/test_openai_client.py --binary build/toolsft --model models/...gguf
Starts real servers (SmolLM2-135M-Instruct, greedy decoding) and checks plain chat, streaming,
tool calls parsed into tool_calls, every tool_choice form (with schema-constrained decoding on,
the default, and off), the call gate, adapter selection by `model`, the error answers, the 429
of a full queue and the slot a disconnecting client frees.
"""
import argparse
import concurrent.futures
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import openai

ARGS = None
BASE = "SmolLM2-135M-Instruct.Q4_1.gguf"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "description": "Get the time in a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}
# One worked exchange before the question: SmolLM2 follows it (greedy) to a well-formed call.
FEW_SHOT = [
    {"role": "user", "content": "What's the weather in London?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"London\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 14}"},
    {"role": "assistant", "content": "It is 14 degrees in London."},
    {"role": "user", "content": "What's the weather in Paris?"},
]

# Two worked calls before the question: SmolLM2 calls again by itself (tool_choice auto, greedy).
CALLS_SHOWN = [
    {"role": "user", "content": "What's the weather in London?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"London\"}"}}]},
    {"role": "user", "content": "What's the weather in Berlin?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_2", "type": "function",
         "function": {"name": "get_weather", "arguments": "{\"city\": \"Berlin\"}"}}]},
    {"role": "user", "content": "What's the weather in Paris?"},
]


# Few, short, enum / bounded-integer arguments: the untuned model's constrained calls finish well
# within max_tokens.
ALARM_TOOL = {
    "type": "function",
    "function": {
        "name": "set_alarm", "description": "Set an alarm clock",
        "parameters": {"type": "object", "properties": {
            "hour": {"type": "integer", "minimum": 0, "maximum": 23},
            "day": {"type": "string", "enum": ["monday", "tuesday", "friday"]}},
            "required": ["hour", "day"]},
    },
}
CITY_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather", "description": "Get the weather",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "enum": ["Paris", "London", "Tokyo"]},
            "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"]},
    },
}
ALARM_ASK = [{"role": "user", "content": "Wake me up at 7 on Friday."}]


def schema_problems(args, schema):
    """What is wrong with `args` under the object schemas above (types, bounds, enum, required,
    unknown keys); empty when it validates."""
    if not isinstance(args, dict):
        return [f"arguments are not an object: {args!r}"]
    props = schema["properties"]
    problems = [f"missing {k}" for k in schema.get("required", []) if k not in args]
    for k, v in args.items():
        p = props.get(k)
        if p is None:
            problems.append(f"unknown key {k}")
        elif p["type"] == "integer" and (not isinstance(v, int) or isinstance(v, bool) or
                                         not p.get("minimum", v) <= v <= p.get("maximum", v)):
            problems.append(f"{k}: {v!r} is not an integer in range")
        elif p["type"] == "string" and (not isinstance(v, str) or v not in p.get("enum", [v])):
            problems.append(f"{k}: {v!r} is not one of {p.get('enum')}")
    return problems


def write_adapter(path, layers=30, hidden=576, rank=4, seed=3):
    """A PEFT LoRA adapter on q_proj and v_proj of every layer, random A and B (float32)."""
    os.makedirs(path, exist_ok=True)
    rng = random.Random(seed)
    kv = 192  # SmolLM2-135M: 3 KV heads x 64
    tensors = {}
    for layer in range(layers):
        for mod, out in (("q_proj", hidden), ("v_proj", kv)):
            key = f"base_model.model.model.layers.{layer}.self_attn.{mod}"
            tensors[key + ".lora_A.weight"] = ([rank, hidden],
                                               [rng.uniform(-0.5, 0.5) for _ in range(rank * hidden)])
            tensors[key + ".lora_B.weight"] = ([out, rank],
                                               [rng.uniform(-0.5, 0.5) for _ in range(out * rank)])
    header, blobs, offset = {}, [], 0
    for key, (shape, values) in tensors.items():
        blob = struct.pack(f"<{len(values)}f", *values)
        header[key] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(os.path.join(path, "adapter_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
    with open(os.path.join(path, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank, "lora_dropout": 0.0,
                   "target_modules": ["q_proj", "v_proj"], "bias": "none",
                   "task_type": "CAUSAL_LM", "base_model_name_or_path": "base"}, f)


class Server:
    """A toolsft serve process on a free loopback port."""

    def __init__(self, *extra, env=None):
        cmd = [ARGS.binary, "serve", "--model", ARGS.model, "--port", "0", "--threads", "2",
               *extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        line = self.proc.stdout.readline()
        self.startup_line = line
        m = re.search(r"http://([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("server did not start: " + line + self.proc.stdout.read())
        self.url = f"http://{m.group(1)}:{m.group(2)}"
        # Keep draining its output so a chatty server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def client(self, api_key="unused", **kw):
        return openai.OpenAI(base_url=self.url + "/v1", api_key=api_key, max_retries=0,
                             timeout=120, **kw)

    def get(self, path, headers=None):
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def post_raw(self, path, body, headers=None):
        req = urllib.request.Request(self.url + path, data=body, method="POST",
                                     headers=headers or {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metric(self, name):
        _, text = self.get("/metrics")
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        finally:
            self.proc.stdout.close()
        return self.proc.returncode


class ToolChoiceTests:
    """tool_choice over a server in self.server / self.client: the same behaviour with
    constrained decoding on and off, where the model follows a worked example."""

    def chat(self, model=BASE, **kw):
        kw.setdefault("temperature", 0)
        kw.setdefault("max_tokens", 24)
        return self.client.chat.completions.create(model=model, **kw)

    def test_named_tool_choice_gives_parsed_call(self):
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL, TIME_TOOL], max_tokens=40,
                      tool_choice={"type": "function", "function": {"name": "get_weather"}})
        choice = r.choices[0]
        self.assertEqual(choice.finish_reason, "tool_calls")
        self.assertIsNone(choice.message.content)
        [call] = choice.message.tool_calls
        self.assertEqual(call.type, "function")
        self.assertEqual(call.function.name, "get_weather")
        self.assertEqual(json.loads(call.function.arguments), {"city": "Paris"})
        self.assertTrue(call.id.startswith("call_"))

    def test_streamed_tool_call(self):
        chunks = list(self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], max_tokens=40, stream=True,
                                tool_choice={"type": "function", "function": {"name": "get_weather"}}))
        calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0].index, 0)
        self.assertEqual(calls[0].function.name, "get_weather")
        self.assertEqual(json.loads(calls[0].function.arguments), {"city": "Paris"})
        # No call text leaks out as content.
        self.assertEqual("".join(c.choices[0].delta.content or "" for c in chunks if c.choices), "")
        self.assertEqual([c.choices[0].finish_reason for c in chunks if c.choices and
                          c.choices[0].finish_reason], ["tool_calls"])

    def test_required_tool_choice_always_calls(self):
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], tool_choice="required", max_tokens=40)
        choice = r.choices[0]
        # Constrained, the grammar makes the reply a call; off, the reply was prefilled with a
        # call opener, so it is one too (its name and arguments the model's to get right).
        self.assertEqual(choice.finish_reason, "tool_calls")
        self.assertEqual(len(choice.message.tool_calls), 1)
        self.assertIsInstance(json.loads(choice.message.tool_calls[0].function.arguments), dict)

    def test_tool_choice_none_and_auto(self):
        # none: the tools are not shown, so the reply is plain text.
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], tool_choice="none", max_tokens=30)
        self.assertIsNone(r.choices[0].message.tool_calls)
        self.assertNotIn("<tool_call>", r.choices[0].message.content or "")
        # auto: whatever the model chose, the reply is consistent with finish_reason.
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], tool_choice="auto", max_tokens=40)
        c = r.choices[0]
        if c.message.tool_calls:
            self.assertEqual(c.finish_reason, "tool_calls")
        else:
            self.assertIn(c.finish_reason, ("stop", "length"))
            self.assertIsInstance(c.message.content, str)


class ServeTest(ToolChoiceTests, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.adapter = os.path.join(cls.tmp.name, "adapter")
        write_adapter(cls.adapter)
        cls.server = Server("--lora", "noisy=" + cls.adapter, "--ctx", "1024",
                            "--max-tokens-limit", "512", "--max-body-bytes", "65536")
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.close()
        cls.tmp.cleanup()
        assert code == 0, f"the server exited with {code} on SIGTERM"

    def test_auto_calls_after_worked_calls(self):
        # What CallGateTest's server withholds: ungated, the model calls here.
        r = self.chat(messages=CALLS_SHOWN, tools=[WEATHER_TOOL], tool_choice="auto",
                      max_tokens=40)
        self.assertEqual(r.choices[0].finish_reason, "tool_calls")
        self.assertEqual(r.choices[0].message.tool_calls[0].function.name, "get_weather")

    def test_health_and_models(self):
        self.assertEqual(self.server.get("/health"), (200, '{"status":"ok"}'))
        models = {m.id: m for m in self.client.models.list().data}
        self.assertEqual(set(models), {BASE, "noisy"})
        self.assertEqual(models["noisy"].model_extra.get("parent"), BASE)

    def test_plain_chat(self):
        r = self.chat(messages=[{"role": "user", "content": "What is the capital of France?"}])
        msg = r.choices[0].message
        self.assertEqual(msg.role, "assistant")
        self.assertIn("Paris", msg.content)
        self.assertIsNone(msg.tool_calls)
        self.assertEqual(r.choices[0].finish_reason, "stop")
        self.assertEqual(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens)
        self.assertGreater(r.usage.completion_tokens, 0)
        self.assertTrue(r.id.startswith("chatcmpl-"))
        # Greedy is deterministic: the same request gives the same answer.
        again = self.chat(messages=[{"role": "user", "content": "What is the capital of France?"}])
        self.assertEqual(again.choices[0].message.content, msg.content)

    def test_max_tokens_ends_with_length(self):
        r = self.chat(messages=[{"role": "user", "content": "Write a long story about a dragon."}],
                      max_tokens=5)
        self.assertEqual(r.choices[0].finish_reason, "length")
        self.assertEqual(r.usage.completion_tokens, 5)
        r = self.chat(messages=[{"role": "user", "content": "Write a long story about a dragon."}],
                      max_completion_tokens=3)
        self.assertEqual(r.usage.completion_tokens, 3)

    def test_stop_string(self):
        full = self.chat(messages=[{"role": "user", "content": "Count from 1 to 10."}])
        text = full.choices[0].message.content
        self.assertIn("3", text)
        cut = self.chat(messages=[{"role": "user", "content": "Count from 1 to 10."}], stop=["3"])
        self.assertEqual(cut.choices[0].message.content, text[:text.index("3")])
        self.assertEqual(cut.choices[0].finish_reason, "stop")

    def test_streaming_matches_non_streaming(self):
        messages = [{"role": "user", "content": "Tell me about the Eiffel Tower."}]
        whole = self.chat(messages=messages, max_tokens=30).choices[0].message.content
        chunks = list(self.chat(messages=messages, max_tokens=30, stream=True,
                                stream_options={"include_usage": True}))
        self.assertEqual(chunks[0].choices[0].delta.role, "assistant")
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        self.assertEqual(text, whole)
        self.assertGreater(sum(1 for c in chunks if c.choices and c.choices[0].delta.content), 3)
        finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        self.assertEqual(finals, ["length"])
        self.assertEqual(chunks[-1].choices, [])
        self.assertEqual(chunks[-1].usage.completion_tokens, 30)

    def check_constrained_calls(self, r, only=None):
        """The untuned model writes what the grammar lets it: calls from the first token, each
        complete one validating (named: all to that function). A reply cut by max_tokens ends
        with "length", and its call had opened."""
        c = r.choices[0]
        cut = r.usage.completion_tokens == 200  # the max_tokens of the tests below
        if not c.message.tool_calls:
            self.assertEqual(c.finish_reason, "length")
            self.assertTrue(c.message.content.lstrip().startswith("<tool_call>"), c.message.content)
            return
        self.assertEqual(c.finish_reason, "length" if cut else "tool_calls")
        self.assertIsNone(c.message.content)
        tools = {"set_alarm": ALARM_TOOL, "get_weather": CITY_TOOL}
        for call in c.message.tool_calls:
            if only:
                self.assertEqual(call.function.name, only)
            schema = tools[call.function.name]["function"]["parameters"]
            self.assertEqual(schema_problems(json.loads(call.function.arguments), schema), [],
                             call.function.arguments)

    def test_constrained_required_calls_validate(self):
        before = self.server.metric("toolsft_constrained_requests_total")
        r = self.chat(messages=ALARM_ASK, tools=[ALARM_TOOL, CITY_TOOL], tool_choice="required",
                      max_tokens=200)
        self.check_constrained_calls(r)
        self.assertEqual(self.server.metric("toolsft_constrained_requests_total"), before + 1)

    def test_constrained_named_calls_that_function(self):
        r = self.chat(messages=ALARM_ASK, tools=[ALARM_TOOL, CITY_TOOL], max_tokens=200,
                      tool_choice={"type": "function", "function": {"name": "get_weather"}})
        self.check_constrained_calls(r, only="get_weather")

    def test_constrained_none_never_calls(self):
        r = self.chat(messages=ALARM_ASK, tools=[ALARM_TOOL, CITY_TOOL], tool_choice="none",
                      max_tokens=40)
        self.assertIsNone(r.choices[0].message.tool_calls)
        self.assertNotIn("<tool_call>", r.choices[0].message.content)
        self.assertNotEqual(r.choices[0].finish_reason, "tool_calls")

    def test_unusable_schema_is_400_naming_the_field(self):
        bad = json.loads(json.dumps(CITY_TOOL))
        bad["function"]["parameters"]["properties"]["unit"] = {"type": "integr"}
        e = self.expect_error(openai.BadRequestError, 400,
                              "tools[1].function.parameters.properties.unit.type",
                              messages=ALARM_ASK, tools=[ALARM_TOOL, bad])
        self.assertIn("integr", e.message)
        self.assertEqual(e.param, "tools[1].function.parameters.properties.unit.type")

    def test_tool_results_in_history(self):
        messages = FEW_SHOT + [
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_2", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_2", "content": "{\"temp_c\": 21}"}]
        r = self.chat(messages=messages, tools=[WEATHER_TOOL], max_tokens=30)
        self.assertEqual(r.choices[0].message.role, "assistant")
        self.assertGreater(r.usage.prompt_tokens, 200)

    def test_adapter_selection(self):
        messages = [{"role": "user", "content": "Name three colors."}]
        base = self.chat(messages=messages).choices[0].message.content
        noisy = self.chat(model="noisy", messages=messages).choices[0].message.content
        self.assertNotEqual(base, noisy)
        # Requests for both, in flight together, answer as they do alone.
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            futs = [pool.submit(lambda m: self.chat(model=m, messages=messages)
                                .choices[0].message.content, m)
                    for m in (BASE, "noisy", BASE, "noisy", BASE, "noisy")]
            got = [f.result() for f in futs]
        self.assertEqual(got, [base, noisy] * 3)

    def test_completions_endpoint(self):
        r = self.client.completions.create(model=BASE, prompt="The capital of France is",
                                           max_tokens=8, temperature=0)
        self.assertTrue(r.id.startswith("cmpl-"))
        self.assertIn("Paris", r.choices[0].text)
        self.assertEqual(r.usage.completion_tokens, 8)
        streamed = "".join(c.choices[0].text for c in self.client.completions.create(
            model=BASE, prompt="The capital of France is", max_tokens=8, temperature=0, stream=True)
            if c.choices)
        self.assertEqual(streamed, r.choices[0].text)

    def expect_error(self, exc, status, needle, **kw):
        with self.assertRaises(exc) as cm:
            self.chat(**kw)
        self.assertEqual(cm.exception.status_code, status)
        self.assertIn(needle, cm.exception.message)
        return cm.exception

    def test_errors(self):
        hi = [{"role": "user", "content": "hi"}]
        e = self.expect_error(openai.NotFoundError, 404, "does not exist", model="nope", messages=hi)
        self.assertEqual(e.code, "model_not_found")
        self.expect_error(openai.BadRequestError, 400, "temperature", messages=hi, temperature="hot")
        self.expect_error(openai.BadRequestError, 400, "messages[0].role",
                          messages=[{"role": "wizard", "content": "x"}])
        self.expect_error(openai.BadRequestError, 400, "max_tokens", messages=hi, max_tokens=100000)
        e = self.expect_error(openai.BadRequestError, 400, "maximum context length",
                              messages=[{"role": "user", "content": "word " * 2000}])
        self.assertEqual(e.code, "context_length_exceeded")
        self.expect_error(openai.BadRequestError, 400, "tool_choice", messages=hi,
                          tools=[WEATHER_TOOL],
                          tool_choice={"type": "function", "function": {"name": "nope"}})
        self.expect_error(openai.BadRequestError, 400, "only n = 1", messages=hi, n=2)
        # Bodies the client library would never send.
        for body, status, needle in [
                (b"{not json", 400, "not valid JSON"),
                (b"[1, 2]", 400, "JSON object"),
                (b'{"model": "' + BASE.encode() + b'"}', 400, "messages: missing"),
                (b'{"model": 7, "messages": []}', 400, "model: expected a string"),
                (b"x" * 70000, 413, "limit")]:
            code, text = self.server.post_raw("/v1/chat/completions", body)
            self.assertEqual(code, status, text)
            self.assertIn(needle, json.loads(text)["error"]["message"])
        code, text = self.server.get("/v1/nothing")
        self.assertEqual(code, 404)
        self.assertIn("error", json.loads(text))
        code, _ = self.server.get("/v1/chat/completions")
        self.assertEqual(code, 405)
        # The server is still fine after all of that.
        self.assertEqual(self.server.get("/health")[0], 200)

    def test_metrics(self):
        self.chat(messages=[{"role": "user", "content": "hi"}], max_tokens=3)
        _, text = self.server.get("/metrics")
        self.assertRegex(text, r'toolsft_requests_total\{endpoint="/v1/chat/completions",status="200"\} [1-9]')
        self.assertRegex(text, r"toolsft_generation_tokens_total [1-9]")
        self.assertRegex(text, r'toolsft_time_to_first_token_seconds_bucket\{le="\+Inf"\} [1-9]')
        self.assertIn("toolsft_queue_depth 0", text)
        self.assertIn("toolsft_call_gated_requests_total 0", text)  # no --call-gate here


class ConstraintOffTest(ToolChoiceTests, unittest.TestCase):
    """--constrained-decoding off: tool_choice as before the grammar (the ToolChoiceTests), no
    schema compiled, nothing counted as constrained."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--constrained-decoding", "off", "--ctx", "1024",
                            "--max-tokens-limit", "512")
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        assert cls.server.close() == 0

    def test_schemas_are_not_compiled(self):
        bad = json.loads(json.dumps(CITY_TOOL))
        bad["function"]["parameters"]["properties"]["unit"] = {"type": "integr"}
        r = self.chat(messages=ALARM_ASK, tools=[ALARM_TOOL, bad], max_tokens=1)
        self.assertEqual(r.usage.completion_tokens, 1)
        self.assertEqual(self.server.metric("toolsft_constrained_requests_total"), 0)

    def test_bad_switch_value(self):
        p = subprocess.run([ARGS.binary, "serve", "--model", ARGS.model,
                            "--constrained-decoding", "maybe"], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--constrained-decoding: expected on or off", p.stderr + p.stdout)


class CallGateTest(unittest.TestCase):
    """--call-gate 1: every reply that tool_choice auto leaves to the model is written as text
    (no call probability reaches 1), here where the ungated model calls (ServeTest), counted in
    /metrics; required and named calls are not
    gated, and requests without tools are not either."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--call-gate", "1", "--ctx", "1024", "--max-tokens-limit", "512")
        cls.client = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        assert cls.server.close() == 0

    def chat(self, **kw):
        return self.client.chat.completions.create(model=BASE, temperature=0, **kw)

    def test_auto_replies_are_text(self):
        gated = self.server.metric("toolsft_call_gated_requests_total")
        withheld = self.server.metric("toolsft_calls_withheld_total")
        for stream in (False, True):
            r = self.chat(messages=CALLS_SHOWN, tools=[WEATHER_TOOL], tool_choice="auto",
                          max_tokens=40, stream=stream)
            if stream:
                chunks = [c for c in r if c.choices]
                self.assertFalse(any(c.choices[0].delta.tool_calls for c in chunks))
                text = "".join(c.choices[0].delta.content or "" for c in chunks)
                reasons = [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason]
                self.assertEqual(len(reasons), 1)
                reason = reasons[0]
            else:
                self.assertIsNone(r.choices[0].message.tool_calls)
                text, reason = r.choices[0].message.content, r.choices[0].finish_reason
            self.assertIn(reason, ("stop", "length"))
            self.assertNotIn("<tool_call>", text)
            self.assertTrue(text.strip())
            self.assertFalse(text.strip().startswith("<"), text)  # nor begins like a call
        self.assertEqual(self.server.metric("toolsft_call_gated_requests_total"), gated + 2)
        # The engine adds a reply to calls_withheld at the end of the step that finished it, just
        # after the client has its answer: wait for that step.
        for _ in range(100):
            if self.server.metric("toolsft_calls_withheld_total") == withheld + 2:
                break
            time.sleep(0.05)
        self.assertEqual(self.server.metric("toolsft_calls_withheld_total"), withheld + 2)

    def test_required_named_and_toolless_requests_are_not_gated(self):
        gated = self.server.metric("toolsft_call_gated_requests_total")
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], tool_choice="required",
                      max_tokens=40)
        self.assertEqual(r.choices[0].finish_reason, "tool_calls")
        r = self.chat(messages=FEW_SHOT, tools=[WEATHER_TOOL], max_tokens=40,
                      tool_choice={"type": "function", "function": {"name": "get_weather"}})
        self.assertEqual(r.choices[0].message.tool_calls[0].function.name, "get_weather")
        self.chat(messages=[{"role": "user", "content": "hi"}], max_tokens=3)
        self.assertEqual(self.server.metric("toolsft_call_gated_requests_total"), gated)

    def test_bad_threshold_is_refused(self):
        for bad in ("1.5", "-0.1", "x"):
            p = subprocess.run([ARGS.binary, "serve", "--model", ARGS.model, "--call-gate", bad],
                               capture_output=True, text=True, timeout=60)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("--call-gate", p.stderr + p.stdout)


class LimitsTest(unittest.TestCase):
    def test_full_queue_answers_429_at_once(self):
        server = Server("--max-concurrency", "1", "--max-queue", "0")
        try:
            client = server.client()
            long = dict(model=BASE, temperature=0, max_tokens=200, messages=[
                {"role": "user", "content": "Write a long story about a dragon."}])
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                futs = [pool.submit(client.chat.completions.create, **long) for _ in range(4)]
                ok, busy = 0, 0
                for f in futs:
                    try:
                        f.result()
                        ok += 1
                    except openai.RateLimitError as e:
                        self.assertEqual(e.status_code, 429)
                        busy += 1
            self.assertGreaterEqual(ok, 1)
            self.assertGreaterEqual(busy, 1)
            self.assertEqual(ok + busy, 4)
        finally:
            server.close()

    def test_disconnect_frees_the_slot(self):
        server = Server("--max-concurrency", "1", "--max-queue", "0")
        try:
            client = server.client()
            stream = client.chat.completions.create(
                model=BASE, temperature=0, max_tokens=400, stream=True,
                messages=[{"role": "user", "content": "Write a very long story about a dragon."}])
            next(iter(stream))
            stream.close()  # the client leaves mid-generation
            deadline = time.time() + 20
            while server.metric("toolsft_running_requests") != 0 and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(server.metric("toolsft_running_requests"), 0)
            r = client.chat.completions.create(model=BASE, temperature=0, max_tokens=3,
                                               messages=[{"role": "user", "content": "hi"}])
            self.assertEqual(r.usage.completion_tokens, 3)
        finally:
            server.close()

    def test_api_key(self):
        server = Server("--api-key", "sekret")
        try:
            with self.assertRaises(openai.AuthenticationError) as cm:
                server.client(api_key="wrong").models.list()
            self.assertEqual(cm.exception.status_code, 401)
            self.assertEqual(server.get("/metrics")[0], 401)
            self.assertEqual(server.get("/health")[0], 200)  # health stays open for probes
            self.assertEqual([m.id for m in server.client(api_key="sekret").models.list().data],
                             [BASE])
        finally:
            server.close()


class BlasKernelsTest(unittest.TestCase):
    """The binary runs OpenBLAS's AVX2/AVX-512 kernels where the CPU has them, even when the
    installed OpenBLAS is older than the CPU, and keeps the kernels a user asked for."""

    @staticmethod
    def kernels(env):
        server = Server(env=env)
        try:
            m = re.search(r"OpenBLAS kernels (\w+)", server.startup_line)
            return m.group(1) if m else None
        finally:
            server.close()

    def test_user_choice_is_kept(self):
        self.assertEqual(self.kernels({**os.environ, "OPENBLAS_CORETYPE": "Prescott"}),
                         "Prescott")

    def test_cpu_with_avx2_runs_avx2_kernels(self):
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
        if "avx2" not in flags or "fma" not in flags:
            self.skipTest("this CPU has no AVX2/FMA: OpenBLAS's own choice is all there is")
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        self.assertIn(self.kernels(env).lower(),
                      {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
