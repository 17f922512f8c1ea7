/*
 * atomic-arm.c: atomic.h for 32-bit ARM, ARMv7-A or later (Debian armhf),
 * in ARM or Thumb-2 code: exclusive load/store loops in inline assembly.
 *
 * Every operation is bracketed by dmb ish, so set, inc and cas are
 * sequentially consistent and full barriers, and get is a load followed
 * by a fence (acquire).  The vlong operations use ldrexd/strexd, which
 * are single-copy atomic on an 8-byte boundary (the EABI aligns int64_t
 * so).  cas retries when the store-exclusive fails, so it never fails
 * spuriously.  Pointers are 32 bits: the p operations are the l ones.
 */
#include "atomic.h"

#if !defined(__ARM_ARCH) || __ARM_ARCH < 7 || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#error "atomic-arm.c needs ARMv7-A or later (dmb, ldrexd); build with make ATOMIC=atomic-c11.c"
#endif

_Static_assert(sizeof(void*) == 4, "32-bit ARM has 32-bit pointers");

static uint32_t
load32(void *p)
{
	uint32_t v;

	__asm__ __volatile__(
		"ldr	%0, [%1]\n\t"
		"dmb	ish"
		: "=r"(v)
		: "r"(p)
		: "memory");
	return v;
}

static uint32_t
swap32(void *p, uint32_t v)
{
	uint32_t old, fail;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrex	%0, [%2]\n\t"
		"strex	%1, %3, [%2]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n\t"
		"dmb	ish"
		: "=&r"(old), "=&r"(fail)
		: "r"(p), "r"(v)
		: "cc", "memory");
	return old;
}

/* Returns the new value. */
static uint32_t
add32(void *p, uint32_t d)
{
	uint32_t new, fail;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrex	%0, [%2]\n\t"
		"add	%0, %0, %3\n\t"
		"strex	%1, %0, [%2]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n\t"
		"dmb	ish"
		: "=&r"(new), "=&r"(fail)
		: "r"(p), "r"(d)
		: "cc", "memory");
	return new;
}

/*
 * The loop ends with cur != old (mismatch: clrex drops the unused
 * reservation) or after a successful store of new (cur == old).
 */
static int
cas32(void *p, uint32_t old, uint32_t new)
{
	uint32_t cur, fail;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrex	%0, [%2]\n\t"
		"cmp	%0, %3\n\t"
		"bne	2f\n\t"
		"strex	%1, %4, [%2]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n"
	"2:\n\t"
		"clrex\n\t"
		"dmb	ish"
		: "=&r"(cur), "=&r"(fail)
		: "r"(p), "r"(old), "r"(new)
		: "cc", "memory");
	return cur == old;
}

/*
 * %0/%H0 name the two registers of a 64-bit operand, as ldrexd and
 * strexd take them; %Q0/%R0 its low and high words, for arithmetic.
 */
int64_t
agetv(int64_t *p)
{
	uint64_t v;

	__asm__ __volatile__(
		"ldrexd	%0, %H0, [%1]\n\t"
		"clrex\n\t"
		"dmb	ish"
		: "=&r"(v)
		: "r"(p)
		: "memory");
	return v;
}

int64_t
asetv(int64_t *p, int64_t v)
{
	uint64_t old;
	uint32_t fail;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrexd	%0, %H0, [%2]\n\t"
		"strexd	%1, %3, %H3, [%2]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n\t"
		"dmb	ish"
		: "=&r"(old), "=&r"(fail)
		: "r"(p), "r"(v)
		: "cc", "memory");
	return old;
}

int64_t
aincv(int64_t *p, int64_t delta)
{
	uint64_t new;
	uint32_t fail;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrexd	%0, %H0, [%2]\n\t"
		"adds	%Q0, %Q0, %Q3\n\t"
		"adc	%R0, %R0, %R3\n\t"
		"strexd	%1, %0, %H0, [%2]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n\t"
		"dmb	ish"
		: "=&r"(new), "=&r"(fail)
		: "r"(p), "r"(delta)
		: "cc", "memory");
	return new;
}

/* Both words are compared by or-ing their differences. */
int
acasv(int64_t *p, int64_t old, int64_t new)
{
	uint64_t cur;
	uint32_t fail, diff;

	__asm__ __volatile__(
		"dmb	ish\n"
	"1:\n\t"
		"ldrexd	%0, %H0, [%3]\n\t"
		"eor	%1, %Q0, %Q4\n\t"
		"eor	%2, %R0, %R4\n\t"
		"orrs	%1, %1, %2\n\t"
		"bne	2f\n\t"
		"strexd	%1, %5, %H5, [%3]\n\t"
		"cmp	%1, #0\n\t"
		"bne	1b\n"
	"2:\n\t"
		"clrex\n\t"
		"dmb	ish"
		: "=&r"(cur), "=&r"(fail), "=&r"(diff)
		: "r"(p), "r"(old), "r"(new)
		: "cc", "memory");
	return cur == (uint64_t)old;
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
	__asm__ __volatile__("dmb ish" ::: "memory");
}
