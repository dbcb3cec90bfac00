#!/usr/bin/env bash
# Builds llama.cpp's own tools — the anchors every Bantam benchmark is a ratio against —
# from the llama.cpp source the llama-cpp-sys-2 crate vendors (the version in Cargo.lock),
# so a ratio compares engines on one llama.cpp, not two versions.
#
#   scripts/anchor/build-llama-tools.sh [DIR] [extra cmake flags, e.g. -DGGML_CUDA=ON]
#
# DIR defaults to ~/.cache/bantam-anchor. Leaves DIR/llama.cpp/build/bin/{llama-bench,
# llama-batched-bench,llama-quantize} and DIR/vocab/ggml-vocab-llama-bpe.gguf (for
# make-random-llama.py). With EXTRA=1 also llama-server, llama-speculative(-simple),
# llama-lookup and llama-embedding. The crate ships llama.cpp's libraries but not the
# tools' sources, so those come from the PyPI sdist of llama-cpp-python (an older tree,
# TOOLS_FROM_VERSION); a tool whose older source does not compile against the crate's
# llama.cpp is built from the sdist's own tree instead, and DIR/llama.cpp/ANCHOR_VERSION
# says which. About 4 minutes on 2 cores; ~25 with EXTRA=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(realpath -m "${1:-$HOME/.cache/bantam-anchor}")
shift || true
tools_from=${TOOLS_FROM_VERSION:-0.3.36}
sys_version=$(sed -n '/^name = "llama-cpp-sys-2"$/{n;s/^version = "\(.*\)"$/\1/p}' "$root/Cargo.lock")
(cd "$root" && cargo fetch --locked >/dev/null)
sys_src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"llama-cpp-sys-2-$sys_version" | head -n1)
[[ -d $sys_src/llama.cpp ]] || { echo "no llama.cpp source in llama-cpp-sys-2 $sys_version" >&2; exit 1; }

mkdir -p "$dir"
cd "$dir"
sdist=sdist-$tools_from
if [[ ! -d $sdist ]]; then
    # Only this package from source; its build requirements are not needed (no build).
    python3 -m pip download -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$tools_from" -d .
    tar xzf "llama_cpp_python-$tools_from.tar.gz"
    mv "llama_cpp_python-$tools_from/vendor/llama.cpp" "$sdist"
    rm -rf "llama_cpp_python-$tools_from" "llama_cpp_python-$tools_from.tar.gz"
fi
mkdir -p vocab
cp "$sdist/models/ggml-vocab-llama-bpe.gguf" vocab/

# The crate's tree with the tools' sources added.
rm -rf llama.cpp
cp -r "$sys_src/llama.cpp" llama.cpp
cp -r "$sdist/tools/"{llama-bench,batched-bench,quantize} llama.cpp/tools/
printf '%s\n' 'find_package(Threads REQUIRED)' 'llama_add_compile_flags()' \
    'add_subdirectory(batched-bench)' 'add_subdirectory(llama-bench)' 'add_subdirectory(quantize)' \
    >llama.cpp/tools/CMakeLists.txt
echo "llama.cpp from llama-cpp-sys-2 $sys_version + tools from llama-cpp-python $tools_from" >llama.cpp/ANCHOR_VERSION

log=$dir/build.log
build() { # DIR TARGETS...: configure once, then each target; prints those that failed
    local tree=$1
    shift
    local failed=()
    for t in "$@"; do
        cmake --build "$tree/build" -j"$(nproc)" --target "$t" >>"$log" 2>&1 || failed+=("$t")
    done
    echo "${failed[*]}"
}
: >"$log"
cmake -S llama.cpp -B llama.cpp/build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF "$@" >>"$log" 2>&1
failed=$(build llama.cpp llama-bench llama-batched-bench llama-quantize)
[[ -z $failed ]] || { echo "could not build $failed (see $log)" >&2; exit 1; }

if [[ ${EXTRA:-0} == 1 ]]; then
    mkdir -p llama.cpp/examples-extra
    cp -r "$sdist/tools/server" llama.cpp/tools/
    cp -r "$sdist/examples/"{speculative,speculative-simple,lookup,embedding} llama.cpp/examples-extra/
    echo 'add_subdirectory(server)' >>llama.cpp/tools/CMakeLists.txt
    printf 'add_subdirectory(%s)\n' speculative speculative-simple lookup embedding >llama.cpp/examples-extra/CMakeLists.txt
    echo 'add_subdirectory(examples-extra)' >>llama.cpp/CMakeLists.txt
    cmake -S llama.cpp -B llama.cpp/build -DLLAMA_BUILD_SERVER=ON "$@" >>"$log" 2>&1 || true
    failed=$(build llama.cpp llama-server llama-speculative llama-speculative-simple llama-lookup llama-embedding)
    if [[ -n $failed ]]; then
        # The older tools' sources against the newer llama.cpp: build those from their own tree.
        cmake -S "$sdist" -B "$sdist/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
            -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON "$@" >>"$log" 2>&1
        # shellcheck disable=SC2086
        still=$(build "$sdist" $failed)
        [[ -z $still ]] || echo "could not build $still (see $log)" >&2
        echo "built from llama-cpp-python $tools_from's own llama.cpp ($dir/$sdist/build/bin, older than the crate's): $failed" \
            >>llama.cpp/ANCHOR_VERSION
    fi
fi
cat llama.cpp/ANCHOR_VERSION
