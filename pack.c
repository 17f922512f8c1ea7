/*
 * pack.c: big-endian encoding of everything that reaches the disk.
 * Bytes go through unsigned char so the result is the same where char is
 * signed (x86) and where it is not (arm).
 */
#include "dat.h"
#include "fns.h"

u16int
get16(char *p)
{
	uchar *u = (uchar*)p;

	return u[0]<<8 | u[1];
}

u32int
get32(char *p)
{
	uchar *u = (uchar*)p;

	return (u32int)u[0]<<24 | u[1]<<16 | u[2]<<8 | u[3];
}

uvlong
get64(char *p)
{
	return (uvlong)get32(p)<<32 | get32(p+4);
}

void
put16(char *p, u16int v)
{
	uchar *u = (uchar*)p;

	u[0] = v>>8;
	u[1] = v;
}

void
put32(char *p, u32int v)
{
	uchar *u = (uchar*)p;

	u[0] = v>>24;
	u[1] = v>>16;
	u[2] = v>>8;
	u[3] = v;
}

void
put64(char *p, uvlong v)
{
	put32(p, v>>32);
	put32(p+4, v);
}
