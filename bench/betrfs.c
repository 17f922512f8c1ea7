/*
 * bench/betrfs: the random-write microbenchmark of the BetrFS papers:
 * N writes of 4 bytes at random offsets of an existing file, then one
 * fsync.  The offsets are uniform over the file and not aligned, so a
 * file system that rewrites whole blocks pays a block per 4 bytes.
 *
 *	betrfs FILE N [SEED]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static unsigned long long rng;

/* xorshift64*: the same offsets on every system for one seed */
static unsigned long long
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static void
usage(void)
{
	fprintf(stderr, "usage: betrfs FILE N [SEED]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct stat st;
	unsigned long long off;
	long i, n;
	char *e, buf[4];
	int fd;

	if(argc != 3 && argc != 4)
		usage();
	n = strtol(argv[2], &e, 10);
	if(*e != 0 || n <= 0)
		usage();
	rng = 0x9e3779b97f4a7c15ULL;
	if(argc == 4){
		rng ^= strtoull(argv[3], &e, 10);
		if(*e != 0)
			usage();
	}
	if((fd = open(argv[1], O_RDWR)) == -1 || fstat(fd, &st) == -1){
		fprintf(stderr, "betrfs: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if(st.st_size < (off_t)sizeof buf){
		fprintf(stderr, "betrfs: %s: too small\n", argv[1]);
		return 1;
	}
	for(i = 0; i < n; i++){
		off = rnd() % (st.st_size - sizeof buf + 1);
		memcpy(buf, &i, sizeof buf);
		if(pwrite(fd, buf, sizeof buf, off) != sizeof buf){
			fprintf(stderr, "betrfs: pwrite %s at %llu: %s\n", argv[1], off, strerror(errno));
			return 1;
		}
	}
	if(fsync(fd) == -1){
		fprintf(stderr, "betrfs: fsync %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
