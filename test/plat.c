/*
 * Unit tests of the platform layer (plat.c) and of the error mechanism
 * (error.c): every lock under contention, rendezvous wakeups and timeouts,
 * channels with many senders and receivers, close, logging, allocation.
 * A lock or wakeup that fails by hanging is caught by the watchdog alarm.
 */
#define _GNU_SOURCE		/* pthread_getname_np */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"

/* Let the child that tests running out of memory get nil, not a report. */
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
const char *__tsan_default_options(void) { return "allocator_may_return_null=1"; }

enum {
	Nthr	= 8,
	Niter	= 20000,
};

static void
join(pthread_t t)
{
	if(pthread_join(t, nil) != 0)
		sysfatal("pthread_join failed");
}

static pthread_t
start(void (*fn)(void*), void *arg, char *name)
{
	pthread_t t;

	if(launch(fn, arg, name, &t) == -1)
		sysfatal("%s", errstr());
	return t;
}

/* Run fn(arg) on n joinable threads and wait for them all. */
static void
crowd(int n, void (*fn)(void*), void *arg)
{
	pthread_t t[Nthr];
	int i;

	for(i = 0; i < n; i++)
		t[i] = start(fn, arg, "crowd");
	for(i = 0; i < n; i++)
		join(t[i]);
}

/* --------------------------------------------------------------- locks */

static Lock spin;
static QLock qlk;
static volatile vlong counter;

/* A read-modify-write in two steps: without the lock, updates get lost. */
static void
bump(void)
{
	vlong v;

	v = counter;
	if((v & 0xff) == 0)
		sched_yield();
	counter = v+1;
}

static void
spinworker(void *arg)
{
	int i;

	for(i = 0; i < Niter; i++){
		lock(&spin);
		bump();
		unlock(&spin);
	}
}

static void
qworker(void *arg)
{
	int i;

	for(i = 0; i < Niter; i++){
		qlock(&qlk);
		bump();
		qunlock(&qlk);
	}
}

static void
canqlockother(void *arg)
{
	*(int*)arg = canqlock(&qlk);
	if(*(int*)arg)
		qunlock(&qlk);
}

static void
testlocks(void)
{
	pthread_t t;
	int r;

	counter = 0;
	crowd(Nthr, spinworker, nil);
	is(counter, Nthr*Niter, "Lock: %d threads x %d increments, none lost", Nthr, Niter);
	lock(&spin);
	ok(!canlock(&spin), "canlock fails while the Lock is held");
	unlock(&spin);
	ok(canlock(&spin), "canlock succeeds once it is released");
	unlock(&spin);

	qlockinit(&qlk);
	counter = 0;
	crowd(Nthr, qworker, nil);
	is(counter, Nthr*Niter, "QLock: %d threads x %d increments, none lost", Nthr, Niter);
	qlock(&qlk);
	r = -1;
	t = start(canqlockother, &r, "canqlock");
	join(t);
	is(r, 0, "canqlock from another thread fails while the QLock is held");
	qunlock(&qlk);
	t = start(canqlockother, &r, "canqlock");
	join(t);
	is(r, 1, "canqlock succeeds once it is released");
}

/* ------------------------------------------------------------- rwlocks */

static RWLock rw;
static vlong rwa, rwb;
static int torn;
static Lock tornlk;

static void
rwwriter(void *arg)
{
	int i;

	for(i = 0; i < Niter; i++){
		wlock(&rw);
		rwa++;
		if((i & 0x3f) == 0)
			sched_yield();
		rwb++;
		wunlock(&rw);
	}
}

static void
rwreader(void *arg)
{
	int i, bad;

	bad = 0;
	for(i = 0; i < Niter; i++){
		rlock(&rw);
		if(rwa != rwb)
			bad++;
		runlock(&rw);
	}
	lock(&tornlk);
	torn += bad;
	unlock(&tornlk);
}

static void
rwmixed(void *arg)
{
	if(aincl(arg, 1) % 2)
		rwwriter(nil);
	else
		rwreader(nil);
}

/* Takes a read lock while the main thread holds one: exclusive locks would hang. */
static void
rwsecond(void *arg)
{
	rlock(&rw);
	*(int*)arg = 1;
	runlock(&rw);
}

static void
testrwlock(void)
{
	pthread_t t;
	s32int n;
	int got;

	rwlockinit(&rw);
	n = 0;
	crowd(Nthr, rwmixed, &n);
	is(rwa, Nthr/2*Niter, "RWLock: writers' increments all counted");
	is(rwb, rwa, "RWLock: both halves of every write counted");
	is(torn, 0, "RWLock: no reader saw a half-done write");

	rlock(&rw);
	got = 0;
	t = start(rwsecond, &got, "reader");
	join(t);
	ok(got, "RWLock: two readers hold it at once");
	runlock(&rw);
}

/* ------------------------------------------------------------ rendezvous */

typedef struct Meet Meet;
struct Meet {
	QLock	lk;
	Rendez	r;
	Rendez	back;
	int	state;
	int	waiting;
	int	woken;
};

static void
meetinit(Meet *m)
{
	memset(m, 0, sizeof *m);
	qlockinit(&m->lk);
	rendezinit(&m->r, &m->lk);
	rendezinit(&m->back, &m->lk);
}

static void
pingpong(void *arg)
{
	Meet *m;

	m = arg;
	qlock(&m->lk);
	while(m->state != 1)
		rsleep(&m->r);
	m->state = 2;
	rwakeup(&m->back);
	qunlock(&m->lk);
}

static void
sleeper(void *arg)
{
	Meet *m;

	m = arg;
	qlock(&m->lk);
	m->waiting++;
	rwakeup(&m->back);
	while(m->state == 0)
		rsleep(&m->r);
	m->woken++;
	qunlock(&m->lk);
}

static void
waker(void *arg)
{
	Meet *m;

	m = arg;
	qlock(&m->lk);
	m->state = 1;
	rwakeup(&m->r);
	qunlock(&m->lk);
}

static void
testrendez(void)
{
	pthread_t t, ts[Nthr];
	vlong deadline;
	Meet m;
	int i, r, n;

	meetinit(&m);
	t = start(pingpong, &m, "pingpong");
	qlock(&m.lk);
	m.state = 1;
	rwakeup(&m.r);
	while(m.state != 2)
		rsleep(&m.back);
	qunlock(&m.lk);
	join(t);
	is(m.state, 2, "Rendez: rwakeup hands over and the answer comes back");

	meetinit(&m);
	for(i = 0; i < Nthr; i++)
		ts[i] = start(sleeper, &m, "sleeper");
	qlock(&m.lk);
	while(m.waiting < Nthr)
		rsleep(&m.back);
	m.state = 1;
	rwakeupall(&m.r);
	qunlock(&m.lk);
	for(i = 0; i < Nthr; i++)
		join(ts[i]);
	is(m.woken, Nthr, "Rendez: rwakeupall wakes all %d sleepers", Nthr);

	meetinit(&m);
	qlock(&m.lk);
	r = rsleepuntil(&m.r, monons()-1);
	is(r, 0, "rsleepuntil: a deadline in the past returns 0");
	r = rsleepuntil(&m.r, 0);
	is(r, 0, "rsleepuntil: deadline 0 returns 0");
	deadline = monons() + 20*1000*1000;
	for(n = 0; rsleepuntil(&m.r, deadline); n++)
		;
	ok(monons() >= deadline, "rsleepuntil: a timeout does return, after the deadline (%d early wakeups)", n);
	qunlock(&m.lk);

	t = start(waker, &m, "waker");
	qlock(&m.lk);
	r = 1;
	while(m.state == 0 && r)
		r = rsleepuntil(&m.r, monons() + 60LL*1000*1000*1000);
	qunlock(&m.lk);
	join(t);
	ok(r == 1 && m.state == 1, "rsleepuntil: a wakeup before the deadline returns 1");
}

/* ------------------------------------------------------------ channels */

#define P(i)	((void*)(uintptr_t)(i))

static void
testchanfifo(void)
{
	Chan *c;
	int i, j, next, bad;

	ok(mkchan(0) == nil && strstr(errstr(), "bad size") != nil, "mkchan(0) fails: %s", errstr());
	ok(mkchan(-5) == nil, "mkchan(-5) fails");

	c = mkchan(4);
	for(i = 1; i <= 4; i++)
		chsend(c, P(i));
	bad = 0;
	for(i = 1; i <= 4; i++)
		if(chrecv(c) != P(i))
			bad++;
	is(bad, 0, "Chan: a full channel drains in order");

	/* 3 at a time through 4 slots: the cursors wrap at every offset */
	next = 1;
	bad = 0;
	for(i = 1; i <= 300; i += 3){
		for(j = 0; j < 3; j++)
			if(chsend(c, P(i+j)) != 0)
				bad++;
		for(j = 0; j < 3; j++)
			if(chrecv(c) != P(next++))
				bad++;
	}
	is(bad, 0, "Chan: FIFO order across 100 wraparounds");
	is(c->count, 0, "Chan: empty afterwards");

	is(chsend(c, nil), -1, "chsend(nil) is refused: %s", errstr());
	freechan(c);
}

enum {
	Nprod	= 4,
	Ncons	= 4,
	Nitem	= 25000,
	Ntot	= Nprod*Nitem,
};

typedef struct Item Item;
typedef struct Mpmc Mpmc;
typedef struct Cons Cons;

struct Item {
	int	prod;
	int	seq;
};

struct Cons {
	Mpmc	*m;
	uchar	*seen;		/* times each item arrived here */
	int	last[Nprod];	/* last sequence number seen from each producer */
	int	disorder;
	vlong	n;
	vlong	sum;
};

struct Mpmc {
	Chan	*c;
	Item	items[Ntot];
	s32int	nextprod;
	Cons	cons[Ncons];
};

static void
producer(void *arg)
{
	Mpmc *m;
	int p, i;

	m = arg;
	p = aincl(&m->nextprod, 1) - 1;
	for(i = 0; i < Nitem; i++)
		if(chsend(m->c, &m->items[p*Nitem + i]) != 0)
			sysfatal("producer %d: %s", p, errstr());
}

static void
consumer(void *arg)
{
	Cons *k;
	Item *it;
	int i;

	k = arg;
	for(i = 0; i < Nprod; i++)
		k->last[i] = -1;
	while((it = chrecv(k->m->c)) != nil){
		/* one producer's items stay in order through a FIFO, whoever else interleaves */
		if(it->seq <= k->last[it->prod])
			k->disorder++;
		k->last[it->prod] = it->seq;
		k->seen[it->prod*Nitem + it->seq]++;
		k->n++;
		k->sum += it->prod*Nitem + it->seq;
	}
}

static void
testchanmpmc(void)
{
	pthread_t pt[Nprod], ct[Ncons];
	Mpmc *m;
	int i, j, once, disorder, n;
	vlong sum;

	m = emalloc(sizeof *m);
	m->c = mkchan(8);
	for(i = 0; i < Ntot; i++){
		m->items[i].prod = i / Nitem;
		m->items[i].seq = i % Nitem;
	}
	for(i = 0; i < Ncons; i++){
		m->cons[i].m = m;
		m->cons[i].seen = emalloc(Ntot);
		ct[i] = start(consumer, &m->cons[i], "consumer");
	}
	for(i = 0; i < Nprod; i++)
		pt[i] = start(producer, m, "producer");
	for(i = 0; i < Nprod; i++)
		join(pt[i]);
	chclose(m->c);
	for(i = 0; i < Ncons; i++)
		join(ct[i]);

	once = 0;
	for(j = 0; j < Ntot; j++){
		n = 0;
		for(i = 0; i < Ncons; i++)
			n += m->cons[i].seen[j];
		once += n == 1;
	}
	n = 0;
	sum = 0;
	disorder = 0;
	for(i = 0; i < Ncons; i++){
		n += m->cons[i].n;
		sum += m->cons[i].sum;
		disorder += m->cons[i].disorder;
		diag("consumer %d received %lld", i, (long long)m->cons[i].n);
	}
	is(once, Ntot, "Chan MPMC: each of %d items received exactly once", Ntot);
	is(n, Ntot, "Chan MPMC: %d producers x %d = %d receptions", Nprod, Nitem, Ntot);
	is(sum, (vlong)Ntot*(Ntot-1)/2, "Chan MPMC: sum of received items exact");
	is(disorder, 0, "Chan MPMC: each producer's items arrive in order");
	for(i = 0; i < Ncons; i++)
		free(m->cons[i].seen);
	freechan(m->c);
	free(m);
}

typedef struct Blocked Blocked;
struct Blocked {
	Chan	*c;
	void	*got;
	int	r;
};

static void
blockedrecv(void *arg)
{
	Blocked *b;

	b = arg;
	b->got = chrecv(b->c);
}

static void
blockedsend(void *arg)
{
	Blocked *b;

	b = arg;
	b->r = chsend(b->c, P(99));
}

static void
testchanclose(void)
{
	pthread_t t[3];
	Blocked b[3];
	Chan *c;
	int i, n;

	c = mkchan(4);
	chsend(c, P(1));
	chsend(c, P(2));
	chclose(c);
	is(chsend(c, P(3)), -1, "chsend after chclose fails");
	ok(strstr(errstr(), "closed") != nil, "... saying so: %s", errstr());
	ok(chrecv(c) == P(1) && chrecv(c) == P(2), "chrecv after chclose drains what was queued, in order");
	ok(chrecv(c) == nil, "then gets nil");
	ok(chrecv(c) == nil, "and nil again");
	freechan(c);

	/* receivers waiting on an empty channel: close wakes them all with nil */
	c = mkchan(2);
	for(i = 0; i < 3; i++){
		b[i].c = c;
		b[i].got = P(1);
		t[i] = start(blockedrecv, &b[i], "recv");
	}
	chclose(c);
	n = 0;
	for(i = 0; i < 3; i++){
		join(t[i]);
		n += b[i].got == nil;
	}
	is(n, 3, "chclose: every waiting receiver gets nil");
	freechan(c);

	/* a sender waiting on a full channel: close fails it, and its item is not queued */
	c = mkchan(1);
	chsend(c, P(7));
	b[0].c = c;
	b[0].r = 0;
	t[0] = start(blockedsend, &b[0], "send");
	chclose(c);
	join(t[0]);
	is(b[0].r, -1, "chclose: a sender waiting for room fails");
	ok(chrecv(c) == P(7) && chrecv(c) == nil, "... and only the item queued before close is received");
	freechan(c);
}

/* -------------------------------------------------------------- errors */

typedef struct Errthr Errthr;
struct Errthr {
	QLock	lk;
	Rendez	r;
	int	arrived;
	int	fresh[2];
	int	kept[2];
	s32int	next;
};

static void
errworker(void *arg)
{
	Errthr *e;
	char want[32];
	int id;

	e = arg;
	id = aincl(&e->next, 1) - 1;
	e->fresh[id] = errstr()[0] == 0;
	snprintf(want, sizeof want, "thread %d", id);
	werrstr("%s", want);
	/* both threads have set their error before either looks again */
	qlock(&e->lk);
	e->arrived++;
	rwakeupall(&e->r);
	while(e->arrived < 2)
		rsleep(&e->r);
	qunlock(&e->lk);
	e->kept[id] = strcmp(errstr(), want) == 0;
}

static void
testerrors(void)
{
	pthread_t t[2];
	char big[2*Errmax];
	Errthr *e;

	werrstr("%s: %llx", Ecorrupt, 0x1234ULL);
	ok(strcmp(errstr(), "block contents corrupted: 1234") == 0, "werrstr formats: %s", errstr());
	ok(iserr(Ecorrupt), "iserr matches the constant with detail after ': '");
	ok(!iserr(Eio), "iserr does not match another error");
	werrstr("%s", Efull);
	ok(iserr(Efull), "iserr matches the bare constant");
	werrstr("%sness", Efull);
	ok(!iserr(Efull), "iserr does not match a longer word with the same prefix");
	werrstr("wrapped: %s", errstr());
	ok(strcmp(errstr(), "wrapped: file system fullness") == 0, "werrstr may quote errstr(): %s", errstr());
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	werrstr("%s", big);
	is(strlen(errstr()), Errmax-1, "a long error is cut to Errmax-1 bytes");

	werrstr("main's error");
	e = emalloc(sizeof *e);
	qlockinit(&e->lk);
	rendezinit(&e->r, &e->lk);
	t[0] = start(errworker, e, "err0");
	t[1] = start(errworker, e, "err1");
	join(t[0]);
	join(t[1]);
	ok(e->fresh[0] && e->fresh[1], "a new thread starts with no error");
	ok(e->kept[0] && e->kept[1], "each thread keeps its own error");
	ok(strcmp(errstr(), "main's error") == 0, "other threads' werrstr leaves ours alone");
	free(e);
}

/* ------------------------------------------------------------- logging */

/* Run fn with stderr going to a file; return what it wrote. */
static char*
capture(void (*fn)(void))
{
	static char buf[4096];
	FILE *f;
	size_t n;
	int saved;

	fflush(stderr);
	f = tmpfile();
	saved = dup(2);
	if(f == nil || saved == -1)
		sysfatal("capture: cannot redirect stderr");
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void
logsome(void)
{
	warn("hello %d", 42);
	warn("had its own newline\n");
	debug = 1;
	dprint(1, "level %d shown", 1);
	dprint(2, "level 2 hidden");
	debug = 0;
	dprint(1, "hidden at level 0");
}

static void
loglong(void)
{
	char s[2000];

	memset(s, 'y', sizeof s - 1);
	s[sizeof s - 1] = 0;
	warn("%s", s);
}

/* Run fn in a child with stderr into a pipe; returns its exit status. */
static int
child(void (*fn)(void), char *out, int nout)
{
	int p[2], st, n, m;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if(pipe(p) == -1 || (pid = fork()) == -1)
		sysfatal("child: cannot fork");
	if(pid == 0){
		dup2(p[1], 2);
		close(p[0]);
		fn();
		_exit(99);
	}
	close(p[1]);
	n = 0;
	while(n < nout-1 && (m = read(p[0], out+n, nout-1-n)) > 0)
		n += m;
	out[n] = 0;
	close(p[0]);
	if(waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
dofatal(void)
{
	sysfatal("fatal %s", "thing");
}

static void
dooom(void)
{
	emalloc((size_t)-1 / 2);
}

static void
testlog(void)
{
	char *s, out[512];
	int st;

	setprogname("/some/where/plattest");
	s = capture(logsome);
	if(!ok(strcmp(s, "plattest: hello 42\nplattest: had its own newline\nplattest: level 1 shown\n") == 0,
	    "warn and dprint: prefixed lines, debug level honoured"))
		diag("got [%s]", s);
	s = capture(loglong);
	is(strlen(s), strlen("plattest: ")+1999+1, "a 2000-byte message is logged whole");

	st = child(dofatal, out, sizeof out);
	is(st, 1, "sysfatal exits with status 1");
	if(!ok(strcmp(out, "plattest: fatal thing\n") == 0, "... after printing its message"))
		diag("got [%s]", out);
	st = child(dooom, out, sizeof out);
	is(st, 1, "emalloc exits when memory runs out");
	if(!ok(strstr(out, "plattest: out of memory: ") != nil, "... saying so"))
		diag("got [%s]", out);
}

/* -------------------------------------------------- threads, time, memory */

typedef struct Named Named;
struct Named {
	QLock	lk;
	Rendez	r;
	int	ran;
	char	name[32];
};

static void
named(void *arg)
{
	Named *n;

	n = arg;
	qlock(&n->lk);
#ifdef __linux__
	pthread_getname_np(pthread_self(), n->name, sizeof n->name);
#endif
	n->ran = 1;
	rwakeup(&n->r);
	qunlock(&n->lk);
}

static void
testlaunch(void)
{
	pthread_t t;
	Named n;

	memset(&n, 0, sizeof n);
	qlockinit(&n.lk);
	rendezinit(&n.r, &n.lk);
	ok(launch(named, &n, "detached", nil) == 0, "launch a detached thread");
	qlock(&n.lk);
	while(!n.ran)
		rsleep(&n.r);
	qunlock(&n.lk);
	ok(n.ran, "the detached thread ran with its argument");

	n.ran = 0;
	ok(launch(named, &n, "averyveryverylongname", &t) == 0, "launch a joinable thread");
	is(pthread_join(t, nil), 0, "and join it");
	ok(n.ran, "it ran");
#ifdef __linux__
	ok(strcmp(n.name, "averyveryverylo") == 0, "the thread is named (cut to 15 bytes): %s", n.name);
#endif
}

static void
testtime(void)
{
	vlong a, b, w;
	int i, back;

	back = 0;
	a = monons();
	for(i = 0; i < 10000; i++){
		b = monons();
		if(b < a)
			back++;
		a = b;
	}
	is(back, 0, "monons never goes back");
	w = wallns() / 1000000000LL;
	ok(w - time(nil) <= 1 && time(nil) - w <= 1, "wallns is the time of day in nanoseconds");
}

static void
testmem(void)
{
	char *p, *q;
	int i, bad;

	p = emalloc(1000);
	bad = 0;
	for(i = 0; i < 1000; i++)
		bad += p[i] != 0;
	is(bad, 0, "emalloc returns zeroed memory");
	memset(p, 'a', 1000);
	p = erealloc(p, 1<<20);
	bad = 0;
	for(i = 0; i < 1000; i++)
		bad += p[i] != 'a';
	is(bad, 0, "erealloc keeps the contents");
	free(p);
	ok((p = emalloc(0)) != nil, "emalloc(0) returns memory");
	free(p);
	q = estrdup("a string");
	ok(strcmp(q, "a string") == 0, "estrdup copies");
	free(q);
}

int
main(void)
{
	/* a lock or a wakeup that fails hangs: fail the test instead */
	alarm(120);
	testlog();
	testmem();
	testtime();
	testerrors();
	testlaunch();
	testlocks();
	testrwlock();
	testrendez();
	testchanfifo();
	testchanclose();
	testchanmpmc();
	return done();
}
