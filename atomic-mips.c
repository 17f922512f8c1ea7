/*
 * atomic-mips.c: atomic.h for 32-bit MIPS (o32; mips32 or later, either
 * byte order): ll/sc loops in inline assembly.
 *
 * Every operation is bracketed by sync, so set, inc and cas are
 * sequentially consistent and full barriers, and get is a load followed
 * by a fence (acquire).  cas retries when sc fails, so it never fails
 * spuriously.  Pointers are 32 bits: the p operations are the l ones.
 *
 * A 32-bit MIPS has no 64-bit ll/sc, so each vlong operation, loads
 * included, takes one of Nlock spin locks chosen by the address, built
 * from the 32-bit ll/sc.  That is atomic as long as every access to the
 * vlong goes through these functions, which atomic.h requires anyway.
 *
 * The assembly is written noreorder, with its branch delay slots filled
 * by hand.
 */
#include <sched.h>
#include "atomic.h"

#if !defined(__mips) || __mips != 32
#error "atomic-mips.c is for 32-bit MIPS; build with make ATOMIC=atomic-c11.c"
#endif

_Static_assert(sizeof(void*) == 4, "o32 MIPS has 32-bit pointers");

enum {
	Nlock	= 64,
	Lgnlock	= 6,
};

/* One lock per 32-byte line, so that neighbouring locks do not contend. */
static struct {
	uint32_t	key;
	uint32_t	pad[7];
} locks[Nlock];

static uint32_t
load32(void *p)
{
	uint32_t v;

	__asm__ __volatile__(
		".set	push\n\t"
		".set	noreorder\n\t"
		"lw	%0, 0(%1)\n\t"
		"sync\n\t"
		".set	pop"
		: "=r"(v)
		: "r"(p)
		: "memory");
	return v;
}

static uint32_t
swap32(void *p, uint32_t v)
{
	uint32_t old, ok;

	__asm__ __volatile__(
		".set	push\n\t"
		".set	noreorder\n\t"
		"sync\n"
	"1:\n\t"
		"ll	%0, 0(%2)\n\t"
		"move	%1, %3\n\t"
		"sc	%1, 0(%2)\n\t"
		"beqz	%1, 1b\n\t"
		"nop\n\t"
		"sync\n\t"
		".set	pop"
		: "=&r"(old), "=&r"(ok)
		: "r"(p), "r"(v)
		: "memory");
	return old;
}

/* Returns the new value. */
static uint32_t
add32(void *p, uint32_t d)
{
	uint32_t old, ok;

	__asm__ __volatile__(
		".set	push\n\t"
		".set	noreorder\n\t"
		"sync\n"
	"1:\n\t"
		"ll	%0, 0(%2)\n\t"
		"addu	%1, %0, %3\n\t"
		"sc	%1, 0(%2)\n\t"
		"beqz	%1, 1b\n\t"
		"nop\n\t"
		"sync\n\t"
		".set	pop"
		: "=&r"(old), "=&r"(ok)
		: "r"(p), "r"(d)
		: "memory");
	return old + d;
}

/*
 * ok is cleared in the delay slot of the mismatch branch, which runs
 * whether it is taken or not; when it is not, ok is loaded with new for
 * the sc, which leaves 1 in it on success.
 */
static int
cas32(void *p, uint32_t old, uint32_t new)
{
	uint32_t cur, ok;

	__asm__ __volatile__(
		".set	push\n\t"
		".set	noreorder\n\t"
		"sync\n"
	"1:\n\t"
		"ll	%0, 0(%2)\n\t"
		"bne	%0, %3, 2f\n\t"
		"move	%1, $0\n\t"
		"move	%1, %4\n\t"
		"sc	%1, 0(%2)\n\t"
		"beqz	%1, 1b\n\t"
		"nop\n"
	"2:\n\t"
		"sync\n\t"
		".set	pop"
		: "=&r"(cur), "=&r"(ok)
		: "r"(p), "r"(old), "r"(new)
		: "memory");
	return ok;
}

/* Fibonacci hashing of the address: its top bits pick the lock. */
static uint32_t*
lockfor(void *p)
{
	uint32_t h;

	h = ((uint32_t)p >> 3) * 0x9e3779b1U;
	return &locks[h >> (32-Lgnlock)].key;
}

/* The swaps are full barriers: nothing in the section leaks out. */
static uint32_t*
lock64(void *p)
{
	uint32_t *l;

	l = lockfor(p);
	while(swap32(l, 1) != 0)
		while(load32(l) != 0)
			sched_yield();
	return l;
}

static void
unlock64(uint32_t *l)
{
	swap32(l, 0);
}

int64_t
agetv(int64_t *p)
{
	uint32_t *l;
	int64_t v;

	l = lock64(p);
	v = *p;
	unlock64(l);
	return v;
}

int64_t
asetv(int64_t *p, int64_t v)
{
	uint32_t *l;
	int64_t old;

	l = lock64(p);
	old = *p;
	*p = v;
	unlock64(l);
	return old;
}

/* Unsigned, so that it wraps as the 32-bit and other machines' do. */
int64_t
aincv(int64_t *p, int64_t delta)
{
	uint32_t *l;
	uint64_t new;

	l = lock64(p);
	new = (uint64_t)*p + (uint64_t)delta;
	*p = new;
	unlock64(l);
	return new;
}

int
acasv(int64_t *p, int64_t old, int64_t new)
{
	uint32_t *l;
	int ok;

	l = lock64(p);
	ok = *p == old;
	if(ok)
		*p = new;
	unlock64(l);
	return ok;
}

int32_t
agetl(int32_t *p)
{
	return load32(p);
}

void*
agetp(void **p)
{
	return (void*)load32(p);
}

int32_t
asetl(int32_t *p, int32_t v)
{
	return swap32(p, v);
}

void*
asetp(void **p, void *v)
{
	return (void*)swap32(p, (uint32_t)v);
}

int32_t
aincl(int32_t *p, int32_t delta)
{
	return add32(p, delta);
}

int
acasl(int32_t *p, int32_t old, int32_t new)
{
	return cas32(p, old, new);
}

int
acasp(void **p, void *old, void *new)
{
	return cas32(p, (uint32_t)old, (uint32_t)new);
}

void
coherence(void)
{
	__asm__ __volatile__("sync" ::: "memory");
}
