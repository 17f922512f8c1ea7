/*
 * bench/smallfiles: the small-file workload of TokuBench and the BetrFS
 * papers, N files of 200 bytes spread round-robin over a three-level
 * tree of 10×10×10 directories (DIR/dA/dB/dC/fNNNNNNN).
 *
 *	smallfiles create DIR N		make the tree and the files
 *	smallfiles read DIR N		read every file back, checking it
 *	smallfiles modify DIR N K	rewrite every file whose number is K mod 10
 *	smallfiles delete DIR N		unlink every file, then the directories
 *
 * One system call per step and nothing else, so the time is the file
 * system's; the driver (bench/run) times each phase from outside.  The
 * walk and the stat of every file are find(1)'s.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum {
	Fan	= 10,		/* directories per level */
	Nleaf	= Fan*Fan*Fan,
	Fsize	= 200,
	Maxfiles	= 9999999,	/* seven digits of file name */
};

static char *dir;

static void
fail(char *what, char *path)
{
	fprintf(stderr, "smallfiles: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void
filepath(char *buf, int n, long i)
{
	long leaf;

	leaf = i % Nleaf;
	snprintf(buf, n, "%s/d%ld/d%ld/d%ld/f%07ld", dir, leaf/(Fan*Fan), leaf/Fan%Fan, leaf%Fan, i);
}

/* The contents of file i (and of its rewrite gen): its number, then a pattern. */
static void
content(char *buf, long i, int gen)
{
	int k;

	snprintf(buf, Fsize, "%07ld %d ", i, gen);
	for(k = strlen(buf); k < Fsize; k++)
		buf[k] = 'a' + (i + k + gen) % 26;
}

static void
mkdirs(void)
{
	char p[4096];
	long a, b, c;

	for(a = 0; a < Fan; a++){
		snprintf(p, sizeof p, "%s/d%ld", dir, a);
		if(mkdir(p, 0755) == -1)
			fail("mkdir", p);
		for(b = 0; b < Fan; b++){
			snprintf(p, sizeof p, "%s/d%ld/d%ld", dir, a, b);
			if(mkdir(p, 0755) == -1)
				fail("mkdir", p);
			for(c = 0; c < Fan; c++){
				snprintf(p, sizeof p, "%s/d%ld/d%ld/d%ld", dir, a, b, c);
				if(mkdir(p, 0755) == -1)
					fail("mkdir", p);
			}
		}
	}
}

static void
writefile(long i, int gen, int flags)
{
	char p[4096], buf[Fsize];
	int fd;

	filepath(p, sizeof p, i);
	content(buf, i, gen);
	if((fd = open(p, O_WRONLY|flags, 0644)) == -1)
		fail("create", p);
	if(write(fd, buf, Fsize) != Fsize)
		fail("write", p);
	if(close(fd) == -1)
		fail("close", p);
}

static void
readfile(long i)
{
	char p[4096], buf[Fsize+1], want[32];
	int fd, n;

	filepath(p, sizeof p, i);
	if((fd = open(p, O_RDONLY)) == -1)
		fail("open", p);
	if((n = read(fd, buf, sizeof buf)) == -1)
		fail("read", p);
	close(fd);
	snprintf(want, sizeof want, "%07ld ", i);
	if(n != Fsize || memcmp(buf, want, 8) != 0){
		fprintf(stderr, "smallfiles: %s: wrong contents (%d bytes)\n", p, n);
		exit(1);
	}
}

static void
rmdirs(void)
{
	char p[4096];
	long a, b, c;

	for(a = 0; a < Fan; a++){
		for(b = 0; b < Fan; b++){
			for(c = 0; c < Fan; c++){
				snprintf(p, sizeof p, "%s/d%ld/d%ld/d%ld", dir, a, b, c);
				if(rmdir(p) == -1)
					fail("rmdir", p);
			}
			snprintf(p, sizeof p, "%s/d%ld/d%ld", dir, a, b);
			if(rmdir(p) == -1)
				fail("rmdir", p);
		}
		snprintf(p, sizeof p, "%s/d%ld", dir, a);
		if(rmdir(p) == -1)
			fail("rmdir", p);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: smallfiles create|read|delete DIR N | modify DIR N K\n");
	exit(2);
}

static long
num(char *s)
{
	char *e;
	long n;

	n = strtol(s, &e, 10);
	if(*s == 0 || *e != 0 || n < 0 || n > Maxfiles)
		usage();
	return n;
}

int
main(int argc, char **argv)
{
	char p[4096];
	long i, n, k;

	if(argc < 4)
		usage();
	dir = argv[2];
	n = num(argv[3]);
	if(strcmp(argv[1], "create") == 0 && argc == 4){
		mkdirs();
		for(i = 0; i < n; i++)
			writefile(i, 0, O_CREAT|O_EXCL);
	}else if(strcmp(argv[1], "read") == 0 && argc == 4){
		for(i = 0; i < n; i++)
			readfile(i);
	}else if(strcmp(argv[1], "modify") == 0 && argc == 5){
		k = num(argv[4]);
		for(i = k%10; i < n; i += 10)
			writefile(i, 1+k, O_TRUNC);
	}else if(strcmp(argv[1], "delete") == 0 && argc == 4){
		for(i = 0; i < n; i++){
			filepath(p, sizeof p, i);
			if(unlink(p) == -1)
				fail("unlink", p);
		}
		rmdirs();
	}else
		usage();
	return 0;
}
