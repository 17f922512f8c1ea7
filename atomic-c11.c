/*
 * atomic-c11.c: atomic.h in portable C11, for machines without a
 * hand-written version, and for ThreadSanitizer, which cannot see into
 * the assembly ones.
 *
 * The plain int32_t/int64_t/void* objects are accessed through _Atomic
 * lvalues of the same size and alignment, as gcc and clang lay them out.
 * The arithmetic of ainc is done unsigned: atomic_fetch_add wraps, and
 * the new value we compute from it must wrap the same way.
 *
 * A seq_cst read-modify-write is not by itself a full barrier for the
 * plain accesses around it (arm64 compilers emit ldaxr/stlxr), so each
 * one ends in a fence, to keep atomic.h's promise.
 */
#include <stdatomic.h>
#include "atomic.h"

int32_t
agetl(int32_t *p)
{
	return atomic_load_explicit((_Atomic int32_t*)p, memory_order_acquire);
}

int64_t
agetv(int64_t *p)
{
	return atomic_load_explicit((_Atomic int64_t*)p, memory_order_acquire);
}

void*
agetp(void **p)
{
	return atomic_load_explicit((_Atomic(void*)*)p, memory_order_acquire);
}

int32_t
asetl(int32_t *p, int32_t v)
{
	v = atomic_exchange((_Atomic int32_t*)p, v);
	coherence();
	return v;
}

int64_t
asetv(int64_t *p, int64_t v)
{
	v = atomic_exchange((_Atomic int64_t*)p, v);
	coherence();
	return v;
}

void*
asetp(void **p, void *v)
{
	v = atomic_exchange((_Atomic(void*)*)p, v);
	coherence();
	return v;
}

int32_t
aincl(int32_t *p, int32_t delta)
{
	uint32_t old;

	old = atomic_fetch_add((_Atomic int32_t*)p, delta);
	coherence();
	return (int32_t)(old + (uint32_t)delta);
}

int64_t
aincv(int64_t *p, int64_t delta)
{
	uint64_t old;

	old = atomic_fetch_add((_Atomic int64_t*)p, delta);
	coherence();
	return (int64_t)(old + (uint64_t)delta);
}

int
acasl(int32_t *p, int32_t old, int32_t new)
{
	int ok;

	ok = atomic_compare_exchange_strong((_Atomic int32_t*)p, &old, new);
	coherence();
	return ok;
}

int
acasv(int64_t *p, int64_t old, int64_t new)
{
	int ok;

	ok = atomic_compare_exchange_strong((_Atomic int64_t*)p, &old, new);
	coherence();
	return ok;
}

int
acasp(void **p, void *old, void *new)
{
	int ok;

	ok = atomic_compare_exchange_strong((_Atomic(void*)*)p, &old, new);
	coherence();
	return ok;
}

void
coherence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}
