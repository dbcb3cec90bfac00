#!/usr/bin/env bash
# The official `openai` Python client (and httpx for raw requests) in a venv cached
# outside the clone, for the API's tests (tests/api/openai_client.py), with Starlette,
# sse-starlette and uvicorn for the remote tier's peer on another stack
# (tests/peers/starlette_server.py). Prints its python.
#   cache: $BANTAM_TOOLS, else ~/.cache/bantam-tools
set -euo pipefail
version=3.57.0
venv=${BANTAM_TOOLS:-$HOME/.cache/bantam-tools}/openai-venv
if ! "$venv/bin/python" -c "import openai, httpx, sse_starlette, starlette, uvicorn, sys; sys.exit(openai.__version__ != '$version')" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openai==$version" "httpx==0.29.0" \
        "starlette==1.10.0" "sse-starlette==3.7.1" "uvicorn==0.55.0" >&2
fi
echo "$venv/bin/python"
