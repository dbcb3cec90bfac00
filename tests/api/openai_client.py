"""Bantam's API through the official `openai` Python client (and raw httpx where the
client hides what is checked). Run by tests/cli/serve.rs against a real `bantam serve`:

    BANTAM_API_URL=http://127.0.0.1:PORT/v1 BANTAM_API_TOKEN=... python openai_client.py

Every check prints one line; the exit status is the number of failed checks.
"""

import concurrent.futures
import json
import os
import sys
import time
import traceback

import httpx
import openai

URL = os.environ["BANTAM_API_URL"]
TOKEN = os.environ["BANTAM_API_TOKEN"]
client = openai.OpenAI(base_url=URL, api_key=TOKEN, max_retries=0, timeout=300)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROOT = URL.removesuffix("/v1")
MODEL = client.models.list().data[0].id
HELLO = [{"role": "user", "content": "Say hello in one short sentence."}]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string"}},
            "required": ["timezone"],
        },
    },
}
PARIS = [{"role": "user", "content": "What is the weather in Paris right now?"}]


def check_models():
    models = client.models.list().data
    assert models, "no models"
    assert models[0].model_extra.get("loaded") is True, models[0]
    assert client.models.retrieve(MODEL).id == MODEL


def check_chat_and_stream_agree():
    full = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=16, temperature=0)
    choice = full.choices[0]
    assert isinstance(choice.message.content, str) and choice.message.content.strip(), full
    assert choice.finish_reason in ("stop", "length"), choice.finish_reason
    assert full.usage.prompt_tokens > 0 and 0 < full.usage.completion_tokens <= 16, full.usage
    assert full.usage.total_tokens == full.usage.prompt_tokens + full.usage.completion_tokens
    chunks = list(
        client.chat.completions.create(
            model=MODEL,
            messages=HELLO,
            max_tokens=16,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == choice.message.content, (text, choice.message.content)
    assert chunks[-1].usage is not None and chunks[-1].choices == [], chunks[-1]
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [choice.finish_reason], finishes
    # A conversation's next request reuses the prompt it shares with the last one.
    system = {"role": "system", "content": "You are a terse assistant. " * 12}
    first = client.chat.completions.create(model=MODEL, messages=[system] + HELLO, max_tokens=4, temperature=0)
    again = client.chat.completions.create(
        model=MODEL, messages=[system, {"role": "user", "content": "Say bye."}], max_tokens=4, temperature=0
    )
    assert first.usage.prompt_tokens > 60, first.usage
    assert again.usage.prompt_tokens_details.cached_tokens >= 60, again.usage


def check_json_schema():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 40}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Invent a person: a name and an age."}],
        max_tokens=60,
        temperature=0,
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}},
    )
    person = json.loads(r.choices[0].message.content)
    assert set(person) == {"name", "age"} and isinstance(person["age"], int), person
    obj = client.chat.completions.create(
        model=MODEL, messages=HELLO, max_tokens=40, temperature=0, response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(obj.choices[0].message.content), dict)


def arguments_of(call, name):
    assert call.type == "function" and call.function.name == name, call
    assert call.id.startswith("call_"), call.id
    return json.loads(call.function.arguments)


def check_forced_tool_call():
    r = client.chat.completions.create(
        model=MODEL,
        messages=PARIS,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=80,
        temperature=0,
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls", choice
    args = arguments_of(choice.message.tool_calls[0], "get_weather")
    assert isinstance(args["city"], str) and args["unit"] in ("celsius", "fahrenheit"), args
    # The result goes back and the model answers in words.
    follow = client.chat.completions.create(
        model=MODEL,
        messages=PARIS
        + [
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": choice.message.tool_calls[0].id, "content": '{"temperature": 21}'},
        ],
        tools=[WEATHER, TIME],
        tool_choice="none",
        max_tokens=30,
        temperature=0,
    )
    assert follow.choices[0].message.content and not follow.choices[0].message.tool_calls, follow


def check_required_and_auto_tool_calls():
    r = client.chat.completions.create(
        model=MODEL, messages=PARIS, tools=[WEATHER, TIME], tool_choice="required", max_tokens=80, temperature=0
    )
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name in ("get_weather", "get_time")
    json.loads(call.function.arguments)
    # Auto: the model decides. Asked for the weather, the 0.5B calls the tool (greedy, so
    # every run); the call goes through the lazy grammar and parses.
    auto = client.chat.completions.create(model=MODEL, messages=PARIS, tools=[WEATHER], max_tokens=80, temperature=0)
    message = auto.choices[0].message
    assert message.tool_calls and auto.choices[0].finish_reason == "tool_calls", message
    assert arguments_of(message.tool_calls[0], "get_weather")["city"] == "Paris"
    assert not message.content, message


def check_streamed_tool_call():
    stream = client.chat.completions.create(
        model=MODEL, messages=PARIS, tools=[WEATHER], tool_choice="required", max_tokens=80, temperature=0, stream=True
    )
    calls, finish = {}, None
    for chunk in stream:
        delta = chunk.choices[0].delta
        for tc in delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"name": "", "arguments": ""})
            entry["name"] += tc.function.name or ""
            entry["arguments"] += tc.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls" and calls[0]["name"] == "get_weather", (finish, calls)
    assert isinstance(json.loads(calls[0]["arguments"])["city"], str)


TOOL_QUESTIONS = [
    "What is the weather in Paris right now?",
    "What time is it in Tokyo?",
    "Is it raining in Lima? Answer in fahrenheit.",
    "Tell me a joke about cats.",
    "What's the time in Europe/Berlin and the weather in Oslo?",
    "Write one line of Python that adds two numbers.",
]


def check_sampled_auto_tool_calls_never_break_the_server():
    """An agent's ordinary round: tools offered with auto, sampled at 0.7, many seeds, four
    at once. Every response is well-formed, the server stays up. (A grammar fed a token it
    could not take used to abort the whole process here.)"""
    n = int(os.environ.get("BANTAM_TOOL_LOOP", "200"))

    def one(i):
        messages = [{"role": "user", "content": TOOL_QUESTIONS[i % len(TOOL_QUESTIONS)]}]
        try:
            r = client.chat.completions.create(
                model=MODEL,
                messages=messages,
                tools=[WEATHER, TIME],
                tool_choice="auto",
                temperature=0.7,
                seed=i,
                max_tokens=48,
            )
        except openai.APIStatusError as e:
            # A typed error for this one request is well-formed too (a dead-end grammar).
            assert e.status_code == 500 and e.body["code"] == "grammar_dead_end", e
            return "dead_end"
        choice = r.choices[0]
        assert choice.finish_reason in ("stop", "length", "tool_calls"), choice
        if choice.finish_reason == "tool_calls":
            for call in choice.message.tool_calls:
                assert call.function.name in ("get_weather", "get_time"), call
                assert isinstance(json.loads(call.function.arguments), dict), call
        else:
            assert isinstance(choice.message.content, str), choice
        return choice.finish_reason

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        reasons = list(pool.map(one, range(n)))
    counts = {r: reasons.count(r) for r in set(reasons)}
    print(f"      {n} sampled auto requests: {counts}", flush=True)
    assert counts.get("tool_calls", 0) > 0, counts
    assert client.models.list().data, "the server is still up"


def check_logprobs():
    r = client.chat.completions.create(
        model=MODEL, messages=HELLO, max_tokens=8, temperature=0, logprobs=True, top_logprobs=3
    )
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens, (len(content), r.usage)
    assert "".join(t.token for t in content) == r.choices[0].message.content, content
    for t in content:
        assert t.logprob <= 0 and len(t.top_logprobs) == 3, t
        assert t.top_logprobs[0].token == t.token, t  # greedy takes the most likely
        assert bytes(t.bytes).decode("utf-8", "replace") == t.token or len(t.bytes) < 4, t
    streamed = []
    for chunk in client.chat.completions.create(
        model=MODEL, messages=HELLO, max_tokens=8, temperature=0, logprobs=True, top_logprobs=2, stream=True
    ):
        if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
            streamed += chunk.choices[0].logprobs.content
    assert [t.token for t in streamed] == [t.token for t in content], (streamed, content)
    legacy = client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=4, temperature=0, logprobs=2)
    lp = legacy.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == legacy.usage.completion_tokens, lp
    assert all(len(alts) == 2 for alts in lp.top_logprobs), lp
    try:
        client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=4, logprobs=True, top_logprobs=21)
        raise AssertionError("21 alternatives were accepted")
    except openai.BadRequestError as e:
        assert e.body["param"] == "top_logprobs", e.body


def check_responses_api():
    r = client.responses.create(
        model=MODEL,
        instructions="Answer in one short sentence.",
        input="What is the capital of France?",
        max_output_tokens=24,
        temperature=0,
    )
    assert r.object == "response" and r.status in ("completed", "incomplete"), r
    assert "Paris" in r.output_text, r.output_text
    assert r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 24, r.usage
    # Streamed: the Responses event types, in order, ending in response.completed.
    kinds, deltas, final = [], "", None
    for event in client.responses.create(
        model=MODEL, input=[{"role": "user", "content": "Say hello."}], max_output_tokens=12, temperature=0, stream=True
    ):
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            deltas += event.delta
        if event.type in ("response.completed", "response.incomplete"):
            final = event.response
    assert kinds[:2] == ["response.created", "response.in_progress"], kinds
    assert "response.output_item.added" in kinds and "response.output_text.done" in kinds, kinds
    assert final is not None and final.output_text == deltas and deltas.strip(), (final, deltas)
    # A function tool: the call comes back as an item; its output goes back as one.
    weather = {
        "type": "function",
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": WEATHER["function"]["parameters"],
    }
    called = client.responses.create(
        model=MODEL, input="What is the weather in Paris right now?", tools=[weather], tool_choice="required",
        max_output_tokens=80, temperature=0,
    )
    calls = [item for item in called.output if item.type == "function_call"]
    assert calls and calls[0].name == "get_weather", called.output
    assert isinstance(json.loads(calls[0].arguments)["city"], str), calls[0]
    answered = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "What is the weather in Paris right now?"},
            {"type": "function_call", "call_id": calls[0].call_id, "name": "get_weather", "arguments": calls[0].arguments},
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temperature": 21, "sky": "sunny"}'},
        ],
        tools=[weather],
        tool_choice="none",
        max_output_tokens=40,
        temperature=0,
    )
    assert answered.output_text.strip(), answered.output
    # A streamed call arrives as a function_call item with its arguments.
    streamed_call = None
    for event in client.responses.create(
        model=MODEL, input="Weather in Oslo?", tools=[weather], tool_choice="required", max_output_tokens=80,
        temperature=0, stream=True,
    ):
        if event.type == "response.output_item.done" and event.item.type == "function_call":
            streamed_call = event.item
    assert streamed_call is not None and json.loads(streamed_call.arguments)["city"], streamed_call
    try:
        client.responses.create(model=MODEL, input="hi", previous_response_id="resp_x")
        raise AssertionError("previous_response_id was accepted")
    except openai.BadRequestError as e:
        assert e.body["param"] == "previous_response_id", e.body


def check_stop_strings():
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count from 1 to 20, separated by commas."}],
        max_tokens=60,
        temperature=0,
        stop=[","],
    )
    choice = r.choices[0]
    assert "," not in choice.message.content and choice.finish_reason == "stop", choice


def check_seed_determinism():
    def sample(seed):
        return client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a random word."}],
            max_tokens=20,
            temperature=1.0,
            seed=seed,
        ).choices[0].message.content

    first = sample(42)
    assert sample(42) == first, "the same seed gave another answer"


def check_legacy_completions():
    r = client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0)
    assert isinstance(r.choices[0].text, str) and r.usage.completion_tokens <= 8, r
    streamed = "".join(
        c.choices[0].text
        for c in client.completions.create(
            model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0, stream=True
        )
    )
    assert streamed == r.choices[0].text, (streamed, r.choices[0].text)


def check_refusals():
    try:
        openai.OpenAI(base_url=URL, api_key="bnt-wrong", max_retries=0).models.list()
        raise AssertionError("a wrong token was accepted")
    except openai.AuthenticationError as e:
        assert e.status_code == 401 and e.body["code"] == "invalid_api_key", e.body
    bare = httpx.post(f"{URL}/chat/completions", json={"messages": HELLO})
    assert bare.status_code == 401 and set(bare.json()["error"]) == {"message", "type", "param", "code"}, bare.text
    broken = httpx.post(f"{URL}/chat/completions", headers=AUTH, content=b"{not json")
    assert broken.status_code == 400 and broken.json()["error"]["type"] == "invalid_request_error", broken.text
    try:
        client.chat.completions.create(model=MODEL, messages=[{"role": "wizard", "content": "hi"}])
        raise AssertionError("a bad role was accepted")
    except openai.BadRequestError as e:
        assert e.body["param"] == "messages", e.body
    # A name clients hard-code is answered by the loaded model, which the answer names.
    other = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, max_tokens=4, temperature=0)
    assert other.model == MODEL, other.model
    try:
        client.chat.completions.create(
            model=MODEL, messages=HELLO, tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "nope"}}
        )
        raise AssertionError("an unknown tool was accepted")
    except openai.BadRequestError as e:
        assert e.body["param"] == "tool_choice", e.body


def slots():
    return httpx.get(f"{ROOT}/health", headers=AUTH).json()["slots"]


def check_disconnect_cancels():
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}],
        "max_tokens": 2000,
        "temperature": 0,
        "stream": True,
    }
    with httpx.stream("POST", f"{URL}/chat/completions", headers=AUTH, json=body, timeout=60) as r:
        lines = r.iter_lines()
        for _ in range(6):
            next(lines)
        assert slots()["active"] >= 1, "the stream's slot is not busy while it streams"
    # The connection is closed: the engine frees the slot at once.
    deadline = time.time() + 5
    while slots()["active"] != 0:
        assert time.time() < deadline, f"the slot stayed busy after the client left: {slots()}"
        time.sleep(0.05)


def check_concurrent_streams():
    def one(i):
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Name a fruit. ({i})"}],
            max_tokens=12,
            temperature=0,
            stream=True,
        )
        text, finish = "", None
        for chunk in stream:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        return text, finish

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert all(finish in ("stop", "length") and text for text, finish in results), results


CHECKS = [v for k, v in list(globals().items()) if k.startswith("check_")]
only = sys.argv[1:]
failed = 0
for check in CHECKS:
    if only and check.__name__.removeprefix("check_") not in only:
        continue
    started = time.time()
    try:
        check()
        print(f"ok    {check.__name__} ({time.time() - started:.1f}s)", flush=True)
    except Exception:
        failed += 1
        print(f"FAIL  {check.__name__}\n{traceback.format_exc()}", flush=True)
sys.exit(failed)
