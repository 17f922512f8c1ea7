# gefs for Unix.  GNU make.
#
#   make			build gefs, 9p and 9pfuse into the repository root
#   make test		the whole test suite (normal, ASan+UBSan and TSan builds)
#   make SAN=asan O=o.asan	a sanitizer build of everything under o.asan/
#   make install PREFIX=/usr/local
#
# Objects go to $(O) (default o/); programs of the default build go to the
# root, those of other builds stay in $(O).

CC	?= cc
O	?= o
SAN	?=
PREFIX	?= /usr/local
DESTDIR	?=

WARN	= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS	= -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -g $(WARN) -I. $(XCFLAGS)
DEPFLAGS = -MMD -MP
LDFLAGS	= $(XLDFLAGS)
LIBS	= -lpthread

ifeq ($(SAN),asan)
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1
LDFLAGS	+= -fsanitize=address,undefined
endif
ifeq ($(SAN),tsan)
CFLAGS	+= -fsanitize=thread -O1
LDFLAGS	+= -fsanitize=thread
endif

ifeq ($(O),o)
BIN	= .
else
BIN	= $(O)
endif

# The atomics for the machine we compile for (DESIGN.md §2, atomic.h).
# The .s files are ELF (Linux, the BSDs).  Mach-O, big-endian power64
# (ELFv1) and 64-bit MIPS take the C11 version, as does ThreadSanitizer,
# which cannot see into assembly.  Override with make ATOMIC=atomic-c11.c.
MACH	:= $(shell $(CC) -dumpmachine)
ifneq ($(filter %-darwin%,$(MACH)),)
ATOMIC	= atomic-c11.c
else ifneq ($(filter x86_64-%,$(MACH)),)
ATOMIC	= atomic-amd64.s
else ifneq ($(filter i386-% i486-% i586-% i686-%,$(MACH)),)
ATOMIC	= atomic-386.s
else ifneq ($(filter aarch64-%,$(MACH)),)
ATOMIC	= atomic-arm64.s
else ifneq ($(filter powerpc64le-%,$(MACH)),)
ATOMIC	= atomic-power64.s
else ifneq ($(filter arm-% armv7%,$(MACH)),)
ATOMIC	= atomic-arm.c
else ifneq ($(filter mips-% mipsel-%,$(MACH)),)
ATOMIC	= atomic-mips.c
else
ATOMIC	= atomic-c11.c
endif
ifeq ($(SAN),tsan)
ATOMIC	= atomic-c11.c
endif

# Everything but main(): the server, the tools and the unit tests link it.
LIBSRC	= \
	error.c \
	plat.c \
	hash.c \
	pack.c \
	tree.c \
	check.c \
	fuzz.c \
	user.c \
	cons.c \
	dump.c \
	fcall.c \
	cmd/client.c \
	fs.c \
	srv.c \
	cache.c \
	blk.c \
	shim.c \
	snap.c \
	load.c \
	ream.c \
	$(ATOMIC)

GEFSSRC	= main.c
9PSRC	= cmd/9p.c
CONSSRC	= cmd/gefscons.c
FUSESRC	= cmd/9pfuse.c

# C unit tests: test/NAME.c builds $(O)/test/NAME, run by test/NAME.t.
UNITS	= \
	atomic \
	plat \
	user \
	fcall \
	client \
	hash \
	pack \
	vpack \
	alloc \
	corrupt \
	tree \
	crash \
	replay \
	epoch \
	cache \
	blkrun \
	dlist \
	sync \
	bigtree \
	snap \
	fsck \
	retain \
	snaprace \
	conform \
	hostile \
	concur \
	wire \
	perm \
	session

# C programs the shell tests run, built like the unit tests: test/NAME.c
# builds $(O)/test/NAME, which is not a TAP test itself.
TOOLS	= \
	fsx

# libFuzzer targets: test/NAME.c with the sanitizers, whatever the build.
# make test builds them; make alone does not need libclang-rt.
FUZZCC	= clang
FUZZFLAGS	= -std=c11 -D_DEFAULT_SOURCE -O1 -g $(WARN) -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ	= fuzz-fcall

obj	= $(patsubst %.s,$(O)/%.o,$(patsubst %.c,$(O)/%.o,$(1)))

# A program is built once its main file is in the tree.
PROGS	= \
	$(if $(wildcard main.c),$(BIN)/gefs) \
	$(if $(wildcard cmd/9p.c),$(BIN)/9p) \
	$(if $(wildcard cmd/gefscons.c),$(BIN)/gefscons) \
	$(if $(wildcard cmd/9pfuse.c),$(BIN)/9pfuse)

# libfuse3, for 9pfuse only.
FUSECFLAGS = $(shell pkg-config --cflags fuse3)
FUSELIBS = $(shell pkg-config --libs fuse3)

all: $(PROGS) units

units: $(foreach u,$(UNITS) $(TOOLS),$(O)/test/$(u))

fuzz: $(foreach f,$(FUZZ),$(O)/test/$(f))

$(O)/%.o: %.c dat.h fns.h atomic.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Assembly takes no C flags: clang's -Werror would reject them as unused.
$(O)/%.o: %.s
	@mkdir -p $(@D)
	$(CC) -g -c -o $@ $<

$(O)/libgefs.a: $(call obj,$(LIBSRC))
	rm -f $@
	ar rcs $@ $^

$(BIN)/gefs: $(call obj,$(GEFSSRC)) $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BIN)/9p: $(call obj,$(9PSRC)) $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BIN)/gefscons: $(call obj,$(CONSSRC)) $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/cmd/9pfuse.o: CFLAGS += $(FUSECFLAGS)

$(BIN)/9pfuse: $(call obj,$(FUSESRC)) $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(FUSELIBS) $(LIBS)

$(O)/test/%: $(O)/test/%.o $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The decoder alone: fcall.c needs nothing but libc and error.c.
$(O)/test/fuzz-fcall: test/fuzz-fcall.c fcall.c error.c fcall.h dat.h fns.h
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZFLAGS) -o $@ test/fuzz-fcall.c fcall.c error.c

# The foundation's tests link only what they test, the way test/atomics.t
# builds them for other machines.
$(O)/test/atomic: $(O)/test/atomic.o $(call obj,$(ATOMIC))
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

test: all fuzz
	sh test/run

# Benchmarks (not part of make test): bench/run measures gefs against
# its peers (bench/README.md); BENCH_QUICK=1 make bench is the short run.
# It needs the Debian packages of mk/deps bench, then the programs, the
# helpers of bench/ and libfuse's passthrough example, which Debian ships
# as source: it is compiled here from there, with its own flags.
BENCHTOOLS = \
	$(O)/bench/smallfiles \
	$(O)/bench/betrfs \
	$(O)/bench/stream \
	$(O)/bench/snapvol \
	$(O)/bench/engine \
	$(O)/bench/passthrough
PASSTHROUGH = /usr/share/doc/libfuse3-dev/examples/passthrough.c

bench:
	sh mk/deps bench
	$(MAKE) $(PROGS) bench-tools
	python3 bench/run

bench-tools: $(BENCHTOOLS)

$(O)/bench/smallfiles $(O)/bench/betrfs $(O)/bench/stream: $(O)/bench/%: $(O)/bench/%.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/bench/snapvol: $(O)/bench/%: $(O)/bench/%.o $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# The HAVE_ macros are what libfuse's own build finds on Linux: without
# them the example leaves out utimens, fallocate, xattrs, copy_file_range.
$(O)/bench/passthrough: $(PASSTHROUGH)
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_SETXATTR \
		-DHAVE_COPY_FILE_RANGE $(FUSECFLAGS) -o $@ $< $(FUSELIBS)

$(O)/bench/engine: $(O)/bench/engine.o $(O)/libgefs.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) -llmdb

bench-engine: $(O)/bench/engine
	$(O)/bench/engine $(BENCHARGS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man4 $(DESTDIR)$(PREFIX)/share/man/man8
	for p in $(PROGS); do \
		install -m 755 $$p $(DESTDIR)$(PREFIX)/bin/; \
	done
	for m in man/*.[148]; do \
		[ -e "$$m" ] || continue; \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; \
	done

clean:
	rm -rf o o.* gefs 9p 9pfuse gefscons

.PHONY: all units fuzz test install clean bench bench-tools bench-engine
.SECONDARY:

-include $(wildcard $(O)/*.d $(O)/*/*.d)
