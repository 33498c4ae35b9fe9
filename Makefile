# uetcd front door. `make run` builds and starts the server; `make test` builds and runs
# every test. Both install missing Debian packages first (when run as root).
BUILD ?= build
NINJA_JOBS ?= 2
# Packages the build and the tests need (docs/dependencies.md says why).
DEB_PACKAGES := g++ meson ninja-build pkg-config liburing-dev libsimdjson-dev libssl-dev \
	libcrypt-dev libxxhash-dev catch2 libbenchmark-dev etcd-server etcd-client curl nodejs openssl \
	python3
DEB_BENCH := wrk nginx-light
DEB_FUZZ := clang libclang-rt-14-dev

MESON_FLAGS := --buildtype=release
ifeq ($(CI),true)
MESON_FLAGS += -Dwerror=true
endif

.PHONY: all deps build run test bench fuzz soak clean

all: build

deps:
	@sh scripts/install-deps.sh $(DEB_PACKAGES)

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(NINJA_JOBS)

# Starts the server as `etcd` with no flags would: one member in ./default.etcd.
run: build
	./$(BUILD)/etcd

test: build
	@sh scripts/install-node-deps.sh
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

bench: build
	@sh scripts/install-deps.sh $(DEB_BENCH)
	./$(BUILD)/bench/micro/uetcd-micro-bench
	bash bench/load/run.sh $(BUILD)

fuzz:
	@sh scripts/install-deps.sh $(DEB_PACKAGES) $(DEB_FUZZ)
	bash tests/fuzz/run.sh $(or $(FUZZ_SECONDS),600)

# The long runs that do not fit in CI: 100,000 raft simulation seeds.
soak: build
	bash tests/sim/soak.sh $(BUILD)
	$(BUILD)/tests/unit/wal/wal-power-loss --seeds=10000
	UETCD_CRASH_CYCLES=$${CRASH_CYCLES:-500} $(BUILD)/tests/durability/durability-crash

clean:
	rm -rf $(BUILD)
