#!/usr/bin/env bash
# Prints the path of llama.cpp's llama-server, building it once when it is missing (about
# 12 minutes on 2 cores): the remote tier's tests talk to it as a server nobody here
# wrote. Built from the llama.cpp that llama-cpp-python's PyPI sdist vendors (its server
# sources do not compile against the crate's newer llama.cpp), in the same cache as
# build-llama-tools.sh, which builds it the same way with EXTRA=1.
#
#   scripts/anchor/llama-server.sh [DIR]    # DIR defaults to ~/.cache/bantam-anchor
set -euo pipefail
dir=$(realpath -m "${1:-$HOME/.cache/bantam-anchor}")
tools_from=${TOOLS_FROM_VERSION:-0.3.36}
sdist=$dir/sdist-$tools_from
bin=$sdist/build/bin/llama-server
if [[ ! -x $bin ]]; then
    mkdir -p "$dir"
    if [[ ! -d $sdist ]]; then
        tmp=$(mktemp -d)
        python3 -m pip download -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$tools_from" -d "$tmp" >&2
        tar xzf "$tmp/llama_cpp_python-$tools_from.tar.gz" -C "$tmp"
        mv "$tmp/llama_cpp_python-$tools_from/vendor/llama.cpp" "$sdist"
        rm -rf "$tmp"
    fi
    log=$dir/llama-server-build.log
    echo "building llama-server from llama-cpp-python $tools_from's llama.cpp (log: $log)" >&2
    cmake -S "$sdist" -B "$sdist/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
        -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON >"$log" 2>&1 ||
        { echo "llama-server: cmake failed (see $log)" >&2; exit 1; }
    cmake --build "$sdist/build" -j"$(nproc)" --target llama-server >>"$log" 2>&1 ||
        { echo "llama-server did not build (see $log)" >&2; exit 1; }
fi
echo "$bin"
