/*
 * MetroHash64, variant 1 (format §2), and the in-memory integer mixer.
 * Words are loaded little-endian explicitly, so a volume's checksums do
 * not depend on the byte order of the machine that wrote it.
 */
#include "dat.h"
#include "fns.h"

enum {
	K0	= 0xC83A91E1ULL,
	K1	= 0x8648DBDBULL,
	K2	= 0x7BDEC03BULL,
	K3	= 0x2F5870A5ULL,
};

static uvlong
ror(uvlong v, int k)
{
	return (v >> k) | (v << (64 - k));
}

static uvlong
le(uchar *p, int n)
{
	uvlong v;
	int i;

	v = 0;
	for(i = n-1; i >= 0; i--)
		v = v<<8 | p[i];
	return v;
}

/*
 * The 8-byte load of the main loop, spelled out: compilers turn this
 * into one load (plus a swap on big-endian machines), where le's loop
 * stays a byte at a time and made hashing a block cost 1 GB/s.
 */
static uvlong
le8(uchar *p)
{
	return (uvlong)p[0] | (uvlong)p[1]<<8 | (uvlong)p[2]<<16 | (uvlong)p[3]<<24
		| (uvlong)p[4]<<32 | (uvlong)p[5]<<40 | (uvlong)p[6]<<48 | (uvlong)p[7]<<56;
}

uvlong
metrohash(void *buf, size_t n, uvlong seed)
{
	uvlong h, v0, v1, v2, v3, a, b;
	uchar *p, *e;

	p = buf;
	e = p + n;
	h = (seed + K2)*K0 + n;
	if(n >= 32){
		v0 = v1 = v2 = v3 = h;
		while(e - p >= 32){
			v0 += le8(p)*K0; p += 8; v0 = ror(v0, 29) + v2;
			v1 += le8(p)*K1; p += 8; v1 = ror(v1, 29) + v3;
			v2 += le8(p)*K2; p += 8; v2 = ror(v2, 29) + v0;
			v3 += le8(p)*K3; p += 8; v3 = ror(v3, 29) + v1;
		}
		v2 ^= ror((v0 + v3)*K0 + v1, 33)*K1;
		v3 ^= ror((v1 + v2)*K1 + v0, 33)*K0;
		v0 ^= ror((v0 + v2)*K0 + v3, 33)*K1;
		v1 ^= ror((v1 + v3)*K1 + v2, 33)*K0;
		h += v0 ^ v1;
	}
	if(e - p >= 16){
		a = h + le8(p)*K0; p += 8; a = ror(a, 33)*K1;
		b = h + le8(p)*K1; p += 8; b = ror(b, 33)*K2;
		a ^= ror(a*K0, 35) + b;
		b ^= ror(b*K3, 35) + a;
		h += b;
	}
	if(e - p >= 8){
		h += le8(p)*K3; p += 8;
		h ^= ror(h, 33)*K1;
	}
	if(e - p >= 4){
		h += le(p, 4)*K3; p += 4;
		h ^= ror(h, 15)*K1;
	}
	if(e - p >= 2){
		h += le(p, 2)*K3; p += 2;
		h ^= ror(h, 13)*K1;
	}
	if(e - p >= 1){
		h += le(p, 1)*K3;
		h ^= ror(h, 25)*K1;
	}
	h ^= ror(h, 33);
	h *= K0;
	h ^= ror(h, 33);
	return h;
}

/* Every on-disk checksum uses the same seed. */
uvlong
blkhash(void *p, size_t n)
{
	return metrohash(p, n, Hashseed);
}

/* splitmix64's finaliser (format §2.4): in-memory tables only. */
u32int
ihash(uvlong x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}
