/*
 * pack.c's big-endian primitives: the exact bytes, round trips at every
 * boundary, and bytes with the top bit set, which a signed char would
 * smear over the higher bits.  test/atomics.t also runs this on a
 * big-endian machine (mips under qemu-user) and on ones where char is
 * unsigned (arm, power): the format must not depend on either.
 */
#include "dat.h"
#include "fns.h"
#include <limits.h>
#include <string.h>
#include "test/tap.h"

enum {
	Guard	= 0xa5,
	Off	= 3,		/* odd: the primitives must not need alignment */
};

static char buf[16];

static void
clear(void)
{
	memset(buf, Guard, sizeof buf);
}

/* The n bytes at buf+Off are want, and nothing around them changed. */
static int
bytesare(uchar *want, int n)
{
	int i;

	for(i = 0; i < (int)sizeof buf; i++){
		if(i >= Off && i < Off+n){
			if((uchar)buf[i] != want[i-Off])
				return 0;
		}else if((uchar)buf[i] != Guard)
			return 0;
	}
	return 1;
}

static void
layout(void)
{
	static uchar b16[] = {0x01, 0x02};
	static uchar b32[] = {0x01, 0x02, 0x03, 0x04};
	static uchar b64[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	static uchar neg64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	static uchar top32[] = {0x80, 0x00, 0x00, 0x01};

	clear();
	put16(buf+Off, 0x0102);
	ok(bytesare(b16, 2), "put16 0x0102 writes 01 02 and nothing else");
	clear();
	put32(buf+Off, 0x01020304);
	ok(bytesare(b32, 4), "put32 0x01020304 writes 01 02 03 04 and nothing else");
	clear();
	put64(buf+Off, 0x0102030405060708ULL);
	ok(bytesare(b64, 8), "put64 0x0102030405060708 writes 01..08 and nothing else");
	clear();
	put64(buf+Off, (uvlong)(vlong)-2);
	ok(bytesare(neg64, 8), "put64 of -2 writes ff ff ff ff ff ff ff fe");
	clear();
	put32(buf+Off, 0x80000001U);
	ok(bytesare(top32, 4), "put32 0x80000001 writes 80 00 00 01");

	memcpy(buf+Off, b64, 8);
	is(get16(buf+Off), 0x0102, "get16 reads 01 02 as 0x0102");
	is(get32(buf+Off), 0x01020304, "get32 reads 01 02 03 04 as 0x01020304");
	is(get64(buf+Off), 0x0102030405060708LL, "get64 reads 01..08 as 0x0102030405060708");
}

/* Bytes with the top bit set, alone in each position. */
static void
topbits(void)
{
	int k, bad16, bad32, bad64;
	uvlong want;

	bad16 = bad32 = bad64 = 0;
	for(k = 0; k < 8; k++){
		memset(buf, 0, sizeof buf);
		buf[Off+k] = (char)0x80;
		want = 0x80ULL << 8*(7-k);
		if(get64(buf+Off) != want)
			bad64++;
		if(k < 4 && (uvlong)get32(buf+Off) != want>>32)
			bad32++;
		if(k < 2 && (uvlong)get16(buf+Off) != want>>48)
			bad16++;
		buf[Off+k] = (char)0xff;
		want = 0xffULL << 8*(7-k);
		if(get64(buf+Off) != want)
			bad64++;
		if(k < 4 && (uvlong)get32(buf+Off) != want>>32)
			bad32++;
		if(k < 2 && (uvlong)get16(buf+Off) != want>>48)
			bad16++;
	}
	is(bad16, 0, "get16: a byte 80 or ff in either position stays in its byte");
	is(bad32, 0, "get32: a byte 80 or ff in any position stays in its byte");
	is(bad64, 0, "get64: a byte 80 or ff in any position stays in its byte");

	memset(buf, 0xff, sizeof buf);
	ok((uvlong)get16(buf) == 0xffffULL, "get16 of ff ff is 65535, not -1");
	ok((uvlong)get32(buf) == 0xffffffffULL, "get32 of ff ff ff ff is 2^32-1, not -1");
	ok(get64(buf) == ~0ULL, "get64 of eight ff is 2^64-1");
	ok((vlong)get64(buf) == -1, "get64 of eight ff read as a vlong is -1");
	memset(buf, 0, sizeof buf);
	buf[0] = (char)0x80;
	ok((vlong)get32(buf) == 0x80000000LL, "get32 of 80 00 00 00 widens to +2^31");
	ok((vlong)get64(buf) == INT64_MIN, "get64 of 80 00.. read as a vlong is INT64_MIN");
	put64(buf, (uvlong)INT64_MIN);
	ok((vlong)get64(buf) == INT64_MIN, "INT64_MIN survives put64/get64");
	put64(buf, (uvlong)(vlong)-2);
	ok((vlong)get64(buf) == -2, "-2 survives put64/get64");
	put32(buf, (u32int)-7);
	ok((s32int)get32(buf) == -7, "-7 survives put32/get32 as s32int");
}

static void
roundtrips(void)
{
	static uvlong v64[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffffffffULL, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~1ULL,
		0x8080808080808080ULL, 0xffffffff00000000ULL, 0x00000000ffffffffULL,
		0x0123456789abcdefULL, 0xfedcba9876543210ULL,
	};
	static u32int v32[] = {
		0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000U, 0xfffffffeU, 0xffffffffU, 0x80808080U,
		0x00ff00ffU, 0xff00ff00U,
	};
	int i, k, bad;
	uvlong v;

	bad = 0;
	for(i = 0; i <= 0xffff; i++){
		put16(buf+Off, i);
		if(get16(buf+Off) != i)
			bad++;
	}
	is(bad, 0, "every 16-bit value survives put16/get16");

	bad = 0;
	for(i = 0; i < (int)nelem(v32); i++){
		put32(buf+Off, v32[i]);
		if(get32(buf+Off) != v32[i])
			bad++;
	}
	for(k = 0; k < 32; k++){
		put32(buf+Off, 1U<<k);
		if(get32(buf+Off) != 1U<<k)
			bad++;
		put32(buf+Off, ~(1U<<k));
		if(get32(buf+Off) != ~(1U<<k))
			bad++;
	}
	is(bad, 0, "32-bit boundary values and single bits survive put32/get32");

	bad = 0;
	for(i = 0; i < (int)nelem(v64); i++){
		put64(buf+Off, v64[i]);
		if(get64(buf+Off) != v64[i])
			bad++;
	}
	for(k = 0; k < 64; k++){
		v = 1ULL<<k;
		put64(buf+Off, v);
		if(get64(buf+Off) != v)
			bad++;
		put64(buf+Off, ~v);
		if(get64(buf+Off) != ~v)
			bad++;
	}
	is(bad, 0, "64-bit boundary values and single bits survive put64/get64");

	clear();
	put64(buf+Off, 0x1122334455667788ULL);
	is(get32(buf+Off), 0x11223344, "get32 of a put64 reads its high word first");
	is(get32(buf+Off+4), 0x55667788, "and its low word second");
	is(get16(buf+Off+6), 0x7788, "get16 of its last two bytes");
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
	layout();
	topbits();
	roundtrips();
	return done();
}
