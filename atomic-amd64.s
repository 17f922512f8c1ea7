# atomic-amd64.s: atomic.h for x86-64 (System V ABI, GNU as).
#
# x86 is TSO: a plain load already has acquire order, and every locked
# instruction (xchg is locked implicitly) is a full barrier, so set, inc
# and cas are sequentially consistent with nothing added.
#
# Arguments arrive in %rdi (address), %rsi, %rdx; results leave in %rax.

	.text

	.globl	agetl
	.type	agetl, @function
	.p2align 4
agetl:
	movl	(%rdi), %eax
	ret
	.size	agetl, .-agetl

	.globl	agetv
	.type	agetv, @function
	.globl	agetp
	.type	agetp, @function
	.p2align 4
agetv:
agetp:
	movq	(%rdi), %rax
	ret
	.size	agetv, .-agetv
	.size	agetp, .-agetp

	.globl	asetl
	.type	asetl, @function
	.p2align 4
asetl:
	movl	%esi, %eax
	xchgl	%eax, (%rdi)
	ret
	.size	asetl, .-asetl

	.globl	asetv
	.type	asetv, @function
	.globl	asetp
	.type	asetp, @function
	.p2align 4
asetv:
asetp:
	movq	%rsi, %rax
	xchgq	%rax, (%rdi)
	ret
	.size	asetv, .-asetv
	.size	asetp, .-asetp

# xadd leaves the old value behind; the caller wants old + delta.
	.globl	aincl
	.type	aincl, @function
	.p2align 4
aincl:
	movl	%esi, %eax
	lock xaddl	%eax, (%rdi)
	addl	%esi, %eax
	ret
	.size	aincl, .-aincl

	.globl	aincv
	.type	aincv, @function
	.p2align 4
aincv:
	movq	%rsi, %rax
	lock xaddq	%rax, (%rdi)
	addq	%rsi, %rax
	ret
	.size	aincv, .-aincv

# cmpxchg compares with %rax and sets ZF on success.
	.globl	acasl
	.type	acasl, @function
	.p2align 4
acasl:
	movl	%esi, %eax
	lock cmpxchgl	%edx, (%rdi)
	sete	%al
	movzbl	%al, %eax
	ret
	.size	acasl, .-acasl

	.globl	acasv
	.type	acasv, @function
	.globl	acasp
	.type	acasp, @function
	.p2align 4
acasv:
acasp:
	movq	%rsi, %rax
	lock cmpxchgq	%rdx, (%rdi)
	sete	%al
	movzbl	%al, %eax
	ret
	.size	acasv, .-acasv
	.size	acasp, .-acasp

# The only x86 fence that orders a store before a later load.
	.globl	coherence
	.type	coherence, @function
	.p2align 4
coherence:
	mfence
	ret
	.size	coherence, .-coherence

	.section	.note.GNU-stack, "", @progbits
