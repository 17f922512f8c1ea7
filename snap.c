/*
 * snap.c: epoch-based reclamation (runtime §2), frees deferred until a
 * commit is durable, the building of deadlists (format §11.5), and the
 * snapshot layer: mounts and their commit at sync, labels, snapshots,
 * forks, deletion with deadlist reclaim and sweeps (format §11, §17.7,
 * runtime §4), settings and retention (format §17.1, runtime §12).
 *
 * Over the reference: forks are counted apart from chain successors
 * (nref = forks, §17.7), so deleting one never frees what the other
 * uses; decisions read the counters from the snap tree, never from a
 * stale in-memory copy; merged deadlists keep the merged tail; every
 * reclaimed block waits for the next durable commit and for the
 * readers' epochs; bad requests are refused before anything changes;
 * automatic snapshots are of each mount's own label.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"

/*
 * Epochs.  A thread that walks trees brackets the walk with epochstart
 * and epochend; the first call gives the thread a slot, returned when the
 * thread exits.  Retired objects wait on the limbo list of the epoch they
 * were retired in, and are released by the one cleaner once the global
 * epoch has advanced twice past it, each advance waiting until every
 * active thread has seen the current epoch.
 */
enum {
	Active	= 1<<30,
	Limbodef	= 256,	/* backlog worth waiting for, without a cache to size it */
};

static struct {
	int64_t	epoch;			/* 0, 1 or 2 */
	void	*limbo[3];		/* Limbo stacks */
	int64_t	nlimbo;
	int64_t	slot[Maxslot];		/* epoch|Active inside, epoch outside */
	Lock	slotlk;
	char	inuse[Maxslot];
	int	nslot;			/* slots ever handed out: scan [0, nslot) */
	QLock	cleanlk;
	pthread_once_t once;
	pthread_key_t key;
} ep = {
	.once = PTHREAD_ONCE_INIT,
};

static _Thread_local int myslot = -1;
static _Thread_local int mydepth;	/* epochs nest: only the outermost counts */

static void
slotexit(void *v)
{
	int s;

	s = (int)(intptr_t)v - 1;
	asetv(&ep.slot[s], agetv(&ep.epoch));
	lock(&ep.slotlk);
	ep.inuse[s] = 0;
	unlock(&ep.slotlk);
}

static void
epochinit(void)
{
	qlockinit(&ep.cleanlk);
	if(pthread_key_create(&ep.key, slotexit) != 0)
		sysfatal("epochs: no thread key");
}

static void
getslot(void)
{
	int s;

	pthread_once(&ep.once, epochinit);
	lock(&ep.slotlk);
	for(s = 0; s < Maxslot; s++)
		if(!ep.inuse[s])
			break;
	if(s == Maxslot){
		unlock(&ep.slotlk);
		sysfatal("more than %d threads use epochs", Maxslot);
	}
	ep.inuse[s] = 1;
	if(s >= ep.nslot)
		ep.nslot = s+1;
	unlock(&ep.slotlk);
	myslot = s;
	pthread_setspecific(ep.key, (void*)(intptr_t)(s+1));
}

void
epochstart(void)
{
	if(myslot == -1)
		getslot();
	if(mydepth++ == 0)
		asetv(&ep.slot[myslot], agetv(&ep.epoch) | Active);
}

void
epochend(void)
{
	assert(myslot != -1 && mydepth > 0);
	if(--mydepth == 0)
		asetv(&ep.slot[myslot], agetv(&ep.slot[myslot]) & ~(int64_t)Active);
}

/* Is some thread inside an epoch older than e? */
static int
behind(int64_t e)
{
	int64_t w;
	int i, n;

	lock(&ep.slotlk);
	n = ep.nslot;
	unlock(&ep.slotlk);
	for(i = 0; i < n; i++){
		w = agetv(&ep.slot[i]);
		if((w & Active) && (w & ~(int64_t)Active) != e)
			return 1;
	}
	return 0;
}

static void
waitall(int64_t e)
{
	struct timespec ts;
	int d;

	d = 1;
	while(behind(e)){
		if(d < 1000)
			d++;
		else
			warn("stalled epoch %lld", (long long)e);
		ts.tv_sec = 0;
		ts.tv_nsec = d*1000000L;
		nanosleep(&ts, nil);
	}
}

static void
push(Limbo *l)
{
	int64_t e;

	e = agetv(&ep.epoch);
	do
		l->next = agetp(&ep.limbo[e]);
	while(!acasp(&ep.limbo[e], l->next, l));
	aincv(&ep.nlimbo, 1);
}

void
retireblk(Blk *b)
{
	Limbo *l;

	setflag(b, Blimbo);
	l = emalloc(sizeof *l);
	l->kind = Lblk;
	l->b = holdblk(b);
	push(l);
}

void
retirebp(Bptr bp)
{
	Limbo *l;

	l = emalloc(sizeof *l);
	l->kind = Lbptr;
	l->bp = bp;
	push(l);
}

/* A block whose free was logged before the commit that dropped it. */
void
retirepend(Bptr bp)
{
	Limbo *l;

	l = emalloc(sizeof *l);
	l->kind = Lpend;
	l->bp = bp;
	push(l);
}

/* The same, for a block that may be resident (b, or nil). */
void
retirelogged(Blk *b, Bptr bp)
{
	Limbo *l;

	if(b == nil){
		retirepend(bp);
		return;
	}
	setflag(b, Blimbo);
	l = emalloc(sizeof *l);
	l->kind = Lblkpend;
	l->b = holdblk(b);
	push(l);
}

void
retirefn(void (*fn)(void*), void *arg)
{
	Limbo *l;

	l = emalloc(sizeof *l);
	l->kind = Lfn;
	l->fn = fn;
	l->arg = arg;
	push(l);
}

/* Nobody can reach these any more: free the blocks, run the functions. */
static void
reclaim(Limbo *l)
{
	Limbo *n;
	Blk *b;

	for(; l != nil; l = n){
		n = l->next;
		switch(l->kind){
		case Lblk:
		case Lblkpend:
			b = l->b;
			clrflag(b, Blimbo|Bdirty);
			setflag(b, Bfreed);
			qfree(b->bp.addr, l->kind == Lblkpend);
			dropblk(b);
			break;
		case Lbptr:
		case Lpend:
			if((b = cachelookup(l->bp.addr)) != nil){
				clrflag(b, Bdirty);
				setflag(b, Bfreed);
				dropblk(b);
			}
			qfree(l->bp.addr, l->kind == Lpend);
			break;
		case Lfn:
			l->fn(l->arg);
			break;
		}
		free(l);
		aincv(&ep.nlimbo, -1);
	}
}

static void
advance(int force)
{
	int64_t e, c;
	Limbo *l;

	c = agetv(&ep.nlimbo);
	e = agetv(&ep.epoch);
	/* not worth blocking for a small backlog */
	if(!force && behind(e) && c < (fs != nil ? fs->cache.cmax/4 : Limbodef))
		return;
	waitall(e);
	l = asetp(&ep.limbo[(e+1)%3], nil);
	asetv(&ep.epoch, (e+1)%3);
	reclaim(l);
}

/*
 * One cleaner at a time; a second caller just returns, and so does a
 * thread inside an epoch, which would otherwise wait for itself.
 */
void
epochclean(void)
{
	pthread_once(&ep.once, epochinit);
	if(mydepth > 0 || !canqlock(&ep.cleanlk))
		return;
	advance(0);
	qunlock(&ep.cleanlk);
}

/* Release everything retired so far: three advances empty every list. */
void
epochflush(void)
{
	int i;

	pthread_once(&ep.once, epochinit);
	qlock(&ep.cleanlk);
	for(i = 0; i < 3; i++)
		advance(1);
	qunlock(&ep.cleanlk);
}

/*
 * Frees that must wait for the next durable commit: blocks of the snap
 * tree (its deadlist, format §9.5) and replaced log chains.  Sync takes
 * the list in pass 0, logs the frees before its barrier, and retires the
 * blocks once the superblock is on disk.
 */
void
deferfree(Bptr bp)
{
	lock(&fs->deferlk);
	bvadd(&fs->deferred, bp);
	unlock(&fs->deferlk);
}

void
releasedeferred(Bvec *v)
{
	int i;

	for(i = 0; i < v->n; i++)
		retirepend(v->p[i]);
	bvfree(v);
}

/*
 * Deadlists (format §11.5).  The blocks a tree kills while its memgen
 * is gen, born in bgen, are listed in a chain of Tdlist blocks, newest
 * first; the open head is in memory until it fills or the list is
 * flushed.  At most dlcmax heads stay open; the least recently used is
 * written when another one opens.  Sync writes every open head and
 * records each changed list as Kdlist(gen, bgen) -> (head, tail).
 *
 * The descriptors are dropped after each dlsync.  A tree that goes on
 * killing in the same generation (dlsync also runs before a snapshot
 * is reclaimed, between commits) finds its list again in the snap
 * tree: a new head is chained in front of the recorded one.
 */
static Dlist*
getdl(vlong gen, vlong bgen)
{
	Dlist *d, **pp;

	for(pp = &fs->dlists; (d = *pp) != nil; pp = &d->next)
		if(d->gen == gen && d->bgen == bgen){
			*pp = d->next;
			goto front;
		}
	d = emalloc(sizeof *d);
	d->gen = gen;
	d->bgen = bgen;
	d->hd = Zb;
	d->tl = Zb;
	if(getdlrec(gen, bgen, &d->hd, &d->tl) == -1){
		free(d);
		return nil;
	}
front:
	d->next = fs->dlists;
	fs->dlists = d;
	return d;
}

static void
closedl(Dlist *d)
{
	Blk *b;

	b = d->ins;
	enqueue(b);
	d->hd = b->bp;
	if(d->tl.addr == -1)
		d->tl = b->bp;
	dropblk(b);
	d->ins = nil;
	d->dirty = 1;
	fs->ndlist--;
}

/* Close the least recently used open head (the list is kept MRU first). */
static void
closelru(void)
{
	Dlist *d, *l;

	l = nil;
	for(d = fs->dlists; d != nil; d = d->next)
		if(d->ins != nil)
			l = d;
	if(l != nil)
		closedl(l);
}

/* Append bp to the deadlist (t->memgen, bp.gen).  Under the mutation lock. */
int
killblk(Tree *t, Bptr bp)
{
	Dlist *d;
	Blk *b;

	if((d = getdl(t->memgen, bp.gen)) == nil)
		return -1;
	if(d->ins != nil && Logspc - d->ins->logsz < Logslop)
		closedl(d);
	if(d->ins == nil){
		if(fs->ndlist >= fs->dlcmax)
			closelru();
		/* without it the killed block would leak: the reserve is for this */
		reserveenter();
		b = newblk(&fs->snap, Tdlist, 0);
		reserveleave();
		if(b == nil)
			return -1;
		b->logp = d->hd;
		d->ins = b;
		fs->ndlist++;
	}
	b = d->ins;
	put64(b->data + b->logsz, bp.addr);
	b->logsz += 8;
	return 0;
}

/* Write every open head and record the changed lists.  Under the mutation lock. */
int
dlsync(void)
{
	char *kv, *p;
	Dlist *d;
	Msg *m;
	int n, r;

	n = 0;
	for(d = fs->dlists; d != nil; d = d->next){
		if(d->ins != nil)
			closedl(d);
		if(d->dirty)
			n++;
	}
	r = 0;
	if(n > 0){
		m = emalloc(n*sizeof(Msg));
		kv = emalloc(n*Dlkvpsz);
		n = 0;
		p = kv;
		for(d = fs->dlists; d != nil; d = d->next){
			if(!d->dirty)
				continue;
			m[n].op = Oinsert;
			m[n].kv.k = p;
			m[n].kv.nk = Dlksz;
			p = packdlkey(p, d->gen, d->bgen);
			m[n].kv.v = p;
			m[n].kv.nv = Dlvsz;
			p = packdlval(p, &d->hd, &d->tl);
			n++;
		}
		r = upsert(&fs->snap, m, n);
		free(m);
		free(kv);
	}
	dlclear();
	return r;
}

/* Drop the descriptors (and any open head: only when giving up the fs). */
void
dlclear(void)
{
	Dlist *d;

	while((d = fs->dlists) != nil){
		fs->dlists = d->next;
		if(d->ins != nil){
			dropblk(d->ins);
			fs->ndlist--;
		}
		free(d);
	}
	fs->ndlist = 0;
}

/* ------------------------------------------------------- address sets */

void
bsetfree(Bset *s)
{
	free(s->a);
	memset(s, 0, sizeof *s);
}

static long
bslot(Bset *s, vlong x)
{
	long i;

	i = ihash(x) & (s->cap-1);
	while(s->a[i] != -1 && s->a[i] != x)
		i = (i+1) & (s->cap-1);
	return i;
}

/* Add x; 1 if it was not there yet. */
int
bsetadd(Bset *s, vlong x)
{
	vlong *o;
	long i, ocap;

	if(2*(s->n+1) > s->cap){
		o = s->a;
		ocap = s->cap;
		s->cap = ocap ? 2*ocap : 1024;
		s->a = emalloc(s->cap*sizeof(vlong));
		for(i = 0; i < s->cap; i++)
			s->a[i] = -1;
		for(i = 0; i < ocap; i++)
			if(o[i] != -1)
				s->a[bslot(s, o[i])] = o[i];
		free(o);
	}
	i = bslot(s, x);
	if(s->a[i] == x)
		return 0;
	s->a[i] = x;
	s->n++;
	return 1;
}

int
bsethas(Bset *s, vlong x)
{
	if(s->cap == 0)
		return 0;
	return s->a[bslot(s, x)] == x;
}

/* ---------------------------------------------- records, labels, lists */

/*
 * The snap tree (format §6.3, §17.7) holds the truth about snapshots:
 * labels, records and deadlists are read from it whenever a decision
 * depends on them, never from a copy that could have gone stale
 * (runtime §4.3).  Everything that changes it runs under fs->mutlk.
 */

static vlong
newgen(void)
{
	return aincv(&fs->nextgen, 1);
}

static int
snaplook(char *k, int nk, char *val, int *nv)
{
	char buf[Kvmax];
	Key key;
	Kvp kv;
	int r;

	key.k = k;
	key.nk = nk;
	epochstart();
	r = btlookup(&fs->snap, &key, &kv, buf, sizeof buf);
	epochend();
	if(r == 1){
		memmove(val, kv.v, kv.nv);
		*nv = kv.nv;
	}
	return r;
}

/* The record of snapshot gen: 1, or 0 if there is none, or -1. */
static int
getrec(vlong gen, Tree *t)
{
	char k[Snapsz], v[Inlmax];
	int r, nv;

	packsnapkey(k, gen);
	if((r = snaplook(k, Snapsz, v, &nv)) != 1)
		return r;
	memset(t, 0, sizeof *t);
	if(unpacktree(t, v, nv) == -1)
		return -1;
	if(t->gen != gen){
		werrstr("%s: snapshot %lld records generation %lld", Ecorrupt, (long long)gen, (long long)t->gen);
		return -1;
	}
	return 1;
}

/* The label name: 1 with its snapshot and flags, 0 if there is none, -1. */
static int
getlabel(char *name, vlong *gen, int *flag)
{
	char k[Keymax], v[Inlmax];
	u32int f;
	int nk, nv, r;

	if((nk = packlabel(k, sizeof k, name)) == -1)
		return 0;
	if((r = snaplook(k, nk, v, &nv)) != 1)
		return r;
	if(unpacklblval(v, nv, gen, &f) == -1)
		return -1;
	*flag = f;
	return 1;
}

/* The deadlist (gen, bgen): its chain, or Zb twice if there is none. */
int
getdlrec(vlong gen, vlong bgen, Bptr *hd, Bptr *tl)
{
	char k[Dlksz], v[Inlmax];
	int r, nv;

	*hd = Zb;
	*tl = Zb;
	packdlkey(k, gen, bgen);
	if((r = snaplook(k, Dlksz, v, &nv)) != 1)
		return r;
	return unpackdlval(v, nv, hd, tl) == -1 ? -1 : 1;
}

/* Every deadlist of generation gen, in bgen order; -1 on error. */
static int
getdls(vlong gen, Dlist **lp)
{
	char pfx[Snapsz];
	Dlist *l;
	Scan *s;
	Kvp kv;
	int n, r;

	pfx[0] = Kdlist;
	put64(pfx+1, gen);
	s = emalloc(sizeof *s);
	btnewscan(s, pfx, sizeof pfx);
	l = nil;
	n = 0;
	epochstart();
	if((r = btenter(&fs->snap, s)) >= 0){
		while((r = btnext(s, &kv)) == 1){
			if(kv.nk != Dlksz){
				werrstr("%s: deadlist key of %d bytes", Ecorrupt, kv.nk);
				r = -1;
				break;
			}
			if(n % 16 == 0)
				l = erealloc(l, (n+16)*sizeof *l);
			memset(&l[n], 0, sizeof *l);
			l[n].gen = gen;
			l[n].bgen = get64(kv.k+9);
			if((r = unpackdlval(kv.v, kv.nv, &l[n].hd, &l[n].tl)) == -1)
				break;
			n++;
		}
		btexit(s);
	}
	epochend();
	free(s);
	if(r == -1){
		free(l);
		return -1;
	}
	*lp = l;
	return n;
}

/* ------------------------------------------------------ message batches */

static int
mbflush(Mbuf *b)
{
	int r;

	r = 0;
	if(b->n > 0)
		r = upsert(&fs->snap, b->m, b->n);
	b->n = 0;
	return r;
}

/* The next message of the batch; its key and value go into *p. */
static Msg*
mbnext(Mbuf *b, int op, char **p)
{
	Msg *m;

	if(b->n == Mbmax && mbflush(b) == -1)
		return nil;
	m = &b->m[b->n];
	*p = b->kv[b->n];
	b->n++;
	memset(m, 0, sizeof *m);
	m->op = op;
	m->kv.k = *p;
	return m;
}

/* Orelink, Oreprev or Oincref on record gen (format §7.1, §17.7). */
static int
mbtree(Mbuf *b, int op, vlong gen, vlong link, int dlbl, int dref)
{
	Msg *m;
	char *p;

	if((m = mbnext(b, op, &p)) == nil)
		return -1;
	packsnapkey(p, gen);
	m->kv.nk = Snapsz;
	m->kv.v = p + Snapsz;
	m->kv.nv = Tpsz;
	put64(m->kv.v, link);
	m->kv.v[8] = dlbl;
	m->kv.v[9] = dref;
	return 0;
}

static int
mbrec(Mbuf *b, int op, Tree *t)
{
	Msg *m;
	char *p;

	if((m = mbnext(b, op, &p)) == nil)
		return -1;
	packsnapkey(p, t->gen);
	m->kv.nk = Snapsz;
	if(op == Oinsert){
		m->kv.v = p + Snapsz;
		packtree(m->kv.v, t);
		m->kv.nv = Treesz;
	}
	return 0;
}

static int
mblabel(Mbuf *b, int op, char *name, vlong gen, int flag)
{
	Msg *m;
	char *p;

	if((m = mbnext(b, op, &p)) == nil)
		return -1;
	if((m->kv.nk = packlabel(p, Keymax, name)) == -1){
		b->n--;
		return -1;
	}
	if(op == Oinsert){
		m->kv.v = p + m->kv.nk;
		packlblval(m->kv.v, gen, flag);
		m->kv.nv = Snapsz+4;
	}
	return 0;
}

/* Deadlist records; deletes carry the chain too, as upstream (format §17.2). */
static int
mbdl(Mbuf *b, int op, vlong gen, vlong bgen, Bptr hd, Bptr tl)
{
	Msg *m;
	char *p;

	if((m = mbnext(b, op, &p)) == nil)
		return -1;
	packdlkey(p, gen, bgen);
	m->kv.nk = Dlksz;
	m->kv.v = p + Dlksz;
	packdlval(m->kv.v, &hd, &tl);
	m->kv.nv = Dlvsz;
	return 0;
}

/* ---------------------------------------------------------- reclaiming */

static void
addchain(Rwork *w, Bptr hd, Bptr tl)
{
	if(hd.addr == -1)
		return;
	bvadd(&w->chains, hd);
	bvadd(&w->chains, tl);
}

static void
addsweep(Rwork *w, Tree *t, vlong keep)
{
	Rtree *r;

	if(w->ntrees % 8 == 0)
		w->trees = erealloc(w->trees, (w->ntrees+8)*sizeof(Rtree));
	r = &w->trees[w->ntrees++];
	r->bp = t->bp;
	r->ht = t->ht;
	r->keep = keep;
}

static void
freework(Rwork *w)
{
	bvfree(&w->chains);
	free(w->trees);
	memset(w, 0, sizeof *w);
}

/*
 * Point the committed tail block tl of a deadlist at hd, in place.
 * Readers stop at the tail a record names (format §17.7), so the old
 * commit, whose record still names tl as its tail, is not changed by
 * it; a write still queued for the block is waited for first.
 */
static int
relinktail(Bptr tl, Bptr hd)
{
	Blk *b;

	if((b = getblk(tl, GBlog)) == nil)
		return -1;
	if(b->type != Tdlist){
		werrstr("%s: deadlist tail %#llx is a %s block", Ecorrupt,
			(unsigned long long)tl.addr, blktype(b->type));
		dropblk(b);
		return -1;
	}
	if((getflag(b) & Bdirty) && qfence() == -1){
		dropblk(b);
		return -1;
	}
	b->logp = hd;
	setflag(b, Bdirty);
	enqueue(b);
	dropblk(b);
	return 0;
}

/*
 * Merge deadlist l into (dst, l.bgen): the destination keeps its head
 * and takes l's tail (the reference kept its own tail and lost chains,
 * format §13 item 6).
 */
static int
mergedl(Mbuf *b, Dlist *l, vlong dst)
{
	Bptr hd, tl;

	if(getdlrec(dst, l->bgen, &hd, &tl) == -1)
		return -1;
	if(l->hd.addr != -1){
		if(hd.addr == -1){
			hd = l->hd;
			tl = l->tl;
		}else{
			if(relinktail(tl, l->hd) == -1)
				return -1;
			tl = l->tl;
		}
		if(mbdl(b, Oinsert, dst, l->bgen, hd, tl) == -1)
			return -1;
	}
	return mbdl(b, Odelete, l->gen, l->bgen, l->hd, l->tl);
}

/*
 * Record g, whose predecessor is p and successor s, is gone: its
 * deadlists (g, B) with B <= p hold blocks p still uses, and move to
 * the successor (or to p when g was the tip); the rest, and the lists
 * (s, B) with B > p, hold blocks born after p that only g could reach:
 * they are freed (format §11.4, §17.7).  The frees are left in w.
 */
static int
reclaimdl(vlong g, vlong p, vlong s, Rwork *w)
{
	Dlist *l;
	Mbuf *b;
	int i, n, r;

	if(dlsync() == -1)
		return -1;
	b = emalloc(sizeof *b);
	r = -1;
	if((n = getdls(g, &l)) == -1)
		goto out;
	for(i = 0; i < n; i++){
		if(p != -1 && l[i].bgen <= p){
			if(mergedl(b, &l[i], s != -1 ? s : p) == -1)
				break;
		}else{
			if(mbdl(b, Odelete, g, l[i].bgen, l[i].hd, l[i].tl) == -1)
				break;
			addchain(w, l[i].hd, l[i].tl);
		}
	}
	free(l);
	if(i < n)
		goto out;
	if(s != -1){
		if((n = getdls(s, &l)) == -1)
			goto out;
		for(i = 0; i < n; i++){
			if(l[i].bgen <= p)
				continue;
			if(mbdl(b, Odelete, s, l[i].bgen, l[i].hd, l[i].tl) == -1)
				break;
			addchain(w, l[i].hd, l[i].tl);
		}
		free(l);
		if(i < n)
			goto out;
	}
	r = mbflush(b);
out:
	free(b);
	return r;
}

/*
 * Delete record t, which has no label and no fork left (format §17.7):
 * unlink it from its chain, reclaim its deadlists, and if it was a
 * chain tip, sweep its tree later and look at the record it hung from,
 * which may now be unused in turn.
 */
static int
delrec(Tree *rec, Rwork *w)
{
	Tree t, x;
	Mbuf *b;
	vlong up;
	int r;

	b = emalloc(sizeof *b);
	t = *rec;
	for(;;){
		r = -1;
		if(t.pred != -1 && getrec(t.pred, &x) == 1
		&& mbtree(b, Orelink, t.pred, t.succ, 0, 0) == -1)
			break;
		if(t.succ != -1 && getrec(t.succ, &x) == 1
		&& mbtree(b, Oreprev, t.succ, t.pred, 0, 0) == -1)
			break;
		if(t.pred == -1 && t.succ == -1 && t.base != -1 && getrec(t.base, &x) == 1
		&& mbtree(b, Oincref, t.base, -1, 0, -1) == -1)
			break;
		if(mbrec(b, Odelete, &t) == -1 || mbflush(b) == -1)
			break;
		if(reclaimdl(t.gen, t.pred, t.succ, w) == -1)
			break;
		r = 0;
		if(t.succ != -1)
			break;
		up = t.pred != -1 ? t.pred : t.base;
		addsweep(w, &t, up);
		if(up == -1 || getrec(up, &x) != 1 || x.nlbl != 0 || x.nref != 0)
			break;
		t = x;
	}
	free(b);
	return r;
}

/*
 * Frees of reclaimed blocks are deferred: the last durable commit may
 * still name them, and readers may hold them.  A long reclamation
 * outside the commit lets the epochs move and, when the deferred list
 * grows large, commits so that it can be emptied (memory stays bounded).
 */
enum {
	Pacebatch	= 256,
	Maxdefer	= 1<<16,
};

static int
pace(int cansync, long *n)
{
	int big;

	if(++*n % Pacebatch != 0 || !cansync)
		return 0;
	epochclean();
	lock(&fs->deferlk);
	big = fs->deferred.n > Maxdefer;
	unlock(&fs->deferlk);
	if(big)
		return fssync();
	return 0;
}

static void
deferaddr(vlong addr)
{
	deferfree((Bptr){addr, -1, -1});
}

/* Free a deadlist chain: every block it lists, and its own blocks. */
static int
freechain(Bptr hd, Bptr tl, int cansync, long *n)
{
	vlong max, i;
	Bptr bp, next;
	Blk *b;
	int o, last;

	max = fs->size / Blksz;
	bp = hd;
	for(i = 0; i < max; i++){
		if((b = getblk(bp, GBlog)) == nil)
			return -1;
		if(b->type != Tdlist){
			werrstr("%s: deadlist block %#llx is a %s block", Ecorrupt,
				(unsigned long long)bp.addr, blktype(b->type));
			dropblk(b);
			return -1;
		}
		for(o = 0; o+8 <= b->logsz; o += 8)
			deferaddr(get64(b->data+o));
		next = b->logp;
		dropblk(b);
		deferaddr(bp.addr);
		last = bp.addr == tl.addr;
		if(pace(cansync, n) == -1)
			return -1;
		if(last)
			return 0;
		if(next.addr == -1){
			werrstr("%s: deadlist chain ends before its tail %#llx", Ecorrupt,
				(unsigned long long)tl.addr);
			return -1;
		}
		bp = next;
	}
	werrstr("%s: deadlist chain from %#llx does not reach its tail", Ecorrupt,
		(unsigned long long)hd.addr);
	return -1;
}

/* The data blocks a node names, born after keep, that this sweep has not freed. */
static void
sweepdata(Blk *b, vlong keep, Bset *seen)
{
	Bptr bp;
	Kvp kv;
	Msg m;
	int i;

	if(b->type == Tleaf){
		for(i = 0; i < b->nval; i++){
			if(nodeent(b, i, &kv) < 0 || kv.nk < 1 || kv.k[0] != Kdat || kv.nv != Ptrsz)
				continue;
			bp = unpackbp(kv.v);
			if(bp.gen > keep && bsetadd(seen, bp.addr))
				deferaddr(bp.addr);
		}
		return;
	}
	for(i = 0; i < b->nbuf; i++){
		if(nodemsg(b, i, &m) < 0 || m.op != Oinsert || m.kv.nk < 1 || m.kv.k[0] != Kdat || m.kv.nv != Ptrsz)
			continue;
		bp = unpackbp(m.kv.v);
		if(bp.gen > keep && bsetadd(seen, bp.addr))
			deferaddr(bp.addr);
	}
}

static Blk*
sweepnode(Bptr bp, int ht, vlong keep, Bset *seen)
{
	Blk *b;

	if((b = getblk(bp, 0)) == nil)
		return nil;
	if((b->type != Tleaf && b->type != Tpivot) || (b->type == Tleaf) != (ht == 1) || !nodeok(b)){
		werrstr("%s: node %#llx of a deleted tree: %s at height %d", Ecorrupt,
			(unsigned long long)bp.addr, blktype(b->type), ht);
		dropblk(b);
		return nil;
	}
	sweepdata(b, keep, seen);
	return b;
}

/*
 * Free the blocks of a deleted chain tip born after keep (format §17.7).
 * A node born at or before keep holds nothing younger, so its subtree
 * is skipped: the work is proportional to what is freed.
 */
static int
sweep(Rtree *r, int cansync, long *n)
{
	Blk *path[Maxht];
	int idx[Maxht], d, ht;
	Bset seen;
	Bptr c;
	Kvp kv;
	int ret;

	if(r->bp.gen <= r->keep)
		return 0;
	if(r->ht < 1 || r->ht > Maxht){
		werrstr("%s: deleted tree of height %d", Ecorrupt, r->ht);
		return -1;
	}
	memset(&seen, 0, sizeof seen);
	ret = -1;
	d = 0;
	if((path[0] = sweepnode(r->bp, r->ht, r->keep, &seen)) == nil)
		goto out;
	idx[0] = 0;
	d = 1;
	while(d > 0){
		ht = r->ht - (d-1);
		if(path[d-1]->type == Tpivot && idx[d-1] < path[d-1]->nval){
			if(nodeent(path[d-1], idx[d-1]++, &kv) < 0 || kv.nv != Pptrsz)
				goto out;
			c = unpackbp(kv.v);
			if(c.gen <= r->keep)
				continue;
			if((path[d] = sweepnode(c, ht-1, r->keep, &seen)) == nil)
				goto out;
			idx[d++] = 0;
			continue;
		}
		deferaddr(path[d-1]->bp.addr);
		dropblk(path[--d]);
		if(pace(cansync, n) == -1)
			goto out;
	}
	ret = 0;
out:
	while(d > 0)
		dropblk(path[--d]);
	bsetfree(&seen);
	return ret;
}

/* Carry out the frees reclamation left; a failure leaks, never frees twice. */
static int
runwork(Rwork *w, int cansync)
{
	long n;
	int i, r;

	n = 0;
	r = 0;
	for(i = 0; i+1 < w->chains.n; i += 2)
		if(freechain(w->chains.p[i], w->chains.p[i+1], cansync, &n) == -1){
			warn("freeing a deadlist: %s; its blocks leak", errstr());
			r = -1;
		}
	for(i = 0; i < w->ntrees; i++)
		if(sweep(&w->trees[i], cansync, &n) == -1){
			warn("sweeping a deleted snapshot: %s; its blocks leak", errstr());
			r = -1;
		}
	freework(w);
	return r;
}

/* -------------------------------------------------------------- mounts */

static int
treedirty(Tree *t)
{
	int d;

	lock(&t->lk);
	d = t->dirty;
	unlock(&t->lk);
	return d;
}

static void
freemount(void *v)
{
	Mount *m;

	m = v;
	if(m->root != &fs->snap)
		free(m->root);
	free(m->name);
	free(m);
}

/* Under fs->mountlk. */
static Mount*
findmount(char *name)
{
	Mount *m;

	for(m = fs->mounts; m != nil; m = m->next)
		if(strcmp(m->name, name) == 0)
			return m;
	return nil;
}

static void
unlinkmount(Mount *m)
{
	Mount **pp;

	for(pp = &fs->mounts; *pp != nil; pp = &(*pp)->next)
		if(*pp == m){
			*pp = m->next;
			return;
		}
}

static void	loadretain(Mount*);
static void	restorelast(Mount*);

/* Bring label name into memory, with a generation of its own (format §11.1, §18.1). */
static Mount*
openmount(char *name)
{
	vlong gen;
	Mount *m;
	Tree *t;
	int flag, r;

	if((r = getlabel(name, &gen, &flag)) != 1){
		if(r == 0)
			werrstr("%s", Enosnap);
		return nil;
	}
	t = emalloc(sizeof *t);
	if((r = getrec(gen, t)) != 1){
		if(r == 0)
			werrstr("%s: label %s names snapshot %lld, which does not exist", Ecorrupt, name, (long long)gen);
		free(t);
		return nil;
	}
	t->memgen = newgen();
	t->dirty = 0;
	m = emalloc(sizeof *m);
	m->name = estrdup(name);
	m->flag = flag;
	m->root = t;
	m->ref = 1;
	loadretain(m);
	restorelast(m);
	return m;
}

/*
 * Share or open the mount of a label.  "dump" is the synthetic view
 * (runtime §4.6): its root is the snap tree itself and it is never
 * writable.  Call without fs->mutlk.
 */
Mount*
getmount(char *name)
{
	Mount *m;

	qlock(&fs->mountlk);
	if(strcmp(name, "dump") == 0){
		if((m = fs->dump) == nil){
			m = emalloc(sizeof *m);
			m->name = estrdup("dump");
			m->root = &fs->snap;
			fs->dump = m;
		}
		m->ref++;
		qunlock(&fs->mountlk);
		return m;
	}
	if((m = findmount(name)) != nil)
		m->ref++;
	else if((m = openmount(name)) != nil){
		m->next = fs->mounts;
		fs->mounts = m;
	}
	qunlock(&fs->mountlk);
	return m;
}

/*
 * Drop a reference.  A mount with changes nobody has committed yet
 * stays on the list until the next sync commits it.
 */
void
putmount(Mount *m)
{
	if(m == nil)
		return;
	qlock(&fs->mountlk);
	if(--m->ref > 0 || m == fs->dump || treedirty(m->root)){
		qunlock(&fs->mountlk);
		return;
	}
	unlinkmount(m);
	qunlock(&fs->mountlk);
	retirefn(freemount, m);
}

/* Forget every mount: the file system is going away. */
void
mountclear(void)
{
	Mount *m;

	while((m = fs->mounts) != nil){
		fs->mounts = m->next;
		freemount(m);
	}
	if(fs->dump != nil){
		freemount(fs->dump);
		fs->dump = nil;
	}
}

/*
 * Commit the changes of mount m as a new record (updatesnap, format
 * §11.2 with §17.7): the label moves from the old record o to the new
 * one; o is collapsed into it when nothing else keeps o, otherwise o
 * stays as its predecessor.  Readers of the old descriptor keep it
 * until their epoch ends.  Under fs->mutlk and fs->mountlk.
 */
static int
commitmount(Mount *m, Rwork *w)
{
	vlong lgen;
	int lflag, collapse;
	Tree *t, *n, o;
	Mbuf *b;

	t = m->root;
	if(!treedirty(t))
		return 0;
	if(!(m->flag & Lmut)){
		werrstr("%s: changes to read-only snapshot %s", Efs, m->name);
		return -1;
	}
	if(getlabel(m->name, &lgen, &lflag) != 1 || lgen != t->gen){
		werrstr("%s: label %s no longer names snapshot %lld", Efs, m->name, (long long)t->gen);
		return -1;
	}
	if(getrec(t->gen, &o) != 1){
		werrstr("%s: mounted snapshot %lld has no record", Efs, (long long)t->gen);
		return -1;
	}
	n = emalloc(sizeof *n);
	lock(&t->lk);
	n->bp = t->bp;
	n->ht = t->ht;
	unlock(&t->lk);
	n->gen = t->memgen;
	n->nlbl = 1;
	n->nref = 0;
	n->succ = -1;
	n->base = o.base;
	collapse = o.nlbl <= 1 && o.nref == 0 && o.succ == -1;
	b = emalloc(sizeof *b);
	if(collapse){
		n->pred = o.pred;
		if(o.pred != -1 && mbtree(b, Orelink, o.pred, n->gen, 0, 0) == -1)
			goto err;
		if(mbrec(b, Odelete, &o) == -1)
			goto err;
	}else{
		n->pred = o.gen;
		if(mbtree(b, Orelink, o.gen, n->gen, -1, 0) == -1)
			goto err;
	}
	if(mbrec(b, Oinsert, n) == -1 || mblabel(b, Oinsert, m->name, n->gen, lflag) == -1)
		goto err;
	if(mbflush(b) == -1)
		goto err;
	if(collapse && reclaimdl(o.gen, o.pred, n->gen, w) == -1)
		goto err;
	free(b);
	n->memgen = newgen();
	asetp((void**)&m->root, n);
	retirefn(free, t);
	return 0;
err:
	free(b);
	free(n);
	return -1;
}

/*
 * Sync's pass 0 (blk.c): commit every mount with changes, then drop the
 * mounts nobody holds.  Under fs->mutlk.
 */
int
updatemounts(void)
{
	Mount *m, **pp;
	Rwork w;
	int r;

	memset(&w, 0, sizeof w);
	r = 0;
	qlock(&fs->mountlk);
	for(m = fs->mounts; m != nil; m = m->next)
		if((m->flag & Lmut) && commitmount(m, &w) == -1){
			r = -1;
			break;
		}
	for(pp = &fs->mounts; (m = *pp) != nil; ){
		if(m->ref == 0 && (!(m->flag & Lmut) || !treedirty(m->root))){
			*pp = m->next;
			retirefn(freemount, m);
		}else
			pp = &m->next;
	}
	qunlock(&fs->mountlk);
	runwork(&w, 0);		/* a failure there leaks blocks: it is reported, and the commit goes on */
	return r;
}

/* ------------------------------------------------ snapshot operations */

static char *reserved[] = {"dump", "empty", "adm"};

static int
isreserved(char *name)
{
	int i;

	for(i = 0; i < (int)nelem(reserved); i++)
		if(strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

/* A label is an attach name and a name in the dump directory. */
static int
okname(char *name)
{
	int n;
	char *p;

	n = strlen(name);
	if(n == 0 || n > Maxname || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for(p = name; *p != 0; p++)
		if((uchar)*p < 0x20 || *p == '/' || *p == 0x7f)
			return 0;
	return 1;
}

/*
 * Label new as an immutable snapshot (mut 0) or a fork (mut 1) of the
 * current state of label old; a mounted old is committed first so that
 * the snapshot holds what its users see now (runtime §4.3).  Constant
 * time: a few lookups and one batch of messages.  Under fs->mutlk.
 */
static int
tagsnap(char *old, char *new, int mut, Rwork *w)
{
	vlong gen, ngen;
	int flag, r;
	Tree t, n;
	Mount *m;
	Mbuf *b;

	if(isreserved(new)){
		werrstr("%s", Esnapr);
		return -1;
	}
	if(!okname(new)){
		werrstr("%s", Ename);
		return -1;
	}
	qlock(&fs->mountlk);
	r = -1;
	b = nil;
	switch(getlabel(new, &gen, &flag)){
	case -1:
		goto out;
	case 1:
		werrstr("%s", Esnapx);
		goto out;
	}
	if(strcmp(old, "dump") == 0){
		werrstr("%s", Enosnap);
		goto out;
	}
	switch(getlabel(old, &gen, &flag)){
	case -1:
		goto out;
	case 0:
		werrstr("%s", Enosnap);
		goto out;
	}
	if((m = findmount(old)) != nil){
		if(commitmount(m, w) == -1)
			goto out;
		gen = m->root->gen;
	}
	if(getrec(gen, &t) != 1){
		werrstr("%s: label %s names snapshot %lld, which does not exist", Ecorrupt, old, (long long)gen);
		goto out;
	}
	b = emalloc(sizeof *b);
	if(!mut){
		if(mbtree(b, Orelink, gen, t.succ, 1, 0) == -1
		|| mblabel(b, Oinsert, new, gen, 0) == -1)
			goto out;
	}else{
		ngen = newgen();
		memset(&n, 0, sizeof n);
		n.gen = ngen;
		n.nlbl = 1;
		n.nref = 0;
		n.ht = t.ht;
		n.bp = t.bp;
		n.pred = -1;
		n.succ = -1;
		n.base = gen;
		if(mbtree(b, Oincref, gen, -1, 0, 1) == -1
		|| mblabel(b, Oinsert, new, ngen, Lmut) == -1
		|| mbrec(b, Oinsert, &n) == -1)
			goto out;
	}
	r = mbflush(b);
out:
	free(b);
	qunlock(&fs->mountlk);
	return r;
}

/*
 * Remove label name; when its record has no label and no fork left,
 * delete the record and reclaim (format §17.7).  Checks everything
 * before changing anything.  Under fs->mutlk.
 */
static int
dellabel(char *name, Rwork *w)
{
	vlong gen;
	int flag, r;
	Mount *m;
	Mbuf *b;
	Tree t;

	if(isreserved(name)){
		werrstr("%s", Esnapr);
		return -1;
	}
	qlock(&fs->mountlk);
	r = -1;
	b = nil;
	switch(getlabel(name, &gen, &flag)){
	case -1:
		goto out;
	case 0:
		werrstr("%s", Enosnap);
		goto out;
	}
	if((m = findmount(name)) != nil){
		if(m->ref > 0){
			werrstr("%s", Esnapu);
			goto out;
		}
		/* nobody holds it, but its last changes are not committed yet */
		if(commitmount(m, w) == -1)
			goto out;
		gen = m->root->gen;
		unlinkmount(m);
		retirefn(freemount, m);
	}
	if(getrec(gen, &t) != 1){
		werrstr("%s: label %s names snapshot %lld, which does not exist", Ecorrupt, name, (long long)gen);
		goto out;
	}
	b = emalloc(sizeof *b);
	if(mblabel(b, Odelete, name, 0, 0) == -1)
		goto out;
	if(t.nlbl > 1 || t.nref > 0){
		if(mbtree(b, Orelink, gen, t.succ, -1, 0) == -1)
			goto out;
		r = mbflush(b);
		goto out;
	}
	if(mbflush(b) == -1)
		goto out;
	r = delrec(&t, w);
out:
	free(b);
	qunlock(&fs->mountlk);
	return r;
}

/* snap old new: an immutable snapshot; snap -m old new: a fork. */
int
snapcreate(char *old, char *new, int mut)
{
	Rwork w;
	int r;

	memset(&w, 0, sizeof w);
	qlock(&fs->mutlk);
	r = tagsnap(old, new, mut, &w);
	qunlock(&fs->mutlk);
	runwork(&w, 1);
	epochclean();
	return r;
}

/*
 * snap -d name.  The snap tree is updated under the mutation lock; the
 * blocks are freed after it is released, yielding as they go.
 */
int
snapdelete(char *name)
{
	Rwork w;
	int r;

	memset(&w, 0, sizeof w);
	qlock(&fs->mutlk);
	reserveenter();		/* it frees space: a full volume must allow it */
	r = dellabel(name, &w);
	reserveleave();
	qunlock(&fs->mutlk);
	runwork(&w, 1);
	epochclean();
	return r;
}

/* Every label, in key order; the caller frees with freelabels. */
int
snaplist(Label **lp)
{
	Label *l;
	Scan *s;
	Kvp kv;
	vlong gen;
	u32int flag;
	char pfx[1];
	int n, r;

	pfx[0] = Klabel;
	s = emalloc(sizeof *s);
	btnewscan(s, pfx, 1);
	l = nil;
	n = 0;
	epochstart();
	if((r = btenter(&fs->snap, s)) >= 0){
		while((r = btnext(s, &kv)) == 1){
			if(unpacklblval(kv.v, kv.nv, &gen, &flag) == -1){
				r = -1;
				break;
			}
			if(n % 32 == 0)
				l = erealloc(l, (n+32)*sizeof *l);
			l[n].name = emalloc(kv.nk);
			memmove(l[n].name, kv.k+1, kv.nk-1);
			l[n].gen = gen;
			l[n].flag = flag;
			n++;
		}
		btexit(s);
	}
	epochend();
	free(s);
	if(r == -1){
		freelabels(l, n);
		return -1;
	}
	*lp = l;
	return n;
}

void
freelabels(Label *l, int n)
{
	int i;

	for(i = 0; i < n; i++)
		free(l[i].name);
	free(l);
}

/* Blocks in use and blocks in all, for df. */
void
fsusage(vlong *used, vlong *size)
{
	Arena *a;
	int i;

	*used = *size = 0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		*used += a->used;
		*size += a->size;
		qunlock(&a->lk);
	}
}

/* ------------------------------------------------ settings, retention */

static char *unitname[Nunit] = {"minute", "hour", "day"};
static vlong unitsec[Nunit] = {60, 3600, 86400};
static char defretain[] = "60@m 24@h @d";

static int
isblank(int c)
{
	return c == ' ' || c == '\t';
}

/* A decimal number of at most 9 digits at *p: its value, or -1 if none. */
static int
number(char **p, char *e)
{
	int n, d;

	n = 0;
	for(d = 0; *p < e && **p >= '0' && **p <= '9'; d++, (*p)++){
		if(d == 9)
			return -2;
		n = 10*n + (**p - '0');
	}
	return d == 0 ? -1 : n;
}

/*
 * A retain schedule (format §17.1, late-2025 rules): blank-separated
 * items [count]@[interval]unit; a later item for a unit replaces an
 * earlier one; units not named, and every unit of an empty text, get
 * count 0.  An omitted count keeps every snapshot (-1).
 */
int
parseretain(char *s, int n, Retain *r)
{
	char *p, *e;
	int c, iv, u;

	memset(r, 0, sizeof *r);
	for(u = 0; u < Nunit; u++)
		r->ival[u] = 1;
	p = s;
	e = s + n;
	for(;;){
		while(p < e && isblank(*p))
			p++;
		if(p == e)
			break;
		if((c = number(&p, e)) == -2)
			goto bad;
		if(p == e || *p++ != '@')
			goto bad;
		if((iv = number(&p, e)) == -2 || iv == 0)
			goto bad;
		if(iv == -1)
			iv = 1;
		if(p == e)
			goto bad;
		switch(*p++){
		case 'm':	u = Rmin; break;
		case 'h':	u = Rhour; break;
		case 'd':	u = Rday; break;
		default:	goto bad;
		}
		if(p < e && !isblank(*p))
			goto bad;
		r->count[u] = c;
		r->ival[u] = iv;
	}
	r->ok = 1;
	return 0;
bad:
	werrstr("%s: bad retain schedule '%.*s'", Esyntax, n, s);
	memset(r, 0, sizeof *r);
	return -1;
}

/* The setting key in tree t: 1 and its value (NUL added), 0 if none, -1. */
static int
conflook(Tree *t, char *key, char *val, int *nv)
{
	char k[Keymax], buf[Kvmax];
	Key kk;
	Kvp kv;
	int r;

	if((kk.nk = packconfkey(k, sizeof k, key)) == -1)
		return -1;
	kk.k = k;
	epochstart();
	r = btlookup(t, &kk, &kv, buf, sizeof buf);
	epochend();
	if(r == 1){
		memmove(val, kv.v, kv.nv);
		val[kv.nv] = 0;
		*nv = kv.nv;
	}
	return r;
}

/*
 * A label's schedule: its own tree's setting, else the global one,
 * else the default; the first found is used whole (format §17.1).
 */
static void
loadretain(Mount *m)
{
	char v[Inlmax+1];
	Tree *t;
	int r, nv;

	t = m->root;
	if((r = conflook(t, "retain", v, &nv)) == 0)
		r = conflook(&fs->snap, "retain", v, &nv);
	if(r == 0){
		strcpy(v, defretain);
		nv = strlen(v);
	}
	if(r == -1 || parseretain(v, nv, &m->ret) == -1){
		warn("retain for %s: %s; no automatic snapshots", m->name, errstr());
		memset(&m->ret, 0, sizeof m->ret);
	}
	m->trimmed = 0;
}

/* The automatic labels of m for unit u, oldest first. */
static int
autolabels(Mount *m, int u, char ***lp)
{
	char pfx[Keymax], **l;
	Scan *s;
	Kvp kv;
	int n, np, r;

	np = snprintf(pfx, sizeof pfx, "%c%s@%s.", Klabel, m->name, unitname[u]);
	if(np >= (int)sizeof pfx)
		return 0;
	s = emalloc(sizeof *s);
	btnewscan(s, pfx, np);
	l = nil;
	n = 0;
	epochstart();
	if((r = btenter(&fs->snap, s)) >= 0){
		while((r = btnext(s, &kv)) == 1){
			if(n % 32 == 0)
				l = erealloc(l, (n+32)*sizeof *l);
			l[n] = emalloc(kv.nk);
			memmove(l[n], kv.k+1, kv.nk-1);
			n++;
		}
		btexit(s);
	}
	epochend();
	free(s);
	if(r == -1){
		while(n > 0)
			free(l[--n]);
		free(l);
		return -1;
	}
	*lp = l;
	return n;
}

static void
freenames(char **l, int n)
{
	int i;

	for(i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* The time an automatic label was taken (UTC), or -1. */
static vlong
stamptime(char *name)
{
	char *p;
	struct tm tm;
	int y, mo, d, h, mi, s, n;

	if((p = strrchr(name, '.')) == nil || strlen(name) < 19)
		return -1;
	p = name + strlen(name) - 19;
	n = 0;
	if(sscanf(p, "%4d.%2d.%2d_%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

/* Take "last" from the newest automatic label of each unit (format §17.1). */
static void
restorelast(Mount *m)
{
	char **l;
	int u, n;

	for(u = 0; u < Nunit; u++){
		m->last[u] = -1;
		if((n = autolabels(m, u, &l)) <= 0)
			continue;
		m->last[u] = stamptime(l[n-1]);
		freenames(l, n);
	}
}

/* Delete the oldest automatic labels of unit u beyond keep.  Under fs->mutlk. */
static void
trim(Mount *m, int u, int keep, Rwork *w)
{
	char **l;
	int i, n;

	if((n = autolabels(m, u, &l)) == -1){
		warn("retain %s: %s", m->name, errstr());
		return;
	}
	for(i = 0; i < n - keep; i++)
		if(dellabel(l[i], w) == -1)
			warn("retain %s: deleting %s: %s", m->name, l[i], errstr());
	if(n > 0)
		freenames(l, n);
}

static void
tickunit(Mount *m, int u, vlong now, Rwork *w)
{
	char name[Keymax+64];
	struct tm tm;
	time_t t;
	vlong p;
	int c;

	c = m->ret.count[u];
	if(c != 0){
		p = (vlong)m->ret.ival[u] * unitsec[u];
		if(m->last[u] == -1)
			m->last[u] = now;
		else if(now/p != m->last[u]/p){
			t = now;
			gmtime_r(&t, &tm);
			snprintf(name, sizeof name, "%s@%s.%04d.%02d.%02d_%02d:%02d:%02d",
				m->name, unitname[u], tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday,
				tm.tm_hour, tm.tm_min, tm.tm_sec);
			if(tagsnap(m->name, name, 0, w) == -1 && !iserr(Esnapx))
				warn("automatic snapshot %s: %s", name, errstr());
			m->last[u] = now;
			m->trimmed &= ~(1<<u);
		}
	}
	if(c >= 0 && !(m->trimmed & (1<<u))){
		trim(m, u, c, w);
		m->trimmed |= 1<<u;
	}
}

/*
 * The timer's work, every few seconds with the wall clock now (Unix
 * seconds): for each mounted mutable label with a valid schedule, take
 * the automatic snapshots that are due and delete those the schedule no
 * longer keeps.
 */
void
retaintick(vlong now)
{
	Mount *m, **ml;
	Rwork w;
	int i, n;

	if(isrdonly())
		return;
	qlock(&fs->mountlk);
	n = 0;
	for(m = fs->mounts; m != nil; m = m->next)
		n++;
	ml = emalloc((n+1)*sizeof *ml);
	n = 0;
	for(m = fs->mounts; m != nil; m = m->next)
		if((m->flag & Lmut) && m->ref > 0){
			m->ref++;
			ml[n++] = m;
		}
	qunlock(&fs->mountlk);
	for(i = 0; i < n; i++){
		memset(&w, 0, sizeof w);
		qlock(&fs->mutlk);
		if(ml[i]->ret.ok){
			tickunit(ml[i], Rmin, now, &w);
			tickunit(ml[i], Rhour, now, &w);
			tickunit(ml[i], Rday, now, &w);
		}
		qunlock(&fs->mutlk);
		runwork(&w, 1);
		putmount(ml[i]);
	}
	free(ml);
	epochclean();
}

static int
okconf(char *key, char *val)
{
	Retain r;

	if(strcmp(key, "retain") != 0){
		werrstr("%s: unknown setting '%s'", Esyntax, key);
		return -1;
	}
	if(val == nil)
		return 0;
	if(strlen(val) > Inlmax){
		werrstr("%s", Elength);
		return -1;
	}
	return parseretain(val, strlen(val), &r);
}

/*
 * Set (val not nil) or clear a setting, for label or, label nil,
 * globally (format §17.1): in the label's own tree, which must be
 * mutable, or in the snap tree.  Every mount's schedule is reloaded,
 * and the change is synced.
 */
static int
putconf(char *label, char *key, char *val)
{
	char k[Keymax], v[Inlmax+1];
	Mount *m, *x;
	Tree *t;
	Msg msg;
	int r, nv;

	if(okconf(key, val) == -1)
		return -1;
	m = nil;
	if(label != nil){
		if((m = getmount(label)) == nil)
			return -1;
		if(m == fs->dump || !(m->flag & Lmut)){
			putmount(m);
			werrstr("%s", Eperm);
			return -1;
		}
	}
	memset(&msg, 0, sizeof msg);
	msg.kv.k = k;
	msg.kv.nk = packconfkey(k, sizeof k, key);
	qlock(&fs->mutlk);
	t = m != nil ? m->root : &fs->snap;
	if(val != nil){
		msg.op = Oinsert;
		msg.kv.v = val;
		msg.kv.nv = strlen(val);
		r = upsert(t, &msg, 1);
	}else if((r = conflook(t, key, v, &nv)) == 1){
		msg.op = Odelete;
		r = upsert(t, &msg, 1);
	}
	if(r != -1){
		qlock(&fs->mountlk);
		for(x = fs->mounts; x != nil; x = x->next)
			loadretain(x);
		qunlock(&fs->mountlk);
	}
	qunlock(&fs->mutlk);
	putmount(m);
	if(r == -1)
		return -1;
	return fssync();
}

int
setconf(char *label, char *key, char *val)
{
	return putconf(label, key, val);
}

int
clrconf(char *label, char *key)
{
	return putconf(label, key, nil);
}

/* A setting of label (nil: global) itself: 1 and its text in val, 0 if unset, -1. */
int
getconf(char *label, char *key, char *val, int nval)
{
	char v[Inlmax+1];
	Mount *m;
	int r, nv;

	m = nil;
	if(label != nil && (m = getmount(label)) == nil)
		return -1;
	epochstart();
	r = conflook(m != nil ? agetp((void**)&m->root) : &fs->snap, key, v, &nv);
	epochend();
	putmount(m);
	if(r == 1)
		snprintf(val, nval, "%s", v);
	return r;
}
