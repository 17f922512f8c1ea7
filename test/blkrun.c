/*
 * test/blkrun.c: runs of blocks next to each other on the disk.
 * Batched reads into the cache (blk.c readblks): the blocks come in with
 * their bytes verified, holes and already-cached blocks are skipped, a
 * block whose hash does not match is not cached (getblk reports it), no
 * buffer is left held, and a cache almost entirely held still serves.
 * Batched writes by the syncer: a run queued together lands whole, but
 * for a block freed while it waited, which is not written.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Nblk	= 150,
	Ncache	= 8*2 + Cachemin + 300,
	Nthr	= 8,
	Niter	= 200,
	Nrun	= 100,		/* more than the syncer writes with one call */
};

static Bptr bp[Nblk];

static int
check(Blk *b, int i)
{
	int j;

	for(j = 0; j < Blksz; j += 777)
		if(b->buf[j] != (char)(i*31 + j))
			return 0;
	return 1;
}

/* Nblk blocks of streaming data, consecutive on the disk, committed. */
static int
mkblocks(char *img)
{
	Blk *b;
	int i, j, seq;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return -1;
	}
	seq = 1;
	for(i = 0; i < Nblk; i++){
		if((b = allocblk(nil, Tdat, 0, 1)) == nil){
			diag("alloc: %s", errstr());
			return -1;
		}
		for(j = 0; j < Blksz; j++)
			b->buf[j] = i*31 + j;
		enqueue(b);
		bp[i] = b->bp;
		dropblk(b);
		if(i > 0 && bp[i].addr != bp[i-1].addr + Blksz)
			seq = 0;
	}
	ok(seq, "streaming allocation put %d blocks next to each other", Nblk);
	ok(fssync() == 0, "committed");
	closefs();
	return 0;
}

static int
held(void)
{
	long idle, used, cmax;

	cachestat(&idle, &used, &cmax);
	return used - idle - 2*fs->narena;
}

static void
testread(char *img)
{
	Bptr v[Nblk];
	long idle, used, cmax;
	Blk *b;
	int i, good, cached;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	memcpy(v, bp, sizeof v);
	v[10].addr = -1;		/* holes */
	v[11].addr = -1;
	v[70].hash ^= 1;		/* a pointer whose hash does not match */
	b = getblk(bp[40], GBraw);	/* one block cached already */
	dropblk(b);
	readblks(v, Nblk);
	is(held(), 0, "no buffer left held");
	cachestat(&idle, &used, &cmax);
	ok(used <= cmax, "within the cache (%ld of %ld buffers)", used, cmax);
	good = 1;
	cached = 0;
	for(i = 0; i < Nblk; i++){
		if(i == 10 || i == 11 || i == 70)
			continue;
		if((b = cachelookup(bp[i].addr)) != nil){
			cached++;
			good &= b->type == Tdat && b->bp.hash == bp[i].hash && check(b, i);
			dropblk(b);
		}
	}
	is(cached, Nblk - 3, "every block but the holes and the bad one came in");
	ok(good, "with its own bytes and hash");
	ok(cachelookup(bp[10].addr) == nil && cachelookup(bp[11].addr) == nil, "holes are not read");
	ok(cachelookup(bp[70].addr) == nil, "a block not matching its pointer's hash is not cached");
	b = getblk(v[70], GBraw);
	ok(b == nil && iserr(Ecorrupt), "getblk then reports it: %s", errstr());
	ok(isrdonly(), "and the file system goes read-only, as for any corrupt block");
	closefs();
}

/* All but a few buffers held: runs shrink to what the cache allows. */
static void
testtight(char *img)
{
	Blk *h[Ncache];
	long idle, used, cmax;
	int i, n, good;
	Blk *b;

	if(loadfs(img, 0, (vlong)(Cachemin + 8*2 + 16)*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	cachestat(&idle, &used, &cmax);
	/* hold every buffer but cmax/16 + 1, with blocks read one by one */
	n = cmax - 2*fs->narena - (cmax/16 + 1);
	for(i = 0; i < n; i++)
		h[i] = getblk(bp[i], GBraw);
	readblks(bp + n, Nblk - n);
	good = 1;
	for(i = n; i < Nblk; i++){
		b = getblk(bp[i], GBraw);
		good &= b != nil && check(b, i);
		dropblk(b);
	}
	ok(good, "with %d of %ld buffers held, readblks and getblk still serve", n, cmax);
	for(i = 0; i < n; i++)
		dropblk(h[i]);
	is(held(), 0, "nothing left held");
	cachestat(&idle, &used, &cmax);
	ok(used <= cmax, "never more buffers than the cache (%ld of %ld)", used, cmax);
	closefs();
}

static int32_t bad;

/* Batched and single reads of the same blocks, racing: each is cached once. */
static void
reader(void *arg)
{
	uvlong x;
	Blk *b;
	int i, k, n;

	x = (uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
	epochstart();
	for(i = 0; i < Niter; i++){
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		k = x % Nblk;
		n = MIN(Nblk - k, 1 + (int)(x>>20) % Rdbatch);
		readblks(bp + k, n);
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
	int i;

	/* a cache smaller than the blocks: runs evict each other */
	if(loadfs(img, 0, (vlong)(Cachemin + 8*2 + 40)*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	for(i = 0; i < Nthr; i++)
		launch(reader, (void*)(uintptr_t)(i+1), "reader", &t[i]);
	for(i = 0; i < Nthr; i++)
		pthread_join(t[i], nil);
	is(agetl(&bad), 0, "%d threads, %d batched reads each, all verified", Nthr, Niter);
	ok(!isrdonly(), "no error along the way");
	is(held(), 0, "nothing left held");
	closefs();
}

/* Park the syncer on an arena lock, queue a run, free one block of it. */
static void
testwrite(char *img)
{
	Blk *d[Nrun];
	char buf[Blksz], zero[Blksz];
	vlong hold;
	Arena *a;
	int i, seq, good;

	if(loadfs(img, 0, (vlong)Ncache*Blksz) == -1){
		diag("load: %s", errstr());
		return;
	}
	hold = blkalloc(Tleaf, 0, 0);
	a = getarena(hold);
	qlock(&a->lk);
	qfree(hold, 0);
	qbarrier();
	seq = 1;
	for(i = 0; i < Nrun; i++){
		d[i] = allocblk(nil, Tdat, 0, 1);
		memset(d[i]->buf, 'a'+i%26, Blksz);
		enqueue(d[i]);
		/* the first may fill a hole the earlier tests left */
		if(i > 1 && d[i]->bp.addr != d[i-1]->bp.addr + Blksz)
			seq = 0;
	}
	ok(seq, "%d blocks queued, next to each other on the disk", Nrun-1);
	cachedel(d[Nrun/2]->bp.addr);
	qunlock(&a->lk);
	ok(qfence() == 0, "written and flushed");
	memset(zero, 0, sizeof zero);
	good = 1;
	for(i = 0; i < Nrun; i++){
		if(peek(fs->dev, d[i]->bp.addr, buf, Blksz) == -1)
			good = 0;
		else if(i == Nrun/2)
			ok(memcmp(buf, zero, Blksz) == 0, "the block freed while it waited was not written");
		else
			good &= memcmp(buf, d[i]->buf, Blksz) == 0;
		good &= !(getflag(d[i]) & Bdirty);
		dropblk(d[i]);
	}
	ok(good, "every other block of the run is on disk, and clean");
	closefs();
}

int
main(void)
{
	char *img;

	img = mkimg("vol", 1LL<<30);
	if(ream(img) == -1 || mkblocks(img) == -1)
		return 1;
	testthreads(img);
	testtight(img);
	testwrite(img);
	testread(img);
	rmtmp();
	return done();
}
