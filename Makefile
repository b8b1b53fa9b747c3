# searchd: `make run` to try it, `make test` to check it. Both install what is missing first.
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
# What `make install` builds and installs; the systemd tests install the debug build.
CONFIG ?= release
BINDIR = $(DESTDIR)$(PREFIX)/bin
# /usr/local/lib/systemd/system is on systemd's unit search path.
UNITDIR = $(DESTDIR)$(PREFIX)/lib/systemd/system
MANDIR = $(DESTDIR)$(PREFIX)/share/man
SHAREDIR = $(DESTDIR)$(PREFIX)/share
# The service reads /etc/searchd (its ConfigurationDirectory=) whatever the prefix.
CONFDIR = $(DESTDIR)/etc/searchd
ZSHDIR = $(SHAREDIR)/zsh/site-functions
# Extra build flags for the binaries `make install` installs (`make deb` links the Swift
# runtime in); the manual pages come from the debug build, whose help text is the same and
# which `make test` has already built.
BIN_FLAGS ?=
BIN_PATH = $$($(SWIFT) build -c $(CONFIG) $(BIN_FLAGS) --show-bin-path)
# The .deb's binaries: the Swift runtime linked in, in their own scratch path so the usual
# builds are not relinked. `make allocs` counts these, the binaries users run.
STATIC_FLAGS = --static-swift-stdlib --scratch-path .build-static -Xlinker -z -Xlinker now
# The release, read by the binaries (through the VersionStamp build plugin) and the package.
VERSION := $(shell cat VERSION)

# Debian packages the build and the tests need beyond a Swift toolchain.
# sudo, curl and python3-venv: the docs' shell blocks are run as written (DocTests).
APT_PACKAGES = libsystemd-dev libssl-dev liburing-dev pkg-config python3 gcc openssl tshark debhelper lintian \
  haproxy prometheus sudo curl python3-venv
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SHELL := /bin/bash

# Runs a test command with its output kept in .build/NAME.log; on failure the failing
# tests are repeated last, because a CI log shows only its tail.
define suite
	@mkdir -p .build; set -o pipefail; { $(2); } 2>&1 | tee .build/$(1).log || { \
	  echo "=== $(1): failures ==="; grep -E -A1 '✘ Test .*(recorded an issue|failed)|error:|Fatal' .build/$(1).log | head -60; exit 1; }
endef

.PHONY: all deps pydeps build release run test lint format install uninstall clean fuzz sanitize soak allocs bench deb \
  python-client

all: build

# apt-get update runs once, and only when something is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Python tools the client package is checked and built with, from PyPI when missing.
PIP_TOOLS = ruff mypy build pytest
pydeps:
	@python3 -c "import ruff, mypy, build, pytest" 2>/dev/null || python3 -m pip install -q $(PIP_TOOLS)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Foreground, built-in index, the app protocol on 127.0.0.1:65432 and echo on :65433. Ctrl-C stops it.
run: build
	@echo "searchctl: $$($(SWIFT) build --show-bin-path)/searchctl search morpheus  (in another terminal)"
	$$($(SWIFT) build --show-bin-path)/searchd --listen 127.0.0.1:65432 --echo-listen 127.0.0.1:65433

# The systemd end-to-end tests boot a throwaway systemd with this install tree laid over /.
SYSTEMD_TREE = $(CURDIR)/.build/systemd-tree

# Then a short fuzzing run (its corpus feeds the parser differential test), the Debian
# package (installed by the systemd suite into a sandbox without the toolchain), the suite,
# the suite again under ASan and TSan, and the release build's allocations per search hit.
test: deps pydeps lint
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory python-client
	rm -rf $(SYSTEMD_TREE)
	$(MAKE) --no-print-directory install DESTDIR=$(SYSTEMD_TREE) CONFIG=debug >/dev/null
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	$(MAKE) --no-print-directory deb
	@rm -f .build/sanitize-build.rc; { $(SANITIZE_BUILDS); echo $$? > .build/sanitize-build.rc; } \
	  > .build/sanitize-build.log 2>&1 & echo $$! > .build/sanitize-build.pid
	$(call suite,test,SEARCHD_SYSTEMD_TREE=$(SYSTEMD_TREE) SEARCHD_DEB=$(CURDIR)/$(DEB) \
	  FUZZ_CORPUS=$(CURDIR)/.build/fuzz-corpus $(SWIFT) test --skip-build)
	@while kill -0 $$(cat .build/sanitize-build.pid) 2>/dev/null; do sleep 1; done; \
	  [ "$$(cat .build/sanitize-build.rc 2>/dev/null)" = 0 ] || \
	  { echo "=== the sanitizer builds failed ==="; tail -60 .build/sanitize-build.log; exit 1; }
	$(MAKE) --no-print-directory sanitize
	$(MAKE) --no-print-directory allocs

# The .deb's release build answers search hits, misses and binary requests (100 bytes and 4 KiB, one
# and 16 in flight) without allocating: counted with an LD_PRELOAD malloc counter over
# 100,000 requests each (50,000 over TLS), and failed above 0.05 allocations per request for
# any of them (today's worst is 0.0015 a request, far above what 100,000 resolve).
allocs: deps
	SEARCHD_BUILD_FLAGS="$(STATIC_FLAGS)" python3 Benchmarks/bench.py allocs --max 0.05 --requests 100000

# The benchmark matrix against the C server, SwiftNIO, Redis and Python, written to
# BENCHMARKS.md. BENCH_SECONDS per run, BENCH_RUNS runs per figure.
BENCH_SECONDS ?= 5
BENCH_RUNS ?= 3
bench: deps
	@command -v redis-benchmark >/dev/null || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }
	@python3 -c "import redis" 2>/dev/null || python3 -m pip install -q redis
	@[ -e /usr/share/dict/american-english-huge ] && ls /usr/share/postgresql/*/extension/pg_trgm.control \
	  >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq wamerican-huge postgresql postgresql-contrib; }
	@python3 -c "import psycopg2" 2>/dev/null || python3 -m pip install -q psycopg2-binary
	python3 Benchmarks/bench.py all --seconds $(BENCH_SECONDS) --runs $(BENCH_RUNS)

# libFuzzer on the frame codec, the index file format and the PROXY header (Fuzz/ is its
# own package), FUZZ_SECONDS each, 60 by default; new interesting inputs stay in
# .build/*fuzz-corpus, crashes in Fuzz/ as crash-*.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
fuzz: deps
	cd Fuzz && $(SWIFT) build $(FUZZ_FLAGS) --product FrameFuzz \
	  && $(SWIFT) build $(FUZZ_FLAGS) --product IndexFuzz && $(SWIFT) build $(FUZZ_FLAGS) --product ProxyFuzz
	mkdir -p .build/fuzz-corpus .build/index-fuzz-corpus .build/proxy-fuzz-corpus
	cd Fuzz && SWIFT_BACKTRACE=enable=no .build/release/FrameFuzz -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=4096 -dict=frame.dict -print_final_stats=1 ../.build/fuzz-corpus corpus
	cd Fuzz && SWIFT_BACKTRACE=enable=no .build/release/IndexFuzz -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=8192 -print_final_stats=1 ../.build/index-fuzz-corpus index-corpus
	cd Fuzz && SWIFT_BACKTRACE=enable=no .build/release/ProxyFuzz -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=600 -print_final_stats=1 ../.build/proxy-fuzz-corpus proxy-corpus

# The whole suite under AddressSanitizer and under ThreadSanitizer, daemon and searchctl
# included. The ASan run's daemons wait on io_uring (SEARCHD_TEST_IO_BACKEND), the plain and
# TSan runs' on epoll, the default: each backend runs every suite once, at no extra time. ASan checks memory errors; its leak checker stays off because Foundation and
# the Swift runtime leave reachable-looking blocks at exit (tagged pointers) that it
# reports as leaks: leaks are gated by the fd and RSS checks of the plain run instead.
# The systemd suite runs once, in the plain build, and so does the fd-exhaustion test: a
# sanitizer's runtime needs descriptors of its own, so `prlimit --nofile=64` starves it.
# So does the fleet suite: HAProxy and three replicas under 20 s of load add no daemon code
# path the other suites do not run, and instrumented they held both cores for the
# sanitizer runs' last minute (make test must stay within 25 minutes on 2 cores).
SANITIZE_SKIP = --skip SystemdTests --skip FleetTests --skip descriptorExhaustionIsShedWithoutSpinning
# Two rounds of 500 TLS handshakes by an instrumented client against an instrumented
# daemon take both cores for minutes under TSan, and other suites then miss their time
# limits; the plain and ASan runs keep it.
TSAN_SKIP = --skip fiveHundredConcurrentHandshakesWhileABystanderIsServed
ASAN_FLAGS = --scratch-path .build-asan --sanitize=address --disable-xctest -Xswiftc -use-ld=lld
TSAN_FLAGS = --scratch-path .build-tsan --sanitize=thread --disable-xctest -Xswiftc -use-ld=lld
# `make test` builds both trees while the plain suite runs, which mostly waits on daemons,
# systemd and timeouts: at the lowest priority, so the tests keep the CPU they ask for.
SANITIZE_BUILDS = nice -n 19 $(SWIFT) build --build-tests $(ASAN_FLAGS) \
  && nice -n 19 $(SWIFT) build --build-tests $(TSAN_FLAGS)
sanitize: deps
	$(call suite,asan,SWIFT_BACKTRACE=enable=no \
	  ASAN_OPTIONS=detect_leaks=0:suppressions=$(CURDIR)/Tests/asan-suppressions.txt SEARCHD_SANITIZER=address \
	  SEARCHD_TEST_IO_BACKEND=io_uring \
	  $(SWIFT) test $(ASAN_FLAGS) $(SANITIZE_SKIP))
	$(call suite,tsan,SWIFT_BACKTRACE=enable=no TSAN_OPTIONS=halt_on_error=1 SEARCHD_SANITIZER=thread \
	  $(SWIFT) test $(TSAN_FLAGS) $(SANITIZE_SKIP) $(TSAN_SKIP))

# Five minutes of mixed load (keep-alive, per-connection, bad input, slow, resets, echo)
# on a release build, then checks no fd, connection or memory leaked. Not part of `make test`.
SOAK_SECONDS ?= 300
soak: release
	python3 Tests/Soak/soak.py $$($(SWIFT) build -c release --show-bin-path)/searchd $(SOAK_SECONDS)

# Python written for the tests (the tutorial's own client and server stay as the tutorial wrote them).
TEST_HELPERS = Tests/IntegrationTests/Python/without_io_uring.py
lint: pydeps
	swift-format lint --strict --recursive Package.swift Sources Tests
	cd clients/python && python3 -m ruff check . && python3 -m ruff format --check . && python3 -m mypy src tests
	python3 -m ruff check docs/man && python3 -m ruff format --check docs/man && python3 -m mypy --strict docs/man
	python3 -m ruff check $(TEST_HELPERS) && python3 -m ruff format --check $(TEST_HELPERS) && \
	  python3 -m mypy --strict $(TEST_HELPERS)

# The Python client against the debug build's searchd and the tutorial's server, and its wheel.
python-client: pydeps
	cd clients/python && SEARCHD_BIN=$(CURDIR)/.build/debug/searchd PYTHONPATH=src python3 -m pytest -q -p no:cacheprovider
	cd clients/python && python3 -m build --wheel --outdir $(CURDIR)/.build/python-dist . >/dev/null

format: pydeps
	swift-format format --in-place --recursive Package.swift Sources Tests
	cd clients/python && python3 -m ruff format . && python3 -m ruff check --fix .
	python3 -m ruff format docs/man && python3 -m ruff check --fix docs/man
	python3 -m ruff format $(TEST_HELPERS) && python3 -m ruff check --fix $(TEST_HELPERS)

install: deps
	$(SWIFT) build -c $(CONFIG) $(BIN_FLAGS)
	install -d $(BINDIR) $(UNITDIR) $(CONFDIR) $(MANDIR)/man1 $(MANDIR)/man8 $(SHAREDIR)/searchd/wireshark \
	  $(SHAREDIR)/bash-completion/completions $(ZSHDIR) $(SHAREDIR)/fish/vendor_completions.d
	install -m 644 contrib/wireshark/searchd.lua $(SHAREDIR)/searchd/wireshark/
	install -m 755 $(BIN_PATH)/searchd $(BIN_PATH)/searchctl $(BIN_PATH)/searchd-index $(BINDIR)/
	for unit in systemd/searchd.service deploy/searchd@.service; do \
	  sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' $$unit > $(UNITDIR)/$$(basename $$unit); \
	done
	install -m 644 systemd/searchd.socket systemd/searchd-echo.socket systemd/searchd-tls.socket \
	  systemd/searchd-proxy.socket systemd/searchd-admin.socket $(UNITDIR)/
	# An admin's edited config is never overwritten.
	[ -e $(CONFDIR)/searchd.conf ] || install -m 644 systemd/searchd.conf $(CONFDIR)/searchd.conf
	# The generated pages, finished by docs/man/finish_page.py (our EXIT STATUS, FILES, EXAMPLES, SEE ALSO).
	$(SWIFT) package plugin generate-manual --configuration debug --section 8 >/dev/null
	python3 docs/man/finish_page.py .build/plugins/GenerateManual/outputs/searchd/searchd.8 docs/man/searchd.8.in \
	  > $(MANDIR)/man8/searchd.8
	$(SWIFT) package plugin generate-manual --configuration debug --section 1 >/dev/null
	for page in searchctl searchd-index; do \
	  python3 docs/man/finish_page.py .build/plugins/GenerateManual/outputs/$$page/$$page.1 docs/man/$$page.1.in \
	    > $(MANDIR)/man1/$$page.1; \
	done
	for tool in searchd searchctl searchd-index; do \
	  $(BIN_PATH)/$$tool --generate-completion-script bash | sed '1{/^#!/d}' \
	    > $(SHAREDIR)/bash-completion/completions/$$tool; \
	  $(BIN_PATH)/$$tool --generate-completion-script zsh > $(ZSHDIR)/_$$tool; \
	  $(BIN_PATH)/$$tool --generate-completion-script fish > $(SHAREDIR)/fish/vendor_completions.d/$$tool.fish; \
	done

# Leaves /etc/searchd/searchd.conf, as Debian keeps conffiles until a purge.
uninstall:
	rm -f $(BINDIR)/searchd $(BINDIR)/searchctl $(BINDIR)/searchd-index
	rm -f $(UNITDIR)/searchd.service $(UNITDIR)/searchd.socket $(UNITDIR)/searchd-echo.socket \
	  $(UNITDIR)/searchd-tls.socket $(UNITDIR)/searchd-proxy.socket $(UNITDIR)/searchd-admin.socket \
	  $(UNITDIR)/searchd@.service
	rm -f $(MANDIR)/man8/searchd.8 $(MANDIR)/man1/searchctl.1 $(MANDIR)/man1/searchd-index.1
	rm -rf $(SHAREDIR)/searchd/wireshark
	for tool in searchd searchctl searchd-index; do \
	  rm -f $(SHAREDIR)/bash-completion/completions/$$tool $(ZSHDIR)/_$$tool \
	    $(SHAREDIR)/fish/vendor_completions.d/$$tool.fish; \
	done

# searchd_VERSION_ARCH.deb in .build/deb: the binaries built with STATIC_FLAGS, staged by `make install` with
# Debian's paths, packaged by debhelper from deploy/debian, then checked by lintian, whose
# errors fail the build (the warnings kept, and why: deploy/debian/README.md).
DEB_DIR = .build/deb
DEB = $(DEB_DIR)/searchd_$(VERSION)_$(shell dpkg --print-architecture).deb
DEB_STAGE = $(CURDIR)/$(DEB_DIR)/src/stage
deb: deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(MAKE) --no-print-directory install DESTDIR=$(DEB_STAGE) PREFIX=/usr CONFIG=release \
	  BIN_FLAGS="$(STATIC_FLAGS)" \
	  UNITDIR=$(DEB_STAGE)/lib/systemd/system ZSHDIR=$(DEB_STAGE)/usr/share/zsh/vendor-completions >/dev/null
	cp -r deploy/debian $(DEB_DIR)/src/debian
	rm $(DEB_DIR)/src/debian/README.md
	# The changelog's version is VERSION's, dated by the last commit so a rebuild is identical.
	printf 'searchd (%s) bookworm; urgency=medium\n\n  * Release %s (README.md says what it does).\n\n -- %s  %s\n' \
	  "$(VERSION)" "$(VERSION)" "$$(sed -n 's/^Maintainer: //p' deploy/debian/control)" \
	  "$$(date -R -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s))" > $(DEB_DIR)/src/debian/changelog
	cd $(DEB_DIR)/src && dpkg-buildpackage --build=binary --no-sign --no-check-builddeps >../build.log 2>&1 || \
	  { tail -40 ../build.log; exit 1; }
	lintian --fail-on error --tag-display-limit 0 $(DEB)
	@echo "built $(DEB)"

clean:
	rm -rf .build .build-*
