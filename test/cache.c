/*
 * test/cache.c: the block cache (format §12): bounded, LRU, dirty
 * blocks never evicted before they are written, concurrent readers.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Nblk	= 200,
	Ncache	= 8*2 + Cachemin + 100,	/* static log buffers, the minimum, 100 more */
	Nthr	= 4,
	Niter	= 3000,
};

static Bptr bp[Nblk];

static int
check(Blk *b, int i)
{
	int j;

	for(j = 0; j < Blksz; j += 1000)
		if(b->buf[j] != (char)(i*31 + j))
			return 0;
	return 1;
}

static void
testbound(char *img)
{
	long idle, used, cmax;
	Blk *b;
	int i, good;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	for(i = 0; i < Nblk; i++){
		b = mkdata(nil, i);
		bp[i] = b->bp;
		dropblk(b);
	}
	qfence();
	cachestat(&idle, &used, &cmax);
	is(cmax, Ncache, "the cache holds -m worth of blocks");
	ok(used <= cmax, "never more buffers than that (%ld used)", used);
	good = 1;
	for(i = 0; i < Nblk; i++){
		b = getblk(bp[i], GBraw);
		good &= b != nil && check(b, i);
		dropblk(b);
	}
	ok(good, "every block reads back through a cache smaller than them all");
	ok(cachelookup(bp[0].addr) == nil, "the least recently used block was evicted");
	b = cachelookup(bp[Nblk-1].addr);
	ok(b != nil, "the most recently used one is cached");
	dropblk(b);
	cachestat(&idle, &used, &cmax);
	ok(used == cmax && idle == cmax - 2*fs->narena, "all but the static log buffers are idle on the LRU");
	ok(fssync() == 0, "committed, so the blocks stay allocated");
	closefs();
}

/* Park the syncer on an arena lock: writes queue up behind it. */
static void
testdirty(char *img)
{
	Blk *b, *d[40];
	char buf[Blksz];
	vlong hold;
	Arena *a;
	int i, good;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	hold = blkalloc(Tleaf, 0, 0);
	a = getarena(hold);
	qlock(&a->lk);
	qfree(hold, 0);
	qbarrier();
	for(i = 0; i < (int)nelem(d); i++)
		d[i] = mkdata(nil, 1000+i);
	/* read enough other blocks to cycle every idle buffer */
	for(i = 0; i < Nblk; i++){
		b = getblk(bp[i], GBraw);
		dropblk(b);
	}
	good = 1;
	for(i = 0; i < (int)nelem(d); i++){
		good &= (getflag(d[i]) & Bdirty) != 0;
		b = cachelookup(d[i]->bp.addr);
		good &= b == d[i] && check(b, 1000+i);
		dropblk(b);
	}
	ok(good, "dirty blocks stay cached while their writes wait");
	qunlock(&a->lk);
	qfence();
	good = 1;
	for(i = 0; i < (int)nelem(d); i++){
		good &= !(getflag(d[i]) & Bdirty);
		good &= peek(fs->dev, d[i]->bp.addr, buf, Blksz) == 0 && memcmp(buf, d[i]->buf, Blksz) == 0;
		dropblk(d[i]);
	}
	ok(good, "once written they are clean, and on disk");
	closefs();
}

static int32_t bad;

static void
reader(void *arg)
{
	uvlong x;
	Blk *b;
	int i, k;

	x = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	epochstart();
	for(i = 0; i < Niter; i++){
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % Nblk;
		b = getblk(bp[k], GBraw);
		if(b == nil || !check(b, k))
			aincl(&bad, 1);
		dropblk(b);
	}
	epochend();
}

static void
testthreads(char *img)
{
	pthread_t t[Nthr];
	Blk *b;
	int i;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	for(i = 0; i < Nthr; i++)
		launch(reader, (void*)(uintptr_t)(i+1), "reader", &t[i]);
	/* a writer at the same time */
	for(i = 0; i < 100; i++){
		b = mkdata(nil, 5000+i);
		dropblk(b);
	}
	for(i = 0; i < Nthr; i++)
		pthread_join(t[i], nil);
	is(agetl(&bad), 0, "%d threads, %d random reads each, through a small cache, all verified", Nthr, Niter);
	ok(!isrdonly(), "no error along the way");
	closefs();
}

int
main(void)
{
	char *img;

	img = mkimg("vol", 1LL<<30);
	if(ream(img) == -1)
		return 1;
	testbound(img);
	testdirty(img);
	testthreads(img);
	rmtmp();
	return done();
}
