# hush — build, test and install.
#
#   make            build the four programs into $(BUILD)/
#   make check      install build deps, build, run unit (also under ASan+UBSan),
#                   fuzz smoke runs, integration tests and the systemd unit checks
#   make demo       a throw-away daemon walked through init/autolock/restart/unlock
#   make install    DESTDIR=… PREFIX=… (default /usr/local)
#   make package-test  build the Debian package twice and check it (tests/package/)
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (default 60)
#   make bench      benchmarks; they print figures and assert nothing:
#                   BENCH=container (what hush costs a container start,
#                   tests/bench/run.sh), BENCH=store (store throughput and
#                   scale against etcd, tests/bench/store.sh; installs
#                   etcd-server), BENCH=recover (backup, restore, forcing
#                   a new cluster), BENCH=ca (a CA rotation converging on
#                   3 managers and BENCH_CA_WORKERS=20 workers), or
#                   BENCH=all, the default: every one

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
FUZZ_SMOKE_SECONDS ?= 6

PKGS := openssl libsodium libseccomp libcap libmnl libuv jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lkeyutils -lraft

, := ,
WARN := -Wall -Wextra -Werror -Wswitch-enum -Wshadow -Wformat=2 -Wvla \
        -Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(SAN),)
# -U first: a packager's CPPFLAGS (dpkg-buildflags passes -D_FORTIFY_SOURCE=2)
# come earlier on the command line, and redefining the macro would be an
# error under -Werror.  Level 3 is the stronger one, so it wins.
OPT := -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3
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
STORELOAD_SRC := $(sort $(wildcard tests/bench/storeload/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBHUSH  := $(BUILD)/libhush.a
LIBHUSHD := $(BUILD)/libhushd.a
PROGS := $(BUILD)/hushd $(BUILD)/hushctl $(BUILD)/hush-kcheck
ifneq ($(HOOK_SRC),)
PROGS += $(BUILD)/hush-oci-hook
endif
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: symbols-check all check unit unit-asan integration integration-asan fuzz fuzz-smoke demo install clean deps bench test-daemon \
        selinux selinux-check package-test systemd-check
# The store benchmark's load generator is built with the programs so that
# it keeps compiling as the client library changes; it is never installed.
all: $(PROGS) $(BUILD)/bench/storeload

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

# The tests of the raft process's store share their store fixture.
$(BUILD)/tests/test_daemon_store $(BUILD)/tests/test_daemon_store_index \
    $(BUILD)/tests/test_daemon_store_services $(BUILD)/tests/test_daemon_store_digest: \
    $(call obj,tests/unit/store_fixture.c)

# The tests that mount as root share their namespace fixtures.
$(BUILD)/tests/test_daemon_mounter $(BUILD)/tests/test_secretfs: \
    $(call obj,tests/unit/ns_fixture.c)

# The load generator's HTTP decoders read a socket's bytes: unit-tested too.
$(BUILD)/tests/test_bench_http: $(call obj,tests/bench/storeload/http.c)

# A peer client for integration tests (tests/tools/hush-probe.c): presents a
# node's real certificate to a manager.  Built by `make test-daemon` into
# build/test/ next to the test hushd; never installed.
$(BUILD)/hush-probe: $(call obj,tests/tools/hush-probe.c) $(LIBHUSHD) $(LIBHUSH)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# make bench's load generator for the store (tests/bench/store.sh).
$(BUILD)/bench/storeload: $(call obj,$(STORELOAD_SRC)) $(LIBHUSH)
	@mkdir -p $(dir $@)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -pthread -o $@ $^ $(PKG_LIBS)

# The kernel audit trail as the integration tests read it (no auditd needed).
$(BUILD)/hush-audit-read: $(call obj,tests/tools/hush-audit-read.c)
	$(CC) $(HUSH_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- documentation -------------------------------------------------------
# One man page per program, written in scdoc(5):
# doc/man/<program>.<section>.scd becomes $(BUILD)/man/<program>.<section>.
# scdoc takes the date in the page's header from SOURCE_DATE_EPOCH when it
# is set (reproducible builds).
MAN_SRC   := $(sort $(wildcard doc/man/*.scd))
MAN_PAGES := $(patsubst doc/man/%.scd,$(BUILD)/man/%,$(MAN_SRC))

.PHONY: man check-docs
man: $(MAN_PAGES)

$(BUILD)/man/%: doc/man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@.tmp && mv $@.tmp $@

# The pages render without groff warnings and document every option the
# programs' --help print; the bash completion for hushctl
# (tools/hushctl/hushctl.bash-completion) offers every command and option,
# and completes names from a real hushd (as root).  See tests/docs/run.sh.
check-docs: all man
	@bash tests/docs/run.sh $(BUILD)

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
# kmod-free/sandbox.c): one node with containers, restarts and re-adoption,
# autolock and the cached-key unlock, and a three-manager cluster in network
# namespaces (TLS, joins, raft replication), and the peers net parses
# beyond hush's own: an external CA's HTTP answers and foreign certificate
# chains.  Each test ends by stopping its
# nodes and failing on any sanitizer report in their logs
# (tests/integration/lib.sh), including LeakSanitizer's check of the parent
# at exit.
ASAN_INTEGRATION ?= t_processes t_attach t_services t_restart t_adopt t_autolock. t_cluster. \
                    t_keyring_unlock t_backup t_extca t_tls_chain
# (a trailing dot names one test: t_cluster. is not t_cluster_faults)
integration-asan:
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/hushd \
	    build/asan/hushctl build/asan/hush-oci-hook
	@ASAN_OPTIONS=halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    HUSH_SANITIZED=1 ONLY="$(ASAN_INTEGRATION)" bash tests/integration/run.sh build/asan

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

# No function of hushd's may bear a name libraft or libuv exports: the
# library would call ours (tests/symbols/clash.sh says how that went).
symbols-check: all
	@sh tests/symbols/clash.sh $(BUILD)

# The units in systemd/: systemd-analyze verify (offline), their exposure
# score, and the sysusers/tmpfiles entries applied to a throw-away root.
systemd-check: all
	@bash tests/systemd/units.sh $(BUILD)

# The builds within run CHECK_JOBS compilers at once (the tests run as they
# would alone: each stage's recipe is one command).
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: deps
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) all
	$(MAKE) --no-print-directory symbols-check
	$(MAKE) --no-print-directory selinux-check
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) unit
	$(MAKE) --no-print-directory check-docs
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) unit-asan
	$(MAKE) --no-print-directory fuzz-smoke
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) integration
	$(MAKE) --no-print-directory -j$(CHECK_JOBS) integration-asan
	$(MAKE) --no-print-directory systemd-check
	$(MAKE) --no-print-directory package-test

demo: deps
	$(MAKE) --no-print-directory all
	@bash tests/demo.sh $(BUILD)

BENCH ?= all
bench: deps all
	@case "$(BENCH)" in all | container | store | recover | ca) ;; \
	*) echo "bench: BENCH=$(BENCH): say container, store, recover, ca or all" >&2; exit 2 ;; esac
	@case "$(BENCH)" in all | container) bash tests/bench/run.sh $(BUILD) ;; esac
	@case "$(BENCH)" in all | store) sh tests/bench/deps.sh && \
	    bash tests/bench/store.sh $(BUILD) ;; esac
	@case "$(BENCH)" in all | recover) bash tests/bench/recover.sh $(BUILD) ;; esac
	@case "$(BENCH)" in all | ca) bash tests/bench/ca_rotate.sh $(BUILD) ;; esac

# ---- SELinux policy module -------------------------------------------------
# selinux/ built with the reference policy's devel Makefile (Debian's
# selinux-policy-dev) in a copy under $(BUILD)/selinux, as that Makefile
# writes tmp/ and the .pp beside its sources.  It runs with MAKEFLAGS
# cleared so none of our command-line variables reach it.
# tests/selinux/run.sh checks what the module holds and links it into
# Debian's reference policy (selinux-policy-default) in a scratch root.
SELINUX_DEVEL ?= /usr/share/selinux/devel/Makefile
SELINUX_SRC   := selinux/hushd.te selinux/hushd.fc selinux/hushd.if

$(BUILD)/selinux/hushd.pp: $(SELINUX_SRC)
	@test -f $(SELINUX_DEVEL) || { echo "selinux: $(SELINUX_DEVEL) is missing: install selinux-policy-dev ('make deps')" >&2; exit 1; }
	rm -rf $(BUILD)/selinux
	mkdir -p $(BUILD)/selinux
	cp $(SELINUX_SRC) $(BUILD)/selinux/
	cd $(BUILD)/selinux && MAKEFLAGS= $(MAKE) -f $(SELINUX_DEVEL) hushd.pp >build.log 2>&1 || \
	    { cat build.log; rm -f hushd.pp; exit 1; }
	@cat $(BUILD)/selinux/build.log

selinux: $(BUILD)/selinux/hushd.pp

selinux-check: selinux
	@bash tests/selinux/run.sh $(BUILD)/selinux/hushd.pp

# ---- install -------------------------------------------------------------
# Where the files from systemd/, doc/man/, selinux/ and the completion go.
# systemd reads units, sysusers.d and tmpfiles.d under /usr/local/lib too, so
# the defaults work for PREFIX=/usr/local.  debian/rules sets
# SYSTEMDUNITDIR=/lib/systemd/system, where bookworm's debhelper looks.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SELINUXDIR ?= $(PREFIX)/share/selinux/packages

# Each part is installed when its source is in the tree.
UNIT_FILES := $(sort $(wildcard systemd/*.service systemd/*.socket systemd/*.path systemd/*.timer))
MAN_SCD    := $(sort $(wildcard doc/man/*.scd))
MAN_PAGES  := $(patsubst doc/man/%.scd,$(BUILD)/man/%,$(MAN_SCD))
SELINUX_TE := $(wildcard selinux/hushd.te)
COMPLETION := $(wildcard tools/hushctl/hushctl.bash-completion)

# Units and hooks.d definitions name the programs where they are installed
# (podman refuses a hook definition whose path does not exist); the sources
# use the /usr paths, so with PREFIX=/usr this changes nothing.
SUBST_PATHS := sed -e 's|/usr/sbin/hush|$(SBINDIR)/hush|g' \
                   -e 's|/usr/bin/hushctl|$(BINDIR)/hushctl|g' \
                   -e 's|/usr/libexec/hush/|$(LIBEXECDIR)/|g'

.PHONY: install-programs install-systemd install-man install-completion install-selinux
install: install-programs install-systemd install-man install-completion install-selinux

install-programs: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/hushd $(DESTDIR)$(SBINDIR)/hushd
	install -m 0755 $(BUILD)/hushctl $(DESTDIR)$(BINDIR)/hushctl
	install -m 0755 $(BUILD)/hush-kcheck $(DESTDIR)$(SBINDIR)/hush-kcheck
	if [ -x $(BUILD)/hush-oci-hook ]; then install -d $(DESTDIR)$(LIBEXECDIR) && \
	    install -m 0755 $(BUILD)/hush-oci-hook $(DESTDIR)$(LIBEXECDIR)/hush-oci-hook; fi
	if [ -x $(BUILD)/hush-oci-hook ]; then install -d $(DESTDIR)$(HOOKSDIR) && \
	    for f in tools/hush-oci-hook/hooks.d/*.json; do \
	        $(SUBST_PATHS) "$$f" >$(DESTDIR)$(HOOKSDIR)/$$(basename "$$f") && \
	        chmod 0644 $(DESTDIR)$(HOOKSDIR)/$$(basename "$$f") || exit 1; \
	    done; fi

install-systemd:
ifneq ($(UNIT_FILES),)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for f in $(UNIT_FILES); do \
	    $(SUBST_PATHS) "$$f" >$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename "$$f") && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename "$$f") || exit 1; \
	done
endif
ifneq ($(wildcard systemd/hush.sysusers),)
	install -D -m 0644 systemd/hush.sysusers $(DESTDIR)$(SYSUSERSDIR)/hush.conf
endif
ifneq ($(wildcard systemd/hush.tmpfiles),)
	install -D -m 0644 systemd/hush.tmpfiles $(DESTDIR)$(TMPFILESDIR)/hush.conf
endif

# build/man/hushd.8 goes to $(MANDIR)/man8/hushd.8.
install-man: $(if $(MAN_SCD),man)
ifneq ($(MAN_SCD),)
	for p in $(MAN_PAGES); do \
	    install -D -m 0644 "$$p" "$(DESTDIR)$(MANDIR)/man$${p##*.}/$${p##*/}" || exit 1; \
	done
endif

install-completion:
ifneq ($(COMPLETION),)
	install -D -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/hushctl
endif

# The module is only installed here; debian/hush.postinst loads it with
# semodule when SELinux is enabled (by hand: semodule -i $(SELINUXDIR)/hushd.pp).
install-selinux: $(if $(SELINUX_TE),selinux)
ifneq ($(SELINUX_TE),)
	install -D -m 0644 $(BUILD)/selinux/hushd.pp $(DESTDIR)$(SELINUXDIR)/hushd.pp
endif

# ---- Debian package ------------------------------------------------------
# Builds the .deb twice from copies of the tree, runs lintian and
# hardening-check, installs it into a throw-away root and compares the two
# builds byte for byte (tests/package/run.sh).
package-test: deps
	@bash tests/package/run.sh

clean:
	rm -rf build
