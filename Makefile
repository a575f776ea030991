# termscope — build, test, run.
#
#   make run     install what is missing, build, open termscope
#   make test    install what is missing, build with ASan+UBSan, run every test
#   make bench   benchmarks (figures printed, nothing asserted about wall time)
#   make fuzz    libFuzzer on the wire decoder (clang)
#
# Build outputs go to build/ and ./termscope; nothing else in the tree is written.

CC      ?= cc
PKGS    := libuv lua5.4 ncursesw jansson zlib
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CSTD    := -std=c11 -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_REL  := -O2 -g $(CSTD) $(WARN)
CFLAGS_SAN  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined $(CSTD) $(WARN)
LDFLAGS_SAN := -fsanitize=address,undefined

CORE_SRC   := $(wildcard src/core/*.c) $(wildcard src/wire/*.c) $(wildcard src/store/*.c)
APP_SRC    := $(wildcard src/node/*.c) $(wildcard src/hub/*.c) $(wildcard src/script/*.c) \
              $(wildcard src/tui/*.c) $(wildcard src/gateway/*.c) src/main.c
UNIT_SRC   := $(wildcard tests/unit/*.c)
HEADERS    := $(wildcard src/*/*.h) src/version.h

LUA_SRC  := $(filter-out %.d.lua,$(wildcard lua/*.lua)) $(wildcard lua/apps/*.lua) $(wildcard lessons/*.lua)
REL_OBJ  := $(patsubst %.c,build/rel/%.o,$(CORE_SRC) $(APP_SRC)) build/rel/gen/embed.o
SAN_OBJ  := $(patsubst %.c,build/san/%.o,$(CORE_SRC) $(APP_SRC)) build/san/gen/embed.o
SAN_CORE := $(patsubst %.c,build/san/%.o,$(CORE_SRC))
# pure parts of the application the unit tests link too
UNIT_APP := build/san/src/gateway/resp_parse.o build/san/src/hub/proxy.o build/san/src/hub/etcd_http.o
UNIT_OBJ := $(patsubst %.c,build/san/%.o,$(UNIT_SRC))

.PHONY: all build run test unit bench fuzz deps deps-etcd clean check-deps
all: build
build: check-deps termscope

# ---- dependencies -------------------------------------------------------
# Debian packages the build, the tests and the screen tests need.
DEB_PKGS := build-essential pkg-config libuv1-dev liblua5.4-dev libncurses-dev \
            libjansson-dev zlib1g-dev libcriterion-dev tmux redis-tools
deps:
	@sh tests/tools/deps.sh $(DEB_PKGS)
# etcd, for kind etcd and its tests: wanted, not required (they say "skip"
# where it cannot be installed)
deps-etcd:
	@sh tests/tools/deps.sh etcd-server etcd-client || \
	  echo "termscope: etcd could not be installed: the etcd tests will be skipped"
check-deps:
	@pkg-config --exists $(PKGS) || { echo "termscope: missing libraries; run 'make deps' (or 'make run' / 'make test', which install them)"; exit 1; }

# ---- the program --------------------------------------------------------
termscope: $(REL_OBJ)
	$(CC) -o $@ $^ $(PKG_LIBS) -lm
build/rel/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) $(PKG_CFLAGS) -c -o $@ $<

build/san/termscope: $(SAN_OBJ)
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS) -lm
build/san/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) $(PKG_CFLAGS) -c -o $@ $<

build/san/unit: $(UNIT_OBJ) $(SAN_CORE) $(UNIT_APP)
	$(CC) $(LDFLAGS_SAN) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs criterion) -lm

build/san/fuzz_replay: tests/fuzz/fuzz_wire.c tests/fuzz/replay.c $(SAN_CORE)
	$(CC) $(CFLAGS_SAN) $(PKG_CFLAGS) -o $@ $^ $(PKG_LIBS) -lm

src/version.h: ;

# lua/*.lua compiled into the binary (see src/script/embed.h)
build/gen/embed.c: $(LUA_SRC) tests/tools/embed.sh
	@mkdir -p $(dir $@)
	sh tests/tools/embed.sh $(LUA_SRC) > $@.tmp && mv $@.tmp $@
build/rel/gen/embed.o: build/gen/embed.c src/script/embed.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -Isrc/script -c -o $@ $<
build/san/gen/embed.o: build/gen/embed.c src/script/embed.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) -Isrc/script -c -o $@ $<

# ---- run, test, bench, fuzz --------------------------------------------
run: deps build
	./termscope

test: deps deps-etcd check-deps build build/san/termscope build/san/unit build/san/fuzz_replay
	@TERMSCOPE=build/san/termscope sh tests/run.sh

unit: check-deps build/san/unit
	build/san/unit

bench: deps check-deps build
	@TERMSCOPE=./termscope sh tests/bench/run.sh

# the checker on large generated histories (tests/bench/run.sh builds it)
build/bench/lincheck: tests/bench/lincheck.c src/core/lincheck.c src/core/lincheck.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -o $@ tests/bench/lincheck.c src/core/lincheck.c

# the closed-loop load generator of the etcd/Redis comparison (tests/bench/compare.sh)
build/bench/loadgen: tests/bench/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) $(shell pkg-config --cflags libuv) -o $@ $< $(shell pkg-config --libs libuv)

fuzz: check-deps
	@command -v clang >/dev/null || sh tests/tools/deps.sh clang
	@mkdir -p build/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(CSTD) $(PKG_CFLAGS) \
	  -o build/fuzz/fuzz_wire tests/fuzz/fuzz_wire.c $(filter src/wire/% src/core/%,$(CORE_SRC)) $(PKG_LIBS) -lm
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_wire -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus tests/fuzz/corpus

clean:
	rm -rf build termscope
