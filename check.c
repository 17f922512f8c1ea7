/*
 * check.c: the tree invariant checker (runtime §7.1, without its bugs).
 *
 * Every node reachable from the root is read (getblk verifies its hash
 * against the pointer that names it) and checked: node layout, height,
 * key order, that every key, separator and buffered message lies in the
 * range its parent gives the node, that the fill recorded in the parent
 * is the child's, that buffered messages are valid, and that no node or
 * data block it reaches is free in the allocator.  Each problem is
 * reported with the block address and the key, and counted.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

static void
bad(Chk *c, vlong addr, char *k, int nk, char *fmt, ...)
{
	char line[512], kb[80], why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if(k != nil)
		snprintf(line, sizeof line, "node %llx key %s: %s",
			(unsigned long long)addr, keyfmt(kb, sizeof kb, k, nk), why);
	else
		snprintf(line, sizeof line, "node %llx: %s", (unsigned long long)addr, why);
	if(c->out != nil)
		c->out(c->arg, line);
	else
		warn("check: %s", line);
	c->nbad++;
}

static int
below(Key *k, char *p, int n)
{
	Key x;

	if(k == nil)
		return 0;
	x.k = p;
	x.nk = n;
	return keycmp(&x, k) < 0;
}

static int
atorabove(Key *k, char *p, int n)
{
	Key x;

	if(k == nil)
		return 0;
	x.k = p;
	x.nk = n;
	return keycmp(&x, k) >= 0;
}

/* A buffered message must be one an upsert would take. */
static void
checkmsg(Chk *c, Blk *b, Msg *m)
{
	if(m->op < Oinsert || m->op >= Nmsgtype){
		bad(c, b->bp.addr, m->kv.k, m->kv.nk, "invalid message op %d", m->op);
		return;
	}
	if(msgcheck(m) < 0)
		bad(c, b->bp.addr, m->kv.k, m->kv.nk, "%s", errstr());
}

/*
 * Check the node bp names, at height ht, whose keys must lie in
 * [lo, hi) (nil: unbounded), with fill as its parent recorded it
 * (-1 for the root).
 */
static void
checknode(Chk *c, Bptr bp, int ht, Key *lo, Key *hi, int fill, int isroot)
{
	Key k, prev, nlo, nhi;
	int i, haveprev;
	Kvp kv, next;
	Blk *b;
	Msg m;

	if(ht < 1 || ht > Maxht){
		bad(c, bp.addr, nil, 0, "height %d", ht);
		return;
	}
	b = getblk(bp, 0);
	if(b == nil){
		bad(c, bp.addr, nil, 0, "unreadable: %s", errstr());
		return;
	}
	if(b->type != Tleaf && b->type != Tpivot){
		bad(c, bp.addr, nil, 0, "block type %d in a tree", b->type);
		goto out;
	}
	if((b->type == Tleaf) != (ht == 1)){
		bad(c, bp.addr, nil, 0, "%s at height %d",
			b->type == Tleaf ? "leaf" : "pivot", ht);
		goto out;
	}
	if(!nodeok(b)){
		bad(c, bp.addr, nil, 0, "header out of bounds: nval %d valsz %d nbuf %d bufsz %d",
			b->nval, b->valsz, b->nbuf, b->bufsz);
		goto out;
	}
	if(blkisfree(bp.addr))
		bad(c, bp.addr, nil, 0, "reachable block is free");
	if(fill >= 0 && blkfill(b) != fill)
		bad(c, bp.addr, nil, 0, "fill %d, parent recorded %d", blkfill(b), fill);
	if(b->nval == 0 && (!isroot || b->type == Tpivot))
		bad(c, bp.addr, nil, 0, "empty %s", b->type == Tleaf ? "leaf" : "pivot");

	haveprev = 0;
	for(i = 0; i < b->nval; i++){
		if(nodeent(b, i, &kv) < 0){
			bad(c, bp.addr, nil, 0, "%s", errstr());
			goto out;
		}
		if(kv.nk < 1)
			bad(c, bp.addr, kv.k, kv.nk, "empty key");
		if(haveprev && keycmp(&prev, &(Key){kv.k, kv.nk}) >= 0)
			bad(c, bp.addr, kv.k, kv.nk, "misordered key after %d", i-1);
		if(below(lo, kv.k, kv.nk))
			bad(c, bp.addr, kv.k, kv.nk, "key below the node's separator");
		if(atorabove(hi, kv.k, kv.nk))
			bad(c, bp.addr, kv.k, kv.nk, "key at or above the next separator");
		if(b->type == Tleaf && kv.k[0] == Kdat){
			if(kv.nv != Ptrsz)
				bad(c, bp.addr, kv.k, kv.nk, "data pointer of %d bytes", kv.nv);
			else if(blkisfree(unpackbp(kv.v).addr))
				bad(c, bp.addr, kv.k, kv.nk, "data block %llx is free",
					(unsigned long long)unpackbp(kv.v).addr);
		}
		prev.k = kv.k;
		prev.nk = kv.nk;
		haveprev = 1;
	}

	if(b->type == Tpivot){
		haveprev = 0;
		for(i = 0; i < b->nbuf; i++){
			if(nodemsg(b, i, &m) < 0){
				bad(c, bp.addr, nil, 0, "%s", errstr());
				goto out;
			}
			k.k = m.kv.k;
			k.nk = m.kv.nk;
			if(haveprev && keycmp(&prev, &k) > 0)
				bad(c, bp.addr, k.k, k.nk, "misordered message %d", i);
			if(below(lo, k.k, k.nk))
				bad(c, bp.addr, k.k, k.nk, "message below the node's separator");
			if(atorabove(hi, k.k, k.nk))
				bad(c, bp.addr, k.k, k.nk, "message at or above the next separator");
			checkmsg(c, b, &m);
			prev = k;
			haveprev = 1;
		}
		for(i = 0; i < b->nval; i++){
			if(nodeent(b, i, &kv) < 0)
				goto out;
			nlo.k = kv.k;
			nlo.nk = kv.nk;
			if(i+1 < b->nval){
				if(nodeent(b, i+1, &next) < 0)
					goto out;
				nhi.k = next.k;
				nhi.nk = next.nk;
				checknode(c, unpackbp(kv.v), ht-1, &nlo, &nhi, get16(kv.v+Ptrsz), 0);
			}else
				checknode(c, unpackbp(kv.v), ht-1, &nlo, hi, get16(kv.v+Ptrsz), 0);
		}
	}
out:
	dropblk(b);
}

int
checktree(Tree *t, void (*out)(void*, char*), void *arg)
{
	Chk c;
	Bptr bp;
	int ht;

	memset(&c, 0, sizeof c);
	c.t = t;
	c.out = out;
	c.arg = arg;
	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	checknode(&c, bp, ht, nil, nil, -1, 1);
	return c.nbad;
}

/*
 * The whole volume (runtime §7.1, without its gaps): the snap tree and
 * every snapshot's tree checked, every data block read and verified,
 * the snapshot graph and counters checked, every arena's free map
 * checked for order, overlap and its used count, every allocation log
 * chain read from the disk and verified by its hashes, and every block
 * something names (trees, data, deadlists and the blocks they list,
 * allocation logs, frees waiting for a commit) compared with the
 * allocator: a named block that is free is an error, and so is a block
 * named as two different things (a node and a data block, data of two
 * different file offsets...); an allocated block nothing names is a
 * leak, counted in *leaked.  Counters that are too high (older volumes,
 * format §18.2-3) are leaks too, not errors: each such record counts as
 * one leaked block, whatever it holds.  Leaks are exact at a quiet
 * point: after a sync, once the frees it released reached the
 * allocator.  Takes fs->mutlk.
 */

/* What a block is named as, to find one block used as two things. */
enum {
	Unode	= 1,
	Udata,
	Ulog,
	Udlist,
};

static char *usename[] = {
	[Unode] = "tree node",
	[Udata] = "data block",
	[Ulog] = "allocation log block",
	[Udlist] = "deadlist block",
};

/* Address -> (use, tag): open addressing, addr -1 empty. */
typedef struct Umap	Umap;
struct Umap {
	vlong	*addr;
	uvlong	*tag;
	char	*use;
	long	n;
	long	cap;
};

typedef struct Fsck	Fsck;
struct Fsck {
	Chk	c;
	Bset	reach;
	Bset	listed;
	Umap	uses;
	vlong	leaks;
};

static void
fbad(Fsck *f, char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if(f->c.out != nil)
		f->c.out(f->c.arg, line);
	else
		warn("check: %s", line);
	f->c.nbad++;
}

static void
fleak(Fsck *f, vlong n, char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if(f->c.out != nil)
		f->c.out(f->c.arg, line);
	else
		warn("check: %s", line);
	f->leaks += n;
}

static long
uslot(Umap *m, vlong a)
{
	long i;

	i = ihash(a) & (m->cap-1);
	while(m->addr[i] != -1 && m->addr[i] != a)
		i = (i+1) & (m->cap-1);
	return i;
}

static void
ugrow(Umap *m)
{
	Umap o;
	long i, j;

	o = *m;
	m->cap = o.cap ? 2*o.cap : 1024;
	m->addr = emalloc(m->cap*sizeof(vlong));
	m->tag = emalloc(m->cap*sizeof(uvlong));
	m->use = emalloc(m->cap);
	for(i = 0; i < m->cap; i++)
		m->addr[i] = -1;
	for(i = 0; i < o.cap; i++)
		if(o.addr[i] != -1){
			j = uslot(m, o.addr[i]);
			m->addr[j] = o.addr[i];
			m->tag[j] = o.tag[i];
			m->use[j] = o.use[i];
		}
	free(o.addr);
	free(o.tag);
	free(o.use);
}

static void
ufree(Umap *m)
{
	free(m->addr);
	free(m->tag);
	free(m->use);
	memset(m, 0, sizeof *m);
}

/*
 * Record that addr is named as a u with tag t (a node: its hash; data:
 * its key's hash).  The same block named again must be named as the
 * same thing: a shared subtree, or a file's data shared by snapshots.
 */
static void
usedas(Fsck *f, vlong addr, int u, uvlong t, char *who)
{
	Umap *m;
	long i;

	m = &f->uses;
	if(2*(m->n+1) > m->cap)
		ugrow(m);
	i = uslot(m, addr);
	if(m->addr[i] == -1){
		m->addr[i] = addr;
		m->use[i] = u;
		m->tag[i] = t;
		m->n++;
		return;
	}
	if(m->use[i] != u)
		fbad(f, "block %llx used twice: as a %s and as a %s (%s)", (unsigned long long)addr,
			usename[(int)m->use[i]], usename[u], who);
	else if(m->tag[i] != t)
		fbad(f, "block %llx used twice: two different %ss (%s)", (unsigned long long)addr,
			usename[u], who);
}

/* A file's data block: named once per file offset, and readable. */
static void
markdat(Fsck *f, vlong node, char *k, int nk, char *v, int nv)
{
	char kb[80], who[128];
	Bptr bp;
	Blk *b;

	if(nv != Ptrsz)
		return;
	bp = unpackbp(v);
	if(nk == Offksz)
		snprintf(who, sizeof who, "node %llx: file %llx offset %llx", (unsigned long long)node,
			(unsigned long long)get64(k+1), (unsigned long long)get64(k+9));
	else
		snprintf(who, sizeof who, "node %llx key %s", (unsigned long long)node, keyfmt(kb, sizeof kb, k, nk));
	usedas(f, bp.addr, Udata, blkhash(k, nk), who);
	if(!bsetadd(&f->reach, bp.addr))
		return;
	if((b = getblk(bp, GBraw)) == nil){
		fbad(f, "%s: data block %llx: %s", who, (unsigned long long)bp.addr, errstr());
		return;
	}
	dropblk(b);
}

/* Name every block of the tree at bp; a subtree seen before is shared. */
static void
marktree(Fsck *f, Bptr bp, int ht)
{
	Kvp kv;
	Msg m;
	Blk *b;
	int i;

	if(ht < 1 || ht > Maxht)
		return;
	usedas(f, bp.addr, Unode, bp.hash, "a tree");
	if(!bsetadd(&f->reach, bp.addr))
		return;
	if((b = getblk(bp, 0)) == nil){
		fbad(f, "node %llx: unreadable: %s", (unsigned long long)bp.addr, errstr());
		return;
	}
	if(!nodeok(b) || (b->type != Tleaf && b->type != Tpivot)){
		dropblk(b);
		return;
	}
	for(i = 0; i < b->nval; i++){
		if(nodeent(b, i, &kv) < 0)
			break;
		if(b->type == Tpivot)
			marktree(f, unpackbp(kv.v), ht-1);
		else if(kv.nk > 0 && kv.k[0] == Kdat)
			markdat(f, bp.addr, kv.k, kv.nk, kv.v, kv.nv);
	}
	for(i = 0; b->type == Tpivot && i < b->nbuf; i++){
		if(nodemsg(b, i, &m) < 0)
			break;
		if(m.op == Oinsert && m.kv.nk > 0 && m.kv.k[0] == Kdat)
			markdat(f, bp.addr, m.kv.k, m.kv.nk, m.kv.v, m.kv.nv);
	}
	dropblk(b);
}

static void
markchain(Fsck *f, vlong gen, vlong bgen, Bptr hd, Bptr tl)
{
	vlong n, max, a, cur;
	Bptr bp;
	Blk *b;
	int o;

	if(hd.addr == -1)
		return;
	max = fs->size / Blksz;
	bp = hd;
	for(n = 0; n < max; n++){
		usedas(f, bp.addr, Udlist, 0, "a deadlist chain");
		if(!bsetadd(&f->reach, bp.addr))
			fbad(f, "deadlist (%lld, %lld): block %llx named twice", (long long)gen, (long long)bgen,
				(unsigned long long)bp.addr);
		if((b = getblk(bp, GBlog)) == nil){
			fbad(f, "deadlist (%lld, %lld): block %llx unreadable: %s", (long long)gen, (long long)bgen,
				(unsigned long long)bp.addr, errstr());
			return;
		}
		for(o = 0; o+8 <= b->logsz; o += 8){
			a = get64(b->data+o);
			if(!bsetadd(&f->listed, a))
				fbad(f, "deadlist (%lld, %lld): block %llx listed twice", (long long)gen, (long long)bgen,
					(unsigned long long)a);
			bsetadd(&f->reach, a);
		}
		cur = bp.addr;
		bp = b->logp;
		dropblk(b);
		if(cur == tl.addr)
			return;
		if(bp.addr == -1){
			fbad(f, "deadlist (%lld, %lld): chain ends before its tail", (long long)gen, (long long)bgen);
			return;
		}
	}
	fbad(f, "deadlist (%lld, %lld): chain does not reach its tail", (long long)gen, (long long)bgen);
}

typedef struct Snapent	Snapent;
struct Snapent {
	Tree	t;
	int	labels;
	int	forks;
};

static Snapent*
findrec(Snapent *s, int n, vlong gen)
{
	int lo, hi, m;

	lo = 0;
	hi = n;
	while(lo < hi){
		m = (lo+hi)/2;
		if(s[m].t.gen < gen)
			lo = m+1;
		else
			hi = m;
	}
	return lo < n && s[lo].t.gen == gen ? &s[lo] : nil;
}

static int
ismemgen(vlong gen)
{
	Mount *m;
	int r;

	r = 0;
	qlock(&fs->mountlk);
	for(m = fs->mounts; m != nil; m = m->next)
		if(m->root->memgen == gen)
			r = 1;
	qunlock(&fs->mountlk);
	return r;
}

/* Labels, records, deadlists: read, cross-checked, their blocks named. */
static void
checksnaps(Fsck *f)
{
	Snapent *s, *x;
	vlong *lg, gen, bgen;
	int ns, nl, i;
	u32int flag;
	Bptr hd, tl;
	Scan *sc;
	Kvp kv;
	Tree t;

	s = nil;
	lg = nil;
	ns = nl = 0;
	sc = emalloc(sizeof *sc);
	btnewscan(sc, "", 0);
	if(btenter(&fs->snap, sc) < 0){
		fbad(f, "snap tree: %s", errstr());
		goto out;
	}
	while(btnext(sc, &kv) == 1){
		switch(kv.k[0]){
		case Klabel:
			if(unpacklblval(kv.v, kv.nv, &gen, &flag) == -1){
				fbad(f, "label %.*s: %s", kv.nk-1, kv.k+1, errstr());
				break;
			}
			if(nl % 64 == 0)
				lg = erealloc(lg, (nl+64)*sizeof *lg);
			lg[nl++] = gen;
			break;
		case Ksnap:
			memset(&t, 0, sizeof t);
			if(kv.nk != Snapsz || unpacktree(&t, kv.v, kv.nv) == -1 || t.gen != (vlong)get64(kv.k+1)){
				fbad(f, "snapshot record %s", keyfmt((char[40]){0}, 40, kv.k, kv.nk));
				break;
			}
			if(ns % 64 == 0)
				s = erealloc(s, (ns+64)*sizeof *s);
			memset(&s[ns], 0, sizeof *s);
			s[ns++].t = t;
			if(!bsethas(&f->reach, t.bp.addr)){
				if(checktree(&t, f->c.out, f->c.arg) != 0)
					fbad(f, "snapshot %lld: its tree is broken", (long long)t.gen);
				marktree(f, t.bp, t.ht);
			}
			break;
		case Kdlist:
			if(kv.nk != Dlksz || unpackdlval(kv.v, kv.nv, &hd, &tl) == -1){
				fbad(f, "deadlist record %s", keyfmt((char[40]){0}, 40, kv.k, kv.nk));
				break;
			}
			gen = get64(kv.k+1);
			bgen = get64(kv.k+9);
			markchain(f, gen, bgen, hd, tl);
			if(findrec(s, ns, gen) == nil && !ismemgen(gen))
				fbad(f, "deadlist (%lld, %lld) of no snapshot", (long long)gen, (long long)bgen);
			break;
		}
	}
	btexit(sc);
	for(i = 0; i < nl; i++){
		if((x = findrec(s, ns, lg[i])) == nil)
			fbad(f, "a label names snapshot %lld, which does not exist", (long long)lg[i]);
		else
			x->labels++;
	}
	for(i = 0; i < ns; i++)
		if(s[i].t.pred == -1 && s[i].t.base != -1 && (x = findrec(s, ns, s[i].t.base)) != nil)
			x->forks++;
	for(i = 0; i < ns; i++){
		t = s[i].t;
		if(t.nlbl < s[i].labels)
			fbad(f, "snapshot %lld: nlbl %d, %d labels", (long long)t.gen, t.nlbl, s[i].labels);
		if(t.nref < s[i].forks)
			fbad(f, "snapshot %lld: nref %d, %d forks", (long long)t.gen, t.nref, s[i].forks);
		if(t.nlbl > s[i].labels || t.nref > s[i].forks)
			fleak(f, 1, "snapshot %lld: counts nlbl %d nref %d for %d labels and %d forks: kept for ever",
				(long long)t.gen, t.nlbl, t.nref, s[i].labels, s[i].forks);
		if(t.succ != -1 && ((x = findrec(s, ns, t.succ)) == nil || x->t.pred != t.gen))
			fbad(f, "snapshot %lld: successor %lld does not lead back", (long long)t.gen, (long long)t.succ);
		if(t.pred != -1 && ((x = findrec(s, ns, t.pred)) == nil || x->t.succ != t.gen))
			fbad(f, "snapshot %lld: predecessor %lld does not lead on", (long long)t.gen, (long long)t.pred);
	}
out:
	free(sc);
	free(s);
	free(lg);
}

/*
 * Arena i's free map: ranges of whole blocks inside the arena, strictly
 * ordered, apart (adjacent ranges should have been merged), and adding
 * up to what the used count says is free.  Under a->lk.
 */
static void
checkfree(Fsck *f, Arena *a, int i)
{
	vlong lo, hi, end, sum;
	Fnode *fn;

	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	end = -1;
	sum = 0;
	for(fn = rangefirst(a); fn != nil; fn = rangenext(a, fn)){
		if(fn->off % Blksz != 0 || fn->len <= 0 || fn->len % Blksz != 0
		|| fn->off < lo || fn->off + fn->len > hi)
			fbad(f, "arena %d: free range %llx+%llx outside the arena or not whole blocks", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len);
		if(end != -1 && fn->off < end)
			fbad(f, "arena %d: free range %llx+%llx overlaps the one before, ending at %llx", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len, (unsigned long long)end);
		else if(end != -1 && fn->off == end)
			fbad(f, "arena %d: free range %llx+%llx adjoins the one before", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len);
		end = fn->off + fn->len;
		sum += fn->len;
	}
	if(a->used != a->size - sum)
		fbad(f, "arena %d: used %lld bytes, but its free map leaves %lld", i,
			(long long)a->used, (long long)(a->size - sum));
}

/*
 * Arena i's allocation log as it is on the disk: every block of the
 * chain from the head the next commit writes to the open tail, each a
 * log block whose header hash covers its entries, entries with valid
 * ops and ranges inside the arena; the chain the arena keeps in memory.
 * Under a->lk.
 */
static void
checklog(Fsck *f, Arena *a, int i)
{
	vlong lo, hi, addr, len;
	uvlong w, h;
	char *buf, *d;
	int n, sz, o, op;
	Bptr bp;

	buf = emalloc(Blksz);
	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	bp = a->loghd;
	d = buf + Loghdsz;
	for(n = 0; n < a->logblks.n; n++){
		if(bp.addr != a->logblks.p[n].addr){
			fbad(f, "arena %d: log block %d at %llx, the chain in memory says %llx", i, n,
				(unsigned long long)bp.addr, (unsigned long long)a->logblks.p[n].addr);
			break;
		}
		usedas(f, bp.addr, Ulog, 0, "an allocation log");
		if(devread(bp.addr, buf) == -1){
			fbad(f, "arena %d: log block %llx: %s", i, (unsigned long long)bp.addr, errstr());
			break;
		}
		sz = get16(buf+2);
		if(get16(buf) != Tlog || sz > Logspc){
			fbad(f, "arena %d: log block %llx: a %s block of %d bytes", i,
				(unsigned long long)bp.addr, blktype(get16(buf)), sz);
			break;
		}
		if((h = blkhash(d, sz)) != get64(buf+4)){
			fbad(f, "arena %d: log block %llx: expected hash %llx, found %llx", i,
				(unsigned long long)bp.addr, (unsigned long long)get64(buf+4), (unsigned long long)h);
			break;
		}
		for(o = 0; o+8 <= sz; o += op == LogAlloc || op == LogFree ? 16 : 8){
			w = get64(d+o);
			op = w & 0xff;
			if(op == LogSync)
				continue;
			addr = w & ~0xffULL;
			len = Blksz;
			if(op == LogAlloc || op == LogFree)
				len = o+16 <= sz ? (vlong)get64(d+o+8) : -1;
			else if(op != LogAlloc1 && op != LogFree1){
				fbad(f, "arena %d: log block %llx entry %d: invalid op %d", i,
					(unsigned long long)bp.addr, o/8, op);
				break;
			}
			if(len <= 0 || len % Blksz != 0 || addr % Blksz != 0 || addr < lo || addr >= hi || len > hi - addr){
				fbad(f, "arena %d: log block %llx entry %d: range %llx+%llx outside the arena", i,
					(unsigned long long)bp.addr, o/8, (unsigned long long)addr, (unsigned long long)len);
				break;
			}
		}
		if(n+1 < a->logblks.n)
			bp = unpackbp(buf+12);
	}
	if(n == a->logblks.n && (a->logtl == nil || bp.addr != a->logtl->bp.addr))
		fbad(f, "arena %d: the log chain ends at %llx, not at the open tail", i, (unsigned long long)bp.addr);
	free(buf);
}

/*
 * The trees of mounted labels with changes not committed yet name
 * blocks too: checked and named like the committed ones.
 */
static void
checkmounts(Fsck *f)
{
	Mount *m;
	Tree *t;

	qlock(&fs->mountlk);
	for(m = fs->mounts; m != nil; m = m->next){
		t = m->root;
		if(t == &fs->snap || bsethas(&f->reach, t->bp.addr))
			continue;
		if(checktree(t, f->c.out, f->c.arg) != 0)
			fbad(f, "mounted label %s: its tree is broken", m->name);
		marktree(f, t->bp, t->ht);
	}
	qunlock(&fs->mountlk);
}

/* Allocated blocks of arena a that nothing names. */
static void
findleaks(Fsck *f, Arena *a)
{
	vlong *r, addr, end, nleak, first;
	int i, n, cap;
	Fnode *fn;

	r = nil;
	n = cap = 0;
	qlock(&a->lk);
	for(fn = rangefirst(a); fn != nil; fn = rangenext(a, fn)){
		if(n == cap){
			cap = cap ? 2*cap : 64;
			r = erealloc(r, 2*cap*sizeof(vlong));
		}
		r[2*n] = fn->off;
		r[2*n+1] = fn->len;
		n++;
	}
	qunlock(&a->lk);
	nleak = 0;
	first = -1;
	/* the last two blocks of an arena are never used (format §5) */
	addr = a->base + 2*Blksz;
	end = a->base + a->size;
	for(i = 0; i <= n; i++){
		for(; addr < end && (i == n || addr < r[2*i]); addr += Blksz)
			if(!bsethas(&f->reach, addr) && !blkisfree(addr)){
				if(first == -1)
					first = addr;
				nleak++;
			}
		if(i < n)
			addr = r[2*i] + r[2*i+1];
	}
	if(nleak > 0)
		fleak(f, nleak, "arena %llx: %lld allocated blocks nothing names, the first %llx",
			(unsigned long long)a->base, (long long)nleak, (unsigned long long)first);
	free(r);
}

int
checkfs(void (*out)(void*, char*), void *arg, vlong *leaked)
{
	Fsck f;
	Dlist *d;
	Arena *a;
	int i, j;
	long k;

	memset(&f, 0, sizeof f);
	f.c.out = out;
	f.c.arg = arg;
	qlock(&fs->mutlk);
	epochstart();
	if(checktree(&fs->snap, out, arg) != 0)
		fbad(&f, "the snap tree is broken");
	marktree(&f, fs->snap.bp, fs->snap.ht);
	checksnaps(&f);
	checkmounts(&f);
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		checkfree(&f, a, i);
		checklog(&f, a, i);
		for(j = 0; j < a->logblks.n; j++)
			bsetadd(&f.reach, a->logblks.p[j].addr);
		qunlock(&a->lk);
	}
	lock(&fs->deferlk);
	for(j = 0; j < fs->deferred.n; j++)
		bsetadd(&f.reach, fs->deferred.p[j].addr);
	unlock(&fs->deferlk);
	for(d = fs->dlists; d != nil; d = d->next)
		if(d->ins != nil)
			bsetadd(&f.reach, d->ins->bp.addr);
	for(k = 0; k < f.reach.cap; k++)
		if(f.reach.a[k] != -1 && blkisfree(f.reach.a[k]))
			fbad(&f, "block %llx is named but free", (unsigned long long)f.reach.a[k]);
	for(i = 0; i < fs->narena; i++)
		findleaks(&f, &fs->arenas[i]);
	epochend();
	qunlock(&fs->mutlk);
	bsetfree(&f.reach);
	bsetfree(&f.listed);
	ufree(&f.uses);
	if(leaked != nil)
		*leaked = f.leaks;
	return f.c.nbad;
}

/*
 * The check of the console's check and of gefs -c (runtime §7.1): every
 * problem, one line each, then the verdict on one line of its own: "ok",
 * or "broken: N problems, M leaked blocks".  0 if ok, else -1 with the
 * verdict as the error.  A leak is a failure too: after any crash the
 * volume must come back without one.
 */
int
checkvol(Linefn *out, void *arg)
{
	char v[128];
	vlong leaks;
	int bad;

	bad = checkfs(out, arg, &leaks);
	if(bad == 0 && leaks == 0){
		out(arg, "ok");
		return 0;
	}
	snprintf(v, sizeof v, "broken: %d problems, %lld leaked blocks", bad, (long long)leaks);
	out(arg, v);
	werrstr("%s: %d problems, %lld leaked blocks", Echeck, bad, (long long)leaks);
	return -1;
}
