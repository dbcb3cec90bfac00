"""An agent's tool loop against an OpenAI-compatible server, scored: the model may call
tools (auto), each call is answered by a small local implementation, and the loop ends
when the model answers in words — right or wrong — or after MAX_ROUNDS.

    BANTAM_API_URL=http://127.0.0.1:PORT/v1 BANTAM_API_TOKEN=... python tool_loop.py [--json] [--limit N]

Tasks are Bantam's own (arithmetic, lookups, unit conversion, two steps); the tools'
answers are made up so a right answer needs the tool. Prints one line per task and a
summary; with --json the summary as JSON on the last line.
"""

import argparse
import json
import os
import re
import sys

import openai

MAX_ROUNDS = 6

WEATHER = {
    "paris": {"temperature_c": 18, "sky": "cloudy"},
    "tokyo": {"temperature_c": 24, "sky": "sunny"},
    "oslo": {"temperature_c": -3, "sky": "snow"},
    "lima": {"temperature_c": 20, "sky": "fog"},
    "cairo": {"temperature_c": 33, "sky": "sunny"},
}
TIMES = {"asia/tokyo": "14:30", "europe/london": "06:30", "america/new_york": "01:30", "europe/berlin": "07:30"}
POPULATION = {"iceland": 372520, "portugal": 10310000, "norway": 5550000}
RATES = {("usd", "eur"): 0.92, ("eur", "jpy"): 160.0, ("gbp", "usd"): 1.27}
UNITS = {
    ("km", "mi"): lambda v: v * 0.621371,
    ("kg", "lb"): lambda v: v * 2.20462,
    ("f", "c"): lambda v: (v - 32) * 5 / 9,
    ("c", "f"): lambda v: v * 9 / 5 + 32,
    ("m", "ft"): lambda v: v * 3.28084,
}
UNIT_NAMES = {
    "kilometers": "km", "kilometres": "km", "km": "km", "miles": "mi", "mile": "mi", "mi": "mi",
    "kilograms": "kg", "kg": "kg", "pounds": "lb", "lb": "lb", "lbs": "lb",
    "fahrenheit": "f", "f": "f", "celsius": "c", "c": "c", "meters": "m", "metres": "m", "m": "m",
    "feet": "ft", "ft": "ft", "foot": "ft",
}


def fn(name, description, properties, required):
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOLS = [
    fn("calculator", "Evaluates an arithmetic expression (+ - * / ** and parentheses).",
       {"expression": {"type": "string"}}, ["expression"]),
    fn("get_weather", "The current weather in a city: temperature in Celsius and the sky.",
       {"city": {"type": "string"}}, ["city"]),
    fn("get_time", "The current local time in an IANA time zone such as Europe/Paris.",
       {"timezone": {"type": "string"}}, ["timezone"]),
    fn("get_population", "The population of a country.", {"country": {"type": "string"}}, ["country"]),
    fn("exchange_rate", "How many units of currency `to` one unit of currency `from` buys (ISO codes).",
       {"from": {"type": "string"}, "to": {"type": "string"}}, ["from", "to"]),
    fn("convert_units", "Converts a value between units (km, mi, kg, lb, c, f, m, ft).",
       {"value": {"type": "number"}, "from_unit": {"type": "string"}, "to_unit": {"type": "string"}},
       ["value", "from_unit", "to_unit"]),
]


def run_tool(name, args):
    try:
        if name == "calculator":
            expr = str(args["expression"])
            if not set(expr) <= set("0123456789+-*/.() %"):
                return {"error": "only numbers and + - * / ( ) are allowed"}
            value = eval(expr.replace("%", "/100"), {"__builtins__": {}}, {})  # noqa: S307 (digits and operators only)
            return {"result": round(value, 4) if isinstance(value, float) else value}
        if name == "get_weather":
            w = WEATHER.get(str(args["city"]).strip().lower())
            return w or {"error": f"no weather for {args['city']}"}
        if name == "get_time":
            t = TIMES.get(str(args["timezone"]).strip().lower())
            return {"time": t} if t else {"error": f"unknown time zone {args['timezone']}"}
        if name == "get_population":
            p = POPULATION.get(str(args["country"]).strip().lower())
            return {"population": p} if p else {"error": f"no data for {args['country']}"}
        if name == "exchange_rate":
            r = RATES.get((str(args["from"]).lower(), str(args["to"]).lower()))
            return {"rate": r} if r else {"error": "no rate for that pair"}
        if name == "convert_units":
            a = UNIT_NAMES.get(str(args["from_unit"]).lower())
            b = UNIT_NAMES.get(str(args["to_unit"]).lower())
            f = UNITS.get((a, b))
            return {"result": round(f(float(args["value"])), 2), "unit": b} if f else {"error": "unsupported units"}
    except (KeyError, TypeError, ValueError, SyntaxError, ZeroDivisionError) as e:
        return {"error": str(e)}
    return {"error": f"no tool {name}"}


# (question, accepted answers: any of them in the final words, commas and spaces ignored)
TASKS = [
    ("What is 17 times 23?", ["391"]),
    ("What is 1234 plus 5678?", ["6912"]),
    ("What is 144 divided by 12?", ["12"]),
    ("What is 2 to the power of 10?", ["1024"]),
    ("What is 15% of 80?", ["12"]),
    ("What's the weather in Paris right now?", ["18"]),
    ("Is it snowing in Oslo right now?", ["snow"]),
    ("What is the temperature in Cairo right now?", ["33"]),
    ("What time is it in Tokyo?", ["14:30", "2:30"]),
    ("What time is it in London?", ["06:30", "6:30"]),
    ("What is the population of Iceland?", ["372520", "372,520"]),
    ("How many people live in Norway?", ["5550000", "5.55million"]),
    ("Convert 10 kilometers to miles.", ["6.21"]),
    ("How many pounds is 5 kg?", ["11.02"]),
    ("Convert 3 meters to feet.", ["9.84"]),
    ("What is 100 Fahrenheit in Celsius?", ["37.78", "37.8"]),
    ("How many euros do I get for 50 US dollars today?", ["46"]),
    ("How many yen is 200 euros at today's rate?", ["32000"]),
    ("What is the temperature in Tokyo right now, in Fahrenheit?", ["75.2"]),
    ("What is the population of Portugal, doubled?", ["20620000", "20.62million"]),
    ("What is the sum of the current temperatures in Paris and Lima?", ["38"]),
    ("How many US dollars is 10 British pounds today?", ["12.7"]),
]


def normal(text):
    text = re.sub(r"(?<=\d)[,\u202f](?=\d{3})", "", text.lower())
    return text.replace(" ", "")


def numbers(text):
    return [float(n) for n in re.findall(r"(?<![\d.])\d+(?:\.\d+)?", normal(text))]


def is_right(text, accepted):
    """An accepted answer, in words: tool markup or a JSON object echoed back is not one.
    A number must appear as a whole number (55,500,000 is not 5,550,000; 12.0 is 12)."""
    t = text.strip()
    if "<tool_" in t or t.startswith("{") or t.startswith("```"):
        return False
    for a in accepted:
        if re.fullmatch(r"\d+(\.\d+)?", a):
            if float(a) in numbers(t):
                return True
        elif re.search(r"(?<![\d.])" + re.escape(normal(a)) + r"(?![\d])", normal(t)):
            return True
    return False


def run_task(client, model, question, accepted):
    messages = [{"role": "user", "content": question}]
    calls_seen = []
    for round_ in range(1, MAX_ROUNDS + 1):
        r = client.chat.completions.create(
            model=model, messages=messages, tools=TOOLS, tool_choice="auto", temperature=0, max_tokens=200
        )
        message = r.choices[0].message
        if not message.tool_calls:
            text = message.content or ""
            right = is_right(text, accepted)
            return {"outcome": "right" if right else "wrong", "rounds": round_, "answer": text, "calls": calls_seen}
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            try:
                args = json.loads(call.function.arguments)
            except json.JSONDecodeError:
                args = {}
            calls_seen.append([call.function.name, args])
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(run_tool(call.function.name, args))}
            )
    return {"outcome": "looped", "rounds": MAX_ROUNDS, "answer": "", "calls": calls_seen}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=len(TASKS))
    o = parser.parse_args()
    client = openai.OpenAI(
        base_url=os.environ["BANTAM_API_URL"], api_key=os.environ["BANTAM_API_TOKEN"], max_retries=0, timeout=600
    )
    model = client.models.list().data[0].id
    results = []
    for question, accepted in TASKS[: o.limit]:
        res = run_task(client, model, question, accepted)
        results.append(res)
        print(f"{res['outcome']:<7} {res['rounds']} rounds  {question}  calls={res['calls']}  answer={res['answer'][:100]!r}",
              flush=True)
    n = len(results)
    counts = {k: sum(r["outcome"] == k for r in results) for k in ("right", "wrong", "looped")}
    summary = {"model": model, "tasks": n, **counts, "right_share": round(counts["right"] / n, 3) if n else 0.0}
    print(json.dumps(summary) if o.json else f"{model}: {counts['right']}/{n} right, {counts['looped']} looped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
