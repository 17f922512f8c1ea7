/*
 * cache.c: the block cache (format §12, the post-2022 design).
 *
 * A fixed pool of cmax buffers.  A buffer nobody references sits on the
 * LRU list, which is the pool of reusable buffers; the address hash only
 * indexes buffers and holds no reference, so a cached block is simply an
 * idle buffer still known by its address, evicted when it is plucked for
 * reuse.  Dirty blocks are never evicted before they are written because
 * the write queue holds a reference until then.  Buffers past nfresh were
 * never used; they are handed out first, so memory is only touched as the
 * cache fills, and never exceeds cmax buffers.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

static void
lruunlink(Cache *c, Blk *b)
{
	b->lprev->lnext = b->lnext;
	b->lnext->lprev = b->lprev;
	b->lnext = b->lprev = nil;
	c->nlru--;
}

/* The MRU end is lru.lnext; plucking takes lru.lprev. */
static void
lrupush(Cache *c, Blk *b, int victim)
{
	Blk *h;

	h = &c->lru;
	if(victim){
		b->lnext = h;
		b->lprev = h->lprev;
	}else{
		b->lprev = h;
		b->lnext = h->lnext;
	}
	b->lprev->lnext = b;
	b->lnext->lprev = b;
	c->nlru++;
}

static Blk**
bucket(Cache *c, vlong addr)
{
	return &c->hash[ihash(addr) % c->cmax];
}

static void
hashdel(Cache *c, Blk *b)
{
	Blk **pp;

	for(pp = bucket(c, b->bp.addr); *pp != nil; pp = &(*pp)->hnext)
		if(*pp == b){
			*pp = b->hnext;
			b->hnext = nil;
			b->flag &= ~Bcached;
			return;
		}
	abort();
}

int
cacheinit(vlong bytes)
{
	Cache *c;
	int i;

	c = &fs->cache;
	if(bytes/Blksz > (1LL<<30)){
		werrstr("cache too big");
		return -1;
	}
	c->cmax = bytes/Blksz;
	if(c->cmax < Cachemin){
		werrstr("cache too small: %lld bytes, need %lld", (long long)bytes, (long long)Cachemin*Blksz);
		return -1;
	}
	qlockinit(&c->lk);
	rendezinit(&c->free, &c->lk);
	for(i = 0; i < Nstripe; i++)
		qlockinit(&c->stripe[i]);
	/* calloc: the pages of unused buffers are never touched */
	c->blks = calloc(c->cmax, sizeof(Blk));
	c->hash = calloc(c->cmax, sizeof(Blk*));
	if(c->blks == nil || c->hash == nil){
		free(c->blks);
		free(c->hash);
		werrstr("%s: cache of %ld blocks", Enomem, c->cmax);
		return -1;
	}
	c->nfresh = 0;
	c->lru.lnext = c->lru.lprev = &c->lru;
	c->nlru = 0;
	return 0;
}

void
cachefree(void)
{
	free(fs->cache.blks);
	free(fs->cache.hash);
	fs->cache.blks = nil;
	fs->cache.hash = nil;
}

/*
 * A buffer for a new block or a read: a never-used one if any, else the
 * least recently used idle one (evicting the block it cached).  Waits
 * while every buffer is referenced.
 */
Blk*
pluck(void)
{
	Cache *c;
	Blk *b;

	c = &fs->cache;
	qlock(&c->lk);
	for(;;){
		if(c->nfresh < c->cmax){
			b = &c->blks[c->nfresh++];
			break;
		}
		if(c->nlru > 0){
			b = c->lru.lprev;
			lruunlink(c, b);
			if(b->flag & Bcached)
				hashdel(c, b);
			break;
		}
		rsleep(&c->free);
	}
	b->ref = 1;
	b->flag = 0;
	qunlock(&c->lk);
	b->hnext = nil;
	b->bp.addr = -1;
	b->bp.hash = -1;
	b->bp.gen = -1;
	return b;
}

/* A buffer owned for good: arena log tails. */
Blk*
staticblk(void)
{
	Blk *b;

	b = pluck();
	setflag(b, Bstatic);
	return b;
}

/* The cached block at addr, held, or nil. */
Blk*
cachelookup(vlong addr)
{
	Cache *c;
	Blk *b;

	c = &fs->cache;
	qlock(&c->lk);
	for(b = *bucket(c, addr); b != nil; b = b->hnext)
		if(b->bp.addr == addr)
			break;
	if(b != nil){
		if(b->ref == 0)
			lruunlink(c, b);
		b->ref++;
	}
	qunlock(&c->lk);
	return b;
}

/* Index b by its address; a second buffer for the same block is a bug. */
int
cacheins(Blk *b)
{
	Cache *c;
	Blk *o, **h;

	c = &fs->cache;
	qlock(&c->lk);
	if(b->flag & Bcached){
		qunlock(&c->lk);
		return 0;
	}
	h = bucket(c, b->bp.addr);
	for(o = *h; o != nil; o = o->hnext)
		if(o->bp.addr == b->bp.addr){
			qunlock(&c->lk);
			werrstr("%s: block %#llx cached twice", Efs, (unsigned long long)b->bp.addr);
			return -1;
		}
	b->hnext = *h;
	*h = b;
	b->flag |= Bcached;
	qunlock(&c->lk);
	return 0;
}

/*
 * The disk block at addr was freed: forget it, and make any buffer that
 * held it the next to be reused.
 */
void
cachedel(vlong addr)
{
	Cache *c;
	Blk *b;

	c = &fs->cache;
	qlock(&c->lk);
	for(b = *bucket(c, addr); b != nil; b = b->hnext)
		if(b->bp.addr == addr)
			break;
	if(b != nil){
		hashdel(c, b);
		b->flag |= Bfreed;
		b->flag &= ~Bdirty;
		if(b->ref == 0){
			lruunlink(c, b);
			lrupush(c, b, 1);
		}
	}
	qunlock(&c->lk);
}

Blk*
holdblk(Blk *b)
{
	Cache *c;

	c = &fs->cache;
	qlock(&c->lk);
	assert(b->ref > 0);
	b->ref++;
	qunlock(&c->lk);
	return b;
}

/* The last reference puts b on the LRU: freed blocks at the victim end. */
void
dropblk(Blk *b)
{
	Cache *c;

	if(b == nil)
		return;
	c = &fs->cache;
	qlock(&c->lk);
	assert(b->ref > 0);
	if(--b->ref == 0){
		assert(!(b->flag & Bstatic));
		lrupush(c, b, (b->flag & Bfreed) != 0);
		rwakeup(&c->free);
	}
	qunlock(&c->lk);
}

long
getflag(Blk *b)
{
	long f;

	qlock(&fs->cache.lk);
	f = b->flag;
	qunlock(&fs->cache.lk);
	return f;
}

void
setflag(Blk *b, long f)
{
	qlock(&fs->cache.lk);
	b->flag |= f;
	qunlock(&fs->cache.lk);
}

void
clrflag(Blk *b, long f)
{
	qlock(&fs->cache.lk);
	b->flag &= ~f;
	qunlock(&fs->cache.lk);
}

/* Counts for tests and the console: idle buffers and buffers ever used. */
void
cachestat(long *idle, long *used, long *cmax)
{
	qlock(&fs->cache.lk);
	*idle = fs->cache.nlru;
	*used = fs->cache.nfresh;
	*cmax = fs->cache.cmax;
	qunlock(&fs->cache.lk);
}
