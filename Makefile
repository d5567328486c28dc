# lakeml build verbs. The real work lives in CMake (build/) and scripts/.
#   make          configure (Ninja, Release at -O2, -Werror) and build into build/
#   make test     scripts/test.sh: unit, REST (SQLite + PostgreSQL) and npm suites
#   make bench    scripts/bench.sh (benchmarks in bench/)
#   make format   clang-format -i over src/ tests/ bench/
#   make tidy     clang-tidy over src/ with build/compile_commands.json
#   make deps     scripts/install-deps.sh (Debian bookworm packages + npm ci)
#   make run      build, then `lakeml server` on 127.0.0.1:5000 with ./lakeml-data
#   make clean    remove build/ and build-asan/

BUILD_DIR  ?= build
BUILD_TYPE ?= Release
JOBS       ?= 2
CMAKE_ARGS ?=
RUN_ARGS   ?= --host 127.0.0.1 --port 5000 --data ./lakeml-data

CXX_SOURCES = $(shell find src tests bench -type f \( -name '*.cc' -o -name '*.h' \) \
                -not -path '*/node_modules/*' 2>/dev/null)

.PHONY: all build configure test bench format tidy deps run clean check-layers

all: build

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DLAKEML_WERROR=ON \
	  "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" $(CMAKE_ARGS)

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test:
	scripts/test.sh

bench: build
	@if [ -x scripts/bench.sh ]; then scripts/bench.sh; \
	else echo "make bench: scripts/bench.sh does not exist yet (see bench/README.md)"; fi

format:
	clang-format -i $(CXX_SOURCES)

tidy: configure
	clang-tidy -p $(BUILD_DIR) --quiet $(filter %.cc,$(filter src/%,$(CXX_SOURCES)))

check-layers:
	scripts/check-layers.sh

deps:
	scripts/install-deps.sh

run: build
	$(BUILD_DIR)/bin/lakeml server $(RUN_ARGS)

clean:
	rm -rf $(BUILD_DIR) build-asan
