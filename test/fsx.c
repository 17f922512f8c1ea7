/*
 * test/fsx: a file exerciser in the spirit of fsx.  Random writes,
 * truncations (down and up), reads, writes past the end (holes) and
 * reopenings on one file, each checked against an in-memory copy.
 *
 *	fsx [-n ops] [-s seed] [-l maxlen] [-o maxop] [-f fullevery] [-y synceveryn] [-b breakop] file
 *
 * After every operation the file's size is checked, and the bytes the
 * operation touched are read back after dropping them from the page
 * cache (POSIX_FADV_DONTNEED), so that under FUSE they come from the
 * server; every fullevery operations, and at the end, the whole file is.
 * A mismatch prints the seed, the operation number, the first bad
 * offset with the expected and actual bytes, and the last operations,
 * and exits 1.  -b N corrupts one byte of the in-memory copy at
 * operation N and checks the whole file: a run that must fail, to show
 * that the checking works.  -y N fsyncs every N
 * operations.  The same seed and options always do the same thing.
 *
 * Data written by operation k at offset o is (k*131 + o*7 + 1) & 0xFF
 * with the low bit of k mixed in, so a wrong byte says which write it
 * came from; bytes never written are zeros.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "dat.h"
#include "fns.h"

typedef struct Op	Op;

enum {
	Oread,
	Owrite,
	Oextend,	/* a write starting past the end: a hole */
	Otrunc,
	Oreopen,
	Osync,
	Nop,
};

static char *opname[Nop] = {
	[Oread] = "read",
	[Owrite] = "write",
	[Oextend] = "extend",
	[Otrunc] = "truncate",
	[Oreopen] = "reopen",
	[Osync] = "fsync",
};

/* One logged operation. */
struct Op {
	long	n;
	int	type;
	long long	off;
	long long	len;
	long long	size;	/* the file's size after it */
};

enum {
	Nlog	= 64,	/* operations shown on a mismatch */
};

static char	*path;
static int	fd = -1;
static uchar	*good;		/* what the file must hold */
static uchar	*buf;
static long long	size;		/* what its size must be */
static long long	maxlen = 256*1024;
static long long	maxop = 64*1024;
static unsigned long long	seed;
static unsigned long long	rng;
static Op	oplog[Nlog];
static long	nops;
static long	count[Nop];

/* xorshift64*: small, and the same on every machine */
static unsigned long long
rand64(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* A number in [0, n). */
static long long
rnd(long long n)
{
	if(n <= 0)
		return 0;
	return rand64() % (unsigned long long)n;
}

/* A length up to max, mostly small: bytes, then blocks, then large. */
static long long
rndlen(long long max)
{
	switch(rnd(4)){
	case 0:
		return 1 + rnd(MIN(max, 64));
	case 1:
		return 1 + rnd(MIN(max, 4096));
	case 2:
		return 1 + rnd(MIN(max, 3*16384));
	default:
		return 1 + rnd(max);
	}
}

static uchar
pattern(long k, long long off)
{
	return (k*131 + off*7 + 1 + (k & 1)) & 0xFF;
}

static void
logop(int type, long long off, long long len)
{
	Op *o;

	o = &oplog[nops % Nlog];
	o->n = nops;
	o->type = type;
	o->off = off;
	o->len = len;
	o->size = size;
	count[type]++;
}

static void
dumplog(void)
{
	long i, first;
	Op *o;

	first = nops - Nlog + 1;
	if(first < 0)
		first = 0;
	printf("fsx: the last %ld operations (number type offset length size-after):\n", nops-first+1);
	for(i = first; i <= nops; i++){
		o = &oplog[i % Nlog];
		printf("fsx:   %ld %s %lld %lld %lld\n", o->n, opname[o->type],
			o->off, o->len, o->size);
	}
}

static void
fail(char *fmt, ...)
{
	va_list ap;

	printf("fsx: seed %llu: FAILED at operation %ld: ", (unsigned long long)seed, nops);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	dumplog();
	printf("fsx: rerun: fsx -s %llu ... %s\n", (unsigned long long)seed, path);
	fflush(stdout);
	exit(1);
}

static void
reopen(int trunc)
{
	if(fd >= 0 && close(fd) == -1)
		fail("close: %s", strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | (trunc ? O_TRUNC : 0), 0644);
	if(fd == -1)
		fail("open %s: %s", path, strerror(errno));
}

static void
readfull(long long off, long long len)
{
	ssize_t n;
	long long got;

	for(got = 0; got < len; got += n){
		n = pread(fd, buf+got, len-got, off+got);
		if(n == -1)
			fail("read %lld at %lld: %s", len-got, off+got, strerror(errno));
		if(n == 0)
			fail("read at %lld: end of file %lld bytes early", off+got, len-got);
	}
}

/* The file's size, and bytes [off, off+len) read afresh, must be good's. */
static void
check(long long off, long long len)
{
	struct stat st;
	long long i, end;

	if(fstat(fd, &st) == -1)
		fail("fstat: %s", strerror(errno));
	if(st.st_size != size)
		fail("size %lld, want %lld", (long long)st.st_size, size);
	end = MIN(off+len, size);
	if(off >= end)
		return;
	len = end - off;
	posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
	readfull(off, len);
	for(i = 0; i < len; i++)
		if(buf[i] != good[off+i])
			fail("byte at offset %lld is 0x%02x, want 0x%02x (%lld bytes checked from %lld)",
				off+i, buf[i], good[off+i], len, off);
}

static void
dowrite(int type, long long off, long long len)
{
	ssize_t n;
	long long i, done;

	for(i = 0; i < len; i++)
		buf[i] = pattern(nops, off+i);
	for(done = 0; done < len; done += n){
		n = pwrite(fd, buf+done, len-done, off+done);
		if(n <= 0)
			fail("write %lld at %lld: %s", len-done, off+done, n == 0 ? "no progress" : strerror(errno));
	}
	memcpy(good+off, buf, len);
	if(off+len > size)
		size = off+len;
	logop(type, off, len);
}

static void
step(void)
{
	long long off, len, old;
	unsigned long long r;

	r = rnd(1000);
	if(r < 350){
		off = rnd(size+1);
		len = rndlen(maxop);
		logop(Oread, off, len);
		check(off, len);
	}else if(r < 750){
		off = rnd(MAX(size, 1));
		len = rndlen(maxop);
		len = MIN(len, maxlen-off);
		dowrite(Owrite, off, len);
		check(off, len);
	}else if(r < 850){
		if(size >= maxlen-1){
			logop(Oextend, size, 0);
			check(0, 0);
			return;
		}
		off = size + rnd(MIN(maxlen-size-1, 3*16384));
		len = rndlen(maxop);
		len = MIN(len, maxlen-off);
		old = size;
		dowrite(Oextend, off, len);
		check(old, off+len-old);
	}else if(r < 970){
		old = size;
		len = rnd(maxlen+1);
		if(ftruncate(fd, len) == -1)
			fail("ftruncate %lld: %s", len, strerror(errno));
		/* beyond the end good holds zeros: a hole or a regrown tail reads so */
		if(len < size)
			memset(good+len, 0, size-len);
		size = len;
		logop(Otrunc, len, old);
		/* what was cut and regrown must read as zeros */
		check(MIN(old, len) > 4096 ? MIN(old, len)-4096 : 0, 3*16384);
	}else{
		reopen(0);
		logop(Oreopen, 0, 0);
		check(rnd(size+1), maxop);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: fsx [-n ops] [-s seed] [-l maxlen] [-o maxop] [-f fullevery] [-y syncevery] [-b breakop] file\n");
	exit(2);
}

static long long
num(char *s)
{
	char *e;
	long long v;

	v = strtoll(s, &e, 0);
	if(e == s || *e != 0 || v < 0){
		fprintf(stderr, "fsx: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	long n, full, syncevery, brk;
	int c, t;

	n = 10000;
	full = 1000;
	syncevery = 0;
	brk = -1;
	seed = 1;
	while((c = getopt(argc, argv, "n:s:l:o:f:y:b:")) != -1)
		switch(c){
		case 'n':	n = num(optarg); break;
		case 's':	seed = num(optarg); break;
		case 'l':	maxlen = num(optarg); break;
		case 'o':	maxop = num(optarg); break;
		case 'f':	full = num(optarg); break;
		case 'y':	syncevery = num(optarg); break;
		case 'b':	brk = num(optarg); break;
		default:	usage();
		}
	if(argc-optind != 1 || maxlen < 2 || maxop < 1 || full < 1)
		usage();
	path = argv[optind];
	rng = seed*0x9E3779B97F4A7C15ULL + 1;
	good = emalloc(maxlen);
	buf = emalloc(MAX(maxlen, maxop));
	memset(good, 0, maxlen);
	reopen(1);
	for(nops = 0; nops < n; nops++){
		step();
		if(nops == brk && size > 0){
			good[rnd(size)] ^= 0x55;
			check(0, size);
		}
		if(syncevery > 0 && nops % syncevery == syncevery-1){
			if(fsync(fd) == -1)
				fail("fsync: %s", strerror(errno));
			count[Osync]++;
		}
		if(nops % full == full-1)
			check(0, size);
	}
	nops--;
	check(0, size);
	if(close(fd) == -1)
		fail("close: %s", strerror(errno));
	printf("fsx: seed %llu: %ld operations ok, final size %lld:", (unsigned long long)seed, n, size);
	for(t = 0; t < Nop; t++)
		printf(" %s %ld", opname[t], count[t]);
	printf("\n");
	return 0;
}
