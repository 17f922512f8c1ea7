/*
 * blk.c: block I/O, arenas and allocation, the allocation log, the
 * write queue and its syncer, and the commit sequence (format §3, §4,
 * §9, §12.5; runtime §8).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"

Gefs	*fs;
Bptr	Zb = {-1, -1, -1};

static void	qput(Qent*);

char*
blktype(int t)
{
	switch(t){
	case Tdat:	return "data";
	case Tpivot:	return "pivot";
	case Tleaf:	return "leaf";
	case Tlog:	return "log";
	case Tdlist:	return "deadlist";
	case Tarena:	return "arena";
	case Tsuper:	return "super";
	}
	return "unknown";
}

/* ------------------------------------------------------------ the device */

int
devread(vlong addr, char *buf)
{
	return devreadn(addr, buf, 1);
}

/* n consecutive blocks from addr, with one pread when it can (check.c reads data runs). */
int
devreadn(vlong addr, char *buf, int n)
{
	ssize_t r;
	vlong o, sz;

	sz = (vlong)n*Blksz;
	for(o = 0; o < sz; o += r){
		r = pread(fs->fd, buf+o, sz-o, addr+o);
		if(r == 0){
			werrstr("%s: read %#llx: end of device", Eio, (unsigned long long)addr);
			return -1;
		}
		if(r < 0){
			if(errno == EINTR){
				r = 0;
				continue;
			}
			werrstr("%s: read %#llx: %s", Eio, (unsigned long long)addr, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
broken(void)
{
	int b;

	lock(&fs->brklk);
	b = fs->broken;
	unlock(&fs->brklk);
	return b;
}

/*
 * Any failed write makes the file system read-only (runtime §8.2-8.3):
 * once one write is lost, no later commit may describe the disk.
 */
int
devwrite(vlong off, char *buf, int len)
{
	ssize_t n;
	int o;

	if(fs->rdonly || broken()){
		werrstr("%s", Erdonly);
		return -1;
	}
	for(o = 0; o < len; o += n){
		if(shimon())
			n = shimpwrite(fs->fd, buf+o, len-o, off+o);
		else
			n = pwrite(fs->fd, buf+o, len-o, off+o);
		if(n <= 0){
			if(n < 0 && errno == EINTR){
				n = 0;
				continue;
			}
			werrstr("%s: write %#llx: %s", Eio, (unsigned long long)off,
				n == 0 ? "no progress" : strerror(errno));
			broke("%s", errstr());
			return -1;
		}
	}
	return 0;
}

/*
 * n blocks from iov to consecutive addresses from off, with one call
 * where it can; failures as devwrite's.
 */
static int
devwritev(vlong off, struct iovec *iov, int n)
{
	ssize_t r;
	int i, o;

	if(fs->rdonly || broken()){
		werrstr("%s", Erdonly);
		return -1;
	}
	do
		r = pwritev(fs->fd, iov, n, off);
	while(r == -1 && errno == EINTR);
	if(r == (ssize_t)n*Blksz)
		return 0;
	if(r < 0){
		werrstr("%s: write %#llx: %s", Eio, (unsigned long long)off, strerror(errno));
		broke("%s", errstr());
		return -1;
	}
	/* a short write: the rest block by block, which reports what stops it */
	for(i = r/Blksz; i < n; i++){
		o = i == r/Blksz ? r%Blksz : 0;
		if(devwrite(off + (vlong)i*Blksz + o, (char*)iov[i].iov_base + o, Blksz - o) == -1)
			return -1;
	}
	return 0;
}

/* An ordering point of the commit protocol (format §9.5). */
int
devsync(void)
{
	int r;

	if(shimon())
		r = shimflush(fs->fd);
	else{
#ifdef __APPLE__
		r = fsync(fs->fd);
#else
		r = fdatasync(fs->fd);
#endif
	}
	if(r == -1){
		werrstr("%s: sync %s: %s", Eio, fs->dev, strerror(errno));
		broke("%s", errstr());
		return -1;
	}
	return 0;
}

/* Leaves the caller's error string alone, so it can still be returned. */
void
broke(char *fmt, ...)
{
	char buf[Errmax];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	lock(&fs->brklk);
	n = fs->broken++;
	if(n == 0)
		snprintf(fs->whybroken, sizeof fs->whybroken, "%s", buf);
	unlock(&fs->brklk);
	warn("%s", buf);
	if(n == 0)
		warn("%s from now on", Erdonly);
}

/*
 * Why the file system is read-only, for df and status: the first error
 * that made it so, "-R", or nil if it is not.
 */
char*
rdonlywhy(char *buf, int n)
{
	if(fs->rdonly){
		snprintf(buf, n, "-R");
		return buf;
	}
	lock(&fs->brklk);
	if(fs->broken == 0){
		unlock(&fs->brklk);
		return nil;
	}
	snprintf(buf, n, "%s", fs->whybroken);
	unlock(&fs->brklk);
	return buf;
}

int
isrdonly(void)
{
	return fs->rdonly || broken();
}

void
markdirty(void)
{
	lock(&fs->dirtylk);
	fs->dirty = 1;
	unlock(&fs->dirtylk);
}

static int
isdirty(void)
{
	int d;

	lock(&fs->dirtylk);
	d = fs->dirty;
	unlock(&fs->dirtylk);
	return d;
}

void
bvadd(Bvec *v, Bptr bp)
{
	if(v->n == v->cap){
		v->cap = v->cap ? 2*v->cap : 16;
		v->p = erealloc(v->p, v->cap*sizeof(Bptr));
	}
	v->p[v->n++] = bp;
}

void
bvfree(Bvec *v)
{
	free(v->p);
	v->p = nil;
	v->n = v->cap = 0;
}

/* ------------------------------------------------- free maps: AVL trees */

static int
fht(Fnode *n)
{
	return n != nil ? n->ht : 0;
}

static void
fixht(Fnode *n)
{
	n->ht = 1 + MAX(fht(n->l), fht(n->r));
}

static Fnode*
rotr(Fnode *n)
{
	Fnode *l;

	l = n->l;
	n->l = l->r;
	l->r = n;
	fixht(n);
	fixht(l);
	return l;
}

static Fnode*
rotl(Fnode *n)
{
	Fnode *r;

	r = n->r;
	n->r = r->l;
	r->l = n;
	fixht(n);
	fixht(r);
	return r;
}

static Fnode*
balance(Fnode *n)
{
	int d;

	fixht(n);
	d = fht(n->l) - fht(n->r);
	if(d > 1){
		if(fht(n->l->l) < fht(n->l->r))
			n->l = rotl(n->l);
		return rotr(n);
	}
	if(d < -1){
		if(fht(n->r->r) < fht(n->r->l))
			n->r = rotr(n->r);
		return rotl(n);
	}
	return n;
}

static Fnode*
avlins(Fnode *t, Fnode *n)
{
	if(t == nil){
		n->l = n->r = nil;
		n->ht = 1;
		return n;
	}
	if(n->off < t->off)
		t->l = avlins(t->l, n);
	else
		t->r = avlins(t->r, n);
	return balance(t);
}

static Fnode*
avlrmmin(Fnode *t, Fnode **min)
{
	if(t->l == nil){
		*min = t;
		return t->r;
	}
	t->l = avlrmmin(t->l, min);
	return balance(t);
}

/* Unlink (not free) the node starting at off. */
static Fnode*
avldel(Fnode *t, vlong off)
{
	Fnode *m, *l, *r;

	assert(t != nil);
	if(off < t->off)
		t->l = avldel(t->l, off);
	else if(off > t->off)
		t->r = avldel(t->r, off);
	else{
		l = t->l;
		r = t->r;
		if(l == nil)
			return r;
		if(r == nil)
			return l;
		r = avlrmmin(r, &m);
		m->l = l;
		m->r = r;
		return balance(m);
	}
	return balance(t);
}

/* The range with the greatest start <= off. */
static Fnode*
avlle(Fnode *t, vlong off)
{
	Fnode *b;

	for(b = nil; t != nil;)
		if(t->off <= off){
			b = t;
			t = t->r;
		}else
			t = t->l;
	return b;
}

/* The range with the least start > off. */
static Fnode*
avlgt(Fnode *t, vlong off)
{
	Fnode *b;

	for(b = nil; t != nil;)
		if(t->off > off){
			b = t;
			t = t->l;
		}else
			t = t->r;
	return b;
}

static Fnode*
avlmax(Fnode *t)
{
	if(t != nil)
		while(t->r != nil)
			t = t->r;
	return t;
}

static Fnode*
avlmin(Fnode *t)
{
	if(t != nil)
		while(t->l != nil)
			t = t->l;
	return t;
}

Fnode*
rangefirst(Arena *a)
{
	return avlmin(a->free);
}

Fnode*
rangenext(Arena *a, Fnode *f)
{
	return avlgt(a->free, f->off);
}

/* The ranges freed but not reusable until the commit is durable, in order. */
Fnode*
pendfirst(Arena *a)
{
	return avlmin(a->pend);
}

Fnode*
pendnext(Arena *a, Fnode *f)
{
	return avlgt(a->pend, f->off);
}

static void
freenodes(Fnode *t)
{
	if(t == nil)
		return;
	freenodes(t->l);
	freenodes(t->r);
	free(t);
}

static void
rangeclear(Arena *a)
{
	freenodes(a->free);
	a->free = nil;
	a->nfree = 0;
	freenodes(a->pend);
	a->pend = nil;
	a->npend = 0;
}

static int
inset(Fnode *t, vlong off)
{
	Fnode *p;

	p = avlle(t, off);
	return p != nil && off < p->off + p->len;
}

/* Add [off, off+len) to a set of ranges, coalescing with its neighbours. */
static int
setadd(Fnode **t, int *nr, vlong off, vlong len)
{
	Fnode *p, *n;

	p = avlle(*t, off);
	n = avlgt(*t, off);
	if((p != nil && p->off + p->len > off) || (n != nil && off + len > n->off)){
		werrstr("%s: free of [%#llx, %#llx) overlaps free space", Ecorrupt,
			(unsigned long long)off, (unsigned long long)(off+len));
		return -1;
	}
	if(p != nil && p->off + p->len == off){
		p->len += len;
		if(n != nil && n->off == off + len){
			p->len += n->len;
			*t = avldel(*t, n->off);
			free(n);
			(*nr)--;
		}
	}else if(n != nil && n->off == off + len){
		/* the order of starts is unchanged: nothing lies between p and n */
		n->off = off;
		n->len += len;
	}else{
		n = emalloc(sizeof *n);
		n->off = off;
		n->len = len;
		*t = avlins(*t, n);
		(*nr)++;
	}
	return 0;
}

/* Take [off, off+len) out of a set of ranges; all of it must be in. */
static int
settake(Fnode **t, int *nr, vlong off, vlong len)
{
	Fnode *p, *n;
	vlong end;

	p = avlle(*t, off);
	if(p == nil || off + len > p->off + p->len){
		werrstr("%s: allocation of [%#llx, %#llx) that is not free", Ecorrupt,
			(unsigned long long)off, (unsigned long long)(off+len));
		return -1;
	}
	end = p->off + p->len;
	if(p->off == off){
		if(p->len == len){
			*t = avldel(*t, off);
			free(p);
			(*nr)--;
		}else{
			p->off += len;
			p->len -= len;
		}
	}else if(off + len == end)
		p->len -= len;
	else{
		p->len = off - p->off;
		n = emalloc(sizeof *n);
		n->off = off + len;
		n->len = end - n->off;
		*t = avlins(*t, n);
		(*nr)++;
	}
	return 0;
}

/* Return [off, off+len) to the free map. */
int
rangefree(Arena *a, vlong off, vlong len)
{
	return setadd(&a->free, &a->nfree, off, len);
}

/* Take [off, off+len) out of the free map. */
int
rangegrab(Arena *a, vlong off, vlong len)
{
	return settake(&a->free, &a->nfree, off, len);
}

/* ------------------------------------------------------------- arenas */

/* The arena whose span [base, base+size+2B) holds addr. */
Arena*
getarena(vlong addr)
{
	int lo, hi, m;
	Arena *a;

	lo = 0;
	hi = fs->narena;
	while(lo < hi){
		m = (lo + hi)/2;
		if(fs->arenas[m].base <= addr)
			lo = m+1;
		else
			hi = m;
	}
	if(lo == 0)
		return nil;
	a = &fs->arenas[lo-1];
	if(addr >= a->base + a->size + 2*Blksz)
		return nil;
	return a;
}

/* Is the block at addr free (or pending free) in its arena?  For check.c. */
int
blkisfree(vlong addr)
{
	Arena *a;
	int r;

	if((a = getarena(addr)) == nil)
		return 0;
	qlock(&a->lk);
	r = inset(a->free, addr) || inset(a->pend, addr);
	qunlock(&a->lk);
	return r;
}

/*
 * The reserve (format §9.6) is for what frees space: a thread inside
 * reserveenter may use it (sync, and batches of deletions), so that a
 * full volume can still commit and be cleaned up without the console's
 * reserve switch (fs->usereserve), which opens it to everyone.
 */
static _Thread_local int inreserve;

void
reserveenter(void)
{
	inreserve++;
}

void
reserveleave(void)
{
	inreserve--;
}

/*
 * One block from a: the lowest free block for sequential allocations,
 * else the highest (format §9.3).  Ordinary allocations leave the
 * reserve alone (format §9.6).  Under a->lk.
 */
static vlong
arenaalloc(Arena *a, int seq)
{
	Fnode *f;
	vlong addr;

	if(a->free == nil || (!agetl(&fs->usereserve) && !inreserve && a->size - a->used <= a->reserve)){
		werrstr("%s", Efull);
		return -1;
	}
	if(seq){
		f = avlmin(a->free);
		addr = f->off;
	}else{
		f = avlmax(a->free);
		addr = f->off + f->len - Blksz;
	}
	if(rangegrab(a, addr, Blksz) == -1)
		return -1;
	a->used += Blksz;
	if(logappend(a, LogAlloc, addr, Blksz) == -1){
		rangefree(a, addr, Blksz);
		a->used -= Blksz;
		return -1;
	}
	return addr;
}

/*
 * Pick an arena as format §9.2: the preferred one moves every Rrperiod
 * attempts; data goes elsewhere than metadata, spread by the file's qid;
 * busy arenas are skipped while there are others to try.
 */
static vlong
arenapick(int type, uvlong hint, int seq)
{
	uvlong c, start;
	Arena *a;
	vlong addr;
	int t, n;

	n = fs->narena;
	for(t = 0; t < 2*n; t++){
		lock(&fs->rrlk);
		c = fs->rrctr++;
		unlock(&fs->rrlk);
		start = c / Rrperiod;
		if(type == Tdat && n > 1)
			start += hint % (n-1) + 1;
		a = &fs->arenas[(start + t) % n];
		if(t < n-1){
			if(!canqlock(&a->lk))
				continue;
		}else
			qlock(&a->lk);
		addr = arenaalloc(a, seq);
		qunlock(&a->lk);
		if(addr != -1)
			return addr;
		if(!iserr(Efull))
			return -1;
	}
	werrstr("%s", Efull);
	return -1;
}

static int	freesqueued(void);

/*
 * A block, or Efull.  Freed blocks reach their arenas through the write
 * queue, after the writes queued with them (syncproc): while the syncer
 * lags behind, they are not there yet, and a volume that deletions are
 * emptying would look full, its reserve used up.  So before failing,
 * let the frees already queued land, and try once more.
 */
vlong
blkalloc(int type, uvlong hint, int seq)
{
	vlong addr;

	addr = arenapick(type, hint, seq);
	if(addr == -1 && iserr(Efull) && fs->running && freesqueued()){
		if(qfence() == -1)
			return -1;
		addr = arenapick(type, hint, seq);
	}
	return addr;
}

/* ------------------------------------------------------ allocation log */

static void
loginit(Blk *b, vlong addr)
{
	memset(b->buf, 0, Blksz);
	b->type = Tlog;
	b->logsz = 0;
	b->logh = 0;
	b->logp = Zb;
	b->data = b->buf + Loghdsz;
	b->bp.addr = addr;
	b->bp.hash = -1;
	b->bp.gen = -1;
}

static Blk*
otherbuf(Arena *a, Blk *b)
{
	return b == a->logbuf[0] ? a->logbuf[1] : a->logbuf[0];
}

/* A log block nothing committed refers to yet: written whole. */
static int
logwhole(Arena *a, Blk *b)
{
	finalize(b);
	if(devwrite(b->bp.addr, b->buf, Blksz) == -1)
		return -1;
	if(b == a->logtl)
		a->dsz = a->keep = a->dur = b->logsz;
	return 0;
}

/* Write the tail's header, claiming its first n payload bytes. */
static int
loghdr(Arena *a, int n)
{
	char h[Loghdsz];
	Blk *b;

	b = a->logtl;
	put16(h, Tlog);
	put16(h+2, n);
	put64(h+4, blkhash(b->data, n));
	packbp(h+12, &b->logp);
	if(devwrite(b->bp.addr, h, Loghdsz) == -1)
		return -1;
	if(n == b->logsz)
		memcpy(b->buf, h, Loghdsz);
	a->dsz = n;
	return 0;
}

/*
 * Write the tail's new payload bytes.  If the header on disk claims
 * bytes we are about to overwrite (after replay cut the log at a
 * barrier), shrink it to the part that stays first.
 */
static int
logpayload(Arena *a)
{
	Blk *b;

	b = a->logtl;
	if(a->keep == b->logsz)
		return 0;
	if(a->dsz > a->keep){
		if(loghdr(a, a->keep) == -1 || devsync() == -1)
			return -1;
	}
	if(devwrite(b->bp.addr + Loghdsz + a->keep, b->data + a->keep, b->logsz - a->keep) == -1)
		return -1;
	a->keep = b->logsz;
	return 0;
}

/* Put the tail on disk: payload, a flush, then the header (one sector). */
int
logflush(Arena *a)
{
	Blk *b;

	b = a->logtl;
	if(logpayload(a) == -1)
		return -1;
	if(a->dur < a->keep){
		if(devsync() == -1)
			return -1;
		a->dur = a->keep;
	}
	b->logh = blkhash(b->data, b->logsz);
	return loghdr(a, b->logsz);
}

/*
 * Start a new tail block from the top of the arena (it may dip into the
 * reserve, so a full arena can still log its frees), recorded in the old
 * tail as format §9.4: the new block is written first, then the old one.
 */
static int
logchain(Arena *a)
{
	Blk *o, *n;
	Bptr op;
	Fnode *f;
	vlong addr;
	int osz;

	o = a->logtl;
	n = otherbuf(a, o);
	if((f = avlmax(a->free)) == nil){
		werrstr("%s", Estuffed);
		return -1;
	}
	addr = f->off + f->len - Blksz;
	if(rangegrab(a, addr, Blksz) == -1)
		return -1;
	a->used += Blksz;
	osz = o->logsz;
	op = o->logp;
	put64(o->data + o->logsz, addr | LogAlloc1);
	o->logsz += 8;
	o->logp.addr = addr;
	o->logp.hash = -1;
	o->logp.gen = -1;
	loginit(n, addr);
	if(logwhole(a, n) == -1 || logflush(a) == -1){
		o->logsz = osz;
		o->logp = op;
		a->keep = MIN(a->keep, osz);
		rangefree(a, addr, Blksz);
		a->used -= Blksz;
		return -1;
	}
	a->logtl = n;
	a->dsz = a->keep = a->dur = 0;
	a->nlog++;
	bvadd(&a->logblks, n->bp);
	return 0;
}

/* Append an entry (format §4.3); for LogSync, off is the generation. */
int
logappend(Arena *a, int op, vlong off, vlong len)
{
	Blk *b;
	char *p;

	assert((off & 0xff) == 0 || op == LogSync);
	if(len == Blksz && op == LogAlloc)
		op = LogAlloc1;
	if(len == Blksz && op == LogFree)
		op = LogFree1;
	if(a->logtl->logsz >= Logspc - Logslop && logchain(a) == -1)
		return -1;
	b = a->logtl;
	p = b->data + b->logsz;
	switch(op){
	case LogAlloc1:
	case LogFree1:
		put64(p, off | op);
		b->logsz += 8;
		break;
	case LogAlloc:
	case LogFree:
		put64(p, off | op);
		put64(p+8, len);
		b->logsz += 16;
		break;
	case LogSync:
		put64(p, (uvlong)off<<8 | LogSync);
		b->logsz += 8;
		break;
	default:
		abort();
	}
	return 0;
}

/* Decode and verify a log or deadlist block by its own hash (format §4.3). */
static int
decodelog(Blk *b, int type)
{
	uvlong h;
	int t;

	t = get16(b->buf);
	if(t != type && !(type == -1 && (t == Tlog || t == Tdlist))){
		werrstr("%s: block %#llx: %s block where a %s block was expected", Ecorrupt,
			(unsigned long long)b->bp.addr, blktype(t), type == -1 ? "log" : blktype(type));
		return -1;
	}
	b->type = t;
	b->logsz = get16(b->buf+2);
	b->logh = get64(b->buf+4);
	b->logp = unpackbp(b->buf+12);
	b->data = b->buf + Loghdsz;
	if(b->logsz > Logspc){
		werrstr("%s: block %#llx (%s): %d payload bytes", Ecorrupt,
			(unsigned long long)b->bp.addr, blktype(t), b->logsz);
		return -1;
	}
	h = blkhash(b->data, b->logsz);
	if(h != b->logh){
		werrstr("%s: block %#llx (%s): expected hash %#llx, found %#llx", Ecorrupt,
			(unsigned long long)b->bp.addr, blktype(t),
			(unsigned long long)b->logh, (unsigned long long)h);
		return -1;
	}
	return 0;
}

static int
badlog(Arena *a, Blk *b, int i, char *what)
{
	werrstr("%s: arena %#llx: log block %#llx entry %d: %s", Ecorrupt,
		(unsigned long long)a->base, (unsigned long long)b->bp.addr, i/8, what);
	return -1;
}

/*
 * Apply one block's entries; *stop at the first barrier >= qgen, the
 * end of the commit: it and what follows are cut (the stale chain
 * pointer too), but a barrier of qgen itself stays if keep is set.
 */
static int
replay(Arena *a, Blk *b, vlong qgen, int keep, int *stop)
{
	vlong addr, len, lo, hi;
	int i, n, op;
	uvlong w;

	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	*stop = 0;
	for(i = 0; i < b->logsz; i += n){
		w = get64(b->data + i);
		op = w & 0xff;
		addr = w & ~0xffULL;
		len = Blksz;
		switch(op){
		case LogAlloc1:
		case LogFree1:
			n = 8;
			break;
		case LogAlloc:
		case LogFree:
			n = 16;
			if(i + 16 > b->logsz)
				return badlog(a, b, i, "truncated range");
			len = get64(b->data + i + 8);
			break;
		case LogSync:
			if((vlong)(w>>8) >= qgen){
				b->logsz = i;
				if(keep && (vlong)(w>>8) == qgen)
					b->logsz = i+8;
				b->logp = Zb;
				*stop = 1;
				return 0;
			}
			n = 8;
			continue;
		default:
			return badlog(a, b, i, "invalid op");
		}
		if(addr % Blksz != 0 || len <= 0 || len % Blksz != 0
		|| addr < lo || addr >= hi || len > hi - addr)
			return badlog(a, b, i, "range outside the arena");
		if(op == LogFree || op == LogFree1){
			if(rangefree(a, addr, len) == -1)
				return badlog(a, b, i, "free of free space");
			a->used -= len;
		}else{
			if(rangegrab(a, addr, len) == -1)
				return badlog(a, b, i, "allocation of allocated space");
			a->used += len;
		}
	}
	return 0;
}

/*
 * Rebuild the free map from the log (format §9.8, §17.3): start with
 * everything in use, apply the entries, stop at the first barrier of
 * qgen or later; the block holding it becomes the open tail.
 *
 * Upstream cuts that barrier too, and its next appends overwrite it: a
 * crash before the next commit then replays entries that commit never
 * made (and follows the new chain pointer).  With keep set the tail
 * keeps, or gets, a barrier of qgen, so the committed prefix of the log
 * ends with one whatever is appended.  Ream clears keep to write what
 * upstream writes.
 */
int
loadlog(Arena *a, vlong qgen, int keep)
{
	Blk *b;
	Bptr bp;
	vlong lo, hi, nblk;
	int stop, dsz, end;

	rangeclear(a);
	a->used = a->size;
	a->logblks.n = 0;
	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	bp = a->loghd;
	b = a->logbuf[0];
	dsz = 0;
	for(nblk = 0;; nblk++){
		if(nblk > (hi - lo)/Blksz){
			werrstr("%s: arena %#llx: log chain loops", Ecorrupt, (unsigned long long)a->base);
			return -1;
		}
		if(bp.addr < lo || bp.addr >= hi || bp.addr % Blksz != 0){
			werrstr("%s: arena %#llx: log block %#llx outside the arena", Ecorrupt,
				(unsigned long long)a->base, (unsigned long long)bp.addr);
			return -1;
		}
		if(devread(bp.addr, b->buf) == -1)
			return -1;
		b->bp.addr = bp.addr;
		b->bp.hash = -1;
		b->bp.gen = -1;
		if(decodelog(b, Tlog) == -1)
			return -1;
		bvadd(&a->logblks, b->bp);
		dsz = b->logsz;
		if(replay(a, b, qgen, keep, &stop) == -1)
			return -1;
		if(stop || b->logp.addr == -1)
			break;
		bp = b->logp;
		b = otherbuf(a, b);
	}
	a->logtl = b;
	a->dsz = dsz;
	a->keep = a->dur = b->logsz;
	a->nlog = 0;
	a->lastlogsz = 0;
	end = b->logsz;
	if(keep && !fs->rdonly && (end < 8 || get64(b->data + end - 8) != ((uvlong)qgen<<8 | LogSync)))
		return logappend(a, LogSync, qgen, 0);
	return 0;
}

/* Write one range as a 2-wide LogFree into the chain being built. */
static int
compressput(Arena *a, Blk **bp, vlong *blks, int *k, int *nfull, uvlong *h0, Fnode *f)
{
	Blk *b, *nb;

	b = *bp;
	if(b->logsz >= Logspc - Logslop){
		nb = otherbuf(a, b);
		loginit(nb, blks[++*k]);
		b->logp.addr = nb->bp.addr;
		if(logwhole(a, b) == -1)
			return -1;
		if(*k == 1)
			*h0 = b->bp.hash;
		a->logtl = nb;
		*bp = nb;
		++*nfull;
		b = nb;
	}
	put64(b->data + b->logsz, f->off | LogFree);
	put64(b->data + b->logsz + 8, f->len);
	b->logsz += 16;
	return 0;
}

/*
 * Rewrite the log as the free map (format §9.7): take blocks from the
 * bottom of the arena without logging them, write every free range as a
 * LogFree (blocks pending release count as free: their frees are
 * already logged), give back what was not needed.  The old chain goes
 * on dl, to be freed once the commit publishing the new head is
 * durable.  Under a->lk; returns 0 without compressing if the arena has
 * no room for the new log.
 */
static int
compresslog(Arena *a, Bvec *dl)
{
	vlong *blks;
	Blk *b;
	Fnode *f;
	uvlong h0;
	int i, k, n, nr, nfull;

	nr = a->nfree + a->npend;
	n = (16*nr + Logspc)/(Logspc - Logslop) + 16*nr/(Logspc - Logslop) + 1;
	blks = emalloc(n*sizeof(vlong));
	for(i = 0; i < n && (f = avlmin(a->free)) != nil; i++){
		blks[i] = f->off;
		rangegrab(a, f->off, Blksz);
		a->used += Blksz;
	}
	if(i < n){
		while(--i >= 0){
			rangefree(a, blks[i], Blksz);
			a->used -= Blksz;
		}
		free(blks);
		return 0;
	}
	b = a->logbuf[0];
	loginit(b, blks[0]);
	a->logtl = b;
	h0 = -1;
	k = 0;
	nfull = 0;
	for(f = avlmin(a->free); f != nil; f = avlgt(a->free, f->off))
		if(compressput(a, &b, blks, &k, &nfull, &h0, f) == -1)
			goto err;
	for(f = avlmin(a->pend); f != nil; f = avlgt(a->pend, f->off))
		if(compressput(a, &b, blks, &k, &nfull, &h0, f) == -1)
			goto err;
	if(logwhole(a, b) == -1)
		goto err;
	if(k == 0)
		h0 = b->bp.hash;
	for(i = 0; i < a->logblks.n; i++)
		bvadd(dl, a->logblks.p[i]);
	a->logblks.n = 0;
	for(i = 0; i <= k; i++)
		bvadd(&a->logblks, (Bptr){blks[i], -1, -1});
	a->loghd = (Bptr){blks[0], h0, -1};
	a->nlog = a->lastlogsz = nfull;
	for(i = k+1; i < n; i++){
		if(logappend(a, LogFree, blks[i], Blksz) == -1)
			goto err;
		rangefree(a, blks[i], Blksz);
		a->used -= Blksz;
	}
	free(blks);
	return 0;
err:
	free(blks);
	return -1;
}

/*
 * Log the frees of dl that fall in a, before the barrier of the commit
 * that makes them safe; the blocks stay allocated in memory until that
 * commit is durable (and no reader can hold them), when releasedeferred
 * hands them back without logging again.  A crash in between replays
 * them as free exactly when the commit that dropped them survived.
 */
static int
prelog(Arena *a, Bvec *dl)
{
	vlong addr;
	int i;

	for(i = 0; i < dl->n; i++){
		addr = dl->p[i].addr;
		if(getarena(addr) != a)
			continue;
		if(inset(a->free, addr) || inset(a->pend, addr)){
			werrstr("%s: deferred double free of %#llx", Efs, (unsigned long long)addr);
			return -1;
		}
		if(logappend(a, LogFree, addr, Blksz) == -1)
			return -1;
		setadd(&a->pend, &a->npend, addr, Blksz);
	}
	return 0;
}

/* Forget everything an arena holds in memory. */
void
arenaclear(Arena *a)
{
	rangeclear(a);
	bvfree(&a->logblks);
}

/* ---------------------------------------------------------------- blocks */

static int
decodenode(Blk *b)
{
	b->type = get16(b->buf);
	switch(b->type){
	case Tpivot:
		b->nval = get16(b->buf+2);
		b->valsz = get16(b->buf+4);
		b->nbuf = get16(b->buf+6);
		b->bufsz = get16(b->buf+8);
		b->data = b->buf + Pivhdsz;
		if(2*b->nval + b->valsz > Pivspc || 2*b->nbuf + b->bufsz > Bufspc)
			goto over;
		return 0;
	case Tleaf:
		b->nval = get16(b->buf+2);
		b->valsz = get16(b->buf+4);
		b->nbuf = b->bufsz = 0;
		b->data = b->buf + Leafhdsz;
		if(2*b->nval + b->valsz > Leafspc)
			goto over;
		return 0;
	}
	werrstr("invalid block type %d @%#llx", b->type, (unsigned long long)b->bp.addr);
	return -1;
over:
	werrstr("%s: block %#llx (%s): entries overflow the block", Ecorrupt,
		(unsigned long long)b->bp.addr, blktype(b->type));
	return -1;
}

/*
 * Read the block bp names, or find it cached, and verify it (format
 * §13, §17.4): nodes and data against bp.hash over the whole block, log
 * and deadlist blocks (GBlog) against their own header hash.  A bad
 * block is never returned; the error names its address, its type and
 * both hashes, and the file system goes read-only.
 */
Blk*
getblk(Bptr bp, int flg)
{
	QLock *s;
	Blk *b;
	uvlong h;
	int t;

	if(bp.addr < 0 || bp.addr % Blksz != 0 || getarena(bp.addr) == nil){
		werrstr("%s: pointer to %#llx, outside every arena", Ecorrupt, (unsigned long long)bp.addr);
		return nil;
	}
	s = &fs->cache.stripe[ihash(bp.addr) % Nstripe];
	qlock(s);
	if((b = cachelookup(bp.addr)) != nil){
		qunlock(s);
		t = b->type;
		if(!!(flg & GBraw) != (t == Tdat) || !!(flg & GBlog) != (t == Tlog || t == Tdlist)){
			werrstr("%s: block %#llx: cached as %s", Ecorrupt, (unsigned long long)bp.addr, blktype(t));
			goto bad;
		}
		if(!(flg & GBlog) && b->bp.hash != bp.hash){
			werrstr("%s: block %#llx (%s): expected hash %#llx, found %#llx", Ecorrupt,
				(unsigned long long)bp.addr, blktype(t),
				(unsigned long long)bp.hash, (unsigned long long)b->bp.hash);
			goto bad;
		}
		return b;
	}
	b = pluck();
	if(devread(bp.addr, b->buf) == -1)
		goto err;
	b->bp = bp;
	if(flg & GBlog){
		if(decodelog(b, -1) == -1)
			goto corrupt;
	}else{
		h = blkhash(b->buf, Blksz);
		if(h != bp.hash){
			werrstr("%s: block %#llx (%s): expected hash %#llx, found %#llx", Ecorrupt,
				(unsigned long long)bp.addr, (flg & GBraw) ? "data" : blktype(get16(b->buf)),
				(unsigned long long)bp.hash, (unsigned long long)h);
			goto corrupt;
		}
		if(flg & GBraw){
			b->type = Tdat;
			b->data = b->buf;
		}else if(decodenode(b) == -1)
			goto corrupt;
	}
	if(cacheins(b) == -1)
		goto corrupt;
	qunlock(s);
	return b;
corrupt:
	qunlock(s);
	goto bad;
err:
	qunlock(s);
	dropblk(b);
	return nil;
bad:
	dropblk(b);
	broke("%s", errstr());
	return nil;
}

/* ------------------------------------------------------- batched reads */

/*
 * Ask the system to start reading the blocks bp[0..n) of a stream into
 * its page cache, each stretch lying together with one request: the
 * next read finds them there, or on their way, instead of waiting for
 * the disk, and they take none of the cache's buffers or the server's
 * memory.  Holes (addr -1) are skipped.
 */
void
adviseblks(Bptr *bp, int n)
{
#ifdef POSIX_FADV_WILLNEED
	int i, j;

	for(i = 0; i < n; i = j){
		j = i+1;
		if(bp[i].addr < 0)
			continue;
		while(j < n && bp[j].addr == bp[j-1].addr + Blksz)
			j++;
		posix_fadvise(fs->fd, bp[i].addr, (off_t)(j-i)*Blksz, POSIX_FADV_WILLNEED);
	}
#else
	USED(bp);
	USED(n);
#endif
}

/*
 * Read the blocks of the run bp[0..n), consecutive on the disk and none
 * cached when looked at, with one preadv into cache buffers, and cache
 * those whose hash matches.  Best effort: anything that fails or was
 * cached meanwhile is left to getblk, which reports errors itself.
 */
static void
readrun(Bptr *bp, int n)
{
	struct iovec iov[Rdbatch];
	Blk *b[Rdbatch];
	QLock *s;
	Blk *o;
	ssize_t r;
	int i;

	for(i = 0; i < n; i++){
		b[i] = pluck();
		iov[i].iov_base = b[i]->buf;
		iov[i].iov_len = Blksz;
	}
	do
		r = preadv(fs->fd, iov, n, bp[0].addr);
	while(r == -1 && errno == EINTR);
	for(i = 0; i < n; i++){
		if(r < (ssize_t)(i+1)*Blksz || blkhash(b[i]->buf, Blksz) != bp[i].hash){
			dropblk(b[i]);
			continue;
		}
		b[i]->bp = bp[i];
		b[i]->type = Tdat;
		b[i]->data = b[i]->buf;
		/* the stripe: nobody is reading this block into the cache meanwhile */
		s = &fs->cache.stripe[ihash(bp[i].addr) % Nstripe];
		qlock(s);
		if((o = cachelookup(bp[i].addr)) != nil)
			dropblk(o);
		else if(cacheins(b[i]) == -1)
			broke("%s", errstr());
		qunlock(s);
		dropblk(b[i]);
	}
}

static int32_t	rdheld;	/* cache buffers held by readrun, all threads */

/*
 * Bring the data blocks bp[0..n) into the cache, ahead of getblk: the
 * uncached ones that lie next to each other on the disk are read with
 * one call each run (a cold sequential read becomes a few large reads,
 * not a stream of small synchronous ones).  A run holds at most
 * cmax/16 cache buffers while it is read, and all runs together cmax/8
 * (a run that would pass that is left to getblk), so reading ahead never
 * takes the buffers everyone else waits for.
 * Entries with addr -1 (holes) are skipped.
 */
void
readblks(Bptr *bp, int n)
{
	Blk *b;
	int i, j, max;

	max = MIN(Rdbatch, fs->cache.cmax/16);
	for(i = 0; i < n; i = j){
		j = i+1;
		if(bp[i].addr < 0 || bp[i].addr % Blksz != 0 || getarena(bp[i].addr) == nil)
			continue;
		if((b = cachelookup(bp[i].addr)) != nil){
			dropblk(b);
			continue;
		}
		for(j = i+1; j < n && j-i < max; j++){
			if(bp[j].addr != bp[j-1].addr + Blksz || getarena(bp[j].addr) != getarena(bp[i].addr))
				break;
			if((b = cachelookup(bp[j].addr)) != nil){
				dropblk(b);
				break;
			}
		}
		if(j-i < 2)
			continue;
		/* all runs in flight together hold cmax/8 buffers at most: never all of them */
		if(aincl(&rdheld, j-i) <= fs->cache.cmax/8)
			readrun(bp+i, j-i);
		aincl(&rdheld, -(j-i));
	}
}

/*
 * A new block for tree t (nil: none), zeroed so that its slack is zero
 * (format §15); seq asks for the lowest free block (streaming data).
 */
Blk*
allocblk(Tree *t, int type, vlong hint, int seq)
{
	vlong addr;
	Blk *b;

	if(isrdonly()){
		werrstr("%s", Erdonly);
		return nil;
	}
	if((addr = blkalloc(type, hint, seq)) == -1)
		return nil;
	if((b = cachelookup(addr)) != nil){
		dropblk(b);
		werrstr("%s: double allocation of %#llx", Efs, (unsigned long long)addr);
		broke("%s", errstr());
		return nil;
	}
	b = pluck();
	memset(b->buf, 0, Blksz);
	b->type = type;
	b->bp.addr = addr;
	b->bp.hash = -1;
	b->bp.gen = t != nil ? t->memgen : -1;
	b->nval = b->valsz = b->nbuf = b->bufsz = 0;
	b->logsz = 0;
	b->logh = 0;
	b->logp = Zb;
	switch(type){
	case Tpivot:
		b->data = b->buf + Pivhdsz;
		break;
	case Tleaf:
		b->data = b->buf + Leafhdsz;
		break;
	case Tlog:
	case Tdlist:
		b->data = b->buf + Loghdsz;
		break;
	default:
		b->data = b->buf;
		break;
	}
	setflag(b, Bdirty);
	markdirty();
	return b;
}

Blk*
newblk(Tree *t, int type, vlong hint)
{
	return allocblk(t, type, hint, 0);
}

/* Copy only the used areas: the copy's slack is zero whatever b's was. */
static void
copyarea(Blk *n, Blk *b, int off, int spc, int nent, int sz)
{
	memcpy(n->buf + off, b->buf + off, 2*nent);
	memcpy(n->buf + off + spc - sz, b->buf + off + spc - sz, sz);
}

Blk*
dupblk(Tree *t, Blk *b)
{
	Blk *n;

	if((n = newblk(t, b->type, 0)) == nil)
		return nil;
	switch(b->type){
	case Tleaf:
		copyarea(n, b, Leafhdsz, Leafspc, b->nval, b->valsz);
		break;
	case Tpivot:
		copyarea(n, b, Pivhdsz, Pivspc, b->nval, b->valsz);
		copyarea(n, b, Pivhdsz+Pivspc, Bufspc, b->nbuf, b->bufsz);
		break;
	case Tlog:
	case Tdlist:
		memcpy(n->data, b->data, b->logsz);
		n->logsz = b->logsz;
		n->logp = b->logp;
		break;
	default:
		memcpy(n->buf, b->buf, Blksz);
		break;
	}
	n->nval = b->nval;
	n->valsz = b->valsz;
	n->nbuf = b->nbuf;
	n->bufsz = b->bufsz;
	return n;
}

void
finalize(Blk *b)
{
	switch(b->type){
	case Tpivot:
		put16(b->buf, Tpivot);
		put16(b->buf+2, b->nval);
		put16(b->buf+4, b->valsz);
		put16(b->buf+6, b->nbuf);
		put16(b->buf+8, b->bufsz);
		break;
	case Tleaf:
		put16(b->buf, Tleaf);
		put16(b->buf+2, b->nval);
		put16(b->buf+4, b->valsz);
		break;
	case Tlog:
	case Tdlist:
		b->logh = blkhash(b->data, b->logsz);
		put16(b->buf, b->type);
		put16(b->buf+2, b->logsz);
		put64(b->buf+4, b->logh);
		packbp(b->buf+12, &b->logp);
		break;
	}
	b->bp.hash = blkhash(b->buf, Blksz);
	setflag(b, Bfinal);
}

void
enqueue(Blk *b)
{
	Qent e;

	finalize(b);
	if(cacheins(b) == -1){
		broke("%s", errstr());
		return;
	}
	holdblk(b);
	memset(&e, 0, sizeof e);
	e.kind = Qwrite;
	e.addr = b->bp.addr;
	e.b = b;
	qput(&e);
	markdirty();
}

/*
 * Log now the free of a block no commit has seen (born after the last
 * one), so that it lands before the next commit's barrier: were it
 * logged when the block is released, after readers are done with it,
 * a crash after that commit would find the block allocated and named
 * by nothing, a leak.  The block stays pending, not reusable, until it
 * is released quietly.  -1 leaves everything as it was.
 */
static int
prefree(vlong addr)
{
	Arena *a;
	int r;

	if((a = getarena(addr)) == nil)
		return -1;
	qlock(&a->lk);
	r = -1;
	if(!inset(a->free, addr) && !inset(a->pend, addr) && logappend(a, LogFree, addr, Blksz) == 0){
		setadd(&a->pend, &a->npend, addr, Blksz);
		r = 0;
	}
	qunlock(&a->lk);
	return r;
}

/*
 * t stops referencing bp (format §8.8, runtime §4.4).  The snap tree's
 * blocks wait for the next durable commit; blocks born in t's current
 * generation are freed after an epoch; older ones born after t forked
 * go to the deadlist (memgen, gen); the rest belong to another chain.
 */
static void
release(Tree *t, Bptr bp, Blk *b)
{
	markdirty();
	if(t == &fs->snap){
		deferfree(bp);
		return;
	}
	if(t == nil || bp.gen == t->memgen){
		if(prefree(bp.addr) == 0)
			retirelogged(b, bp);
		else if(b != nil)
			retireblk(b);
		else
			retirebp(bp);
		return;
	}
	if(bp.gen > t->base && killblk(t, bp) == -1)
		warn("deadlist for %#llx lost, the block leaks: %s", (unsigned long long)bp.addr, errstr());
}

void
freeblk(Tree *t, Blk *b)
{
	release(t, b->bp, b);
}

void
freebp(Tree *t, Bptr bp)
{
	release(t, bp, nil);
}

/* ----------------------------------------------------------- write queue */

static int
qless(Qent *a, Qent *b)
{
	if(a->qgen != b->qgen)
		return a->qgen < b->qgen;
	if(a->kind != b->kind)
		return a->kind < b->kind;
	return a->addr < b->addr;
}

static void
qswap(Qent *h, int i, int j)
{
	Qent t;

	t = h[i];
	h[i] = h[j];
	h[j] = t;
}

/*
 * Queue an entry at the current generation; waits while the queue is
 * full.  Writes and frees wake the syncer only once a batch of them
 * waits, not one by one: nobody waits for them but a fence (every sync
 * has one), which wakes it at once, as does everything else.
 */
static void
qput(Qent *e)
{
	Wqueue *q;
	int i, p;

	q = &fs->wq;
	qlock(&q->lk);
	while(q->n == q->cap)
		rsleep(&q->nonfull);
	e->qgen = fs->qgen;
	if(e->kind == Qfree)
		q->nfree++;
	i = q->n++;
	q->heap[i] = *e;
	for(; i > 0; i = p){
		p = (i-1)/2;
		if(!qless(&q->heap[i], &q->heap[p]))
			break;
		qswap(q->heap, i, p);
	}
	if((e->kind != Qwrite && e->kind != Qfree) || q->n >= q->batch)
		rwakeup(&q->nonempty);
	qunlock(&q->lk);
}

/* The first entry of the heap, taken out; under q->lk, the heap not empty. */
static Qent
qpop(Wqueue *q)
{
	Qent e;
	int i, c;

	e = q->heap[0];
	if(e.kind == Qfree)
		q->nfree--;
	q->heap[0] = q->heap[--q->n];
	for(i = 0;; i = c){
		c = 2*i + 1;
		if(c >= q->n)
			break;
		if(c+1 < q->n && qless(&q->heap[c+1], &q->heap[c]))
			c++;
		if(!qless(&q->heap[c], &q->heap[i]))
			break;
		qswap(q->heap, i, c);
	}
	return e;
}

/*
 * The next entry into e[0]; if it is a write, the writes of the same
 * generation to the blocks right after it on the disk follow it, up to
 * max in all (the heap yields them in address order): the syncer puts
 * them on the disk with one call.  Returns how many.
 */
static int
qget(Qent *e, int max)
{
	Wqueue *q;
	int n;

	q = &fs->wq;
	qlock(&q->lk);
	while(q->n == 0)
		rsleep(&q->nonempty);
	e[0] = qpop(q);
	for(n = 1; n < max && e[0].kind == Qwrite && q->n > 0; n++){
		if(q->heap[0].kind != Qwrite || q->heap[0].qgen != e[0].qgen
		|| q->heap[0].addr != e[n-1].addr + Blksz)
			break;
		e[n] = qpop(q);
	}
	rwakeup(&q->nonfull);
	qunlock(&q->lk);
	return n;
}

/* Are frees waiting in the queue? */
static int
freesqueued(void)
{
	int n;

	qlock(&fs->wq.lk);
	n = fs->wq.nfree;
	qunlock(&fs->wq.lk);
	return n > 0;
}

/* Everything queued before this is processed before anything after. */
vlong
qbarrier(void)
{
	vlong g;

	qlock(&fs->wq.lk);
	g = ++fs->qgen;
	qunlock(&fs->wq.lk);
	return g;
}

void
qfree(vlong addr, int quiet)
{
	Qent e;

	memset(&e, 0, sizeof e);
	e.kind = Qfree;
	e.addr = addr;
	e.quiet = quiet;
	qput(&e);
}

/* Wait until everything queued so far is written and flushed to the disk. */
int
qfence(void)
{
	Fence f;
	Qent e;

	qlockinit(&f.lk);
	rendezinit(&f.r, &f.lk);
	f.done = 0;
	f.err = 0;
	memset(&e, 0, sizeof e);
	e.kind = Qfence;
	e.f = &f;
	qbarrier();
	qput(&e);
	qbarrier();
	qlock(&f.lk);
	while(!f.done)
		rsleep(&f.r);
	qunlock(&f.lk);
	return f.err;
}

/*
 * Return a block to its arena: the syncer's side of a free (format
 * §12.5).  A quiet free was logged before its commit (prelog): it only
 * leaves the pending set.
 */
static void
freeaddr(vlong addr, int quiet)
{
	Arena *a;

	if(broken())
		return;
	if((a = getarena(addr)) == nil){
		broke("free of %#llx, outside every arena", (unsigned long long)addr);
		return;
	}
	qlock(&a->lk);
	cachedel(addr);
	if(quiet){
		if(settake(&a->pend, &a->npend, addr, Blksz) == -1)
			broke("release of %#llx: not pending", (unsigned long long)addr);
		else{
			rangefree(a, addr, Blksz);
			a->used -= Blksz;
		}
	}else if(inset(a->free, addr) || inset(a->pend, addr))
		broke("double free of %#llx", (unsigned long long)addr);
	else if(logappend(a, LogFree, addr, Blksz) == -1)
		broke("free of %#llx: %s", (unsigned long long)addr, errstr());
	else{
		rangefree(a, addr, Blksz);
		a->used -= Blksz;
	}
	qunlock(&a->lk);
}

/*
 * Write the blocks of the run e[0..n), consecutive on the disk, skipping
 * those freed meanwhile: each stretch between them with one pwritev, or
 * block by block through the disk shim of the crash tests.
 */
static void
writerun(Qent *e, int n)
{
	struct iovec iov[Wrbatch];
	int i, j, k;

	for(i = 0; i < n; i = j){
		if(getflag(e[i].b) & Bfreed){
			j = i+1;
			continue;
		}
		for(j = i+1; j < n && !(getflag(e[j].b) & Bfreed); j++)
			;
		if(shimon() || j-i == 1){
			for(k = i; k < j; k++)
				devwrite(e[k].addr, e[k].b->buf, Blksz);
			continue;
		}
		for(k = i; k < j; k++){
			iov[k-i].iov_base = e[k].b->buf;
			iov[k-i].iov_len = Blksz;
		}
		devwritev(e[i].addr, iov, j-i);
	}
	for(i = 0; i < n; i++){
		clrflag(e[i].b, Bdirty);
		dropblk(e[i].b);
	}
}

static void
syncproc(void *arg)
{
	Qent e[Wrbatch];
	int n, r;

	USED(arg);
	for(;;){
		n = qget(e, Wrbatch);
		switch(e[0].kind){
		case Qwrite:
			writerun(e, n);
			break;
		case Qfree:
			freeaddr(e[0].addr, e[0].quiet);
			break;
		case Qfence:
			r = devsync();
			qlock(&e[0].f->lk);
			e[0].f->err = r;
			e[0].f->done = 1;
			rwakeup(&e[0].f->r);
			qunlock(&e[0].f->lk);
			break;
		case Qquit:
			return;
		}
	}
}

void
startsyncer(void)
{
	Wqueue *q;

	q = &fs->wq;
	qlockinit(&q->lk);
	rendezinit(&q->nonempty, &q->lk);
	rendezinit(&q->nonfull, &q->lk);
	q->cap = fs->cache.cmax;
	q->batch = MAX(1, MIN(Wqbatch, q->cap/8));
	q->heap = emalloc(q->cap*sizeof(Qent));
	q->n = 0;
	q->nfree = 0;
	if(launch(syncproc, nil, "syncio", &fs->syncer) == -1)
		sysfatal("%s", errstr());
	fs->running = 1;
}

/* Drain the queue and stop the syncer. */
void
stopsyncer(void)
{
	Qent e;

	if(!fs->running)
		return;
	memset(&e, 0, sizeof e);
	e.kind = Qquit;
	qbarrier();
	qput(&e);
	pthread_join(fs->syncer, nil);
	fs->running = 0;
	free(fs->wq.heap);
	fs->wq.heap = nil;
}

/* ------------------------------------------------------------------- sync */

static int
writeheaders(char *buf, vlong off)
{
	Arena *a;
	int i;

	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		packarena(buf, &a->hdloghd, a->size, a->hdused);
		if(devwrite(a->base + off, buf, Blksz) == -1)
			return -1;
	}
	return devsync();
}

/*
 * Commit (format §9.5, runtime §8.6).  Pass 0, under the mutation lock:
 * commit the mounted trees and deadlists, compress logs, log the frees
 * this commit makes safe, append the barrier to every log and put the
 * tails on disk, pack the headers and the superblock.
 * Then, each step flushed before the next: everything queued, arena
 * headers h0, both superblocks, the footers h1.  Only then are the
 * blocks this commit freed released for reuse (runtime §8.9).  Any failure
 * leaves the previous commit in force and the file system read-only.
 */
static int
dosync(int compress)
{
	char *buf, *sb;
	Bptr *ap;
	Super s;
	Bvec dl;
	Arena *a;
	vlong g;
	int i, *keep;

	if(fs->rdonly){
		werrstr("%s", Erdonly);
		return -1;
	}
	qlock(&fs->synclk);
	if(isrdonly()){
		qunlock(&fs->synclk);
		werrstr("%s", Erdonly);
		return -1;
	}
	buf = emalloc(Blksz);
	sb = emalloc(Blksz);
	keep = emalloc(fs->narena*sizeof(int));
	ap = emalloc(fs->narena*sizeof(Bptr));
	memset(&dl, 0, sizeof dl);
	qlock(&fs->mutlk);
	reserveenter();
	if(updatemounts() == -1)
		goto fail0;
	if(dlsync() == -1)
		goto fail0;
	lock(&fs->deferlk);
	dl = fs->deferred;
	memset(&fs->deferred, 0, sizeof fs->deferred);
	unlock(&fs->deferlk);
	g = qbarrier();
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		if(compress && a->nlog >= 2*a->lastlogsz && compresslog(a, &dl) == -1){
			qunlock(&a->lk);
			goto fail0;
		}
		if(prelog(a, &dl) == -1 || logappend(a, LogSync, g, 0) == -1 || logpayload(a) == -1){
			qunlock(&a->lk);
			goto fail0;
		}
		keep[i] = a->keep;
		qunlock(&a->lk);
	}
	if(devsync() == -1)
		goto fail0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		a->dur = MAX(a->dur, keep[i]);
		if(logflush(a) == -1){
			qunlock(&a->lk);
			goto fail0;
		}
		a->hdloghd = a->loghd;
		a->hdused = a->used;
		packarena(buf, &a->hdloghd, a->size, a->hdused);
		a->hdhash = blkhash(buf, Blksz);
		ap[i].addr = a->base;
		ap[i].hash = a->hdhash;
		ap[i].gen = -1;
		qunlock(&a->lk);
	}
	lock(&fs->snap.lk);
	s.root = fs->snap.bp;
	s.ht = fs->snap.ht;
	unlock(&fs->snap.lk);
	s.narena = fs->narena;
	s.flags = 0;
	s.nextqid = fs->nextqid;
	s.nextgen = agetv(&fs->nextgen);	/* getmount hands out generations without mutlk */
	s.qgen = g;
	s.arenas = ap;
	packsuper(sb, &s);
	lock(&fs->dirtylk);
	fs->dirty = 0;
	unlock(&fs->dirtylk);
	reserveleave();
	qunlock(&fs->mutlk);

	if(qfence() == -1
	|| writeheaders(buf, 0) == -1
	|| devwrite(0, sb, Blksz) == -1
	|| devwrite(fs->size - Blksz, sb, Blksz) == -1
	|| devsync() == -1
	|| writeheaders(buf, Blksz) == -1)
		goto fail;
	releasedeferred(&dl);
	free(buf);
	free(sb);
	free(keep);
	free(ap);
	qunlock(&fs->synclk);
	epochclean();
	return 0;
fail0:
	reserveleave();
	qunlock(&fs->mutlk);
fail:
	broke("sync: %s", errstr());
	bvfree(&dl);
	free(buf);
	free(sb);
	free(keep);
	free(ap);
	qunlock(&fs->synclk);
	return -1;
}

int
fssync(void)
{
	return dosync(1);
}

/*
 * A clean stop: commit, let the frees that commit released reach the
 * logs, and commit those too (without compressing again, which would
 * release the logs it replaced and never finish).
 */
int
haltfs(void)
{
	if(fssync() == -1)
		return -1;
	epochflush();
	if(qfence() == -1)
		return -1;
	return dosync(0);
}

static void
timerproc(void *arg)
{
	USED(arg);
	qlock(&fs->timerlk);
	while(!fs->timerquit){
		rsleepuntil(&fs->timerr, monons() + Syncperiod*1000000000LL);
		if(fs->timerquit)
			break;
		qunlock(&fs->timerlk);
		if(isdirty() && !isrdonly() && fssync() == -1)
			warn("sync: %s", errstr());
		qlock(&fs->timerlk);
	}
	qunlock(&fs->timerlk);
}

/* Sync every Syncperiod seconds while anything changed. */
void
starttimer(void)
{
	qlockinit(&fs->timerlk);
	rendezinit(&fs->timerr, &fs->timerlk);
	fs->timerquit = 0;
	if(launch(timerproc, nil, "tasks", &fs->timer) == -1)
		sysfatal("%s", errstr());
	fs->timing = 1;
}

void
stoptimer(void)
{
	if(!fs->timing)
		return;
	qlock(&fs->timerlk);
	fs->timerquit = 1;
	rwakeup(&fs->timerr);
	qunlock(&fs->timerlk);
	pthread_join(fs->timer, nil);
	fs->timing = 0;
}
