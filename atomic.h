/*
 * atomic.h: the atomics every thread of gefs shares (runtime §10).
 *
 * Self-contained: standard headers only, so each atomic-*.s/.c builds with
 * nothing but this file, and dat.h may include it.  As in Plan 9, "l" is
 * 32 bits (Plan 9's long), "v" 64 bits (vlong), "p" a pointer.
 *
 *	aget	load; acquire: later loads and stores stay after it
 *	aset	exchange: store the new value, return the previous one
 *	ainc	add a signed delta (wrapping), return the NEW value
 *	acas	strong compare-and-swap: 1 if *p was old and is now new,
 *		0 (and *p untouched) otherwise; never fails spuriously
 *	coherence	full fence, stores before it included
 *
 * aset, ainc and acas are sequentially consistent and full barriers: no
 * load or store moves across them in either direction, on every machine,
 * so code that works on amd64 does not break on a weaker one.
 *
 * Operands must be naturally aligned (the compiler does that; don't pack
 * them), except that the 386 version also copes with a vlong on a 4-byte
 * boundary, where the i386 ABI puts it inside structures.  A variable an
 * atomic touches is touched only by atomics, or while nobody else can see
 * it.  On 32-bit MIPS the vlong operations take a spin lock (the machine
 * has no 64-bit LL/SC); everything else is lock-free.
 *
 * When SAN=tsan the build uses atomic-c11.c, which ThreadSanitizer sees;
 * it cannot see into the assembly versions.
 */
#include <stdint.h>

int32_t	agetl(int32_t *p);
int64_t	agetv(int64_t *p);
void*	agetp(void **p);

int32_t	asetl(int32_t *p, int32_t v);
int64_t	asetv(int64_t *p, int64_t v);
void*	asetp(void **p, void *v);

int32_t	aincl(int32_t *p, int32_t delta);
int64_t	aincv(int64_t *p, int64_t delta);

int	acasl(int32_t *p, int32_t old, int32_t new);
int	acasv(int64_t *p, int64_t old, int64_t new);
int	acasp(void **p, void *old, void *new);

void	coherence(void);
