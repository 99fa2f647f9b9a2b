# certcontacts — build, run, test, bench.
#
#   make            build build/certcontacts
#   make run        install missing packages, build, start on 127.0.0.1:8080
#                   (the first start prints the admin access key and the first
#                   console user's password once; console: http://127.0.0.1:8080/)
#   make test       install missing packages, run every suite, then again
#                   under ASan+UBSan; ends with "N passed, N failed"
#   make bench      benchmarks against floors measured in the same run
#                   (BENCH_DB=postgres: the same on a durable PostgreSQL of
#                   its own, with PostgreSQL's floors and 1 vs 3 instances)
#   make soak       10 minutes of steady mixed load: RSS, p99 per minute, errors
#   make bench-delivery  notification delivery rate and latency against a
#                   bare libcurl-multi floor
#   make torture    20 cycles of kill -9 during writes and deliveries; prints
#                   acknowledged writes, lost, notifications, duplicates
#   make po        merge new messages into po/zh_CN.po for translation
#   make SANITIZE=1 build into build-asan/ with ASan+UBSan
#   make install   the binary, certcontacts(1), /etc/certcontacts/certcontacts.conf,
#                  the bash completion and the systemd unit (PREFIX=/usr/local, DESTDIR= as usual);
#                  make uninstall removes them (not the config, not the data)
#   make deb       build/certcontacts_VERSION_ARCH.deb (dpkg-deb, from an install
#                  tree with PREFIX=/usr; DEB_MAINTAINER="Name <address>")

CC       ?= gcc
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD    := build-asan
OPT      := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDSAN    := -fsanitize=address,undefined
else
BUILD    := build
OPT      := -O2 -g
LDSAN    :=
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   += -std=c11 -D_GNU_SOURCE -pthread $(OPT) $(WARN) -Isrc -MMD -MP $(GLIB_CFLAGS) $(PQ_CFLAGS)
LDFLAGS  += -pthread $(LDSAN)
# GLib: time zones for expiry reminders (GTimeZone); its headers as system
# headers, so our warning flags stay on our own code.
GLIB_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags glib-2.0))
GLIB_LIBS   := $(shell pkg-config --libs glib-2.0)
# libsystemd: sd_notify, systemd's readiness protocol (Type=notify).
# libpq: the PostgreSQL backend.
PQ_CFLAGS   := -isystem /usr/include/postgresql
LIBS     := -lcsv -lmicrohttpd -lgnutls -ljansson -lsqlite3 -lpq -lcurl -lssl -lcrypto -largon2 -lpwquality -lidn2 -lresolv $(GLIB_LIBS) -lm

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*/*.c))
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
GEN_SRC  := $(BUILD)/gen/embedded.c
GEN_OBJ  := $(BUILD)/gen/embedded.o $(BUILD)/gen/catalog.o
MIGR     := $(sort $(wildcard src/store/migrations/*/*.sql))
WEB      := $(sort $(shell find web -type f ! -path '*/.*')) src/http/openapi.json
CHARTJS  ?= /usr/share/javascript/chart.js/chart.min.js
BIN      := $(BUILD)/certcontacts
MAN      := $(BUILD)/certcontacts.1
VERSION  := $(shell cat VERSION)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all run test unit integration fuzz bench bench-delivery soak torture deps clean po print-libs \
        install uninstall deb FORCE
all: $(BIN) $(MAN)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The names of the embedded files, rewritten only when one is added, removed or
# renamed: a file that is gone (a migration, a page) must not stay in the binary,
# and its removal changes no remaining file's time.
GEN_IN   := $(MIGR) $(WEB) $(CHARTJS)
GEN_LIST := $(BUILD)/gen/embedded.list
$(GEN_LIST): FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' $(GEN_IN) | cmp -s - $@ || printf '%s\n' $(GEN_IN) > $@
FORCE:

$(GEN_SRC): scripts/embed.sh $(GEN_LIST) $(GEN_IN)
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $@ $(MIGR) $(WEB) $(CHARTJS)=web/vendor/chart.js

# Chart.js for the console's Overview, from Debian's libjs-chart.js (UMD: it
# defines window.Chart), served as /assets/vendor/chart.js.
$(CHARTJS):
	@echo "Chart.js is missing: $(CHARTJS) (install Debian's libjs-chart.js: apt-get install libjs-chart.js)" >&2; exit 1

$(BUILD)/gen/catalog.c: scripts/po2c.sh po/zh_CN.po
	@mkdir -p $(dir $@)
	sh scripts/po2c.sh $@ po/zh_CN.po

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libcc.a: $(LIB_OBJ) $(GEN_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(BUILD)/libcc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The release the binary and the manual page name.
$(BUILD)/obj/main.o: VERSION
$(BUILD)/obj/main.o: CFLAGS += -DCC_VERSION='"$(VERSION)"'

# certcontacts(1), printed by the binary from the tables --help prints.
$(MAN): $(BIN)
	./$(BIN) help --man > $@.tmp && mv $@.tmp $@

# The bash completion, printed by the binary from the same command table.
COMPLETION := $(BUILD)/certcontacts.bash-completion
$(COMPLETION): $(BIN)
	./$(BIN) help --completion > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcc.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcc.a $(LIBS) -lcmocka

deps:
	@sh scripts/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	./$(BIN) serve --dev --data-dir ./var

unit: $(UNIT_BIN)
integration: $(BIN)

# The whole suite: normal build, then the sanitizer build, one summary line.
test: deps
	@sh tests/run.sh

fuzz:
	@sh tests/fuzz/run.sh

# New messages in the source go into po/zh_CN.po, to be translated there.
po:
	@sh scripts/catalog.sh update

# The link flags, for the benches' own programs (bench/common.sh).
print-libs:
	@echo $(LIBS)

bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

bench-delivery: deps
	@$(MAKE) --no-print-directory all
	@sh bench/delivery.sh

# Ten minutes of steady mixed load: RSS flat, p99 stable, no errors (not part of test).
soak: deps
	@$(MAKE) --no-print-directory all
	@sh bench/soak.sh

torture: deps
	@$(MAKE) --no-print-directory all
	@CC_BIN=$(CURDIR)/$(BIN) sh tests/torture.sh

# ---- install ------------------------------------------------------------------
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
STATEDIR   ?= /var/lib/certcontacts

# The config file is installed only where none is (it is the operator's
# once there), mode 0640: it may hold SMTP and SMS passwords.
# The unit and the config are made here, from the paths of this install.
install: $(BIN) $(MAN) $(COMPLETION)
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR)
	install -d -m 0755 $(DESTDIR)$(COMPDIR)
	install -m 0644 $(COMPLETION) $(DESTDIR)$(COMPDIR)/certcontacts
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/certcontacts
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/certcontacts
	gzip -9n < $(MAN) > $(DESTDIR)$(MANDIR)/man1/certcontacts.1.gz
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/certcontacts.1.gz
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  packaging/certcontacts.service.in > $(BUILD)/certcontacts.service
	install -m 0644 $(BUILD)/certcontacts.service $(DESTDIR)$(UNITDIR)/certcontacts.service
	sh packaging/conf.sh certcontacts.conf.example $(STATEDIR) > $(BUILD)/certcontacts.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/certcontacts/certcontacts.conf ] || \
	  install -m 0640 $(BUILD)/certcontacts.conf $(DESTDIR)$(SYSCONFDIR)/certcontacts/certcontacts.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/certcontacts $(DESTDIR)$(MANDIR)/man1/certcontacts.1.gz \
	  $(DESTDIR)$(UNITDIR)/certcontacts.service $(DESTDIR)$(COMPDIR)/certcontacts
	@echo "uninstall: kept $(DESTDIR)$(SYSCONFDIR)/certcontacts/ and $(STATEDIR) (config and data)"

# The Debian package, from an install tree with PREFIX=/usr.
DEB_MAINTAINER ?= certcontacts maintainers <maintainers@certcontacts.org>
deb: $(BIN) $(MAN)
	sh packaging/deb.sh $(BUILD) $(VERSION) "$(DEB_MAINTAINER)"

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/main.d $(UNIT_BIN:=.d)
