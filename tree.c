/*
 * tree.c: the Bε-tree (format §7, §8).
 *
 * A pivot buffers messages for its subtree; new messages always enter at
 * the root.  An upsert rebuilds, in memory, every node it touches: the
 * root absorbs the batch, and whenever a pivot's buffer overflows the
 * run of messages for its busiest child is pushed down into that child,
 * which is rebuilt in turn.  Rebuilt contents are packed into new blocks
 * bottom-up (copy-on-write), so nothing readers can see ever changes;
 * the new root is published under t->lk and the replaced blocks are
 * freed only then.  If anything fails, the published tree is untouched
 * and the blocks made so far are freed.
 *
 * Over the reference (format §13, §17.10): only Oinsert creates a value,
 * scans never return a message as a value, empty children are dropped
 * without leaking a block, pivots keep room for two worst-case entries,
 * underfull children are merged with or rotated against a sibling, a
 * root with one child is collapsed, and a tree whose pending deletions
 * could empty it is flattened, so deleting everything leaves one leaf.
 */
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

enum {
	Poolchunk	= 64*1024,
};

static int	pivotadd(Upd*, Node*, int, Msg*, int);
static void	mergemsg(Upd*, Node*, Msg*, int);

/* ------------------------------------------------------------ messages */

static int
isdel(int op)
{
	return op == Odelete || op == Oclearb || op == Oclobber;
}

/* Payload length an Owstat flag set calls for, or -1. */
static int
wstatlen(int fl)
{
	int n;

	if(fl & ~Owmask)
		return -1;
	n = 1;
	if(fl & Owsize)
		n += 8;
	if(fl & Owmode)
		n += 4;
	if(fl & Owmtime)
		n += 8;
	if(fl & Owatime)
		n += 8;
	if(fl & Owuid)
		n += 4;
	if(fl & Owgid)
		n += 4;
	if(fl & Owmuid)
		n += 4;
	return n;
}

/* A short printable (hex) form of a key for messages; "..." when cut. */
char*
keyfmt(char *buf, int nbuf, char *k, int nk)
{
	static char hex[] = "0123456789abcdef";
	int i, o;

	o = 0;
	for(i = 0; i < nk && o+2 < nbuf; i++){
		buf[o++] = hex[(uchar)k[i]>>4];
		buf[o++] = hex[(uchar)k[i]&0xf];
	}
	if(i < nk && o >= 2){
		buf[o-2] = '.';
		buf[o-1] = '.';
	}
	if(nbuf > 0)
		buf[o] = 0;
	return buf;
}

static int
badmsg(Msg *m, char *why)
{
	char kb[40];

	werrstr("%s: bad message op %d key %s: %s", Efs, m->op,
		keyfmt(kb, sizeof kb, m->kv.k, m->kv.nk), why);
	return -1;
}

/*
 * Is m a message an upsert may take?  Callers build messages; this keeps
 * a malformed one from ever reaching a block.
 */
int
msgcheck(Msg *m)
{
	if(m->kv.nk < 1 || m->kv.nk > Keymax)
		return badmsg(m, "key size");
	if(m->kv.nv < 0 || m->kv.nv > Inlmax)
		return badmsg(m, "value size");
	switch(m->op){
	case Oinsert:
		/* applying later messages decodes a Kdat value as a Bptr */
		if(m->kv.k[0] == Kdat && m->kv.nv != Ptrsz)
			return badmsg(m, "data pointer size");
		return 0;
	case Odelete:
		return 0;
	case Oclearb:
	case Oclobber:
		if(m->kv.nv != 0)
			return badmsg(m, "payload not empty");
		return 0;
	case Owstat:
		if(m->kv.k[0] != Kent)
			return badmsg(m, "wstat of a non-entry");
		if(m->kv.nv < 1 || wstatlen((uchar)m->kv.v[0]) != m->kv.nv)
			return badmsg(m, "wstat payload");
		return 0;
	case Orelink:
	case Oreprev:
	case Oincref:
		if(m->kv.k[0] != Ksnap || m->kv.nk != Snapsz)
			return badmsg(m, "snapshot op on a non-snapshot key");
		if(m->kv.nv != Tpsz)
			return badmsg(m, "snapshot op payload");
		return 0;
	}
	return badmsg(m, "unknown op");
}

/* Patch a packed Xdir (format §6.3) as an Owstat payload says (§7.1). */
static int
wstatapply(Msg *m, char *v, int nv)
{
	char *p;
	u32int mode;
	int fl;

	if(nv != Xdirsz){
		werrstr("%s: wstat of a %d-byte entry", Ecorrupt, nv);
		return -1;
	}
	if(m->kv.nv < 1 || wstatlen((uchar)m->kv.v[0]) != m->kv.nv){
		werrstr("%s: malformed wstat message", Ecorrupt);
		return -1;
	}
	p = m->kv.v;
	fl = (uchar)*p++;
	if(fl & Owsize){
		put64(v+41, get64(p));
		p += 8;
	}
	if(fl & Owmode){
		mode = get32(p);
		put32(v+21, mode);
		v[20] = mode>>24;
		p += 4;
	}
	if(fl & Owmtime){
		put64(v+33, get64(p));
		p += 8;
	}
	if(fl & Owatime){
		put64(v+25, get64(p));
		p += 8;
	}
	if(fl & Owuid){
		put32(v+49, get32(p));
		p += 4;
	}
	if(fl & Owgid){
		put32(v+53, get32(p));
		p += 4;
	}
	if(fl & Owmuid){
		put32(v+57, get32(p));
		p += 4;
	}
	put32(v+16, get32(v+16)+1);
	return 0;
}

/* Orelink, Oreprev, Oincref on a packed tree record (§7.1, §17.7). */
static int
treeapply(Msg *m, char *v, int nv)
{
	vlong nref, nlbl;
	char *p;

	if(nv != Treesz){
		werrstr("%s: snapshot op on a %d-byte record", Ecorrupt, nv);
		return -1;
	}
	if(m->kv.nv != Tpsz){
		werrstr("%s: malformed snapshot message", Ecorrupt);
		return -1;
	}
	p = m->kv.v;
	nref = (vlong)get32(v) + (s8int)p[9];
	nlbl = (vlong)get32(v+4) + (s8int)p[8];
	if(nref < 0 || nlbl < 0 || nref > 0xffffffffLL || nlbl > 0xffffffffLL){
		werrstr("%s: snapshot counts out of range", Ecorrupt);
		return -1;
	}
	put32(v, nref);
	put32(v+4, nlbl);
	if(m->op == Orelink)
		memmove(v+32, p, 8);
	else if(m->op == Oreprev)
		memmove(v+24, p, 8);
	return 0;
}

/*
 * Apply m to the current value of its key: present says whether there
 * is one, v (Inlmax bytes of room) and *nv hold it.  Only Oinsert
 * creates a value; Oclearb and Oclobber on nothing do nothing; any other
 * op on nothing is an error (format §7.4, §17.5).  On error the value is
 * left as it was.
 */
int
applymsg(Msg *m, int *present, char *v, int *nv)
{
	char kb[40];

	switch(m->op){
	case Oinsert:
		if(m->kv.nv < 0 || m->kv.nv > Inlmax){
			werrstr("%s: inserted value of %d bytes", Ecorrupt, m->kv.nv);
			return -1;
		}
		if(m->kv.nv > 0)
			memmove(v, m->kv.v, m->kv.nv);
		*nv = m->kv.nv;
		*present = 1;
		return 0;
	case Oclearb:
	case Oclobber:
		*present = 0;
		*nv = 0;
		return 0;
	case Odelete:
		if(!*present)
			break;
		*present = 0;
		*nv = 0;
		return 0;
	case Owstat:
		if(!*present)
			break;
		return wstatapply(m, v, *nv);
	case Orelink:
	case Oreprev:
	case Oincref:
		if(!*present)
			break;
		return treeapply(m, v, *nv);
	default:
		werrstr("%s: message op %d", Ecorrupt, m->op);
		return -1;
	}
	werrstr("%s: op %d key %s", Enoval, m->op, keyfmt(kb, sizeof kb, m->kv.k, m->kv.nk));
	return -1;
}

/* ------------------------------------------------ checked block access */

/*
 * Node blocks come from the disk: their hash says they are the blocks we
 * wrote, not that the offsets inside are sane.  These never read outside
 * the block.
 */
int
nodeok(Blk *b)
{
	switch(b->type){
	case Tleaf:
		return 2*b->nval + b->valsz <= Leafspc && b->nval >= 0 && b->valsz >= 0;
	case Tpivot:
		return 2*b->nval + b->valsz <= Pivspc && b->nval >= 0 && b->valsz >= 0
			&& 2*b->nbuf + b->bufsz <= Bufspc && b->nbuf >= 0 && b->bufsz >= 0;
	}
	return 0;
}

static int
badblk(Blk *b, char *why, int i)
{
	werrstr("%s: node %llx: %s %d", Ecorrupt, (unsigned long long)b->bp.addr, why, i);
	return -1;
}

int
nodeent(Blk *b, int i, Kvp *kv)
{
	int o, spc;
	char *p;

	spc = b->type == Tleaf ? Leafspc : Pivspc;
	if(i < 0 || i >= b->nval)
		return badblk(b, "no entry", i);
	o = get16(b->data + 2*i);
	if(o < 2*b->nval || o+4 > spc)
		return badblk(b, "entry offset", i);
	p = b->data + o;
	kv->nk = get16(p);
	if(o+4+kv->nk > spc)
		return badblk(b, "key size", i);
	kv->k = p+2;
	kv->nv = get16(p+2+kv->nk);
	if(o+4+kv->nk+kv->nv > spc)
		return badblk(b, "value size", i);
	kv->v = p+4+kv->nk;
	if(kv->nk > Keymax || kv->nv > Inlmax || (b->type == Tpivot && kv->nv != Pptrsz))
		return badblk(b, "entry size", i);
	return 0;
}

int
nodemsg(Blk *b, int i, Msg *m)
{
	char *a, *p;
	int o;

	if(i < 0 || i >= b->nbuf)
		return badblk(b, "no message", i);
	a = b->buf + Pivhdsz + Pivspc;
	o = get16(a + 2*i);
	if(o < 2*b->nbuf || o+5 > Bufspc)
		return badblk(b, "message offset", i);
	p = a + o;
	m->op = (uchar)p[0];
	m->kv.nk = get16(p+1);
	if(o+5+m->kv.nk > Bufspc)
		return badblk(b, "message key size", i);
	m->kv.k = p+3;
	m->kv.nv = get16(p+3+m->kv.nk);
	if(o+5+m->kv.nk+m->kv.nv > Bufspc)
		return badblk(b, "message value size", i);
	m->kv.v = p+5+m->kv.nk;
	if(m->kv.nk > Keymax || m->kv.nv > Inlmax)
		return badblk(b, "message size", i);
	return 0;
}

/* Read the node at height ht that bp names; nil on error. */
static Blk*
getnode(Bptr bp, int ht)
{
	Blk *b;

	b = getblk(bp, 0);
	if(b == nil)
		return nil;
	if(!nodeok(b) || (b->type == Tleaf) != (ht == 1) || (ht > 1 && b->nval == 0)){
		werrstr("%s: node %llx: type %d nval %d at height %d", Ecorrupt,
			(unsigned long long)bp.addr, b->type, b->nval, ht);
		dropblk(b);
		return nil;
	}
	return b;
}

static int
kcmp(char *a, int na, char *b, int nb)
{
	Key x, y;

	x.k = a;
	x.nk = na;
	y.k = b;
	y.nk = nb;
	return keycmp(&x, &y);
}

/*
 * First entry of b with key >= k (> k if excl); b->nval if none.
 * -1 on a corrupt block.
 */
static int
entbound(Blk *b, char *k, int nk, int excl)
{
	int lo, hi, mid, c;
	Kvp kv;

	lo = 0;
	hi = b->nval;
	while(lo < hi){
		mid = (lo+hi)/2;
		if(nodeent(b, mid, &kv) < 0)
			return -1;
		c = kcmp(kv.k, kv.nk, k, nk);
		if(c < 0 || (excl && c == 0))
			lo = mid+1;
		else
			hi = mid;
	}
	return lo;
}

/* Same over the buffered messages of a pivot. */
static int
msgbound(Blk *b, char *k, int nk, int excl)
{
	int lo, hi, mid, c;
	Msg m;

	lo = 0;
	hi = b->nbuf;
	while(lo < hi){
		mid = (lo+hi)/2;
		if(nodemsg(b, mid, &m) < 0)
			return -1;
		c = kcmp(m.kv.k, m.kv.nk, k, nk);
		if(c < 0 || (excl && c == 0))
			lo = mid+1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The child of pivot b that key k belongs to (format §7.3): the last
 * whose separator is <= k, or -1 if k is below them all.  -2 on a
 * corrupt block.
 */
static int
childfor(Blk *b, char *k, int nk)
{
	int i;

	i = entbound(b, k, nk, 1);
	if(i < 0)
		return -2;
	return i-1;
}

static Bptr
entbp(Kvp *kv)
{
	return unpackbp(kv->v);
}

static int
entfill(Kvp *kv)
{
	return get16(kv->v + Ptrsz);
}

/* -------------------------------------------------------------- lookup */

/*
 * Look k up: 1 and r (key, then value, copied into buf) if it has a
 * value, 0 if not, -1 on error.
 */
int
btlookup(Tree *t, Key *k, Kvp *r, char *buf, int nbuf)
{
	Blk *path[Maxht];
	int ht, np, i, j, ci, present, nv, ret;
	char val[Inlmax];
	Bptr bp;
	Kvp kv;
	Msg m;

	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	if(ht < 1 || ht > Maxht){
		werrstr("%s: tree height %d", Ecorrupt, ht);
		return -1;
	}
	ret = -1;
	np = 0;
	present = 0;
	nv = 0;
	for(;;){
		path[np] = getnode(bp, ht-np);
		if(path[np] == nil)
			goto out;
		np++;
		if(path[np-1]->type == Tleaf){
			i = entbound(path[np-1], k->k, k->nk, 0);
			if(i < 0)
				goto out;
			if(i < path[np-1]->nval){
				if(nodeent(path[np-1], i, &kv) < 0)
					goto out;
				if(kcmp(kv.k, kv.nk, k->k, k->nk) == 0){
					memmove(val, kv.v, kv.nv);
					nv = kv.nv;
					present = 1;
				}
			}
			break;
		}
		ci = childfor(path[np-1], k->k, k->nk);
		if(ci == -2)
			goto out;
		if(ci == -1)
			break;	/* below every separator: only buffers above hold it */
		if(nodeent(path[np-1], ci, &kv) < 0)
			goto out;
		bp = entbp(&kv);
	}
	/* deepest buffer first: it holds the oldest messages (format §7.3) */
	for(i = np-1; i >= 0; i--){
		if(path[i]->type != Tpivot)
			continue;
		j = msgbound(path[i], k->k, k->nk, 0);
		if(j < 0)
			goto out;
		for(; j < path[i]->nbuf; j++){
			if(nodemsg(path[i], j, &m) < 0)
				goto out;
			if(kcmp(m.kv.k, m.kv.nk, k->k, k->nk) != 0)
				break;
			if(applymsg(&m, &present, val, &nv) < 0)
				goto out;
		}
	}
	ret = 0;
	if(present){
		if(k->nk + nv > nbuf){
			werrstr("%s: lookup buffer of %d bytes", Efs, nbuf);
			ret = -1;
			goto out;
		}
		memmove(buf, k->k, k->nk);
		memmove(buf + k->nk, val, nv);
		r->k = buf;
		r->nk = k->nk;
		r->v = buf + k->nk;
		r->nv = nv;
		ret = 1;
	}
out:
	while(np > 0)
		dropblk(path[--np]);
	return ret;
}

/* ---------------------------------------------------------------- scan */

void
btnewscan(Scan *s, char *pfx, int npfx)
{
	memset(s, 0, sizeof *s);
	if(npfx > Keymax)
		npfx = Keymax;
	memmove(s->pfx, pfx, npfx);
	s->npfx = npfx;
}

/* Position level i (a fresh block) at the scan's current key. */
static int
scanpos(Scan *s, int i)
{
	Scanp *p;
	char *k;
	int nk, ex, ci;

	p = &s->path[i];
	if(s->started){
		k = s->last;
		nk = s->nlast;
		ex = 1;
	}else{
		k = s->pfx;
		nk = s->npfx;
		ex = 0;
	}
	if(p->b->type == Tleaf){
		p->vi = entbound(p->b, k, nk, ex);
		return p->vi < 0 ? -1 : 0;
	}
	p->bi = msgbound(p->b, k, nk, ex);
	if(p->bi < 0)
		return -1;
	ci = childfor(p->b, k, nk);
	if(ci == -2)
		return -1;
	p->vi = ci < 0 ? 0 : ci;
	return 0;
}

/* Load the child of level i-1 its cursor names into level i, and below. */
static int
scandescend(Scan *s, int i)
{
	Kvp kv;

	for(; i < s->ht; i++){
		if(nodeent(s->path[i-1].b, s->path[i-1].vi, &kv) < 0)
			return -1;
		if(s->path[i].b != nil)
			dropblk(s->path[i].b);
		s->path[i].b = getnode(entbp(&kv), s->ht-i);
		if(s->path[i].b == nil)
			return -1;
		if(s->path[i].b->type == Tleaf)
			s->path[i].vi = 0;
		if(scanpos(s, i) < 0)
			return -1;
	}
	return 0;
}

int
btenter(Tree *t, Scan *s)
{
	Bptr bp;
	int ht;

	if(s->entered)
		btexit(s);
	if(s->done)
		return 0;
	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	if(ht < 1 || ht > Maxht){
		werrstr("%s: tree height %d", Ecorrupt, ht);
		return -1;
	}
	memset(s->path, 0, sizeof s->path);
	s->ht = ht;
	s->entered = 1;
	s->path[0].b = getnode(bp, ht);
	if(s->path[0].b == nil || scanpos(s, 0) < 0 || scandescend(s, 1) < 0){
		btexit(s);
		return -1;
	}
	return 0;
}

void
btexit(Scan *s)
{
	int i;

	for(i = 0; i < Maxht; i++){
		if(s->path[i].b != nil)
			dropblk(s->path[i].b);
		s->path[i].b = nil;
	}
	s->entered = 0;
}

/*
 * The deepest level with a next child, with that child's separator in
 * *sep: everything in buffers below that level is below it.  -1 when
 * the scan is in the last leaf of the tree.
 */
static int
nextsep(Scan *s, Kvp *sep)
{
	int i;

	for(i = s->ht-2; i >= 0; i--)
		if(s->path[i].vi+1 < s->path[i].b->nval){
			if(nodeent(s->path[i].b, s->path[i].vi+1, sep) < 0)
				return -2;
			return i;
		}
	return -1;
}

static int
haspfx(Scan *s, char *k, int nk)
{
	return nk >= s->npfx && memcmp(k, s->pfx, s->npfx) == 0;
}

/*
 * The next key with the prefix that has a value: 1 and kv, 0 at the end,
 * -1 on error.  The candidate is the smallest of the leaf's next value
 * and every buffer's next message; all messages for it are applied,
 * deepest buffer first (format §7.5).
 */
int
btnext(Scan *s, Kvp *kv)
{
	Scanp *p;
	char *ck;
	int i, c, nck, present, nv, inleaf;
	Kvp lv, sep;
	Msg m;

	if(s->done)
		return 0;
	if(!s->entered){
		werrstr("%s: scan not entered", Efs);
		return -1;
	}
	for(;;){
		ck = nil;
		nck = 0;
		for(i = 0; i < s->ht-1; i++){
			p = &s->path[i];
			if(p->bi >= p->b->nbuf)
				continue;
			if(nodemsg(p->b, p->bi, &m) < 0)
				return -1;
			if(ck == nil || kcmp(m.kv.k, m.kv.nk, ck, nck) < 0){
				ck = m.kv.k;
				nck = m.kv.nk;
			}
		}
		p = &s->path[s->ht-1];
		inleaf = p->vi < p->b->nval;
		if(inleaf){
			if(nodeent(p->b, p->vi, &lv) < 0)
				return -1;
			if(ck == nil || kcmp(lv.k, lv.nk, ck, nck) <= 0){
				ck = lv.k;
				nck = lv.nk;
			}
		}else{
			/*
			 * The leaf is used up; buffered messages below the next
			 * leaf's separator still belong here (format §7.5).
			 */
			i = nextsep(s, &sep);
			if(i == -2)
				return -1;
			if(i >= 0 && (ck == nil || kcmp(ck, nck, sep.k, sep.nk) >= 0)){
				s->path[i].vi++;
				if(scandescend(s, i+1) < 0)
					return -1;
				continue;
			}
		}
		if(ck == nil || !haspfx(s, ck, nck)){
			s->done = 1;
			return 0;
		}
		memmove(s->last, ck, nck);
		s->nlast = nck;
		s->started = 1;
		present = 0;
		nv = 0;
		p = &s->path[s->ht-1];
		if(inleaf && kcmp(lv.k, lv.nk, s->last, s->nlast) == 0){
			memmove(s->val, lv.v, lv.nv);
			nv = lv.nv;
			present = 1;
			p->vi++;
		}
		for(i = s->ht-2; i >= 0; i--){
			p = &s->path[i];
			for(; p->bi < p->b->nbuf; p->bi++){
				if(nodemsg(p->b, p->bi, &m) < 0)
					return -1;
				c = kcmp(m.kv.k, m.kv.nk, s->last, s->nlast);
				if(c != 0)
					break;
				if(applymsg(&m, &present, s->val, &nv) < 0)
					return -1;
			}
		}
		if(present){
			kv->k = s->last;
			kv->nk = s->nlast;
			kv->v = s->val;
			kv->nv = nv;
			return 1;
		}
	}
}

/* -------------------------------------------------- upsert bookkeeping */

static void*
palloc(Upd *u, size_t n)
{
	Pchunk *c;
	size_t sz;
	void *p;

	n = (n+7) & ~(size_t)7;
	c = u->pool;
	if(c == nil || c->used + n > c->size){
		sz = n > Poolchunk ? n : Poolchunk;
		c = emalloc(sizeof *c);
		c->data = emalloc(sz);
		c->size = sz;
		c->used = 0;
		c->next = u->pool;
		u->pool = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static char*
pdup(Upd *u, char *p, int n)
{
	char *d;

	d = palloc(u, n ? n : 1);
	if(n > 0)
		memmove(d, p, n);
	return d;
}

static void
addblk(Blk ***a, int *n, int *max, Blk *b)
{
	if(*n == *max){
		*max = *max ? 2 * *max : 16;
		*a = erealloc(*a, *max * sizeof(Blk*));
	}
	(*a)[(*n)++] = b;
}

static void
adddead(Upd *u, Bptr bp)
{
	if(u->ndead == u->maxdead){
		u->maxdead = u->maxdead ? 2*u->maxdead : 16;
		u->dead = erealloc(u->dead, u->maxdead * sizeof(Bptr));
	}
	u->dead[u->ndead++] = bp;
}

static void
updfree(Upd *u)
{
	Pchunk *c;
	int i;

	for(i = 0; i < u->nheld; i++)
		dropblk(u->held[i]);
	for(i = 0; i < u->nmade; i++)
		dropblk(u->made[i]);
	while((c = u->pool) != nil){
		u->pool = c->next;
		free(c->data);
		free(c);
	}
	free(u->held);
	free(u->old);
	free(u->made);
	free(u->dead);
}

static int
entsize(Kvp *kv)
{
	return 2 + 4 + kv->nk + kv->nv;
}

static int
msgsize(Msg *m)
{
	return 2 + 5 + m->kv.nk + m->kv.nv;
}

static Node*
newnode(Upd *u, int type, int maxent, int maxmsg)
{
	Node *n;

	n = palloc(u, sizeof *n);
	n->type = type;
	n->ent = palloc(u, (maxent ? maxent : 1) * sizeof(Kvp));
	n->nent = 0;
	n->entsz = 0;
	n->msg = palloc(u, (maxmsg ? maxmsg : 1) * sizeof(Msg));
	n->nmsg = 0;
	n->msgsz = 0;
	return n;
}

static void
addent(Node *n, Kvp *kv)
{
	n->ent[n->nent++] = *kv;
	n->entsz += entsize(kv);
}

static void
addmsg(Node *n, Msg *m)
{
	n->msg[n->nmsg++] = *m;
	n->msgsz += msgsize(m);
}

/*
 * Read the node bp names into memory; the block is held until the
 * upsert ends and, since its contents are about to be rebuilt, freed if
 * the upsert succeeds.
 */
static Node*
loadnode(Upd *u, Bptr bp, int ht)
{
	Node *n;
	Blk *b;
	Kvp kv;
	Msg m;
	int i;

	b = getnode(bp, ht);
	if(b == nil)
		return nil;
	addblk(&u->held, &u->nheld, &u->maxheld, b);
	n = newnode(u, b->type, b->nval, b->type == Tpivot ? b->nbuf : 0);
	for(i = 0; i < b->nval; i++){
		if(nodeent(b, i, &kv) < 0)
			return nil;
		if(i > 0 && kcmp(n->ent[i-1].k, n->ent[i-1].nk, kv.k, kv.nk) >= 0){
			badblk(b, "misordered entry", i);
			return nil;
		}
		addent(n, &kv);
	}
	if(b->type == Tpivot)
		for(i = 0; i < b->nbuf; i++){
			if(nodemsg(b, i, &m) < 0)
				return nil;
			if(i > 0 && kcmp(n->msg[i-1].kv.k, n->msg[i-1].kv.nk, m.kv.k, m.kv.nk) > 0){
				badblk(b, "misordered message", i);
				return nil;
			}
			addmsg(n, &m);
		}
	addblk(&u->old, &u->nold, &u->maxold, b);
	return n;
}

/* ------------------------------------------------ applying at a leaf */

/*
 * Apply m at a leaf: as applymsg, plus the release of the data block a
 * Kdat value names when the value is replaced or removed (format §7.2).
 */
static int
leafapply(Upd *u, Msg *m, int *present, char *v, int *nv)
{
	Bptr old;

	if(m->kv.k[0] == Kdat && *present && m->op != Owstat && m->op < Orelink){
		if(*nv != Ptrsz){
			werrstr("%s: data pointer of %d bytes", Ecorrupt, *nv);
			return -1;
		}
		old = unpackbp(v);
		if(m->op != Oinsert || m->kv.nv != Ptrsz || unpackbp(m->kv.v).addr != old.addr)
			adddead(u, old);
	}
	return applymsg(m, present, v, nv);
}

/* The leaf contents n with the sorted run applied. */
static Node*
applyleaf(Upd *u, Node *n, Msg *run, int nrun)
{
	int i, j, c, present, nv;
	char val[Inlmax];
	Node *r;
	Kvp kv;

	r = newnode(u, Tleaf, n->nent + nrun, 0);
	i = 0;
	j = 0;
	while(i < n->nent || j < nrun){
		if(j == nrun)
			c = -1;
		else if(i == n->nent)
			c = 1;
		else
			c = kcmp(n->ent[i].k, n->ent[i].nk, run[j].kv.k, run[j].kv.nk);
		if(c < 0){
			addent(r, &n->ent[i++]);
			continue;
		}
		kv.k = run[j].kv.k;
		kv.nk = run[j].kv.nk;
		present = 0;
		nv = 0;
		if(c == 0){
			memmove(val, n->ent[i].v, n->ent[i].nv);
			nv = n->ent[i].nv;
			present = 1;
			i++;
		}
		for(; j < nrun && kcmp(run[j].kv.k, run[j].kv.nk, kv.k, kv.nk) == 0; j++)
			if(leafapply(u, &run[j], &present, val, &nv) < 0)
				return nil;
		if(present){
			kv.v = pdup(u, val, nv);
			kv.nv = nv;
			addent(r, &kv);
		}
	}
	return r;
}

/* ----------------------------------------------------------- packing */

/* The lowest key of a node's contents, buffered messages included (copy-up, §8.1). */
static void
firstkey(Node *n, Key *k)
{
	k->k = n->ent[0].k;
	k->nk = n->ent[0].nk;
	if(n->type == Tpivot && n->nmsg > 0
	&& kcmp(n->msg[0].kv.k, n->msg[0].kv.nk, k->k, k->nk) < 0){
		k->k = n->msg[0].kv.k;
		k->nk = n->msg[0].kv.nk;
	}
}

/* Make a pivot child entry for block b, whose lowest key is k. */
static void
mkent(Upd *u, Kvp *e, Key *k, Blk *b)
{
	e->k = pdup(u, k->k, k->nk);
	e->nk = k->nk;
	e->v = palloc(u, Pptrsz);
	packbp(e->v, &b->bp);
	put16(e->v + Ptrsz, blkfill(b));
	e->nv = Pptrsz;
}

/*
 * Write node contents n into as few blocks as the limits allow, splitting
 * into groups of about equal size (each at least one entry); return the
 * pivot entries naming them.  Pivot messages go to the group they route to.
 */
static int
packnode(Upd *u, Node *n, Kvp **pe, int *pne)
{
	int i, j, ng, cap, type, sz, gsz, cum, target, g, nout;
	Kvp *out;
	Key fk;
	Blk *b;
	Node grp;

	*pe = nil;
	*pne = 0;
	if(n->nent == 0)
		return 0;
	type = n->type;
	cap = type == Tleaf ? Leafspc : Pivlimit;
	ng = (n->entsz + cap-1) / cap;
	if(type == Tpivot)
		ng = MAX(ng, (n->nent + Maxfan-1) / Maxfan);
	out = palloc(u, n->nent * sizeof(Kvp));
	nout = 0;
	j = 0;
	cum = 0;
	g = 0;
	for(i = 0; i < n->nent; ){
		memset(&grp, 0, sizeof grp);
		grp.type = type;
		grp.ent = &n->ent[i];
		gsz = 0;
		target = (int)((vlong)n->entsz * (g+1) / ng);
		while(i < n->nent){
			sz = entsize(&n->ent[i]);
			if(grp.nent > 0 && (gsz+sz > cap || cum >= target))
				break;
			if(type == Tpivot && grp.nent == Maxfan)
				break;
			gsz += sz;
			cum += sz;
			grp.nent++;
			i++;
		}
		grp.entsz = gsz;
		if(type == Tpivot){
			grp.msg = &n->msg[j];
			while(j < n->nmsg && (i == n->nent
			|| kcmp(n->msg[j].kv.k, n->msg[j].kv.nk, n->ent[i].k, n->ent[i].nk) < 0)){
				grp.msgsz += msgsize(&n->msg[j]);
				grp.nmsg++;
				j++;
			}
			if(grp.msgsz > Bufspc){
				werrstr("%s: pivot buffer overflow while packing", Efs);
				return -1;
			}
		}
		b = newblk(u->t, type, 0);
		if(b == nil)
			return -1;
		addblk(&u->made, &u->nmade, &u->maxmade, b);
		for(sz = 0; sz < grp.nent; sz++)
			setval(b, &grp.ent[sz]);
		for(sz = 0; sz < grp.nmsg; sz++)
			setmsg(b, &grp.msg[sz]);
		enqueue(b);
		firstkey(&grp, &fk);
		mkent(u, &out[nout++], &fk, b);
		g++;
	}
	*pe = out;
	*pne = nout;
	return 0;
}

/* ----------------------------------------------------------- flushing */

/* Index range [*lo, *hi) of the messages of p that belong to child ci. */
static void
childrun(Node *p, int ci, int *lo, int *hi)
{
	int l, h, m;
	Kvp *e;

	/* first message with key >= separator ci (0 for the first child) */
	l = 0;
	if(ci > 0){
		e = &p->ent[ci];
		h = p->nmsg;
		while(l < h){
			m = (l+h)/2;
			if(kcmp(p->msg[m].kv.k, p->msg[m].kv.nk, e->k, e->nk) < 0)
				l = m+1;
			else
				h = m;
		}
	}
	*lo = l;
	h = p->nmsg;
	if(ci+1 < p->nent){
		e = &p->ent[ci+1];
		while(l < h){
			m = (l+h)/2;
			if(kcmp(p->msg[m].kv.k, p->msg[m].kv.nk, e->k, e->nk) < 0)
				l = m+1;
			else
				h = m;
		}
	}
	*hi = h;
}

/* Take the messages for child ci out of p's buffer. */
static Msg*
takerun(Upd *u, Node *p, int ci, int *n)
{
	int lo, hi, i;
	Msg *r;

	childrun(p, ci, &lo, &hi);
	*n = hi - lo;
	r = palloc(u, (*n ? *n : 1) * sizeof(Msg));
	memmove(r, &p->msg[lo], *n * sizeof(Msg));
	for(i = lo; i < hi; i++)
		p->msgsz -= msgsize(&p->msg[i]);
	memmove(&p->msg[lo], &p->msg[hi], (p->nmsg - hi) * sizeof(Msg));
	p->nmsg -= *n;
	return r;
}

/* The child with the most bytes of buffered messages (format §8.2). */
static int
victim(Node *p)
{
	int ci, best, bestsz, sz, j;

	ci = 0;
	best = 0;
	bestsz = -1;
	sz = 0;
	for(j = 0; j < p->nmsg; j++){
		while(ci+1 < p->nent
		&& kcmp(p->ent[ci+1].k, p->ent[ci+1].nk, p->msg[j].kv.k, p->msg[j].kv.nk) <= 0){
			if(sz > bestsz){
				best = ci;
				bestsz = sz;
			}
			ci++;
			sz = 0;
		}
		sz += msgsize(&p->msg[j]);
	}
	if(sz > bestsz)
		best = ci;
	return best;
}

/* Load child ci of p (at height ht) and push its run of messages into it. */
static Node*
pushdown(Upd *u, Node *p, int ht, int ci)
{
	Node *c;
	Msg *run;
	int n;

	run = takerun(u, p, ci, &n);
	c = loadnode(u, entbp(&p->ent[ci]), ht-1);
	if(c == nil)
		return nil;
	if(ht-1 == 1)
		return applyleaf(u, c, run, n);
	if(pivotadd(u, c, ht-1, run, n) < 0)
		return nil;
	return c;
}

/*
 * One node holding l's contents followed by r's.  rsep is the separator
 * r had in their parent: it bounds everything in r from below, including
 * buffered messages below r's own first separator, which must keep going
 * to r's first child.
 */
static Node*
combine(Upd *u, Node *l, Node *r, Kvp *rsep)
{
	Node *n;
	int i;

	n = newnode(u, l->type, l->nent + r->nent, l->nmsg + r->nmsg);
	for(i = 0; i < l->nent; i++)
		addent(n, &l->ent[i]);
	for(i = 0; i < r->nent; i++)
		addent(n, &r->ent[i]);
	if(n->type == Tpivot && r->nent > 0
	&& kcmp(rsep->k, rsep->nk, r->ent[0].k, r->ent[0].nk) < 0){
		n->entsz -= entsize(&n->ent[l->nent]);
		n->ent[l->nent].k = rsep->k;
		n->ent[l->nent].nk = rsep->nk;
		n->entsz += entsize(&n->ent[l->nent]);
	}
	for(i = 0; i < l->nmsg; i++)
		addmsg(n, &l->msg[i]);
	for(i = 0; i < r->nmsg; i++)
		addmsg(n, &r->msg[i]);
	return n;
}

static int
underfull(Node *n)
{
	if(n->nent == 0)
		return 0;
	if(n->type == Tleaf)
		return n->entsz < Leafspc/4;
	return n->entsz < Pivlimit/4 && n->nent < Maxfan/4;
}

/* Replace p's children [lo, hi) by the n entries e. */
static void
setkids(Upd *u, Node *p, int lo, int hi, Kvp *e, int n)
{
	Kvp *ne;
	int i, k;

	ne = palloc(u, (p->nent - (hi-lo) + n + 1) * sizeof(Kvp));
	k = 0;
	for(i = 0; i < lo; i++)
		ne[k++] = p->ent[i];
	for(i = 0; i < n; i++)
		ne[k++] = e[i];
	for(i = hi; i < p->nent; i++)
		ne[k++] = p->ent[i];
	p->ent = ne;
	p->nent = k;
	p->entsz = 0;
	for(i = 0; i < k; i++)
		p->entsz += entsize(&ne[i]);
}

/*
 * Push the run for child ci of pivot p (height ht) down, rebuild the
 * child, merge or rotate it with a sibling if it came out underfull
 * (format §8.6, done for real), and put the result back in p.
 */
static int
flushchild(Upd *u, Node *p, int ht, int ci)
{
	Node *c, *s;
	Kvp *e, sep;
	int lo, hi, si, ne;

	c = pushdown(u, p, ht, ci);
	if(c == nil)
		return -1;
	lo = ci;
	hi = ci+1;
	if(underfull(c) && p->nent > 1){
		si = ci > 0 ? ci-1 : ci+1;
		s = pushdown(u, p, ht, si);
		if(s == nil)
			return -1;
		if(si < ci){
			sep = p->ent[ci];
			c = combine(u, s, c, &sep);
			lo = si;
		}else{
			sep = p->ent[si];
			c = combine(u, c, s, &sep);
			hi = si+1;
		}
		if(c->type == Tpivot && c->msgsz > Bufspc && pivotadd(u, c, ht-1, nil, 0) < 0)
			return -1;
	}
	if(c->nent == 0 && c->nmsg > 0){
		werrstr("%s: messages for a subtree that emptied", Efs);
		return -1;
	}
	if(packnode(u, c, &e, &ne) < 0)
		return -1;
	setkids(u, p, lo, hi, e, ne);
	return 0;
}

/*
 * Merge the sorted run into pivot p's buffer, after existing messages
 * with equal keys, and flush the busiest children until it fits.
 */
static int
pivotadd(Upd *u, Node *p, int ht, Msg *run, int nrun)
{
	mergemsg(u, p, run, nrun);
	while(p->msgsz > Bufspc){
		if(p->nent == 0){
			werrstr("%s: buffered messages without children", Efs);
			return -1;
		}
		if(flushchild(u, p, ht, victim(p)) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------ the root */

/* Bytes a delete-type message could free at a leaf: a whole entry, at most. */
static vlong
gone(Msg *m)
{
	return isdel(m->op) ? 2 + 4 + m->kv.nk + Inlmax : 0;
}

/*
 * Could the whole tree collapse to a single leaf once every buffered
 * message is applied?  Judged on a lower bound of the leaf bytes that
 * would be left: a pivot's bound is the sum of its children's, less what
 * the deletions in its own buffer could free, and never below 0, since
 * those deletions only remove keys of its own subtree.  The clamp is
 * what keeps the walk short: keys deleted in sequence leave behind them
 * subtrees whose every key has a buffered deletion, each holding a
 * buffer of them; such a subtree weighs 0 rather than lending its
 * deletions (each counted as a largest entry) to the live keys further
 * right, which let the walk run over a good part of the tree.
 *
 * The walk goes left to right and stops as soon as the bound passes a
 * leaf.  Blocks never change, so the bound of a subtree weighed to the
 * end is remembered by block pointer (a small direct-mapped table): the
 * dead subtrees left of the live keys, which no batch touches, are
 * weighed once, not once per batch.  Once everything is deleted, every
 * leaf entry has a deletion buffered above it and the bound is 0.
 */
static Lock	weightlk;
static Weight	weights[Nweight];

static int
weightget(Bptr bp, vlong *lb)
{
	Weight *w;
	int r;

	w = &weights[(bp.hash ^ bp.addr) & (Nweight-1)];
	lock(&weightlk);
	r = w->addr == bp.addr && w->hash == bp.hash;
	if(r)
		*lb = w->lb;
	unlock(&weightlk);
	return r;
}

static void
weightput(Bptr bp, vlong lb)
{
	Weight *w;

	w = &weights[(bp.hash ^ bp.addr) & (Nweight-1)];
	lock(&weightlk);
	w->addr = bp.addr;
	w->hash = bp.hash;
	w->lb = lb;
	unlock(&weightlk);
}

static int	weigh(Blk*, int, vlong, vlong*);

/*
 * The bound for the child kv of a pivot, the child at height ht, into
 * *lb: 1 when it is at most need, 0 when it is more (the walk stops, *lb
 * unset), -1 on error.
 */
static int
weighkid(Kvp *kv, int ht, vlong need, vlong *lb)
{
	Bptr bp;
	Blk *b;
	int r;

	if(ht == 1){
		*lb = entfill(kv);
		return *lb <= need;
	}
	bp = entbp(kv);
	if(weightget(bp, lb))
		return *lb <= need;
	b = getnode(bp, ht);
	if(b == nil)
		return -1;
	r = weigh(b, ht, need, lb);
	dropblk(b);
	if(r == 1)
		weightput(bp, *lb);
	return r;
}

/* The bound for pivot b at height ht, as weighkid. */
static int
weigh(Blk *b, int ht, vlong need, vlong *lb)
{
	vlong del, sum, l;
	Kvp kv;
	Msg m;
	int i, r;

	del = 0;
	for(i = 0; i < b->nbuf; i++){
		if(nodemsg(b, i, &m) < 0)
			return -1;
		del += gone(&m);
	}
	sum = 0;
	for(i = 0; i < b->nval; i++){
		if(nodeent(b, i, &kv) < 0)
			return -1;
		/* b's bound passes need once sum + l - del does */
		r = weighkid(&kv, ht-1, need + del - sum, &l);
		if(r <= 0)
			return r;
		sum += l;
	}
	*lb = MAX(0, sum - del);
	return 1;
}

/* Whether root contents r (height ht) could be one leaf: 1 yes, 0 no, -1 error. */
static int
drainable(Node *r, int ht)
{
	vlong del, sum, l;
	int i, k;

	del = 0;
	for(i = 0; i < r->nmsg; i++)
		del += gone(&r->msg[i]);
	sum = 0;
	for(i = 0; i < r->nent; i++){
		k = weighkid(&r->ent[i], ht-1, Leafspc + del - sum, &l);
		if(k <= 0)
			return k;
		sum += l;
	}
	return 1;
}

/* Merge the sorted run into p's buffer, after existing messages with equal keys. */
static void
mergemsg(Upd *u, Node *p, Msg *run, int nrun)
{
	Msg *m;
	int i, j, k;

	if(nrun == 0)
		return;
	m = palloc(u, (p->nmsg + nrun) * sizeof(Msg));
	i = j = k = 0;
	while(i < p->nmsg || j < nrun){
		if(j == nrun || (i < p->nmsg
		&& kcmp(p->msg[i].kv.k, p->msg[i].kv.nk, run[j].kv.k, run[j].kv.nk) <= 0))
			m[k++] = p->msg[i++];
		else{
			p->msgsz += msgsize(&run[j]);
			m[k++] = run[j++];
		}
	}
	p->msg = m;
	p->nmsg = k;
}

/* The leaf contents of the subtree under pivot contents p, every message applied. */
static Node*
flatten(Upd *u, Node *p, int ht)
{
	Node *all, *c;
	Msg *run;
	int i, n;

	all = newnode(u, Tleaf, 0, 0);
	for(i = 0; i < p->nent; i++){
		run = takerun(u, p, i, &n);
		c = loadnode(u, entbp(&p->ent[i]), ht-1);
		if(c == nil)
			return nil;
		if(ht-1 == 1)
			c = applyleaf(u, c, run, n);
		else{
			mergemsg(u, c, run, n);
			c = flatten(u, c, ht-1);
		}
		if(c == nil)
			return nil;
		all = combine(u, all, c, nil);
	}
	return all;
}

/* Key order; equal keys keep the caller's order (pm[i] points at msg[i]). */
static int
cmpmsg(const void *a, const void *b)
{
	Msg *x, *y;
	int c;

	x = *(Msg**)a;
	y = *(Msg**)b;
	c = kcmp(x->kv.k, x->kv.nk, y->kv.k, y->kv.nk);
	if(c != 0)
		return c;
	return (x > y) - (x < y);
}

static Msg*
sortmsg(Upd *u, Msg *msg, int n)
{
	Msg **pm, *r;
	int i;

	pm = palloc(u, (n ? n : 1) * sizeof(Msg*));
	for(i = 0; i < n; i++)
		pm[i] = &msg[i];
	qsort(pm, n, sizeof(Msg*), cmpmsg);
	r = palloc(u, (n ? n : 1) * sizeof(Msg));
	for(i = 0; i < n; i++){
		r[i] = *pm[i];
		if(r[i].kv.nv == 0)
			r[i].kv.v = "";	/* callers may pass nil for no payload */
	}
	return r;
}

/* A root block for an empty tree. */
static int
emptyroot(Upd *u, Bptr *bp)
{
	Blk *b;

	b = newblk(u->t, Tleaf, 0);
	if(b == nil)
		return -1;
	addblk(&u->made, &u->nmade, &u->maxmade, b);
	enqueue(b);
	*bp = b->bp;
	return 0;
}

/*
 * Apply the batch msg[0..nmsg) to t, atomically: readers see all of it
 * or none of it.  Runs under the single mutator.  0, or -1 with the tree
 * unchanged.
 */
int
upsert(Tree *t, Msg *msg, int nmsg)
{
	Node *r, *c;
	Kvp *e;
	Bptr root;
	int i, ht, ne, loops, drained;
	Upd u;

	for(i = 0; i < nmsg; i++)
		if(msgcheck(&msg[i]) < 0)
			return -1;
	if(nmsg == 0)
		return 0;
	memset(&u, 0, sizeof u);
	u.t = t;
	for(i = 0; i < nmsg; i++)
		if(isdel(msg[i].op))
			u.deletes++;
	/* deleting frees space: a full volume must still allow it */
	if(u.deletes == nmsg)
		reserveenter();
	ht = t->ht;
	if(ht < 1 || ht > Maxht){
		werrstr("%s: tree height %d", Ecorrupt, ht);
		goto error;
	}
	msg = sortmsg(&u, msg, nmsg);
	r = loadnode(&u, t->bp, ht);
	if(r == nil)
		goto error;
	if(ht == 1)
		r = applyleaf(&u, r, msg, nmsg);
	else if(pivotadd(&u, r, ht, msg, nmsg) < 0)
		r = nil;
	if(r == nil)
		goto error;
	drained = 0;
	for(loops = 0; ; loops++){
		if(loops > 4*Maxht){
			werrstr("%s: root does not settle", Efs);
			goto error;
		}
		if(r->type == Tpivot && r->nent == 0){
			if(r->nmsg > 0){
				werrstr("%s: buffered messages without children", Efs);
				goto error;
			}
			r = newnode(&u, Tleaf, 0, 0);
			ht = 1;
		}
		if(r->type == Tpivot && r->nent == 1){
			/* one child: it becomes the root, taking the buffer along */
			c = pushdown(&u, r, ht, 0);
			if(c == nil)
				goto error;
			r = c;
			ht--;
			continue;
		}
		if(r->type == Tpivot && u.deletes && !drained){
			/* lazy buffering would keep a deleted tree tall: see drainable */
			drained = 1;
			switch(drainable(r, ht)){
			case -1:
				goto error;
			case 1:
				r = flatten(&u, r, ht);
				if(r == nil)
					goto error;
				ht = 1;
				continue;
			}
		}
		if(packnode(&u, r, &e, &ne) < 0)
			goto error;
		if(ne == 0){
			if(emptyroot(&u, &root) < 0)
				goto error;
			break;
		}
		if(ne == 1){
			root = entbp(&e[0]);
			break;
		}
		if(ht == Maxht){
			werrstr("%s: tree too tall", Efull);
			goto error;
		}
		r = newnode(&u, Tpivot, ne, 0);
		for(i = 0; i < ne; i++)
			addent(r, &e[i]);
		ht++;
	}

	lock(&t->lk);
	t->bp = root;
	t->ht = ht;
	t->dirty = 1;
	unlock(&t->lk);
	for(i = 0; i < u.nold; i++)
		freeblk(t, u.old[i]);
	for(i = 0; i < u.ndead; i++)
		freebp(t, u.dead[i]);
	updfree(&u);
	if(u.deletes == nmsg)
		reserveleave();
	return 0;

error:
	for(i = 0; i < u.nmade; i++)
		freeblk(t, u.made[i]);
	updfree(&u);
	if(u.deletes == nmsg)
		reserveleave();
	return -1;
}
