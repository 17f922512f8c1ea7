# atomic-386.s: atomic.h for 32-bit x86 (i386 System V ABI, GNU as).
#
# Arguments are on the stack; 32-bit results leave in %eax, 64-bit ones
# in %edx:%eax.  %ebx and %esi belong to the caller and are saved.
#
# x86 is TSO: a plain load has acquire order and every locked instruction
# is a full barrier.  The 64-bit operations use lock cmpxchg8b, which is
# atomic even on a 4-byte boundary, where the ABI puts a vlong inside a
# structure; an x87 or SSE 8-byte load would not be, and SSE2 is not
# assumed.  pointers are 32 bits: the p operations are the l ones.

	.text

	.globl	agetl
	.type	agetl, @function
	.globl	agetp
	.type	agetp, @function
	.p2align 4
agetl:
agetp:
	movl	4(%esp), %ecx
	movl	(%ecx), %eax
	ret
	.size	agetl, .-agetl
	.size	agetp, .-agetp

# Compare with an arbitrary value: either it matches and is rewritten
# unchanged, or cmpxchg8b loads the current value; both atomically.
	.globl	agetv
	.type	agetv, @function
	.p2align 4
agetv:
	pushl	%ebx
	pushl	%esi
	movl	12(%esp), %esi
	xorl	%eax, %eax
	xorl	%edx, %edx
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	lock cmpxchg8b	(%esi)
	popl	%esi
	popl	%ebx
	ret
	.size	agetv, .-agetv

	.globl	asetl
	.type	asetl, @function
	.globl	asetp
	.type	asetp, @function
	.p2align 4
asetl:
asetp:
	movl	4(%esp), %ecx
	movl	8(%esp), %eax
	xchgl	%eax, (%ecx)
	ret
	.size	asetl, .-asetl
	.size	asetp, .-asetp

# The first guess at the old value may be torn; a failed cmpxchg8b
# reloads it whole into %edx:%eax and we try again.
	.globl	asetv
	.type	asetv, @function
	.p2align 4
asetv:
	pushl	%ebx
	pushl	%esi
	movl	12(%esp), %esi
	movl	16(%esp), %ebx
	movl	20(%esp), %ecx
	movl	(%esi), %eax
	movl	4(%esi), %edx
1:
	lock cmpxchg8b	(%esi)
	jnz	1b
	popl	%esi
	popl	%ebx
	ret
	.size	asetv, .-asetv

# xadd leaves the old value behind; the caller wants old + delta.
	.globl	aincl
	.type	aincl, @function
	.p2align 4
aincl:
	movl	4(%esp), %ecx
	movl	8(%esp), %eax
	movl	%eax, %edx
	lock xaddl	%eax, (%ecx)
	addl	%edx, %eax
	ret
	.size	aincl, .-aincl

	.globl	aincv
	.type	aincv, @function
	.p2align 4
aincv:
	pushl	%ebx
	pushl	%esi
	movl	12(%esp), %esi
	movl	(%esi), %eax
	movl	4(%esi), %edx
1:
	movl	%eax, %ebx
	movl	%edx, %ecx
	addl	16(%esp), %ebx
	adcl	20(%esp), %ecx
	lock cmpxchg8b	(%esi)
	jnz	1b
	movl	%ebx, %eax
	movl	%ecx, %edx
	popl	%esi
	popl	%ebx
	ret
	.size	aincv, .-aincv

	.globl	acasl
	.type	acasl, @function
	.globl	acasp
	.type	acasp, @function
	.p2align 4
acasl:
acasp:
	movl	4(%esp), %ecx
	movl	8(%esp), %eax
	movl	12(%esp), %edx
	lock cmpxchgl	%edx, (%ecx)
	sete	%al
	movzbl	%al, %eax
	ret
	.size	acasl, .-acasl
	.size	acasp, .-acasp

	.globl	acasv
	.type	acasv, @function
	.p2align 4
acasv:
	pushl	%ebx
	pushl	%esi
	movl	12(%esp), %esi
	movl	16(%esp), %eax
	movl	20(%esp), %edx
	movl	24(%esp), %ebx
	movl	28(%esp), %ecx
	lock cmpxchg8b	(%esi)
	sete	%al
	movzbl	%al, %eax
	popl	%esi
	popl	%ebx
	ret
	.size	acasv, .-acasv

# A locked no-op on the stack: a full fence without needing SSE2's mfence.
	.globl	coherence
	.type	coherence, @function
	.p2align 4
coherence:
	lock addl	$0, (%esp)
	ret
	.size	coherence, .-coherence

	.section	.note.GNU-stack, "", @progbits
