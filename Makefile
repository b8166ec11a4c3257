# popvault - plain GNU make, no configure step.  Debian 12 / C11.
PROG	:= popvault
VERSION	:= 0.1.0
PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/$(PROG)
# systemd looks in /usr/local/lib/systemd/system too; empty: no units
UNITDIR	?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGS	:= libcurl openssl libarchive zlib sqlite3

B	?= build
OPT	?= -O2 -g
CSTD	:= -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN	:= -Wall -Wextra -Werror -pedantic -Wshadow -Wcast-qual -Wformat=2 \
	   -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	   -Wpointer-arith -Wvla -Wundef
# '=' not ':=': evaluated when used, so `make deps all` works on a machine
# where `deps` is what installs the libraries.
DEPCFLAGS  = $(shell pkg-config --cflags $(PKGS))
DEPLIBS    = $(shell pkg-config --libs $(PKGS)) -lpthread
CMOCKALIBS = $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) -Icore $(DEPCFLAGS) \
	     -DPV_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS)

CORE_SRC := $(wildcard core/*.c)
CMD_SRC  := $(wildcard cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)
EXAMPLES := $(wildcard packaging/examples/*)
MAN1     := $(wildcard cmd/*.1)
MAN5     := $(wildcard cmd/*.5)

all: $(B)/$(PROG)

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/libcore.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(B)/$(PROG): $(CMD_OBJ) $(B)/libcore.a
	$(CC) $(OPT) $(LDFLAGS) -o $@ $(CMD_OBJ) $(B)/libcore.a $(DEPLIBS)

# one cmocka binary per module; the archive pulls in only what the test uses
$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(B)/libcore.a
	@mkdir -p $(@D)
	$(CC) $(OPT) $(LDFLAGS) -o $@ $^ $(DEPLIBS) $(CMOCKALIBS)

unit: $(UNIT_BIN)
check-unit: $(UNIT_BIN)
	@tests/unit/run.sh $(UNIT_BIN)
check-integration: $(B)/$(PROG)
	@tests/integration/run.sh $(B)/$(PROG)
# The man pages against --help, the getopt tables, the config keys and the
# exit codes, and their rendering; the bash completion against --help.
check-docs: $(B)/$(PROG)
	@tests/docs/check_man.sh $(B)/$(PROG)
	@tests/docs/check_completion.sh $(B)/$(PROG)
check: check-docs check-unit check-integration

# What CI runs (.ci/run): style and layering, a replay of every fuzz
# corpus, the whole suite under ASan/UBSan, then the build users get and
# every test against it, then the Debian package built, installed, checked
# and purged (tests/package/run.sh), which ends the run on its closing line.
ci: lint
	$(MAKE) fuzz-regress
	$(MAKE) asan
	$(MAKE) all
	$(MAKE) check
	$(MAKE) check-package

# The Debian package, built from a copy of this tree (packaging/build-deb.sh)
# into $(DEBDIR)/popvault_$(VERSION)_<arch>.deb.  Needs debhelper
# (packaging/deps.sh); root is not needed.
DEBDIR	?= $(B)/deb
deb:
	@packaging/build-deb.sh $(DEBDIR) $(VERSION)

# As root: build, install, check and purge the package (tests/package/run.sh).
check-package:
	@tests/package/run.sh $(DEBDIR)

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan:
	$(MAKE) B=build-asan OPT="-O1 -g $(SAN)" LDFLAGS="$(SAN)" check

# libFuzzer needs clang; the fuzz targets link their own sanitized libcore
FUZZFLAGS := -fsanitize=fuzzer-no-link,address,undefined
fuzz:
	$(MAKE) CC=clang B=build-fuzz OPT="-O1 -g $(FUZZFLAGS)" fuzz-bins
fuzz-bins: $(FUZZ_BIN)
$(B)/fuzz/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/libcore.a
	@mkdir -p $(@D)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(DEPLIBS)
# replay every seed corpus once: seconds, fine for CI
fuzz-regress: fuzz
	@set -e; for f in $(FUZZ_SRC:tests/fuzz/%.c=%); do \
	  echo "replay $$f"; \
	  build-fuzz/fuzz/$$f -runs=0 tests/fuzz/corpus/$${f#fuzz_} 2>&1 | tail -n 1; done

# <header>=files allowed to include it: each external library has one home
LAYER_RULES := curl/curl.h=core/net.c \
	       sqlite3.h=core/store.c archive.h=core/arc.c \
	       openssl/=core/digest.c,core/net.c
BANNED := sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|strtok|system
lint:
	clang-format --dry-run -Werror core/*.[ch] cmd/*.[ch] tests/unit/*.c tests/fuzz/*.c
	@for r in $(LAYER_RULES); do h=$${r%%=*}; ok=$$(echo $${r#*=} | tr , '|'); \
	  bad=$$(grep -l "#include <$$h" core/*.[ch] cmd/*.[ch] | grep -Ev "^($$ok)$$"); \
	  [ -z "$$bad" ] || { echo "layering: <$$h> included by $$bad"; exit 1; }; done
	@! grep -nE '(^|[^_a-z])($(BANNED))\(' core/*.c cmd/*.c \
	  || { echo "banned function: see docs/HACKING.md"; exit 1; }
	cppcheck -q --error-exitcode=1 --std=c11 --inline-suppr \
	  --suppress=missingIncludeSystem -Icore core cmd

format:
	clang-format -i core/*.[ch] cmd/*.[ch] tests/unit/*.c tests/fuzz/*.c

# Debian packages for building, testing and the demo (as root).
deps:
	@packaging/deps.sh

demo: $(B)/$(PROG)
	@tests/integration/demo.sh $(B)/$(PROG)

# The service's ExecStart names the binary where this puts it.
install: $(B)/$(PROG)
	install -D -m 0755 $(B)/$(PROG) $(DESTDIR)$(BINDIR)/$(PROG)
	install -d $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
ifneq ($(MAN5),)
	install -d $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
endif
	install -D -m 0644 packaging/bash-completion/$(PROG) \
	  $(DESTDIR)$(BASHCOMPDIR)/$(PROG)
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
ifneq ($(UNITDIR),)
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/systemd/popvault-backup@.service.in \
	  >$(DESTDIR)$(UNITDIR)/popvault-backup@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/popvault-backup@.service
	install -m 0644 packaging/systemd/popvault-backup@.timer $(DESTDIR)$(UNITDIR)/
endif

clean:
	rm -rf build build-asan build-fuzz build-cov

-include $(shell find $(B) -name '*.d' 2>/dev/null)
.PHONY: all ci deps unit check check-docs check-unit check-integration asan \
	fuzz fuzz-bins fuzz-regress lint format demo install clean deb check-package
