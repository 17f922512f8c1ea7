# atomic-power64.s: atomic.h for 64-bit little-endian POWER (ELFv2 ABI,
# GNU as).  Big-endian power64 uses ELFv1 function descriptors and takes
# atomic-c11.c instead.
#
# Arguments arrive in r3 (address), r4, r5; the result leaves in r3,
# which the ABI wants sign-extended to 64 bits for a 32-bit int.  These
# are leaf functions that touch no TOC, so one entry point serves both
# the local and the global caller.
#
# get: load; compare with itself; branch; isync.  The branch depends on
# the loaded value and isync waits for it, so nothing later starts
# before the load is done: acquire.
# set, inc, cas: sync before (prior accesses done) and sync after (a
# full barrier; isync alone would let a later load pass our store) around
# a larx/stcx. loop.  cas loops only when the stcx. loses its
# reservation, so it never fails spuriously.  coherence is sync
# (hwsync): lwsync does not order a store before a later load.

	.abiversion	2
	.text

	.globl	agetl
	.type	agetl, @function
	.p2align 4
agetl:
	lwa	3, 0(3)
	cmpw	3, 3
	bne-	1f
1:
	isync
	blr
	.size	agetl, .-agetl

	.globl	agetv
	.type	agetv, @function
	.globl	agetp
	.type	agetp, @function
	.p2align 4
agetv:
agetp:
	ld	3, 0(3)
	cmpd	3, 3
	bne-	1f
1:
	isync
	blr
	.size	agetv, .-agetv
	.size	agetp, .-agetp

	.globl	asetl
	.type	asetl, @function
	.p2align 4
asetl:
	sync
1:
	lwarx	5, 0, 3
	stwcx.	4, 0, 3
	bne-	1b
	sync
	extsw	3, 5
	blr
	.size	asetl, .-asetl

	.globl	asetv
	.type	asetv, @function
	.globl	asetp
	.type	asetp, @function
	.p2align 4
asetv:
asetp:
	sync
1:
	ldarx	5, 0, 3
	stdcx.	4, 0, 3
	bne-	1b
	sync
	mr	3, 5
	blr
	.size	asetv, .-asetv
	.size	asetp, .-asetp

	.globl	aincl
	.type	aincl, @function
	.p2align 4
aincl:
	sync
1:
	lwarx	5, 0, 3
	add	5, 5, 4
	stwcx.	5, 0, 3
	bne-	1b
	sync
	extsw	3, 5
	blr
	.size	aincl, .-aincl

	.globl	aincv
	.type	aincv, @function
	.p2align 4
aincv:
	sync
1:
	ldarx	5, 0, 3
	add	5, 5, 4
	stdcx.	5, 0, 3
	bne-	1b
	sync
	mr	3, 5
	blr
	.size	aincv, .-aincv

# cmpw looks at the low 32 bits only, so the caller's extension of old
# does not matter.
	.globl	acasl
	.type	acasl, @function
	.p2align 4
acasl:
	sync
1:
	lwarx	6, 0, 3
	cmpw	6, 4
	bne-	2f
	stwcx.	5, 0, 3
	bne-	1b
	sync
	li	3, 1
	blr
2:
	sync
	li	3, 0
	blr
	.size	acasl, .-acasl

	.globl	acasv
	.type	acasv, @function
	.globl	acasp
	.type	acasp, @function
	.p2align 4
acasv:
acasp:
	sync
1:
	ldarx	6, 0, 3
	cmpd	6, 4
	bne-	2f
	stdcx.	5, 0, 3
	bne-	1b
	sync
	li	3, 1
	blr
2:
	sync
	li	3, 0
	blr
	.size	acasv, .-acasv
	.size	acasp, .-acasp

	.globl	coherence
	.type	coherence, @function
	.p2align 4
coherence:
	sync
	blr
	.size	coherence, .-coherence

	.section	.note.GNU-stack, "", @progbits
