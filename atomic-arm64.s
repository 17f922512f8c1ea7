// atomic-arm64.s: atomic.h for AArch64 (AAPCS64, GNU as).
//
// Arguments arrive in x0 (address), x1, x2; results leave in w0/x0.
// Only ARMv8.0 instructions: exclusive load/store loops, no LSE.
//
// get is a load-acquire (ldar).  set, inc and cas are load-acquire-
// exclusive / store-release-exclusive loops, which are sequentially
// consistent, followed by dmb ish so that they are full barriers for
// the plain accesses around them too, as on x86.  cas retries when the
// store-exclusive fails, so it never fails spuriously; inc returns the
// value it stored.

	.text

	.globl	agetl
	.type	agetl, %function
	.p2align 4
agetl:
	ldar	w0, [x0]
	ret
	.size	agetl, .-agetl

	.globl	agetv
	.type	agetv, %function
	.globl	agetp
	.type	agetp, %function
	.p2align 4
agetv:
agetp:
	ldar	x0, [x0]
	ret
	.size	agetv, .-agetv
	.size	agetp, .-agetp

	.globl	asetl
	.type	asetl, %function
	.p2align 4
asetl:
1:
	ldaxr	w2, [x0]
	stlxr	w3, w1, [x0]
	cbnz	w3, 1b
	dmb	ish
	mov	w0, w2
	ret
	.size	asetl, .-asetl

	.globl	asetv
	.type	asetv, %function
	.globl	asetp
	.type	asetp, %function
	.p2align 4
asetv:
asetp:
1:
	ldaxr	x2, [x0]
	stlxr	w3, x1, [x0]
	cbnz	w3, 1b
	dmb	ish
	mov	x0, x2
	ret
	.size	asetv, .-asetv
	.size	asetp, .-asetp

	.globl	aincl
	.type	aincl, %function
	.p2align 4
aincl:
1:
	ldaxr	w2, [x0]
	add	w2, w2, w1
	stlxr	w3, w2, [x0]
	cbnz	w3, 1b
	dmb	ish
	mov	w0, w2
	ret
	.size	aincl, .-aincl

	.globl	aincv
	.type	aincv, %function
	.p2align 4
aincv:
1:
	ldaxr	x2, [x0]
	add	x2, x2, x1
	stlxr	w3, x2, [x0]
	cbnz	w3, 1b
	dmb	ish
	mov	x0, x2
	ret
	.size	aincv, .-aincv

// On a mismatch clrex drops the reservation we will not use.
	.globl	acasl
	.type	acasl, %function
	.p2align 4
acasl:
1:
	ldaxr	w3, [x0]
	cmp	w3, w1
	b.ne	2f
	stlxr	w4, w2, [x0]
	cbnz	w4, 1b
	dmb	ish
	mov	w0, #1
	ret
2:
	clrex
	dmb	ish
	mov	w0, #0
	ret
	.size	acasl, .-acasl

	.globl	acasv
	.type	acasv, %function
	.globl	acasp
	.type	acasp, %function
	.p2align 4
acasv:
acasp:
1:
	ldaxr	x3, [x0]
	cmp	x3, x1
	b.ne	2f
	stlxr	w4, x2, [x0]
	cbnz	w4, 1b
	dmb	ish
	mov	w0, #1
	ret
2:
	clrex
	dmb	ish
	mov	w0, #0
	ret
	.size	acasv, .-acasv
	.size	acasp, .-acasp

	.globl	coherence
	.type	coherence, %function
	.p2align 4
coherence:
	dmb	ish
	ret
	.size	coherence, .-coherence

	.section	.note.GNU-stack, "", %progbits
