/*
 * tap.h: the Test Anything Protocol for the C unit tests.
 * Include once, in the test's main file, after dat.h and fns.h.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>

static int tapn;
static int tapfail;

static int
ok(int cond, char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tapn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if(!cond){
		tapfail++;
		/* on stderr too, which prove shows: a CI log then names it */
		fprintf(stderr, "# test %d failed: ", tapn);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fprintf(stderr, "\n");
		fflush(stderr);
	}
	return cond;
}

/* Compare two integers, showing both on failure. */
#define is(got, want, ...) \
	(ok((vlong)(got) == (vlong)(want), __VA_ARGS__) ? 1 : \
	 (fprintf(stderr, "#   got %lld (0x%llx), want %lld (0x%llx)\n", \
		(long long)(got), (unsigned long long)(got), \
		(long long)(want), (unsigned long long)(want)), 0))

static void
diag(char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Print the plan and give the exit status prove expects. */
static int
done(void)
{
	printf("1..%d\n", tapn);
	return tapfail != 0;
}
