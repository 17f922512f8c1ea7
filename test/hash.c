/*
 * hash.c: every test vector of format §2.2, then properties a checksum
 * must have.  test/atomics.t also runs this on a big-endian machine
 * (mips under qemu-user): the vectors must not depend on byte order.
 */
#include "dat.h"
#include "fns.h"
#include <limits.h>
#include <string.h>
#include "test/tap.h"

static char digits[] = "012345678901234567890123456789012345678901234567890123456789012";

/* The reference publishes its vectors as the hash's little-endian bytes. */
static uvlong
lebytes(uchar *b)
{
	uvlong v;
	int i;

	v = 0;
	for(i = 7; i >= 0; i--)
		v = v<<8 | b[i];
	return v;
}

static void
vectors(void)
{
	static uchar seed0[8] = {0x65, 0x8F, 0x04, 0x4F, 0x5C, 0x73, 0x0E, 0x40};
	static uchar seed1[8] = {0xAE, 0x49, 0xEB, 0xB0, 0xA8, 0x56, 0x53, 0x7B};
	static char zero[Blksz];

	is(strlen(digits), 63, "the reference input is 63 bytes");
	is(metrohash(digits, 63, 0), 0x400e735c4f048f65ULL, "reference vector, seed 0");
	is(metrohash(digits, 63, 0), lebytes(seed0), "reference vector, seed 0, as its LE bytes");
	is(metrohash(digits, 63, 1), lebytes(seed1), "reference vector, seed 1, as its LE bytes");
	is(metrohash(digits, 63, 0x6765), 0x20686214644a5482ULL, "63 digits, seed 0x6765");
	is(blkhash(digits, 63), 0x20686214644a5482ULL, "blkhash of the 63 digits");
	is(metrohash(zero, Blksz, 0x6765), 0x8d19d8745486446eULL, "16384 zero bytes, seed 0x6765");
	is(blkhash(zero, Blksz), 0x8d19d8745486446eULL, "blkhash of a zero block");
	is(metrohash("", 0, 0x6765), 0x35d244c2ba0d952fULL, "empty input, seed 0x6765");
	is(blkhash(digits, 0), 0x35d244c2ba0d952fULL, "blkhash of no bytes");
	is(Hashseed, 0x6765, "the on-disk seed is 0x6765");
}

/* Words are read byte by byte: where the input sits must not matter. */
static void
alignment(void)
{
	char buf[64+8];
	uvlong h;
	int off, bad;

	h = blkhash(digits, 63);
	bad = 0;
	for(off = 1; off < 8; off++){
		memcpy(buf+off, digits, 63);
		if(blkhash(buf+off, 63) != h)
			bad++;
	}
	is(bad, 0, "the hash does not depend on the input's alignment");
}

/* Every single-bit change of the input, in every part of the algorithm. */
static void
bitflips(void)
{
	enum { N = 100 };
	char buf[N];
	uvlong h, g, *seen;
	int i, j, n, same, dup, lens[] = {1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, N};
	int k;

	same = dup = 0;
	seen = calloc(N*8, sizeof *seen);
	if(seen == nil)
		exit(2);
	for(k = 0; k < (int)nelem(lens); k++){
		n = lens[k];
		for(i = 0; i < n; i++)
			buf[i] = i*7 + 3;
		h = blkhash(buf, n);
		for(i = 0; i < n*8; i++){
			buf[i/8] ^= 1<<(i%8);
			g = blkhash(buf, n);
			buf[i/8] ^= 1<<(i%8);
			if(g == h)
				same++;
			for(j = 0; j < i; j++)
				if(seen[j] == g)
					dup++;
			seen[i] = g;
		}
	}
	free(seen);
	is(same, 0, "every single-bit flip changes the hash (lengths 1 to %d)", N);
	is(dup, 0, "no two single-bit flips of one input collide");
}

/* The length is hashed: runs of zeros, and prefixes, all differ. */
static void
lengths(void)
{
	enum { N = 200 };
	static char zero[N];
	uvlong h[N+1];
	int i, j, dup;

	dup = 0;
	for(i = 0; i <= N; i++){
		h[i] = blkhash(zero, i);
		for(j = 0; j < i; j++)
			if(h[j] == h[i])
				dup++;
	}
	is(dup, 0, "0 to %d zero bytes hash to %d different values", N, N+1);
	dup = 0;
	for(i = 0; i < 63; i++)
		if(blkhash(digits, i) == blkhash(digits, 63))
			dup++;
	is(dup, 0, "no prefix of the digits hashes like the whole");
	ok(metrohash(digits, 63, 0x6766) != blkhash(digits, 63), "the seed matters");
}

/* splitmix64's finaliser: its published outputs for seed 0, truncated. */
static void
inthash(void)
{
	is(ihash(0x9e3779b97f4a7c15ULL), 0x7b1dcdafU, "ihash: splitmix64 output 1 (0xe220a8397b1dcdaf), low 32 bits");
	is(ihash(0x3c6ef372fe94f82aULL), 0xa1b965f4U, "ihash: splitmix64 output 2 (0x6e789e6aa1b965f4), low 32 bits");
	is(ihash(0), 0, "ihash(0) is 0");
	ok(ihash(1) != ihash(2) && ihash(1ULL<<32) != ihash(1), "ihash mixes high bits into the result");
}

/* Say where we run, so a log shows the byte order was really covered. */
static void
machine(void)
{
	u32int one;

	one = 1;
	diag("this machine is %s-endian and its char is %s",
		*(uchar*)&one ? "little" : "big", CHAR_MIN < 0 ? "signed" : "unsigned");
}

int
main(void)
{
	machine();
	vectors();
	alignment();
	bitflips();
	lengths();
	inthash();
	return done();
}
