/*
 * plat.c: what Plan 9 gave the reference, on POSIX threads: threads,
 * locks, rendezvous, bounded channels, clocks, allocation and logging.
 */
#define _GNU_SOURCE		/* pthread_setname_np, writer-preferring rwlocks */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <sched.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"

int debug;
static char *progname = "gefs";

/* --------------------------------------------------------------- logging */

void
setprogname(char *name)
{
	char *p;

	p = strrchr(name, '/');
	progname = p != nil ? p+1 : name;
}

/*
 * One message, one line, one locked stdio call: lines from concurrent
 * threads never interleave.  The newline is ours unless fmt brought it.
 */
static void
vlog(char *fmt, va_list ap)
{
	char buf[512], *p;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(buf, sizeof buf, fmt, aq);
	va_end(aq);
	if(n < 0)
		return;
	p = buf;
	if((size_t)n >= sizeof buf){
		p = malloc(n+1);
		if(p == nil){
			/* too long and no memory: the truncated text is better than none */
			p = buf;
			n = sizeof buf - 1;
		}else
			vsnprintf(p, n+1, fmt, ap);
	}
	flockfile(stderr);
	fprintf(stderr, "%s: %s%s", progname, p, n > 0 && p[n-1] == '\n' ? "" : "\n");
	funlockfile(stderr);
	if(p != buf)
		free(p);
}

void
warn(char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* The console may change debug while others log: read it atomically. */
void
dprint(int lvl, char *fmt, ...)
{
	va_list ap;

	if(agetl(&debug) < lvl)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
sysfatal(char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
	exit(1);
}

/* -------------------------------------------------------------- memory */

static void
nomem(size_t n)
{
	sysfatal("%s: cannot allocate %zu bytes", Enomem, n);
}

/* Zeroed, like the reference's allocations; never returns nil. */
void*
emalloc(size_t n)
{
	void *p;

	p = calloc(1, n ? n : 1);
	if(p == nil)
		nomem(n);
	return p;
}

void*
erealloc(void *v, size_t n)
{
	void *p;

	p = realloc(v, n ? n : 1);
	if(p == nil)
		nomem(n);
	return p;
}

char*
estrdup(char *s)
{
	char *p;
	size_t n;

	n = strlen(s)+1;
	p = malloc(n);
	if(p == nil)
		nomem(n);
	return memcpy(p, s, n);
}

/* ---------------------------------------------------------------- time */

static vlong
clockns(clockid_t id)
{
	struct timespec ts;

	if(clock_gettime(id, &ts) == -1)
		sysfatal("clock_gettime: %s", strerror(errno));
	return (vlong)ts.tv_sec*1000000000LL + ts.tv_nsec;
}

/* Nanoseconds since the epoch: for timestamps that go on disk. */
vlong
wallns(void)
{
	return clockns(CLOCK_REALTIME);
}

/* Nanoseconds on a clock that never steps back: for intervals and deadlines. */
vlong
monons(void)
{
	return clockns(CLOCK_MONOTONIC);
}

/* ------------------------------------------------------------- threads */

typedef struct Launch Launch;
struct Launch {
	void	(*fn)(void*);
	void	*arg;
	char	name[16];	/* Linux keeps 15 bytes of a thread name */
};

static void
setthreadname(char *name)
{
#if defined(__linux__)
	pthread_setname_np(pthread_self(), name);
#elif defined(__APPLE__)
	pthread_setname_np(name);
#else
	USED(name);
#endif
}

static void*
trampoline(void *v)
{
	Launch l;

	l = *(Launch*)v;
	free(v);
	setthreadname(l.name);
	l.fn(l.arg);
	return nil;
}

/*
 * Start fn(arg) on a new thread called name.  With tid nil the thread is
 * detached; otherwise it is joinable and *tid says whom to join.
 */
int
launch(void (*fn)(void*), void *arg, char *name, pthread_t *tid)
{
	pthread_attr_t attr;
	pthread_t t;
	Launch *l;
	int r;

	l = emalloc(sizeof *l);
	l->fn = fn;
	l->arg = arg;
	snprintf(l->name, sizeof l->name, "%s", name);
	if((r = pthread_attr_init(&attr)) != 0){
		free(l);
		werrstr("launch %s: %s", name, strerror(r));
		return -1;
	}
	if(tid == nil)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, trampoline, l);
	pthread_attr_destroy(&attr);
	if(r != 0){
		free(l);
		werrstr("launch %s: %s", name, strerror(r));
		return -1;
	}
	if(tid != nil)
		*tid = t;
	return 0;
}

/* A pthread call that fails here means memory corruption or a lock misused. */
static void
pcheck(int r, char *what)
{
	if(r != 0)
		sysfatal("%s: %s", what, strerror(r));
}

/* ----------------------------------------------------------- spin locks */

/* Tell the core we are spinning: it saves power and helps the holder's sibling. */
static void
relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || (defined(__arm__) && __ARM_ARCH >= 7)
	__asm__ __volatile__("yield");
#elif defined(__powerpc64__)
	__asm__ __volatile__("or 27,27,27");	/* lower SMT priority while we wait */
#endif
}

/*
 * Test and test-and-set: spin on plain reads, which stay in our cache,
 * and only try the exchange once the lock looks free.  After a while give
 * the processor away, since the holder may not be running.
 */
void
lock(Lock *l)
{
	int i;

	for(i = 0;; i++){
		if(agetl(&l->key) == 0 && acasl(&l->key, 0, 1))
			return;
		if(i < 100)
			relax();
		else
			sched_yield();
	}
}

int
canlock(Lock *l)
{
	return agetl(&l->key) == 0 && acasl(&l->key, 0, 1);
}

void
unlock(Lock *l)
{
	if(asetl(&l->key, 0) != 1)
		sysfatal("unlock of unlocked lock %p", (void*)l);
}

/* ------------------------------------------------------ sleeping locks */

void
qlockinit(QLock *q)
{
	pcheck(pthread_mutex_init(&q->m, nil), "qlockinit");
}

void
qlock(QLock *q)
{
	pcheck(pthread_mutex_lock(&q->m), "qlock");
}

int
canqlock(QLock *q)
{
	int r;

	r = pthread_mutex_trylock(&q->m);
	if(r == EBUSY)
		return 0;
	pcheck(r, "canqlock");
	return 1;
}

void
qunlock(QLock *q)
{
	pcheck(pthread_mutex_unlock(&q->m), "qunlock");
}

/*
 * glibc lets readers overtake a waiting writer by default, so a steady
 * stream of readers would starve the mutator; ask for writer preference.
 */
void
rwlockinit(RWLock *l)
{
	pthread_rwlockattr_t a;

	pcheck(pthread_rwlockattr_init(&a), "rwlockinit");
#ifdef __GLIBC__
	pcheck(pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), "rwlockinit");
#endif
	pcheck(pthread_rwlock_init(&l->rw, &a), "rwlockinit");
	pthread_rwlockattr_destroy(&a);
}

void
rlock(RWLock *l)
{
	pcheck(pthread_rwlock_rdlock(&l->rw), "rlock");
}

void
runlock(RWLock *l)
{
	pcheck(pthread_rwlock_unlock(&l->rw), "runlock");
}

void
wlock(RWLock *l)
{
	pcheck(pthread_rwlock_wrlock(&l->rw), "wlock");
}

void
wunlock(RWLock *l)
{
	pcheck(pthread_rwlock_unlock(&l->rw), "wunlock");
}

/* ---------------------------------------------------------- rendezvous */

/*
 * Sleepers hold r->l.  Deadlines are on the monotonic clock so that
 * setting the wall clock neither fires nor postpones them.
 */
void
rendezinit(Rendez *r, QLock *l)
{
	pthread_condattr_t a;

	r->l = l;
	pcheck(pthread_condattr_init(&a), "rendezinit");
#ifndef __APPLE__
	pcheck(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), "rendezinit");
#endif
	pcheck(pthread_cond_init(&r->c, &a), "rendezinit");
	pthread_condattr_destroy(&a);
}

/* Wait for a wakeup; like every condition wait, the caller rechecks. */
void
rsleep(Rendez *r)
{
	pcheck(pthread_cond_wait(&r->c, &r->l->m), "rsleep");
}

/* As rsleep, but give up at deadline (monons()): 0 if it has passed, else 1. */
int
rsleepuntil(Rendez *r, vlong deadline)
{
	struct timespec ts;
	int e;

#ifdef __APPLE__
	vlong d;

	/* no monotonic condition variables here: wait relative to now */
	d = deadline - monons();
	if(d <= 0)
		return 0;
	ts.tv_sec = d / 1000000000LL;
	ts.tv_nsec = d % 1000000000LL;
	e = pthread_cond_timedwait_relative_np(&r->c, &r->l->m, &ts);
#else
	if(deadline < 0)
		deadline = 0;
	ts.tv_sec = deadline / 1000000000LL;
	ts.tv_nsec = deadline % 1000000000LL;
	e = pthread_cond_timedwait(&r->c, &r->l->m, &ts);
#endif
	if(e == ETIMEDOUT)
		return 0;
	pcheck(e, "rsleepuntil");
	return 1;
}

void
rwakeup(Rendez *r)
{
	pcheck(pthread_cond_signal(&r->c), "rwakeup");
}

void
rwakeupall(Rendez *r)
{
	pcheck(pthread_cond_broadcast(&r->c), "rwakeupall");
}

/* ------------------------------------------------------------ channels */

/*
 * A bounded FIFO of non-nil pointers for any number of senders and
 * receivers (runtime §1.4).  One mutex guards the ring: the channels carry
 * requests, each worth far more than a lock round trip.
 */
Chan*
mkchan(int size)
{
	Chan *c;

	if(size < 1){
		werrstr("mkchan: bad size %d", size);
		return nil;
	}
	c = emalloc(sizeof *c);
	c->ring = emalloc(size * sizeof c->ring[0]);
	c->size = size;
	qlockinit(&c->lk);
	rendezinit(&c->full, &c->lk);
	rendezinit(&c->empty, &c->lk);
	return c;
}

/* Nobody may be using c any more. */
void
freechan(Chan *c)
{
	if(c == nil)
		return;
	pthread_cond_destroy(&c->full.c);
	pthread_cond_destroy(&c->empty.c);
	pthread_mutex_destroy(&c->lk.m);
	free(c->ring);
	free(c);
}

/* Queue v, waiting for room; -1 once the channel is closed. */
int
chsend(Chan *c, void *v)
{
	if(v == nil){
		werrstr("chsend: nil message");
		return -1;
	}
	qlock(&c->lk);
	while(c->count == c->size && !c->closed)
		rsleep(&c->full);
	if(c->closed){
		qunlock(&c->lk);
		werrstr("chsend: channel closed");
		return -1;
	}
	c->ring[c->wr] = v;
	c->wr = (c->wr+1) % c->size;
	c->count++;
	rwakeup(&c->empty);
	qunlock(&c->lk);
	return 0;
}

/* The oldest message, waiting for one; nil once closed and drained. */
void*
chrecv(Chan *c)
{
	void *v;

	qlock(&c->lk);
	while(c->count == 0 && !c->closed)
		rsleep(&c->empty);
	if(c->count == 0){
		qunlock(&c->lk);
		return nil;
	}
	v = c->ring[c->rd];
	c->ring[c->rd] = nil;
	c->rd = (c->rd+1) % c->size;
	c->count--;
	rwakeup(&c->full);
	qunlock(&c->lk);
	return v;
}

/* No more sends; receivers drain what is queued, then get nil. */
void
chclose(Chan *c)
{
	qlock(&c->lk);
	c->closed = 1;
	rwakeupall(&c->full);
	rwakeupall(&c->empty);
	qunlock(&c->lk);
}
