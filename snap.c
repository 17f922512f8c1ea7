/*
 * snap.c: epoch-based reclamation (runtime §2), frees deferred until a
 * commit is durable, and the building of deadlists (format §11.5).
 */
#include <assert.h>
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
	asetv(&ep.slot[myslot], agetv(&ep.epoch) | Active);
}

void
epochend(void)
{
	assert(myslot != -1);
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
			b = l->b;
			clrflag(b, Blimbo|Bdirty);
			setflag(b, Bfreed);
			qfree(b->bp.addr, 0);
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
	if(!force && behind(e) && c < fs->cache.cmax/4)
		return;
	waitall(e);
	l = asetp(&ep.limbo[(e+1)%3], nil);
	asetv(&ep.epoch, (e+1)%3);
	reclaim(l);
}

/* One cleaner at a time; a second caller just returns. */
void
epochclean(void)
{
	pthread_once(&ep.once, epochinit);
	if(!canqlock(&ep.cleanlk))
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
 * After that sync every tree that killed blocks has been committed,
 * which gives it a new memgen (format §11.2), so no kill can name the
 * same (gen, bgen) again: the descriptors are dropped.
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

	d = getdl(t->memgen, bp.gen);
	if(d->ins != nil && Logspc - d->ins->logsz < Logslop)
		closedl(d);
	if(d->ins == nil){
		if(fs->ndlist >= fs->dlcmax)
			closelru();
		if((b = newblk(&fs->snap, Tdlist, 0)) == nil)
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
