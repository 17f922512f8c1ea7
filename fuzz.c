/*
 * fuzz.c: the model-based tree fuzzer (gefs -z SEED).
 *
 * One mutator thread sends random batches of messages to a tree and
 * mirrors them in a plain sorted map, the model, which keeps for each
 * key the versions readers may still ask about.  After each batch the
 * mutator publishes the new root with its version; reader threads look
 * keys up and scan prefixes, in published versions and in the live tree,
 * and compare with the model at the matching version.  At intervals the
 * mutator runs the full invariant check and compares a scan of the whole
 * tree.  The last phase deletes every key: the tree must then be one
 * empty leaf again.  The first difference stops everything.
 *
 * The model applies messages with code of its own (table-driven field
 * patching), so a bug in tree.c's applymsg shows up as a difference.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dat.h"
#include "fns.h"

enum {
	Nent	= 6000,		/* key ids per key type */
	Nconf	= 1500,
	Nsnap	= 1500,
	Nup	= 1000,
	Ndat	= 2000,
	Phase	= 700,		/* steps between growing and shrinking */
	Maxbatch	= 256,
	Maxrd	= 16,
	Defsteps	= 3000,		/* a default run takes a few seconds */
	Defreaders	= 2,
	Fuzzimg		= 1024*1024*1024,	/* sparse scratch image */
};

typedef struct Rd Rd;
typedef struct Got Got;

struct Rd {
	Fuzz	*f;
	int	id;
	uvlong	rng;
	pthread_t	tid;
};

/* Results a reader collected from the tree. */
struct Got {
	char	*buf;
	int	nbuf;
	int	maxbuf;
	int	*off;		/* each entry: u16 nk, key, u16 nv, value at buf+off[i] */
	int	n;
	int	max;
};

static uvlong
rnd(uvlong *s)
{
	uvlong x;

	x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static int
nrand(uvlong *s, int n)
{
	return rnd(s) % (uvlong)n;
}

static uvlong
mix(uvlong x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void
fail(Fuzz *f, char *fmt, ...)
{
	va_list ap;

	qlock(&f->flk);
	if(!f->failed){
		f->failed = 1;
		va_start(ap, fmt);
		vsnprintf(f->fail, sizeof f->fail, fmt, ap);
		va_end(ap);
	}
	qunlock(&f->flk);
	qlock(&f->plk);
	f->stop = 1;
	qunlock(&f->plk);
}

static int
failed(Fuzz *f)
{
	int r;

	qlock(&f->flk);
	r = f->failed;
	qunlock(&f->flk);
	return r;
}

/* ---------------------------------------------------------------- keys */

/*
 * The key of a given type and id; its length depends on the seed's
 * flavour, so some seeds run with mostly maximal keys.
 */
static int
mkkey(Fuzz *f, int type, int id, char *k)
{
	uvlong h;
	int n, i, longkeys;

	h = mix(f->seed * 31 + type * 1000003ULL + id);
	longkeys = f->seed % 3 == 0;
	switch(type){
	case Kent:
		if(h % 50 == 0 || (longkeys && h % 4 != 0))
			n = Maxname - (h>>8) % 16;
		else
			n = 1 + (h>>8) % 40;
		if(h % 97 == 0)
			n = Maxname;
		k[0] = Kent;
		put64(k+1, id % 7);
		put16(k+9, n);
		for(i = 0; i < n; i++)
			k[11+i] = 'a' + mix(h+i) % 26;
		k[11+n] = 0;
		return 12+n;
	case Kconf:
		if(h % 40 == 0 || (longkeys && h % 3 != 0))
			n = Keymax-1 - (h>>8) % 8;
		else
			n = 1 + (h>>8) % 30;
		k[0] = Kconf;
		for(i = 0; i < n; i++)
			k[1+i] = mix(h+i);
		return 1+n;
	case Ksnap:
		k[0] = Ksnap;
		put64(k+1, id);
		return Snapsz;
	case Kup:
		k[0] = Kup;
		put64(k+1, h % 100000);
		return Upksz;
	case Kdat:
		k[0] = Kdat;
		put64(k+1, id / 64);
		put64(k+9, (uvlong)(id % 64) * Blksz);
		return Offksz;
	}
	return 0;
}

static int
npool(Fuzz *f, int type)
{
	switch(type){
	case Kent:	return Nent;
	case Kconf:	return Nconf;
	case Ksnap:	return Nsnap;
	case Kup:	return Nup;
	case Kdat:	return f->datablks ? Ndat : 0;
	}
	return 0;
}

/* --------------------------------------------------------------- model */

static int
mcmp(char *a, int na, char *b, int nb)
{
	Key x, y;

	x.k = a;
	x.nk = na;
	y.k = b;
	y.nk = nb;
	return keycmp(&x, &y);
}

/* Index of the first model key >= k. */
static int
mbound(Fuzz *f, char *k, int nk)
{
	int lo, hi, m;

	lo = 0;
	hi = f->nkeys;
	while(lo < hi){
		m = (lo+hi)/2;
		if(mcmp(f->keys[m]->k, f->keys[m]->nk, k, nk) < 0)
			lo = m+1;
		else
			hi = m;
	}
	return lo;
}

static Mkey*
mfind(Fuzz *f, char *k, int nk)
{
	int i;

	i = mbound(f, k, nk);
	if(i < f->nkeys && mcmp(f->keys[i]->k, f->keys[i]->nk, k, nk) == 0)
		return f->keys[i];
	return nil;
}

static Mkey*
mget(Fuzz *f, char *k, int nk)
{
	Mkey *m;
	int i;

	i = mbound(f, k, nk);
	if(i < f->nkeys && mcmp(f->keys[i]->k, f->keys[i]->nk, k, nk) == 0)
		return f->keys[i];
	if(f->nkeys == f->maxkeys){
		f->maxkeys = f->maxkeys ? 2*f->maxkeys : 1024;
		f->keys = erealloc(f->keys, f->maxkeys * sizeof(Mkey*));
	}
	m = emalloc(sizeof *m);
	memset(m, 0, sizeof *m);
	m->k = emalloc(nk);
	memmove(m->k, k, nk);
	m->nk = nk;
	memmove(&f->keys[i+1], &f->keys[i], (f->nkeys - i) * sizeof(Mkey*));
	f->keys[i] = m;
	f->nkeys++;
	return m;
}

/* The value of m at version v, or nil if it has none. */
static Mver*
mat(Mkey *m, uvlong v)
{
	int i;

	for(i = m->nhist-1; i >= 0; i--)
		if(m->hist[i].ver <= v)
			return m->hist[i].present ? &m->hist[i] : nil;
	return nil;
}

/* The newest value of m, or nil. */
static Mver*
mcur(Mkey *m)
{
	if(m == nil || m->nhist == 0 || !m->hist[m->nhist-1].present)
		return nil;
	return &m->hist[m->nhist-1];
}

/*
 * Record m's value at version v (the batch being built): replace the
 * entry for v if the batch already changed m, and forget versions no
 * reader can ask for any more (older than the newest at or below minv).
 */
static void
mset(Fuzz *f, Mkey *m, uvlong v, uvlong minv, int present, char *val, int nval)
{
	Mver *h;
	int i, keep;

	if(m->nhist > 0 && m->hist[m->nhist-1].ver == v){
		h = &m->hist[m->nhist-1];
		f->npresent -= h->present;
		free(h->val);
	}else{
		if(m->nhist > 0)
			f->npresent -= m->hist[m->nhist-1].present;
		keep = 0;
		for(i = 0; i+1 < m->nhist; i++)
			if(m->hist[i+1].ver <= minv)
				keep = i+1;
		for(i = 0; i < keep; i++)
			free(m->hist[i].val);
		if(keep > 0)
			memmove(m->hist, m->hist+keep, (m->nhist-keep) * sizeof(Mver));
		m->nhist -= keep;
		if(m->nhist == m->maxhist){
			m->maxhist = m->maxhist ? 2*m->maxhist : 2;
			m->hist = erealloc(m->hist, m->maxhist * sizeof(Mver));
		}
		h = &m->hist[m->nhist++];
	}
	h->ver = v;
	h->present = present;
	h->nval = present ? nval : 0;
	h->val = emalloc(h->nval ? h->nval : 1);
	if(present)
		memmove(h->val, val, nval);
	f->npresent += present;
}

/* The model's own wstat: patch fields by table, in flag order. */
static void
mwstat(char *v, char *p)
{
	static struct { int bit, off, width; } fld[] = {
		{Owsize, 41, 8}, {Owmode, 21, 4}, {Owmtime, 33, 8}, {Owatime, 25, 8},
		{Owuid, 49, 4}, {Owgid, 53, 4}, {Owmuid, 57, 4},
	};
	int fl, i;

	fl = (uchar)*p++;
	for(i = 0; i < (int)nelem(fld); i++){
		if(!(fl & fld[i].bit))
			continue;
		memmove(v + fld[i].off, p, fld[i].width);
		if(fld[i].bit == Owmode)
			v[20] = p[0];
		p += fld[i].width;
	}
	for(i = 19; i >= 16; i--)
		if(++v[i] != 0)
			break;
}

/* The model's own snapshot-record messages. */
static void
mtree(int op, char *v, char *p)
{
	u32int nref, nlbl;

	nref = get32(v) + (s8int)p[9];
	nlbl = get32(v+4) + (s8int)p[8];
	put32(v, nref);
	put32(v+4, nlbl);
	if(op == Orelink)
		memmove(v+32, p, 8);
	if(op == Oreprev)
		memmove(v+24, p, 8);
}

/* ------------------------------------------------------------- batches */

static int
datablk(Fuzz *f, uvlong *rng, char *v)
{
	Blk *b;
	int i;

	b = newblk(f->t, Tdat, 0);
	if(b == nil)
		return -1;
	for(i = 0; i < Blksz; i += 8)
		put64(b->buf+i, rnd(rng));
	enqueue(b);
	packbp(v, &b->bp);
	dropblk(b);
	return 0;
}

/* Fill in a random value for a new key of this type. */
static int
newval(Fuzz *f, uvlong *rng, int type, char *v)
{
	int n, i;

	switch(type){
	case Kent:
		for(i = 0; i < Xdirsz; i++)
			v[i] = rnd(rng);
		return Xdirsz;
	case Ksnap:
		for(i = 0; i < Treesz; i++)
			v[i] = rnd(rng);
		put32(v, nrand(rng, 4));
		put32(v+4, nrand(rng, 4));
		return Treesz;
	case Kdat:
		if(datablk(f, rng, v) < 0)
			return -1;
		return Ptrsz;
	case Kup:
		n = 12 + nrand(rng, Keymax-11);
		break;
	default:
		n = nrand(rng, 8) == 0 ? Inlmax - nrand(rng, 4) : nrand(rng, 120);
		break;
	}
	for(i = 0; i < n; i++)
		v[i] = rnd(rng);
	return n;
}

/* Choose the key for the next message. */
static Mkey*
pickkey(Fuzz *f, uvlong *rng, int shrinking, char *kbuf)
{
	static int types[] = {Kent, Kent, Kent, Kent, Kconf, Kconf, Ksnap, Ksnap, Kup, Kdat, Kdat};
	int type, nk, tries, i;
	Mkey *m;

	if(shrinking && f->npresent > 0)
		for(tries = 0; tries < 16; tries++){
			i = nrand(rng, f->nkeys);
			if(mcur(f->keys[i]) != nil)
				return f->keys[i];
		}
	do
		type = types[nrand(rng, nelem(types))];
	while(npool(f, type) == 0);
	nk = mkkey(f, type, nrand(rng, npool(f, type)), kbuf);
	m = mget(f, kbuf, nk);
	return m;
}

/*
 * Make message m for key mk given its current value, apply it to the
 * model at version v.  payload: room for the message's value.
 */
static int
mkmsg(Fuzz *f, uvlong *rng, int shrinking, Mkey *mk, Msg *m, char *payload, uvlong v, uvlong minv)
{
	char val[Inlmax];
	Mver *cur;
	int r, type, n, fl, i, w;
	u32int nref, nlbl;

	cur = mcur(mk);
	type = mk->k[0];
	m->kv.k = mk->k;
	m->kv.nk = mk->nk;
	m->kv.v = payload;
	m->kv.nv = 0;
	r = nrand(rng, 100);
	if(cur == nil){
		if(r < 8){
			m->op = type == Kdat && r < 4 ? Oclearb : Oclobber;
			return 0;
		}
		m->op = Oinsert;
		n = newval(f, rng, type, payload);
		if(n < 0)
			return -1;
		m->kv.nv = n;
		mset(f, mk, v, minv, 1, payload, n);
		return 0;
	}
	if(shrinking)
		r = r < 70 ? r % 20 : r;
	if(r < 20){
		m->op = r < 16 ? Odelete : (type == Kdat ? Oclearb : Oclobber);
		if(m->op == Odelete && nrand(rng, 4) == 0){
			/* old gefs sent 1 or 48 bytes here: they must be ignored */
			m->kv.nv = nrand(rng, 2) ? 1 : Dlvsz;
			memset(payload, 0, m->kv.nv);
		}
		mset(f, mk, v, minv, 0, nil, 0);
		return 0;
	}
	memmove(val, cur->val, cur->nval);
	n = cur->nval;
	if(r < 65 && type == Kent){
		m->op = Owstat;
		fl = nrand(rng, 0x80);
		payload[0] = fl;
		w = 1;
		for(i = 0; i < 7; i++)
			if(fl & (1<<i)){
				n = (1<<i) & (Owsize|Owmtime|Owatime) ? 8 : 4;
				while(n-- > 0)
					payload[w++] = rnd(rng);
			}
		m->kv.nv = w;
		mwstat(val, payload);
		mset(f, mk, v, minv, 1, val, Xdirsz);
		return 0;
	}
	if(r < 65 && type == Ksnap){
		m->op = Orelink + nrand(rng, 3);
		nref = get32(val);
		nlbl = get32(val+4);
		put64(payload, rnd(rng));
		payload[8] = nlbl == 0 ? nrand(rng, 2) : nrand(rng, 3) - 1;
		payload[9] = nref == 0 ? nrand(rng, 2) : nrand(rng, 3) - 1;
		m->kv.nv = Tpsz;
		mtree(m->op, val, payload);
		mset(f, mk, v, minv, 1, val, Treesz);
		return 0;
	}
	m->op = Oinsert;
	n = newval(f, rng, type, payload);
	if(n < 0)
		return -1;
	m->kv.nv = n;
	mset(f, mk, v, minv, 1, payload, n);
	return 0;
}

/* A message upsert must refuse, for the atomicity check. */
static void
mkbad(uvlong *rng, Msg *m, char *payload, char *kbuf)
{
	kbuf[0] = Kent;
	memset(kbuf+1, 'x', 20);
	m->kv.k = kbuf;
	m->kv.nk = 21;
	m->kv.v = payload;
	m->kv.nv = 0;
	switch(nrand(rng, 5)){
	case 0:
		m->op = Owstat;
		payload[0] = 0x80;
		m->kv.nv = 1;
		break;
	case 1:
		m->op = Owstat;
		payload[0] = Owsize;
		m->kv.nv = 5;
		break;
	case 2:
		m->op = Nmsgtype + nrand(rng, 200);
		break;
	case 3:
		m->op = Orelink;
		m->kv.nv = 9;
		break;
	default:
		m->op = Oinsert;
		m->kv.nk = Keymax+1;
		break;
	}
}

/* --------------------------------------------------------------- checks */

static void
gotadd(Got *g, Kvp *kv)
{
	int need;

	need = 4 + kv->nk + kv->nv;
	if(g->nbuf + need > g->maxbuf){
		g->maxbuf = 2*(g->maxbuf + need);
		g->buf = erealloc(g->buf, g->maxbuf);
	}
	if(g->n == g->max){
		g->max = g->max ? 2*g->max : 64;
		g->off = erealloc(g->off, g->max * sizeof(int));
	}
	g->off[g->n++] = g->nbuf;
	put16(g->buf + g->nbuf, kv->nk);
	memmove(g->buf + g->nbuf + 2, kv->k, kv->nk);
	put16(g->buf + g->nbuf + 2 + kv->nk, kv->nv);
	memmove(g->buf + g->nbuf + 4 + kv->nk, kv->v, kv->nv);
	g->nbuf += need;
}

static void
gotget(Got *g, int i, Kvp *kv)
{
	char *p;

	p = g->buf + g->off[i];
	kv->nk = get16(p);
	kv->k = p+2;
	kv->nv = get16(p+2+kv->nk);
	kv->v = p+4+kv->nk;
}

static int
sameval(Mver *mv, Kvp *kv)
{
	return mv->nval == kv->nv && memcmp(mv->val, kv->v, kv->nv) == 0;
}

/*
 * Compare scan results g[from..to) with the model at version v over the
 * keys with the prefix in (after, upto] (nil: unbounded).  0 if equal,
 * else -1 with a description of the first difference in why.
 */
static int
cmpscan(Fuzz *f, Got *g, int from, int to, char *pfx, int npfx, Key *after, Key *upto,
	uvlong v, char *why, int nwhy)
{
	char kb[40], kb2[40];
	Mver *mv;
	Mkey *mk;
	Kvp kv;
	int i, j;

	j = from;
	i = after != nil ? mbound(f, after->k, after->nk) : mbound(f, pfx, npfx);
	for(; i < f->nkeys; i++){
		mk = f->keys[i];
		if(mk->nk < npfx || memcmp(mk->k, pfx, npfx) != 0)
			break;
		if(after != nil && mcmp(mk->k, mk->nk, after->k, after->nk) <= 0)
			continue;
		if(upto != nil && mcmp(mk->k, mk->nk, upto->k, upto->nk) > 0)
			break;
		mv = mat(mk, v);
		if(mv == nil)
			continue;
		if(j == to){
			snprintf(why, nwhy, "scan misses key %s (model version %llu)",
				keyfmt(kb, sizeof kb, mk->k, mk->nk), (unsigned long long)v);
			return -1;
		}
		gotget(g, j, &kv);
		if(mcmp(kv.k, kv.nk, mk->k, mk->nk) != 0){
			snprintf(why, nwhy, "scan returned key %s where the model has %s (version %llu)",
				keyfmt(kb, sizeof kb, kv.k, kv.nk), keyfmt(kb2, sizeof kb2, mk->k, mk->nk),
				(unsigned long long)v);
			return -1;
		}
		if(!sameval(mv, &kv)){
			snprintf(why, nwhy, "scan key %s: value of %d bytes differs from the model's %d (version %llu)",
				keyfmt(kb, sizeof kb, kv.k, kv.nk), kv.nv, mv->nval, (unsigned long long)v);
			return -1;
		}
		j++;
	}
	if(j < to){
		gotget(g, j, &kv);
		snprintf(why, nwhy, "scan returned key %s the model lacks (version %llu)",
			keyfmt(kb, sizeof kb, kv.k, kv.nk), (unsigned long long)v);
		return -1;
	}
	return 0;
}

/* Compare one lookup result with the model at versions [v1, v2]. */
static int
cmplook(Fuzz *f, char *k, int nk, int r, Kvp *kv, uvlong v1, uvlong v2, char *why, int nwhy)
{
	char kb[40];
	Mkey *mk;
	Mver *mv;
	uvlong v;

	mk = mfind(f, k, nk);
	for(v = v1; v <= v2; v++){
		mv = mk != nil ? mat(mk, v) : nil;
		if(r == 0 && mv == nil)
			return 0;
		if(r == 1 && mv != nil && sameval(mv, kv))
			return 0;
	}
	mv = mk != nil ? mat(mk, v2) : nil;
	snprintf(why, nwhy, "lookup %s: tree %s (%d bytes), model at versions %llu..%llu %s (%d bytes)",
		keyfmt(kb, sizeof kb, k, nk), r ? "has it" : "lacks it", r ? kv->nv : 0,
		(unsigned long long)v1, (unsigned long long)v2,
		mv ? "has it" : "lacks it", mv ? mv->nval : 0);
	return -1;
}

/* ------------------------------------------------------------- readers */

static void
epenter(Fuzz *f)
{
	if(f->enter != nil)
		f->enter();
}

static void
epleave(Fuzz *f)
{
	if(f->leave != nil)
		f->leave();
}

/* Take the published version for reader slot id. */
static int
takepub(Fuzz *f, int id, Tree *snap, uvlong *v)
{
	int stop;

	qlock(&f->plk);
	stop = f->stop;
	memset(snap, 0, sizeof *snap);
	snap->bp = f->pubbp;
	snap->ht = f->pubht;
	*v = f->pubver;
	if(f->rdver[id] == ~0ULL)
		f->rdver[id] = *v;
	qunlock(&f->plk);
	return stop;
}

static void
droppub(Fuzz *f, int id, int islook)
{
	qlock(&f->plk);
	f->rdver[id] = ~0ULL;
	if(islook)
		f->nlook++;
	else
		f->nscan++;
	qunlock(&f->plk);
}

/* A random prefix: everything, a key type, or one directory. */
static int
randpfx(Fuzz *f, uvlong *rng, char *pfx)
{
	switch(nrand(rng, 6)){
	case 0:
		return 0;
	case 1:
	case 2:
		pfx[0] = Kent;
		put64(pfx+1, nrand(rng, 8));
		return Dpfxsz;
	default:
		pfx[0] = nrand(rng, 7);
		return 1;
	}
}

static void
rdlookup(Rd *r, int live)
{
	char kb[Keymax], buf[Kvmax], why[400];
	Fuzz *f;
	Tree snap;
	uvlong v1, v2;
	Key k;
	Kvp kv;
	int n, type, res;

	f = r->f;
	do
		type = nrand(&r->rng, 7);
	while(npool(f, type) == 0);
	n = mkkey(f, type, nrand(&r->rng, npool(f, type)), kb);
	k.k = kb;
	k.nk = n;
	epenter(f);
	if(takepub(f, r->id, &snap, &v1)){
		epleave(f);
		droppub(f, r->id, 1);
		return;
	}
	res = btlookup(live ? f->t : &snap, &k, &kv, buf, sizeof buf);
	epleave(f);
	v2 = v1;
	if(live){
		qlock(&f->plk);
		v2 = f->pubver + 1;
		qunlock(&f->plk);
	}
	if(res < 0){
		fail(f, "lookup failed: %s", errstr());
		droppub(f, r->id, 1);
		return;
	}
	rlock(&f->mlk);
	if(cmplook(f, kb, n, res, &kv, v1, v2, why, sizeof why) < 0)
		fail(f, "reader %d: %s%s", r->id, live ? "live " : "", why);
	runlock(&f->mlk);
	droppub(f, r->id, 1);
}

/*
 * A scan, in one go or suspended every few entries and resumed in the
 * version published then; each stretch is checked against the model at
 * its own version.
 */
static void
rdscan(Rd *r, int chunked)
{
	char pfx[Keymax], why[400];
	Key after, upto;
	uvlong vers[64];
	int bounds[65], n, np, nc, i, res, done;
	char lastk[64][Keymax];
	int lastn[64];
	Fuzz *f;
	Tree snap;
	Scan *s;
	Got g;
	Kvp kv;

	f = r->f;
	memset(&g, 0, sizeof g);
	s = emalloc(sizeof *s);
	np = randpfx(f, &r->rng, pfx);
	btnewscan(s, pfx, np);
	nc = 0;
	bounds[0] = 0;
	done = 0;
	while(!done && nc < 64){
		epenter(f);
		if(takepub(f, r->id, &snap, &vers[nc])){
			epleave(f);
			goto out;
		}
		if(btenter(&snap, s) < 0){
			fail(f, "btenter: %s", errstr());
			epleave(f);
			goto out;
		}
		n = chunked && nc < 63 ? 1 + nrand(&r->rng, 8) : -1;
		while(n != 0){
			res = btnext(s, &kv);
			if(res < 0){
				fail(f, "btnext: %s", errstr());
				btexit(s);
				epleave(f);
				goto out;
			}
			if(res == 0){
				done = 1;
				break;
			}
			gotadd(&g, &kv);
			n--;
		}
		btexit(s);
		epleave(f);
		lastn[nc] = s->nlast;
		memmove(lastk[nc], s->last, s->nlast);
		bounds[++nc] = g.n;
	}
	rlock(&f->mlk);
	for(i = 0; i < nc; i++){
		if(i > 0){
			after.k = lastk[i-1];
			after.nk = lastn[i-1];
		}
		upto.k = lastk[i];
		upto.nk = lastn[i];
		if(cmpscan(f, &g, bounds[i], bounds[i+1], pfx, np, i > 0 ? &after : nil,
		i+1 < nc || !done ? &upto : nil, vers[i], why, sizeof why) < 0){
			fail(f, "reader %d: %s scan, part %d: %s", r->id, chunked ? "resumed" : "whole", i, why);
			break;
		}
	}
	runlock(&f->mlk);
out:
	droppub(f, r->id, 0);
	free(g.buf);
	free(g.off);
	free(s);
}

static void
reader(void *a)
{
	Rd *r;
	int stop, op;

	r = a;
	for(;;){
		qlock(&r->f->plk);
		stop = r->f->stop;
		qunlock(&r->f->plk);
		if(stop)
			break;
		op = nrand(&r->rng, 10);
		if(op < 4)
			rdlookup(r, 0);
		else if(op < 6)
			rdlookup(r, 1);
		else if(op < 8)
			rdscan(r, 0);
		else
			rdscan(r, 1);
	}
}

/* ------------------------------------------------------------- mutator */

static void
publish(Fuzz *f, uvlong v)
{
	qlock(&f->plk);
	lock(&f->t->lk);
	f->pubbp = f->t->bp;
	f->pubht = f->t->ht;
	unlock(&f->t->lk);
	f->pubver = v;
	qunlock(&f->plk);
}

static uvlong
oldestver(Fuzz *f)
{
	uvlong v;
	int i;

	qlock(&f->plk);
	v = f->pubver;
	for(i = 0; i < f->nrd; i++)
		if(f->rdver[i] < v)
			v = f->rdver[i];
	qunlock(&f->plk);
	return v;
}

static void
report(void *a, char *line)
{
	Fuzz *f;

	f = a;
	fail(f, "check at step %d: %s", f->step, line);
}

/* Everything the tree holds must be what the model holds now. */
static int
fullcheck(Fuzz *f, uvlong v)
{
	char why[400];
	Scan *s;
	Got g;
	Kvp kv;
	int r, ret;

	if(checktree(f->t, report, f) != 0)
		return -1;
	memset(&g, 0, sizeof g);
	s = emalloc(sizeof *s);
	btnewscan(s, "", 0);
	ret = -1;
	if(btenter(f->t, s) < 0){
		fail(f, "full scan: %s", errstr());
		goto out;
	}
	while((r = btnext(s, &kv)) > 0)
		gotadd(&g, &kv);
	btexit(s);
	if(r < 0){
		fail(f, "full scan: %s", errstr());
		goto out;
	}
	rlock(&f->mlk);
	ret = cmpscan(f, &g, 0, g.n, "", 0, nil, nil, v, why, sizeof why);
	runlock(&f->mlk);
	if(ret < 0)
		fail(f, "full scan: %s", why);
out:
	free(g.buf);
	free(g.off);
	free(s);
	return ret;
}

/* Delete up to n present keys, starting at a random one. */
static int
dropbatch(Fuzz *f, uvlong *rng, int n, uvlong v, uvlong minv, Msg *msg)
{
	int i, j, k;
	Mkey *mk;

	k = 0;
	j = nrand(rng, f->nkeys);
	for(i = 0; i < f->nkeys && k < n; i++){
		mk = f->keys[(i+j) % f->nkeys];
		if(mcur(mk) == nil || nrand(rng, 4) == 0)
			continue;
		msg[k].op = Odelete;
		msg[k].kv.k = mk->k;
		msg[k].kv.nk = mk->nk;
		msg[k].kv.v = nil;
		msg[k].kv.nv = 0;
		mset(f, mk, v, minv, 0, nil, 0);
		k++;
	}
	return k;
}

/*
 * Make one batch for version v: random messages, or in the last phase
 * deletions only.  Returns the number of messages, 0 if there is
 * nothing to send, -1 on failure.
 */
static int
step(Fuzz *f, uvlong *rng, int st, int final, uvlong v, Msg *msg, char *pay, char *kbuf)
{
	int n, i, shrinking;
	uvlong minv;
	Mkey *mk;
	Bptr before;

	shrinking = (st / Phase) % 2 == 1;
	if(!final && nrand(rng, 100) == 0){
		n = 1 + nrand(rng, 8);
		for(i = 0; i < n; i++)
			mkbad(rng, &msg[i], pay + i*Inlmax, kbuf);
		before = f->t->bp;
		if(upsert(f->t, msg, n) == 0 || f->t->bp.addr != before.addr){
			fail(f, "a batch with a malformed message was taken");
			return -1;
		}
		return 0;
	}
	n = nrand(rng, 40) == 0 ? Maxbatch : 1 + nrand(rng, 16);
	minv = oldestver(f);
	wlock(&f->mlk);
	if(final)
		n = dropbatch(f, rng, MIN(n + 48, Maxbatch), v, minv, msg);
	else
		for(i = 0; i < n; i++){
			mk = pickkey(f, rng, shrinking, kbuf);
			if(mkmsg(f, rng, shrinking, mk, &msg[i], pay + i*Inlmax, v, minv) < 0){
				wunlock(&f->mlk);
				fail(f, "making a data block: %s", errstr());
				return -1;
			}
		}
	wunlock(&f->mlk);
	return n;
}

int
fuzzrun(Fuzz *f)
{
	Msg *msg;
	char *pay, kbuf[Keymax+8];
	uvlong rng, v;
	int st, i, n, maxht, maxkeys, final;
	Rd rd[Maxrd];

	if(f->nrd > Maxrd)
		f->nrd = Maxrd;
	rwlockinit(&f->mlk);
	qlockinit(&f->plk);
	qlockinit(&f->flk);
	f->rdver = emalloc((f->nrd+1) * sizeof(uvlong));
	for(i = 0; i < f->nrd; i++)
		f->rdver[i] = ~0ULL;
	msg = emalloc(Maxbatch * sizeof(Msg));
	pay = emalloc(Maxbatch * Inlmax);
	rng = mix(f->seed) | 1;
	v = 0;
	publish(f, v);
	for(i = 0; i < f->nrd; i++){
		rd[i].f = f;
		rd[i].id = i;
		rd[i].rng = mix(f->seed + 1000 + i) | 1;
		launch(reader, &rd[i], "fuzzrd", &rd[i].tid);
	}
	maxht = f->t->ht;
	maxkeys = 0;
	for(st = 0; !failed(f); st++){
		f->step = st;
		final = st >= f->steps;
		if(final && f->npresent == 0)
			break;
		n = step(f, &rng, st, final, v+1, msg, pay, kbuf);
		if(n < 0)
			break;
		if(n == 0)
			continue;
		if(upsert(f->t, msg, n) < 0){
			fail(f, "step %d: upsert of %d messages: %s", st, n, errstr());
			break;
		}
		v++;
		publish(f, v);
		if(f->clean != nil)
			f->clean();
		maxht = MAX(maxht, f->t->ht);
		maxkeys = MAX(maxkeys, f->npresent);
		if(f->chkevery > 0 && st % f->chkevery == f->chkevery-1 && fullcheck(f, v) < 0)
			break;
	}
	qlock(&f->plk);
	f->stop = 1;
	qunlock(&f->plk);
	for(i = 0; i < f->nrd; i++)
		pthread_join(rd[i].tid, nil);
	if(!failed(f) && fullcheck(f, v) == 0 && f->t->ht != 1)
		fail(f, "height %d after deleting everything", f->t->ht);
	if(failed(f))
		fprintf(stderr, "fuzz: seed %llu step %d: %s\n", (unsigned long long)f->seed, f->step, f->fail);
	else
		fprintf(stderr, "fuzz: seed %llu: %d steps, up to %d keys, height up to %d, "
			"%ld lookups and %ld scans checked by %d readers: ok\n",
			(unsigned long long)f->seed, st, maxkeys, maxht, f->nlook, f->nscan, f->nrd);
	for(i = 0; i < f->nkeys; i++){
		for(n = 0; n < f->keys[i]->nhist; n++)
			free(f->keys[i]->hist[n].val);
		free(f->keys[i]->hist);
		free(f->keys[i]->k);
		free(f->keys[i]);
	}
	free(f->keys);
	free(f->rdver);
	free(msg);
	free(pay);
	return failed(f) ? -1 : 0;
}

/* The blocks in use in every arena, and the allocation-log blocks among them. */
static void
usage(vlong *used, vlong *logs)
{
	int i;

	*used = 0;
	*logs = 0;
	for(i = 0; i < fs->narena; i++){
		qlock(&fs->arenas[i].lk);
		*used += fs->arenas[i].used / Blksz;
		*logs += fs->arenas[i].nlog;
		qunlock(&fs->arenas[i].lk);
	}
}

/* Ream dev without the progress lines. */
static int
quietream(char *dev, vlong cachesz)
{
	int fd, r;

	fflush(stdout);
	fd = dup(1);
	if(fd == -1 || freopen("/dev/null", "w", stdout) == nil)
		return reamfs(dev, "fuzz", cachesz);
	r = reamfs(dev, "fuzz", cachesz);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	return r;
}

/*
 * gefs -z SEED[,STEPS[,READERS]]: fuzz a fresh tree in the volume on
 * dev, or, without dev, in a scratch image reamed for the run.  Once
 * everything has been deleted again, every block the tree used must be
 * back in the allocator.  0 if all went well.
 */
int
fuzzmain(char *arg, char *dev, vlong cachesz)
{
	char path[512], *p, *tmp;
	vlong used0, logs0, used1, logs1;
	Fuzz f;
	Tree t;
	Blk *b;
	int fd, r;

	memset(&f, 0, sizeof f);
	f.seed = strtoull(arg, &p, 0);
	f.steps = Defsteps;
	f.nrd = Defreaders;
	if(p != arg && *p == ',')
		f.steps = strtol(p+1, &p, 0);
	if(p != arg && *p == ',')
		f.nrd = strtol(p+1, &p, 0);
	if(p == arg || *p != 0 || f.steps < 0 || f.nrd < 0 || f.nrd > Maxrd){
		werrstr("fuzz: want SEED[,STEPS[,READERS]] (at most %d readers), not '%s'", Maxrd, arg);
		return -1;
	}
	path[0] = 0;
	if(dev == nil){
		tmp = getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/gefs-fuzz.XXXXXX", tmp != nil ? tmp : "/tmp");
		if((fd = mkstemp(path)) == -1){
			werrstr("fuzz: %s: %s", path, strerror(errno));
			return -1;
		}
		r = ftruncate(fd, Fuzzimg);
		close(fd);
		if(r == -1 || quietream(path, cachesz) == -1){
			if(r == -1)
				werrstr("fuzz: %s: %s", path, strerror(errno));
			unlink(path);
			return -1;
		}
		dev = path;
	}
	r = -1;
	if(loadfs(dev, 0, cachesz) == -1)
		goto out;
	memset(&t, 0, sizeof t);
	t.memgen = ++fs->nextgen;
	t.ht = 1;
	if((b = newblk(&t, Tleaf, 0)) == nil){
		closefs();
		goto out;
	}
	enqueue(b);
	t.bp = b->bp;
	dropblk(b);
	epochflush();
	qfence();
	usage(&used0, &logs0);
	f.t = &t;
	f.chkevery = 250;
	f.datablks = 1;
	f.enter = epochstart;
	f.leave = epochend;
	f.clean = epochclean;
	qlock(&fs->mutlk);
	r = fuzzrun(&f);
	qunlock(&fs->mutlk);
	if(r == -1)
		werrstr("fuzz: seed %llu failed", (unsigned long long)f.seed);
	if(r == 0){
		epochflush();
		qfence();
		usage(&used1, &logs1);
		if(used1 - used0 != logs1 - logs0){
			fprintf(stderr, "fuzz: seed %llu: %lld blocks in use after deleting everything, "
				"%lld before (allocation log %lld, %lld)\n", (unsigned long long)f.seed,
				(long long)used1, (long long)used0, (long long)logs1, (long long)logs0);
			r = -1;
		}
	}
	closefs();
out:
	if(path[0] != 0)
		unlink(path);
	return r;
}
