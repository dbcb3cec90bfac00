"""An OpenAI-compatible chat endpoint on another stack than Bantam's: Starlette under
uvicorn, its events framed by sse-starlette (the stack of llama-cpp-python's server),
which ends every line with CRLF, sends `id:` lines and `: ping` comments between events.
It answers a question by repeating it ("You said: …") in small pieces, so a test knows
every word that must arrive; a question containing [cut] is cut off mid-answer without
[DONE], and a wrong key gets OpenAI's 401.

    python starlette_server.py KEY   # prints "listening on http://127.0.0.1:PORT/v1"
"""

import asyncio
import json
import socket
import sys
import time

import uvicorn
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = sys.argv[1]
MODEL = "relay-1"


def refused(request):
    if request.headers.get("authorization") != f"Bearer {KEY}":
        error = {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}
        return JSONResponse({"error": error}, status_code=401)
    return None


async def models(request):
    return refused(request) or JSONResponse({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


def chunk(delta, finish=None):
    return json.dumps({
        "id": "chatcmpl-relay", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    })


async def chat(request):
    if (no := refused(request)) is not None:
        return no
    body = await request.json()
    question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    answer = f"You said: {question}"
    pieces = [answer[i:i + 3] for i in range(0, len(answer), 3)]
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    if not body.get("stream"):
        return JSONResponse({
            "id": "chatcmpl-relay", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer[: 3 * limit] if limit else answer},
                         "finish_reason": "length" if limit and limit < len(pieces) else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": len(pieces), "total_tokens": len(pieces) + 1},
        })

    async def events():
        yield {"data": chunk({"role": "assistant", "content": ""}), "id": "0"}
        for i, piece in enumerate(pieces, 1):
            if "[cut]" in question and i > len(pieces) // 2:
                raise ConnectionResetError("cut on purpose")
            await asyncio.sleep(0.005)
            yield {"data": chunk({"content": piece}), "id": str(i)}
        yield {"data": chunk({}, "stop")}
        yield {"data": "[DONE]"}

    return EventSourceResponse(events(), ping=0.01)


app = Starlette(routes=[Route("/v1/models", models), Route("/v1/chat/completions", chat, methods=["POST"])])

if __name__ == "__main__":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    config = uvicorn.Config(app, log_level="critical")
    uvicorn.Server(config).run(sockets=[sock])
