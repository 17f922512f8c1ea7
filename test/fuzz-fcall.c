/*
 * test/fuzz-fcall.c: libFuzzer target for the 9P decoder.
 *
 * Each input is taken as one frame and as a directory read.  Whatever
 * decodes must encode back to exactly the same bytes, and the debug
 * formatter must cope with it; ASan and UBSan watch every access.  Any
 * failure aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(char *what)
{
	fprintf(stderr, "fuzz-fcall: %s: %s\n", what, errstr());
	abort();
}

static void
frame(uchar *buf, long n)
{
	char line[512];
	uchar *out;
	Fcall f;
	Dir *d;

	if(fcallunpack(buf, n, &f) < 0)
		return;
	if(fcallsize(&f) != n)
		fail("size of the re-encoded message differs");
	out = malloc(n);
	if(fcallpack(&f, out, n) != n || memcmp(out, buf, n) != 0)
		fail("re-encoded message differs");
	free(out);
	fcallfmt(line, sizeof line, &f);
	if(f.type == Rstat || f.type == Twstat){
		d = dirunpack(f.stat, f.nstat);
		if(d != nil){
			out = malloc(f.nstat);
			if(dirpack(d, out, f.nstat) != f.nstat || memcmp(out, f.stat, f.nstat) != 0)
				fail("re-encoded stat differs");
			free(out);
			free(d);
		}
	}
	fcallclear(&f);
}

static void
dirread(uchar *buf, long n)
{
	char line[512];
	uchar *out;
	long nd, i, off, m;
	Dir *d;

	nd = dirunpackall(buf, n, &d);
	if(nd <= 0)
		return;
	out = malloc(n);
	off = 0;
	for(i = 0; i < nd; i++){
		m = dirpack(&d[i], out+off, n-off);
		if(m < 0)
			fail("a decoded stat does not encode");
		dirfmt(line, sizeof line, &d[i]);
		off += m;
	}
	if(off != n || memcmp(out, buf, n) != 0)
		fail("re-encoded directory differs");
	free(out);
	free(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uchar *buf;

	/* a copy of exactly the input's size, so overreads are caught */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	frame(buf, size);
	dirread(buf, size);
	free(buf);
	return 0;
}
