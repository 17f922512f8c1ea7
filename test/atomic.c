/*
 * atomic.h, exactly: the result of every operation at the edges of its
 * width, then threads hammering each one with totals known in advance.
 * test/atomics.t builds this for other machines and runs it under
 * qemu-user; make builds it natively (and, for TSan, on atomic-c11.c).
 *
 * usage: atomic [scale]	scale multiplies the iteration counts
 *
 * A broken atomic can leave the threads waiting for each other forever;
 * an alarm turns that into a failure.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include "test/tap.h"

enum {
	Nthread	= 4,
	Guard32	= 0x5a5a5a5a,
	Niter	= 5000,		/* per thread and test, at scale 1 */
	Nround	= 5000,		/* store-buffering rounds, at scale 1 */
	Nmsg	= 1250,		/* message-passing rounds, at scale 1 */
	Nmp	= 8,		/* words per message */
	Timeout	= 900,		/* seconds: a hang guard, generous for loaded machines */
};

#define Guard64	0x5a5a5a5a5a5a5a5aLL
#define Both	0x100000001LL		/* adds 1 to each 32-bit half */

typedef struct G32 G32;
typedef struct G64 G64;
typedef struct Gp Gp;
typedef struct Worker Worker;
typedef struct Pair Pair;
typedef struct Token Token;

/* A value between two guards: an operation of the wrong width hits one. */
struct G32 {
	int32_t	lo;
	int32_t	x;
	int32_t	hi;
};

struct G64 {
	int64_t	lo;
	int64_t	x;
	int64_t	hi;
};

struct Gp {
	void	*lo;
	void	*x;
	void	*hi;
};

/* One thread of a stress test: what it did and what it saw go wrong. */
struct Worker {
	int	id;
	pthread_t	tid;
	int32_t	*rets;		/* values aincl returned to it */
	int64_t	n;
	int64_t	bad;
};

/* Two words that a lock keeps consistent: b == ~a whenever it is free. */
struct Pair {
	int64_t	a;
	int64_t	b;
};

struct Token {
	int	owner;
	int64_t	n;
};

static int niter;		/* per thread, in each stress test */
static int nround;
static int nmsg;
static int32_t go;		/* start gate: the threads begin together */

static void
gate(void)
{
	while(agetl(&go) == 0)
		sched_yield();
}

/* Start n workers, prepared by the caller, together; wait for them all. */
static void
run(void *(*fn)(void*), Worker *w, int n)
{
	int i;

	asetl(&go, 0);
	for(i = 0; i < n; i++){
		w[i].id = i;
		if(pthread_create(&w[i].tid, nil, fn, &w[i]) != 0){
			diag("pthread_create failed");
			exit(2);
		}
	}
	asetl(&go, 1);
	for(i = 0; i < n; i++)
		pthread_join(w[i].tid, nil);
}

static int64_t
sum(Worker *w, int n, int bad)
{
	int64_t s;
	int i;

	s = 0;
	for(i = 0; i < n; i++)
		s += bad ? w[i].bad : w[i].n;
	return s;
}

/* ------------------------------------------------- single-threaded */

static void
exact32(void)
{
	G32 g = {Guard32, 0, Guard32};

	is(agetl(&g.x), 0, "agetl 0");
	is(asetl(&g.x, 5), 0, "asetl returns the old value 0");
	is(g.x, 5, "asetl stores 5");
	is(asetl(&g.x, INT32_MIN), 5, "asetl returns the old value 5");
	is(agetl(&g.x), INT32_MIN, "agetl INT32_MIN comes back negative");
	is(asetl(&g.x, -1), INT32_MIN, "asetl returns INT32_MIN negative");
	is(aincl(&g.x, 1), 0, "aincl -1+1 returns the new value 0");
	is(aincl(&g.x, 3), 3, "aincl 0+3 returns the new value 3");
	is(aincl(&g.x, -10), -7, "aincl 3-10 returns -7");
	is(aincl(&g.x, 0), -7, "aincl of 0 returns the current value");
	g.x = INT32_MAX;
	is(aincl(&g.x, 1), INT32_MIN, "aincl wraps from INT32_MAX to INT32_MIN");
	is(aincl(&g.x, -1), INT32_MAX, "aincl wraps back down");
	g.x = -1;
	is(aincl(&g.x, 1), 0, "aincl -1+1 carries out of 32 bits, not into the next word");
	is(g.x, 0, "aincl stores 0");
	g.x = 7;
	is(acasl(&g.x, 8, 9), 0, "acasl fails when the old value differs");
	is(g.x, 7, "failed acasl leaves the value alone");
	is(acasl(&g.x, 7, 9), 1, "acasl succeeds when the old value matches");
	is(g.x, 9, "acasl stores the new value");
	g.x = (int32_t)0x80000001;
	is(acasl(&g.x, 1, 2), 0, "acasl compares the top bit");
	is(acasl(&g.x, (int32_t)0x80000001, -2), 1, "acasl matches a value with the top bit set");
	is(agetl(&g.x), -2, "acasl stores -2");
	ok(g.lo == Guard32 && g.hi == Guard32, "32-bit operations touch 32 bits only");
}

static void
exact64(void)
{
	G64 g = {Guard64, 0, Guard64};

	is(agetv(&g.x), 0, "agetv 0");
	is(asetv(&g.x, 0x123456789abcdef0LL), 0, "asetv returns the old value 0");
	is(agetv(&g.x), 0x123456789abcdef0LL, "agetv reads both words");
	is(asetv(&g.x, INT64_MIN), 0x123456789abcdef0LL, "asetv returns both words of the old value");
	is(asetv(&g.x, (int64_t)0x8000000180000002ULL), INT64_MIN, "asetv returns INT64_MIN");
	is(agetv(&g.x), (int64_t)0x8000000180000002ULL, "agetv with the top bit of both words set");
	g.x = 0xffffffffLL;
	is(aincv(&g.x, 1), 0x100000000LL, "aincv carries from the low word into the high");
	is(aincv(&g.x, -1), 0xffffffffLL, "aincv borrows from the high word");
	is(aincv(&g.x, 0x100000000LL), 0x1ffffffffLL, "aincv of a delta above 32 bits");
	is(aincv(&g.x, -0x200000000LL), -1, "aincv of a large negative delta returns -1");
	is(aincv(&g.x, 1), 0, "aincv -1+1 returns the new value 0");
	is(aincv(&g.x, 0), 0, "aincv of 0 returns the current value");
	g.x = INT64_MAX;
	is(aincv(&g.x, 1), INT64_MIN, "aincv wraps from INT64_MAX to INT64_MIN");
	g.x = 0x100000005LL;
	is(acasv(&g.x, 5, 6), 0, "acasv compares the high word");
	is(acasv(&g.x, 0x200000005LL, 6), 0, "acasv compares all of the high word");
	is(acasv(&g.x, 0x100000006LL, 6), 0, "acasv compares the low word");
	is(g.x, 0x100000005LL, "failed acasv leaves the value alone");
	is(acasv(&g.x, 0x100000005LL, 0x700000000LL), 1, "acasv succeeds when both words match");
	is(g.x, 0x700000000LL, "acasv stores both words");
	is(acasv(&g.x, 0x700000000LL, INT64_MIN), 1, "acasv stores INT64_MIN");
	is(acasv(&g.x, INT64_MIN, -1), 1, "acasv matches INT64_MIN");
	is(g.x, -1, "acasv stores -1");
	ok(g.lo == Guard64 && g.hi == Guard64, "64-bit operations touch 64 bits only");
}

static void
exactp(void)
{
	static char buf[4];
	void *top;
	Gp g = {buf, nil, buf};

	top = (void*)~(uintptr_t)0;
	ok(agetp(&g.x) == nil, "agetp nil");
	ok(asetp(&g.x, &buf[1]) == nil, "asetp returns the old pointer nil");
	ok(asetp(&g.x, &buf[2]) == &buf[1], "asetp returns the old pointer");
	ok(agetp(&g.x) == &buf[2], "agetp reads the pointer asetp stored");
	ok(acasp(&g.x, &buf[1], &buf[3]) == 0, "acasp fails when the old pointer differs");
	ok(g.x == &buf[2], "failed acasp leaves the pointer alone");
	ok(acasp(&g.x, &buf[2], top) == 1, "acasp succeeds when the old pointer matches");
	ok(agetp(&g.x) == top, "a pointer with every bit set survives");
	ok(acasp(&g.x, top, nil) == 1, "acasp matches a pointer with every bit set");
	ok(asetp(&g.x, buf) == nil, "acasp stored nil");
	ok(g.lo == buf && g.hi == buf, "pointer operations touch one pointer only");
}

/* ------------------------------------------------------ counters */

static int32_t cnt32;
static int64_t cnt64;
static int32_t down32;
static int64_t down64;

static void*
incr(void *a)
{
	Worker *w;
	int i;

	w = a;
	gate();
	for(i = 0; i < niter; i++){
		w->rets[i] = aincl(&cnt32, 1);
		aincv(&cnt64, Both);
		aincl(&down32, -3);
		aincv(&down64, -Both);
	}
	return nil;
}

static void
counters(void)
{
	Worker w[Nthread];
	int32_t *rets;
	uchar *seen;
	int64_t start, total, dup;
	int i, j;

	total = (int64_t)Nthread*niter;
	rets = calloc(total, sizeof *rets);
	seen = calloc(total+1, 1);
	if(rets == nil || seen == nil)
		exit(2);
	start = 0xffffffffLL - total/2;
	cnt32 = 0;
	cnt64 = start;
	down32 = 0;
	down64 = 0;
	memset(w, 0, sizeof w);
	for(i = 0; i < Nthread; i++)
		w[i].rets = rets + (int64_t)i*niter;
	run(incr, w, Nthread);
	is(cnt32, total, "aincl from %d threads: exact total", Nthread);
	is(cnt64, start + total*Both, "aincv across the 32-bit boundary: exact total");
	is(down32, -3*total, "aincl with a negative delta: exact total");
	is(down64, -total*Both, "aincv with a negative delta: exact total");
	dup = 0;
	for(j = 0; j < total; j++){
		if(rets[j] < 1 || rets[j] > total || seen[rets[j]]++)
			dup++;
	}
	is(dup, 0, "aincl returned each new value 1..%lld exactly once", (long long)total);
	free(rets);
	free(seen);
}

/* ---------------------------------------------------- cas loops */

static int32_t cas32;
static int64_t cas64;
static void *next;		/* bump pointer into slots */
static char *slots;

static void*
casloop(void *a)
{
	Worker *w;
	int32_t o32;
	int64_t o64;
	char *p;
	int i;

	w = a;
	gate();
	for(i = 0; i < niter; i++){
		do
			o32 = agetl(&cas32);
		while(!acasl(&cas32, o32, (int32_t)((uint32_t)o32 - 1)));
		do
			o64 = agetv(&cas64);
		while(!acasv(&cas64, o64, o64+1));
		do
			p = agetp(&next);
		while(!acasp(&next, p, p+1));
		if(*p != 0)
			w->bad++;
		*p = w->id+1;
	}
	return nil;
}

static void
casloops(void)
{
	Worker w[Nthread];
	int64_t total, start, miss, wrong;
	int64_t per[Nthread];
	int32_t start32;
	int i;

	total = (int64_t)Nthread*niter;
	slots = calloc(total+1, 1);
	if(slots == nil)
		exit(2);
	next = slots;
	start32 = INT32_MIN + total/2;
	cas32 = start32;
	start = 0x100000000LL - total/2;
	cas64 = start;
	memset(w, 0, sizeof w);
	run(casloop, w, Nthread);
	is(cas32, (int32_t)((uint32_t)start32 - (uint32_t)total), "acasl counter down through INT32_MIN: exact total");
	is(cas64, start + total, "acasv counter across 2^32: exact total");
	ok((char*)next == slots + total, "acasp bump pointer: exact total");
	is(sum(w, Nthread, 1), 0, "acasp handed out no slot twice");
	memset(per, 0, sizeof per);
	miss = wrong = 0;
	for(i = 0; i < total; i++){
		if(slots[i] == 0)
			miss++;
		else if(slots[i] > Nthread)
			wrong++;
		else
			per[slots[i]-1]++;
	}
	is(miss + wrong, 0, "acasp: every slot claimed by one thread");
	for(i = 0; i < Nthread; i++)
		if(per[i] != niter)
			wrong++;
	is(wrong, 0, "acasp: each thread claimed its %d slots", niter);
	free(slots);
}

/* ---------------------------------------------------- spin locks */

static int32_t caslock;
static int32_t taslock;
static int64_t ownlock;
static Pair pair[3];

/* Check the pair is whole, then change it one word at a time. */
static int
touch(Pair *p)
{
	int bad;

	bad = p->b != ~p->a;
	p->a++;
	p->b = ~p->a;
	return bad;
}

static void*
locker(void *a)
{
	Worker *w;
	int64_t me;
	int i;

	w = a;
	me = (int64_t)(w->id+1) << 32 | 1;
	gate();
	for(i = 0; i < niter; i++){
		while(!acasl(&caslock, 0, 1))
			while(agetl(&caslock) != 0)
				sched_yield();
		w->bad += touch(&pair[0]);
		if(asetl(&caslock, 0) != 1)
			w->bad++;

		while(asetl(&taslock, 1) != 0)
			while(agetl(&taslock) != 0)
				sched_yield();
		w->bad += touch(&pair[1]);
		if(asetl(&taslock, 0) != 1)
			w->bad++;

		while(!acasv(&ownlock, 0, me))
			while(agetv(&ownlock) != 0)
				sched_yield();
		w->bad += touch(&pair[2]);
		if(asetv(&ownlock, 0) != me)
			w->bad++;
	}
	return nil;
}

static void
locks(void)
{
	Worker w[Nthread];
	int64_t total;
	int i;

	total = (int64_t)Nthread*niter;
	for(i = 0; i < 3; i++){
		pair[i].a = 0;
		pair[i].b = ~0LL;
	}
	memset(w, 0, sizeof w);
	run(locker, w, Nthread);
	is(sum(w, Nthread, 1), 0, "spin locks: the pairs were never seen torn, unlock found its own lock");
	is(pair[0].a, total, "acasl spin lock: no update lost");
	is(pair[1].a, total, "asetl test-and-set lock: no update lost");
	is(pair[2].a, total, "acasv owner lock: no update lost");
	ok(pair[0].b == ~pair[0].a && pair[1].b == ~pair[1].a && pair[2].b == ~pair[2].a,
		"spin locks: the pairs are whole at the end");
}

/* ------------------------------------------- exchange: token passing */

static Token token;
static void *slotp;
static int32_t slot32;
static int64_t slot64;

/* Take a token by exchanging it with an empty value; put it back. */
static void*
passer(void *a)
{
	Worker *w;
	Token *t;
	int32_t v32;
	int64_t v64;
	int i;

	w = a;
	gate();
	for(i = 0; i < niter; i++){
		while((t = asetp(&slotp, nil)) == nil)
			sched_yield();
		if(t->owner != 0)
			w->bad++;
		t->owner = w->id+1;
		t->n++;
		if(t->owner != w->id+1)
			w->bad++;
		t->owner = 0;
		if(asetp(&slotp, t) != nil)
			w->bad++;

		while((v32 = asetl(&slot32, 0)) == 0)
			sched_yield();
		if(asetl(&slot32, v32+1) != 0)
			w->bad++;

		while((v64 = asetv(&slot64, 0)) == 0)
			sched_yield();
		if(asetv(&slot64, v64+Both) != 0)
			w->bad++;
	}
	return nil;
}

static void
tokens(void)
{
	Worker w[Nthread];
	int64_t total, start;

	total = (int64_t)Nthread*niter;
	token.n = 0;
	token.owner = 0;
	slotp = &token;
	slot32 = 1;
	start = 0xffffffffLL - total/2;
	slot64 = start;
	memset(w, 0, sizeof w);
	run(passer, w, Nthread);
	is(sum(w, Nthread, 1), 0, "exchange: one token only, its owner alone");
	ok(slotp == &token, "asetp: the token is back in its slot");
	is(token.n, total, "asetp: every pass counted");
	is(slot32, 1 + total, "asetl token: every pass counted");
	is(slot64, start + total*Both, "asetv token: every pass counted");
}

/* ----------------------------------------- 64-bit values never torn */

static int64_t wide;
static int32_t widedone;

/* Each value has equal halves and they only grow; readers check both. */
static void*
widewriter(void *a)
{
	int64_t v;
	int i;

	USED(a);
	gate();
	for(i = 1; i <= 4*niter; i++){
		v = (int64_t)i*Both;
		switch(i%3){
		case 0:
			asetv(&wide, v);
			break;
		case 1:
			aincv(&wide, Both);
			break;
		case 2:
			acasv(&wide, v-Both, v);
			break;
		}
	}
	asetl(&widedone, 1);
	return nil;
}

static void*
widereader(void *a)
{
	Worker *w;
	int64_t v, last;
	int done;

	w = a;
	gate();
	last = 0;
	do{
		done = agetl(&widedone);
		v = agetv(&wide);
		if((uint32_t)(v>>32) != (uint32_t)v || v < last)
			w->bad++;
		last = v;
		w->n++;
	}while(!done);
	return nil;
}

static void*
wideone(void *a)
{
	Worker *w;

	w = a;
	if(w->id == 0)
		return widewriter(a);
	return widereader(a);
}

static void
widevalues(void)
{
	Worker w[Nthread];

	wide = 0;
	widedone = 0;
	memset(w, 0, sizeof w);
	run(wideone, w, Nthread);
	is(wide, 4*niter*Both, "64-bit writer: every step taken");
	is(sum(w, Nthread, 1), 0, "agetv never saw a torn or older 64-bit value (%lld reads)",
		(long long)sum(w, Nthread, 0));
}

/*
 * The writer flips all 64 bits with every operation (aincv by carrying
 * through both words), as fast as it can, from before the readers start
 * until they have all finished: the most chances to catch a load or a
 * store done in two halves.
 */
static int32_t flipping;
static int32_t flipreaders;

static void*
flipone(void *a)
{
	Worker *w;
	int64_t v;
	int i;

	w = a;
	gate();
	if(w->id == 0){
		do{
			asetv(&wide, -1);
			asetl(&flipping, 1);
			if(aincv(&wide, 1) != 0)
				w->bad++;
			if(!acasv(&wide, 0, -1))
				w->bad++;
			if(aincv(&wide, 1) != 0)
				w->bad++;
			w->n += 4;
		}while(agetl(&flipreaders) > 0);
		return nil;
	}
	while(agetl(&flipping) == 0)
		sched_yield();
	for(i = 0; i < 4*niter; i++){
		v = agetv(&wide);
		if(v != 0 && v != -1)
			w->bad++;
	}
	aincl(&flipreaders, -1);
	return nil;
}

static void
flips(void)
{
	Worker w[Nthread];

	wide = 0;
	flipping = 0;
	flipreaders = Nthread-1;
	memset(w, 0, sizeof w);
	run(flipone, w, Nthread);
	is(sum(w, Nthread, 1), 0, "64 bits flipped %lld times during %lld reads, never seen or changed by halves",
		(long long)w[0].n, (long long)(Nthread-1)*4*niter);
}

/* ----------------------------------------- ordering: fences, acquire */

static _Atomic int32_t sbx, sby;
static int32_t sbround;		/* round the two threads are in */
static int32_t sbarrive;
static int32_t sbseen[2];	/* what each saw of the other's store */
static int32_t mpdata[Nmp];
static int32_t mpflag;

/*
 * Store buffering: each thread stores to its variable, fences, loads the
 * other's.  Without a store-load fence both may read the old values.
 * Relaxed C11 accesses compile to plain loads and stores, so only
 * coherence() orders them.
 */
static void*
sbthread(void *a)
{
	Worker *w;
	_Atomic int32_t *mine, *theirs;
	int32_t r, seen;

	w = a;
	mine = w->id == 0 ? &sbx : &sby;
	theirs = w->id == 0 ? &sby : &sbx;
	gate();
	for(r = 1; r <= nround; r++){
		while(agetl(&sbround) != r)
			sched_yield();
		atomic_store_explicit(mine, r, memory_order_relaxed);
		coherence();
		seen = atomic_load_explicit(theirs, memory_order_relaxed);
		asetl(&sbseen[w->id], seen);
		if(aincl(&sbarrive, 1) % 2 == 0){
			if(agetl(&sbseen[0]) != r && agetl(&sbseen[1]) != r)
				w->bad++;
			w->n++;
			asetl(&sbround, r+1);
		}
	}
	return nil;
}

/*
 * Message passing: plain data published by asetl, read after agetl sees
 * the flag.  Without acquire on agetl the reader may see stale data.
 */
static void*
mpthread(void *a)
{
	Worker *w;
	int32_t r;
	int i;

	w = a;
	gate();
	for(r = 1; r <= nmsg; r++){
		if(w->id == 0){
			while(agetl(&mpflag) != 2*r-2)
				sched_yield();
			for(i = 0; i < Nmp; i++)
				mpdata[i] = r*8 + i;
			asetl(&mpflag, 2*r-1);
		}else{
			while(agetl(&mpflag) != 2*r-1)
				sched_yield();
			for(i = 0; i < Nmp; i++)
				if(mpdata[i] != r*8 + i)
					w->bad++;
			w->n++;
			asetl(&mpflag, 2*r);
		}
	}
	return nil;
}

static void
ordering(void)
{
	Worker w[2];

	sbx = sby = 0;
	sbround = 1;
	sbarrive = 0;
	memset(w, 0, sizeof w);
	run(sbthread, w, 2);
	is(sum(w, 2, 0), nround, "store buffering: all %d rounds run", nround);
	is(sum(w, 2, 1), 0, "coherence orders a store before a later load");

	mpflag = 0;
	memset(w, 0, sizeof w);
	run(mpthread, w, 2);
	is(sum(w, 2, 0), nmsg, "message passing: all %d messages read", nmsg);
	is(sum(w, 2, 1), 0, "agetl acquires what asetl released");
}

static void
timedout(int sig)
{
	static char msg[] = "not ok - timed out: threads still waiting for each other\n";

	USED(sig);
	if(write(1, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

int
main(int argc, char **argv)
{
	int scale;

	scale = argc > 1 ? atoi(argv[1]) : 1;
	if(scale < 1)
		scale = 1;
	niter = Niter*scale;
	nround = Nround*scale;
	nmsg = Nmsg*scale;
	signal(SIGALRM, timedout);
	alarm(Timeout);
	exact32();
	exact64();
	exactp();
	counters();
	casloops();
	locks();
	tokens();
	widevalues();
	flips();
	ordering();
	return done();
}
