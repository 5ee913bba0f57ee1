# hush — build, test and install.
#
#   make            build the four programs into $(BUILD)/
#   make check      install build deps, build, run unit (also under ASan+UBSan),
#                   fuzz smoke runs, integration tests and the systemd unit checks
#   make demo       a throw-away daemon walked through init/autolock/restart/unlock
#   make install    DESTDIR=… PREFIX=… (default /usr/local)
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (default 60)
#   make bench      benchmarks; they print figures and assert nothing

BUILD   ?= build
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/hush
# oci-hooks(5) definitions for podman and CRI-O, which read
# /usr/share/containers/oci/hooks.d and /etc/containers/oci/hooks.d.
HOOKSDIR ?= $(PREFIX)/share/containers/oci/hooks.d
CC      ?= cc
SAN     ?=
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

PKGS := openssl libsodium libseccomp libcap libmnl libuv jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lkeyutils -lraft

, := ,
WARN := -Wall -Wextra -Werror -Wswitch-enum -Wshadow -Wformat=2 -Wvla \
        -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(SAN),)
OPT := -O2 -D_FORTIFY_SOURCE=3
else ifeq ($(SAN),fuzz)
# Library objects for libFuzzer harnesses (tests/fuzz/run.sh links them).
OPT := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -DHUSH_FUZZING
else
# FORTIFY and ASan instrument the same calls; ASan wins in a sanitizer build.
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
endif

HUSH_CPPFLAGS := -D_GNU_SOURCE -Ilib -Ikmod-free -Idaemon -Idaemon/privsep -Itools $(PKG_CFLAGS)
HUSH_CFLAGS   := -std=gnu11 -g $(OPT) $(WARN) -fstack-protector-strong \
                 -fstack-clash-protection -fPIE
HUSH_LDFLAGS  := -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(if $(filter 1,$(SAN)),-fsanitize=address$(,)undefined)

# ---- sources -------------------------------------------------------------
LIB_SRC    := $(sort $(wildcard lib/*.c) $(filter-out kmod-free/kcheck_main.c,$(wildcard kmod-free/*.c)))
DAEMON_SRC := $(sort $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c)))
HUSHCTL_SRC := $(sort $(wildcard tools/hushctl/*.c))
HOOK_SRC   := $(sort $(wildcard tools/hush-oci-hook/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBHUSH  := $(BUILD)/libhush.a
LIBHUSHD := $(BUILD)/libhushd.a
PROGS := $(BUILD)/hushd $(BUILD)/hushctl $(BUILD)/hush-kcheck
ifneq ($(HOOK_SRC),)
PROGS += $(BUILD)/hush-oci-hook
endif
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all check unit unit-asan integration integration-asan fuzz fuzz-smoke demo install clean deps bench test-daemon systemd-check
all: $(PROGS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HUSH_CPPFLAGS) $(CPPFLAGS) $(HUSH_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBHUSH): $(call obj,$(LIB_SRC))
	@rm -f $@
	ar rcs $@ $^

$(LIBHUSHD): $(call obj,$(DAEMON_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hushd: $(call obj,daemon/main.c) $(LIBHUSHD) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/hushctl: $(call obj,$(HUSHCTL_SRC)) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/hush-oci-hook: $(call obj,$(HOOK_SRC)) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/hush-kcheck: $(call obj,kmod-free/kcheck_main.c) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Unit tests link only the portable library; tests of daemon internals are
# named test_daemon_* and also get libhushd.a.
$(BUILD)/tests/test_daemon_%: $(call obj,tests/unit/test_daemon_%.c) $(LIBHUSHD) $(LIBHUSH)
	@mkdir -p $(dir $@)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

$(BUILD)/tests/%: $(call obj,tests/unit/%.c) $(LIBHUSH)
	@mkdir -p $(dir $@)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lcmocka

# A peer client for integration tests (tests/tools/hush-probe.c): presents a
# node's real certificate to a manager.  Built by `make test-daemon` into
# build/test/ next to the test hushd; never installed.
$(BUILD)/hush-probe: $(call obj,tests/tools/hush-probe.c) $(LIBHUSHD) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The kernel audit trail as the integration tests read it (no auditd needed).
$(BUILD)/hush-audit-read: $(call obj,tests/tools/hush-audit-read.c)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- dependencies --------------------------------------------------------
deps:
	@sh tests/deps.sh

# ---- tests ---------------------------------------------------------------
unit: $(UNIT_BINS)
	@sh tests/run-unit.sh $(BUILD)/tests $(UNIT_BINS)

unit-asan:
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 unit

# The daemon itself under ASan+UBSan, through the integration tests that
# exercise every process (the sandbox lets the sanitizer runtime in; see
# kmod-free/sandbox.c).  A sanitizer report aborts the process, which the
# tests see as a failure.
ASAN_INTEGRATION ?= t_processes t_attach t_services t_restart t_keyring_unlock
integration-asan:
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/hushd \
	    build/asan/hushctl build/asan/hush-oci-hook
	@ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ONLY="$(ASAN_INTEGRATION)" bash tests/integration/run.sh build/asan

fuzz-smoke:
	@sh tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# A hushd and a hush-kcheck with test hooks (e.g. HUSH_TEST_CLOCK_OFFSET,
# HUSH_KCHECK_DISABLE) compiled in, the test peer client hush-probe and the
# audit reader; never installed.
test-daemon:
	$(MAKE) --no-print-directory BUILD=build/test CPPFLAGS=-DHUSH_TEST_HOOKS \
	    build/test/hushd build/test/hush-kcheck build/test/hush-probe \
	    build/test/hush-audit-read

integration: all test-daemon
	@bash tests/integration/run.sh $(BUILD)

# The units in systemd/: systemd-analyze verify (offline), their exposure
# score, and the sysusers/tmpfiles entries applied to a throw-away root.
systemd-check: all
	@bash tests/systemd/units.sh $(BUILD)

check: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory unit-asan
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory integration-asan
	$(MAKE) --no-print-directory systemd-check

demo: deps
	$(MAKE) --no-print-directory all
	@bash tests/demo.sh $(BUILD)

bench: deps all
	@bash tests/bench/run.sh $(BUILD)

# ---- install -------------------------------------------------------------
# The hooks.d definitions name the hook where it is installed: podman
# refuses a definition whose path does not exist.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/hushd $(DESTDIR)$(SBINDIR)/hushd
	install -m 0755 $(BUILD)/hushctl $(DESTDIR)$(BINDIR)/hushctl
	install -m 0755 $(BUILD)/hush-kcheck $(DESTDIR)$(SBINDIR)/hush-kcheck
	if [ -x $(BUILD)/hush-oci-hook ]; then install -d $(DESTDIR)$(LIBEXECDIR) && \
	    install -m 0755 $(BUILD)/hush-oci-hook $(DESTDIR)$(LIBEXECDIR)/hush-oci-hook; fi
	if [ -x $(BUILD)/hush-oci-hook ]; then install -d $(DESTDIR)$(HOOKSDIR) && \
	    for f in tools/hush-oci-hook/hooks.d/*.json; do \
	        sed 's|"/usr/libexec/hush/hush-oci-hook"|"$(LIBEXECDIR)/hush-oci-hook"|' \
	            "$$f" >$(DESTDIR)$(HOOKSDIR)/$$(basename "$$f") && \
	        chmod 0644 $(DESTDIR)$(HOOKSDIR)/$$(basename "$$f") || exit 1; \
	    done; fi

clean:
	rm -rf build
