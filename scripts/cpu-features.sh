# Sourced by start.sh and test.sh. llama-cpp-sys-2 builds llama.cpp for the baseline
# x86-64 CPU (SSE2) unless Rust itself targets a newer one, which leaves prefill of
# K-quant models at about half of llama.cpp's own speed (docs/performance.md). Bantam is
# built where it runs, so turn on the SIMD this CPU has; the crate forwards GGML_* from
# the environment to CMake and rebuilds llama.cpp when they change.
if [[ -r /proc/cpuinfo && $(uname -m) == x86_64 ]]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    for pair in sse4_2:SSE42 avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI \
        avx512f:AVX512 avx512_vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
        # Every flag set, ON or OFF: llama-cpp-sys-2 rebuilds llama.cpp only when a
        # variable it saw at the last build changes, so one missing then (a build cached on
        # another CPU) would never turn on.
        if [[ $flags == *" ${pair%%:*} "* ]]; then
            export "GGML_${pair##*:}=ON"
        else
            export "GGML_${pair##*:}=OFF"
        fi
    done
fi
