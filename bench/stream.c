/*
 * bench/stream: SIZE bytes of data that does not compress on standard
 * output, a MiB at a time, for `9p write`.  A pipe is widened to a MiB
 * first, so the reader's reads of a MiB come back whole.
 *
 *	stream SIZE	(bytes, or with a suffix K, M or G)
 */
#define _GNU_SOURCE		/* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	Bsz	= 1024*1024,
};

static char buf[Bsz];

static void
usage(void)
{
	fprintf(stderr, "usage: stream SIZE[KMG]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned long long x, left, n;
	char *e;
	long i, w;

	if(argc != 2)
		usage();
	left = strtoull(argv[1], &e, 10);
	switch(*e){
	case 'K':	left <<= 10; e++; break;
	case 'M':	left <<= 20; e++; break;
	case 'G':	left <<= 30; e++; break;
	}
	if(*e != 0 || argv[1][0] == 0)
		usage();
	/* a regular file or a terminal refuses it: that is fine */
	fcntl(1, F_SETPIPE_SZ, Bsz);
	x = 0x9e3779b97f4a7c15ULL;
	for(i = 0; i < Bsz; i += 8){
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		memcpy(buf+i, &x, 8);
	}
	for(i = 0; left > 0; i++){
		/* every MiB differs from the last in its first bytes */
		memcpy(buf, &i, sizeof i);
		n = left < Bsz ? left : Bsz;
		for(e = buf; e < buf+n; e += w)
			if((w = write(1, e, buf+n-e)) <= 0){
				fprintf(stderr, "stream: write: %s\n", strerror(errno));
				return 1;
			}
		left -= n;
	}
	return 0;
}
