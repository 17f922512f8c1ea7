/*
 * test/vol.h: helpers for the volume-layer tests.  Include after
 * dat.h, fns.h and test/tap.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	Testcache	= 32*1024*1024,
	MiB		= 1024*1024,
};

/* Not every test uses every helper. */
#define Helper	static __attribute__((unused))

static char tmpdir[256];

/* A sparse image of sz bytes in a fresh temporary directory. */
Helper char*
mkimg(char *name, vlong sz)
{
	static char path[8][320];
	static int n;
	char *p, *t;
	int fd;

	if(tmpdir[0] == 0){
		t = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/gefs-vol.XXXXXX", t != nil ? t : "/tmp");
		if(mkdtemp(tmpdir) == nil){
			perror("mkdtemp");
			exit(1);
		}
	}
	p = path[n++ % nelem(path)];
	snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
	fd = open(p, O_RDWR|O_CREAT|O_TRUNC, 0644);
	if(fd == -1 || ftruncate(fd, sz) == -1){
		perror(p);
		exit(1);
	}
	close(fd);
	return p;
}

Helper void
rmtmp(void)
{
	char cmd[300];

	if(tmpdir[0] != 0){
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if(system(cmd) != 0)
			diag("could not remove %s", tmpdir);
	}
}

/* Ream quietly: the progress lines would mix with the TAP output. */
Helper int
ream(char *path)
{
	int fd, r;

	fflush(stdout);
	fd = dup(1);
	if(freopen("/dev/null", "w", stdout) == nil)
		return -1;
	r = reamfs(path, "glenda", Testcache);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	if(r == -1)
		diag("ream %s: %s", path, errstr());
	return r;
}

Helper int
load(char *path)
{
	int r;

	if((r = loadfs(path, 0, Testcache)) == -1)
		diag("load %s: %s", path, errstr());
	return r;
}

/*
 * Let the blocks a commit freed come back: they are logged free at the
 * commit but reusable only after an epoch and the syncer.
 */
Helper void
settle(void)
{
	epochflush();
	qfence();
}

/* A copy of every arena's free map, to compare across reloads. */
typedef struct Fmap Fmap;
struct Fmap {
	int	n;
	int	cap;
	vlong	*r;	/* arena, off, len */
	vlong	used;
};

Helper void
getfmap(Fmap *m)
{
	Fnode *f;
	Arena *a;
	int i;

	m->n = 0;
	m->used = 0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		m->used += a->used;
		for(f = rangefirst(a); f != nil; f = rangenext(a, f)){
			if(m->n == m->cap){
				m->cap = m->cap ? 2*m->cap : 64;
				m->r = erealloc(m->r, 3*m->cap*sizeof(vlong));
			}
			m->r[3*m->n] = i;
			m->r[3*m->n+1] = f->off;
			m->r[3*m->n+2] = f->len;
			m->n++;
		}
		qunlock(&a->lk);
	}
}

Helper int
fmapeq(Fmap *a, Fmap *b)
{
	int i;

	if(a->n != b->n){
		diag("free maps: %d ranges vs %d", a->n, b->n);
		return 0;
	}
	for(i = 0; i < 3*a->n; i++)
		if(a->r[i] != b->r[i]){
			diag("free maps differ at range %d: [%d] %#llx+%#llx vs [%d] %#llx+%#llx", i/3,
				(int)a->r[i/3*3], (unsigned long long)a->r[i/3*3+1], (unsigned long long)a->r[i/3*3+2],
				(int)b->r[i/3*3], (unsigned long long)b->r[i/3*3+1], (unsigned long long)b->r[i/3*3+2]);
			return 0;
		}
	if(a->used != b->used){
		diag("used: %lld vs %lld", (long long)a->used, (long long)b->used);
		return 0;
	}
	return 1;
}

Helper vlong
nfreeblks(void)
{
	Fmap m;
	vlong n;
	int i;

	memset(&m, 0, sizeof m);
	getfmap(&m);
	n = 0;
	for(i = 0; i < m.n; i++)
		n += m.r[3*i+2]/Blksz;
	free(m.r);
	return n;
}

/* A data block full of a pattern, written through the queue. */
Helper Blk*
mkdata(Tree *t, int seed)
{
	Blk *b;
	int i;

	if((b = allocblk(t, Tdat, seed, 0)) == nil)
		return nil;
	for(i = 0; i < Blksz; i++)
		b->buf[i] = seed*31 + i;
	enqueue(b);
	return b;
}

/* Read the bytes at off of the image file. */
Helper int
peek(char *path, vlong off, char *buf, int n)
{
	int fd, r;

	if((fd = open(path, O_RDONLY)) == -1)
		return -1;
	r = pread(fd, buf, n, off);
	close(fd);
	return r == n ? 0 : -1;
}

/* Flip one byte of the image file (twice restores it). */
Helper void
flip(char *path, vlong off)
{
	char c;
	int fd;

	if((fd = open(path, O_RDWR)) == -1 || pread(fd, &c, 1, off) != 1){
		perror(path);
		exit(1);
	}
	c ^= 0x5a;
	if(pwrite(fd, &c, 1, off) != 1){
		perror(path);
		exit(1);
	}
	close(fd);
}
