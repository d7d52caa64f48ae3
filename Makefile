# The two commands of the README:
#   make demo   installs what is missing, builds, labels and verifies samples/
#   make check  installs what is missing, builds, runs every test, then again under ASan+UBSan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE_FLAGS ?=

.PHONY: all deps build demo check test asan fuzz bench install clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAIMARK_SANITIZE=ON -DAIMARK_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) -j$(JOBS) --output-on-failure

check: test asan

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DAIMARK_FUZZ=ON -DAIMARK_SANITIZE=ON -DAIMARK_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j$(JOBS)
	@echo "fuzzers are in $(FUZZ_BUILD)/fuzz/fuzz_*; run e.g. $(FUZZ_BUILD)/fuzz/fuzz_jpeg fuzz/corpora/jpeg"

bench: build
	@bash bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
