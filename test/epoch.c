/*
 * test/epoch.c: epoch-based reclamation (runtime §2): nothing retired is
 * released while a thread that could still see it is inside an epoch;
 * one cleaner; slots come back when threads exit.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Magic	= 0x5eed,
	Nreader	= 3,
	Nswap	= 20000,
};

typedef struct Obj Obj;
struct Obj {
	int	magic;
	int	val;
};

static int32_t nreleased;

static void
release(void *v)
{
	Obj *o;

	o = v;
	o->magic = 0;
	free(o);
	aincl(&nreleased, 1);
}

/* A retired object needs two advances; a thread inside an old epoch blocks them. */
static void
testorder(void)
{
	Obj *o;
	int n0;

	n0 = agetl(&nreleased);
	o = emalloc(sizeof *o);
	retirefn(release, o);
	epochclean();
	epochclean();
	is(agetl(&nreleased), n0, "two cleans do not release");
	epochclean();
	is(agetl(&nreleased), n0+1, "the third does: two advances after the retiring epoch");
}

static QLock plk;
static Rendez pr;
static int phase;

static void
waitphase(int p)
{
	qlock(&plk);
	while(phase < p)
		rsleep(&pr);
	qunlock(&plk);
}

static void
setphase(int p)
{
	qlock(&plk);
	phase = p;
	rwakeupall(&pr);
	qunlock(&plk);
}

static void
stuck(void *arg)
{
	USED(arg);
	epochstart();
	setphase(1);
	waitphase(2);
	epochend();
	setphase(3);
}

static void
teststuck(void)
{
	pthread_t t;
	Obj *o;
	int i, n0;

	qlockinit(&plk);
	rendezinit(&pr, &plk);
	phase = 0;
	launch(stuck, nil, "stuck", &t);
	waitphase(1);
	n0 = agetl(&nreleased);
	o = emalloc(sizeof *o);
	retirefn(release, o);
	for(i = 0; i < 10; i++)
		epochclean();
	is(agetl(&nreleased), n0, "nothing is released while a reader sits in an old epoch");
	setphase(2);
	waitphase(3);
	pthread_join(t, nil);
	for(i = 0; i < 3; i++)
		epochclean();
	is(agetl(&nreleased), n0+1, "released once it left");
}

/* Readers chase a pointer the writer keeps replacing; ASan sees any early free. */
static void *shared;
static int32_t stop;
static int32_t bad;

static void
reader(void *arg)
{
	Obj *o;
	int n;

	USED(arg);
	for(n = 0; !agetl(&stop) || n < 100; n++){
		epochstart();
		o = agetp(&shared);
		if(o->magic != Magic)
			aincl(&bad, 1);
		epochend();
	}
}

static void
teststress(void)
{
	pthread_t t[Nreader];
	Obj *o, *old;
	int i;

	o = emalloc(sizeof *o);
	o->magic = Magic;
	asetp(&shared, o);
	for(i = 0; i < Nreader; i++)
		launch(reader, nil, "reader", &t[i]);
	for(i = 0; i < Nswap; i++){
		o = emalloc(sizeof *o);
		o->magic = Magic;
		o->val = i;
		old = asetp(&shared, o);
		retirefn(release, old);
		if(i % 16 == 0)
			epochclean();
	}
	asetl(&stop, 1);
	for(i = 0; i < Nreader; i++)
		pthread_join(t[i], nil);
	is(agetl(&bad), 0, "no reader saw a released object");
	epochflush();
	release(asetp(&shared, nil));
	ok(1, "%d objects swapped under %d readers", Nswap, Nreader);
}

static void
brief(void *arg)
{
	USED(arg);
	epochstart();
	epochend();
}

/* Slots are per thread and come back when it exits. */
static void
testslots(void)
{
	pthread_t t;
	int i;

	for(i = 0; i < 3*Maxslot; i++){
		launch(brief, nil, "brief", &t);
		pthread_join(t, nil);
	}
	ok(1, "%d threads entered epochs, one after another", 3*Maxslot);
}

/* Blocks retired through epochs come back to the free map. */
static void
testblocks(char *img)
{
	vlong before;
	Blk *b;
	Bptr bp;

	if(ream(img) == -1 || load(img) == -1)
		return;
	before = nfreeblks();
	b = newblk(nil, Tleaf, 0);
	enqueue(b);
	bp = b->bp;
	ok(nfreeblks() == before - 1, "a new block is allocated");
	freeblk(nil, b);
	ok(getflag(b) & Blimbo, "a freed resident block waits in limbo");
	dropblk(b);
	epochflush();
	qfence();
	ok(nfreeblks() == before, "after the epochs and the syncer it is free again");
	ok(cachelookup(bp.addr) == nil, "and no longer cached");
	b = newblk(nil, Tleaf, 0);
	bp = b->bp;
	enqueue(b);
	dropblk(b);
	freebp(nil, bp);
	epochflush();
	qfence();
	ok(nfreeblks() == before, "a freed pointer too");
	closefs();
}

int
main(void)
{
	char *img;

	img = mkimg("vol", 1LL<<30);
	testorder();
	teststuck();
	teststress();
	testslots();
	testblocks(img);
	rmtmp();
	return done();
}
