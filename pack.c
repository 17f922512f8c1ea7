/*
 * pack.c: big-endian encoding of everything that reaches the disk.
 * Bytes go through unsigned char so the result is the same where char is
 * signed (x86) and where it is not (arm).
 */
#include <assert.h>
#include <string.h>
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

/*
 * Block pointers (format §3): addr, hash, gen, 24 bytes.
 */
char*
packbp(char *p, Bptr *bp)
{
	put64(p, bp->addr);
	put64(p+8, bp->hash);
	put64(p+16, bp->gen);
	return p+Ptrsz;
}

Bptr
unpackbp(char *p)
{
	Bptr bp;

	bp.addr = get64(p);
	bp.hash = get64(p+8);
	bp.gen = get64(p+16);
	return bp;
}

/*
 * Entries of leaves and pivots (format §4.4, §4.5).  A node is always
 * built by appending in key order: the offset table grows up from the
 * start of the area, bodies grow down from its end.  Callers check room
 * with the fill arithmetic before appending; the asserts below catch
 * the bugs that would corrupt a block.
 */
static int
entspc(Blk *b)
{
	assert(b->type == Tleaf || b->type == Tpivot);
	return b->type == Tleaf ? Leafspc : Pivspc;
}

static char*
bufarea(Blk *b)
{
	assert(b->type == Tpivot);
	return b->buf + Pivhdsz + Pivspc;
}

void
getval(Blk *b, int i, Kvp *kv)
{
	char *p;
	int o;

	assert(i >= 0 && i < b->nval);
	o = get16(b->data + 2*i);
	p = b->data + o;
	kv->nk = get16(p);
	kv->k = p + 2;
	kv->nv = get16(p + 2 + kv->nk);
	kv->v = p + 2 + kv->nk + 2;
}

void
setval(Blk *b, Kvp *kv)
{
	int o, sz;
	char *p;

	sz = 4 + kv->nk + kv->nv;
	assert(2*(b->nval+1) + b->valsz + sz <= entspc(b));
	b->valsz += sz;
	o = entspc(b) - b->valsz;
	put16(b->data + 2*b->nval, o);
	p = b->data + o;
	put16(p, kv->nk);
	memcpy(p+2, kv->k, kv->nk);
	put16(p+2+kv->nk, kv->nv);
	memcpy(p+4+kv->nk, kv->v, kv->nv);
	b->nval++;
}

/* A pivot child entry: separator key -> (Bptr, fill). */
void
getptr(Blk *b, int i, Key *k, Bptr *bp, int *fill)
{
	Kvp kv;

	assert(b->type == Tpivot);
	getval(b, i, &kv);
	assert(kv.nv == Pptrsz);
	k->k = kv.k;
	k->nk = kv.nk;
	*bp = unpackbp(kv.v);
	*fill = get16(kv.v + Ptrsz);
}

void
setptr(Blk *b, Key *k, Bptr bp, int fill)
{
	char v[Pptrsz];
	Kvp kv;

	assert(b->type == Tpivot);
	packbp(v, &bp);
	put16(v+Ptrsz, fill);
	kv.k = k->k;
	kv.nk = k->nk;
	kv.v = v;
	kv.nv = Pptrsz;
	setval(b, &kv);
}

/* Buffered messages of a pivot: u8 op, u16 nk, key, u16 nv, value. */
void
getmsg(Blk *b, int i, Msg *m)
{
	char *a, *p;

	assert(i >= 0 && i < b->nbuf);
	a = bufarea(b);
	p = a + get16(a + 2*i);
	m->op = (uchar)p[0];
	m->kv.nk = get16(p+1);
	m->kv.k = p + 3;
	m->kv.nv = get16(p + 3 + m->kv.nk);
	m->kv.v = p + 3 + m->kv.nk + 2;
}

void
setmsg(Blk *b, Msg *m)
{
	char *a, *p;
	int o, sz;

	a = bufarea(b);
	sz = 5 + m->kv.nk + m->kv.nv;
	assert(2*(b->nbuf+1) + b->bufsz + sz <= Bufspc);
	b->bufsz += sz;
	o = Bufspc - b->bufsz;
	put16(a + 2*b->nbuf, o);
	p = a + o;
	p[0] = m->op;
	put16(p+1, m->kv.nk);
	memcpy(p+3, m->kv.k, m->kv.nk);
	put16(p+3+m->kv.nk, m->kv.nv);
	memcpy(p+5+m->kv.nk, m->kv.v, m->kv.nv);
	b->nbuf++;
}

/* The fill of a node as recorded in its parent (format §4.5). */
int
blkfill(Blk *b)
{
	switch(b->type){
	case Tleaf:
		return 2*b->nval + b->valsz;
	case Tpivot:
		return 2*b->nbuf + b->bufsz + 2*b->nval + b->valsz;
	}
	return 0;
}

/* Keys order as unsigned byte strings; a prefix sorts first (format §6.2). */
int
keycmp(Key *a, Key *b)
{
	int c, n;

	n = a->nk < b->nk ? a->nk : b->nk;
	c = memcmp(a->k, b->k, n);
	if(c != 0)
		return c;
	return (a->nk > b->nk) - (a->nk < b->nk);
}
