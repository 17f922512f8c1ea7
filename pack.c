/*
 * pack.c: big-endian encoding of everything that reaches the disk.
 * Bytes go through unsigned char so the result is the same where char is
 * signed (x86) and where it is not (arm).
 */
#include <assert.h>
#include <stdio.h>
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

/*
 * Keys and values (format §6.3, §17).  Encoders return the end of what
 * they wrote, or a length; decoders are strict and return -1 with the
 * error set on anything that is not exactly the documented encoding.
 */
char*
packdatkey(char *p, uvlong qid, uvlong off)
{
	p[0] = Kdat;
	put64(p+1, qid);
	put64(p+9, off);
	return p+Offksz;
}

/* Kent: 0x01, parent, u16 n, name[n], 0.  Returns the key length or -1. */
int
packdkey(char *p, int sz, uvlong up, char *name, int nname)
{
	int n;

	n = Dpfxsz + 2 + nname + 1;
	if(nname < 0 || nname > Maxname || n > sz){
		werrstr("%s", Elength);
		return -1;
	}
	p[0] = Kent;
	put64(p+1, up);
	put16(p+9, nname);
	memcpy(p+11, name, nname);
	p[11+nname] = 0;
	return n;
}

int
unpackdkey(char *k, int nk, uvlong *up, char **name, int *nname)
{
	int n;

	if(nk < Dpfxsz+3 || k[0] != Kent)
		goto bad;
	n = get16(k+9);
	/* the name must end exactly at the key's NUL: nothing after it */
	if(Dpfxsz + 2 + n + 1 != nk || k[11+n] != 0)
		goto bad;
	*up = get64(k+1);
	*name = k+11;
	*nname = n;
	return 0;
bad:
	werrstr("%s: bad directory entry key", Efs);
	return -1;
}

char*
packupkey(char *p, uvlong qid)
{
	p[0] = Kup;
	put64(p+1, qid);
	return p+Upksz;
}

/* The 61-byte Xdir; flag is written as 0 whatever the caller holds. */
char*
packdir(char *p, Xdir *d)
{
	put64(p, 0);
	put64(p+8, d->qid.path);
	put32(p+16, d->qid.vers);
	p[20] = d->qid.type;
	put32(p+21, d->mode);
	put64(p+25, d->atime);
	put64(p+33, d->mtime);
	put64(p+41, d->length);
	put32(p+49, d->uid);
	put32(p+53, d->gid);
	put32(p+57, d->muid);
	return p+Xdirsz;
}

/* Decode a Kent key and value; the name points into kv->k. */
int
kv2dir(Kvp *kv, Xdir *d)
{
	uvlong up;
	char *v;

	if(kv->nv != Xdirsz){
		werrstr("%s: directory entry of %d bytes", Efs, kv->nv);
		return -1;
	}
	if(unpackdkey(kv->k, kv->nk, &up, &d->name, &d->nname) == -1)
		return -1;
	v = kv->v;
	d->flag = get64(v);
	d->qid.path = get64(v+8);
	d->qid.vers = get32(v+16);
	d->qid.type = v[20];
	d->mode = get32(v+21);
	d->atime = get64(v+25);
	d->mtime = get64(v+33);
	d->length = get64(v+41);
	d->uid = get32(v+49);
	d->gid = get32(v+53);
	d->muid = get32(v+57);
	return 0;
}

/* Klabel: 0x03 and the raw name.  Returns the key length or -1. */
int
packlabel(char *p, int sz, char *name)
{
	int n;

	n = strlen(name);
	if(n == 0 || 1+n > sz || 1+n > Keymax){
		werrstr("%s", Elength);
		return -1;
	}
	p[0] = Klabel;
	memcpy(p+1, name, n);
	return 1+n;
}

/* Klabel value: the Ksnap key of the snapshot, then the label flags. */
char*
packlblval(char *p, vlong gen, u32int flags)
{
	p = packsnapkey(p, gen);
	put32(p, flags);
	return p+4;
}

int
unpacklblval(char *v, int nv, vlong *gen, u32int *flags)
{
	if(nv != Snapsz+4 || v[0] != Ksnap){
		werrstr("%s: bad label value", Efs);
		return -1;
	}
	*gen = get64(v+1);
	*flags = get32(v+Snapsz);
	return 0;
}

char*
packsnapkey(char *p, vlong gen)
{
	p[0] = Ksnap;
	put64(p+1, gen);
	return p+Snapsz;
}

/* The 72-byte tree record: nref, nlbl, ht, flag, gen, pred, succ, base, root. */
char*
packtree(char *p, Tree *t)
{
	put32(p, t->nref);
	put32(p+4, t->nlbl);
	put32(p+8, t->ht);
	put32(p+12, 0);
	put64(p+16, t->gen);
	put64(p+24, t->pred);
	put64(p+32, t->succ);
	put64(p+40, t->base);
	packbp(p+48, &t->bp);
	return p+Treesz;
}

int
unpacktree(Tree *t, char *p, int n)
{
	if(n != Treesz){
		werrstr("%s: tree record of %d bytes", Efs, n);
		return -1;
	}
	t->nref = get32(p);
	t->nlbl = get32(p+4);
	t->ht = get32(p+8);
	t->flag = get32(p+12);
	t->gen = get64(p+16);
	t->pred = get64(p+24);
	t->succ = get64(p+32);
	t->base = get64(p+40);
	t->bp = unpackbp(p+48);
	if(t->ht < 1 || t->ht > 64){
		werrstr("%s: tree record height %d", Efs, t->ht);
		return -1;
	}
	return 0;
}

char*
packdlkey(char *p, vlong gen, vlong bgen)
{
	p[0] = Kdlist;
	put64(p+1, gen);
	put64(p+9, bgen);
	return p+Dlksz;
}

char*
packdlval(char *p, Bptr *hd, Bptr *tl)
{
	p = packbp(p, hd);
	return packbp(p, tl);
}

int
unpackdlval(char *v, int nv, Bptr *hd, Bptr *tl)
{
	if(nv != Dlvsz){
		werrstr("%s: deadlist value of %d bytes", Efs, nv);
		return -1;
	}
	*hd = unpackbp(v);
	*tl = unpackbp(v+Ptrsz);
	return 0;
}

/* Kconf (format §17.1): 0x06 and the raw name. */
int
packconfkey(char *p, int sz, char *name)
{
	int n;

	n = strlen(name);
	if(n == 0 || 1+n > sz || 1+n > Keymax){
		werrstr("%s", Elength);
		return -1;
	}
	p[0] = Kconf;
	memcpy(p+1, name, n);
	return 1+n;
}

/*
 * The superblock (format §4.1): a whole block, zero past the hash.
 * Its snap-tree deadlist fields are always none (format §9.5 step 2c).
 */
void
packsuper(char *buf, Super *s)
{
	int i, n;

	assert(s->narena >= 1 && s->narena <= Maxarena);
	memset(buf, 0, Blksz);
	memcpy(buf, Magicvers, 8);
	put32(buf+8, Blksz);
	put32(buf+12, Bufspc);
	put32(buf+16, s->narena);
	put32(buf+20, s->ht);
	put64(buf+24, s->root.addr);
	put64(buf+32, s->root.hash);
	memset(buf+40, 0xff, 32);
	put64(buf+72, 0);
	put64(buf+80, s->nextqid);
	put64(buf+88, s->nextgen);
	put64(buf+96, s->qgen);
	for(i = 0; i < s->narena; i++){
		put64(buf+Sbhdsz+16*i, s->arenas[i].addr);
		put64(buf+Sbhdsz+16*i+8, s->arenas[i].hash);
	}
	n = Sbhdsz + 16*s->narena;
	put64(buf+n, blkhash(buf, n));
}

static void
quote(char *d, int nd, char *s, int ns)
{
	int i, o;

	o = 0;
	for(i = 0; i < ns && o+5 < nd; i++){
		if((uchar)s[i] >= 0x20 && (uchar)s[i] < 0x7f)
			d[o++] = s[i];
		else
			o += snprintf(d+o, nd-o, "\\x%02x", (uchar)s[i]);
	}
	d[o] = 0;
}

/* Decode and check a superblock; s->arenas is allocated on success. */
int
unpacksuper(char *buf, Super *s)
{
	char q[64];
	uvlong h;
	int i, n;

	if(memcmp(buf, Magicvers, 8) != 0){
		quote(q, sizeof q, buf, 8);
		werrstr("%s: found \"%s\"", Efsvers, q);
		return -1;
	}
	if(get32(buf+8) != Blksz || get32(buf+12) != Bufspc){
		werrstr("%s: block size %u, buffer space %u", Efsvers, get32(buf+8), get32(buf+12));
		return -1;
	}
	s->narena = get32(buf+16);
	if(s->narena < 1 || s->narena > Maxarena){
		werrstr("%s: %d arenas", Ecorrupt, s->narena);
		return -1;
	}
	n = Sbhdsz + 16*s->narena;
	h = blkhash(buf, n);
	if(get64(buf+n) != h){
		werrstr("%s: superblock hash: expected %#llx, found %#llx",
			Ecorrupt, (unsigned long long)get64(buf+n), (unsigned long long)h);
		return -1;
	}
	s->ht = get32(buf+20);
	s->root.addr = get64(buf+24);
	s->root.hash = get64(buf+32);
	s->root.gen = -1;
	s->flags = get64(buf+72);
	s->nextqid = get64(buf+80);
	s->nextgen = get64(buf+88);
	s->qgen = get64(buf+96);
	if(s->ht < 1 || s->ht > 64){
		werrstr("%s: snapshot tree height %d", Ecorrupt, s->ht);
		return -1;
	}
	s->arenas = emalloc(s->narena*sizeof(Bptr));
	for(i = 0; i < s->narena; i++){
		s->arenas[i].addr = get64(buf+Sbhdsz+16*i);
		s->arenas[i].hash = get64(buf+Sbhdsz+16*i+8);
		s->arenas[i].gen = -1;
	}
	return 0;
}

/* The arena header (format §4.2): h0 and h1 are this same block. */
void
packarena(char *buf, Bptr *loghd, vlong size, vlong used)
{
	memset(buf, 0, Blksz);
	put16(buf, Tarena);
	put64(buf+2, loghd->addr);
	put64(buf+10, loghd->hash);
	put64(buf+18, size);
	put64(buf+26, used);
}

int
unpackarena(char *buf, Bptr *loghd, vlong *size, vlong *used)
{
	if(get16(buf) != Tarena){
		werrstr("%s: arena header of type %d", Ecorrupt, get16(buf));
		return -1;
	}
	loghd->addr = get64(buf+2);
	loghd->hash = get64(buf+10);
	loghd->gen = -1;
	*size = get64(buf+18);
	*used = get64(buf+26);
	return 0;
}
