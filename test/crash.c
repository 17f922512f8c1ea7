/*
 * test/crash.c: the commit protocol against crashes (format §9.5,
 * runtime §8.6-8.9).  Every pwrite and fdatasync the volume layer makes
 * while changing a volume and committing is recorded (this file's
 * pwrite and fdatasync stand in for libc's).  Then images are built
 * from the committed state plus: every prefix of the writes; random
 * subsets of the writes issued since the last flush (a disk may reorder
 * or drop them); and writes torn at 512-byte sectors.  Each must load,
 * and show exactly the old commit or exactly the new one.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

typedef struct Wr Wr;
struct Wr {
	vlong	off;
	int	n;
	char	*buf;
	char	*old;	/* the committed image's bytes there */
	int	seg;	/* flushes before it */
};

static int recording;
static int recfd = -1;
static Wr *wr;
static int nwr, capwr, nseg;

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	Wr *w;

	if(recording && fd == recfd){
		if(nwr == capwr){
			capwr = capwr ? 2*capwr : 256;
			wr = realloc(wr, capwr*sizeof(Wr));
		}
		w = &wr[nwr++];
		w->off = off;
		w->n = n;
		w->buf = malloc(n);
		memcpy(w->buf, buf, n);
		w->old = nil;
		w->seg = nseg;
	}
	return syscall(SYS_pwrite64, fd, buf, n, off);
}

int
fdatasync(int fd)
{
	if(recording && fd == recfd)
		nseg++;
	return syscall(SYS_fdatasync, fd);
}

static char *img;
static int ifd;

/* What identifies a committed state. */
typedef struct State State;
struct State {
	vlong	qgen;
	Bptr	root;
	Fmap	map;
	Bptr	data[64];
	int	ndata;
};

static uvlong rng = 0x9e3779b97f4a7c15ULL;

static uvlong
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
rawwrite(vlong off, char *buf, int n)
{
	if(syscall(SYS_pwrite64, ifd, buf, n, off) != n){
		perror("pwrite");
		exit(1);
	}
}

static void
restore(void)
{
	int i;

	for(i = nwr-1; i >= 0; i--)
		rawwrite(wr[i].off, wr[i].old, wr[i].n);
}

/* Load the image and check it is exactly one of the two states. */
static int
verify(State *s0, State *s1, char *what)
{
	Fmap m;
	State *s;
	Blk *b;
	int i, good;

	memset(&m, 0, sizeof m);
	if(loadfs(img, 1, 4*MiB) == -1){
		diag("%s: load: %s", what, errstr());
		return 0;
	}
	s = fs->qgen == s1->qgen ? s1 : s0;
	good = fs->qgen == s->qgen && fs->snap.bp.addr == s->root.addr && fs->snap.bp.hash == s->root.hash;
	if(!good)
		diag("%s: qgen %lld, root %#llx: neither commit", what, (long long)fs->qgen,
			(unsigned long long)fs->snap.bp.addr);
	getfmap(&m);
	if(good && !fmapeq(&m, &s->map)){
		diag("%s: the free map of qgen %lld differs", what, (long long)s->qgen);
		good = 0;
	}
	for(i = 0; good && i < s->ndata; i++){
		if((b = getblk(s->data[i], GBraw)) == nil){
			diag("%s: data %d: %s", what, i, errstr());
			good = 0;
		}
		dropblk(b);
	}
	free(m.r);
	closefs();
	return good;
}

static void
capture(State *s)
{
	memset(&s->map, 0, sizeof s->map);
	if(loadfs(img, 1, 4*MiB) == -1){
		diag("capture: %s", errstr());
		exit(1);
	}
	s->qgen = fs->qgen;
	s->root = fs->snap.bp;
	getfmap(&s->map);
	closefs();
}

/* A new snap tree: a leaf naming fresh data blocks; the old root is dropped. */
static void
change(State *s, int seed, int nalloc)
{
	char k[16], v[Ptrsz];
	Blk *l, *d, *o;
	Kvp kv;
	int i;

	s->ndata = 0;
	l = newblk(&fs->snap, Tleaf, 0);
	for(i = 0; i < 8; i++){
		d = mkdata(nil, seed+i);
		snprintf(k, sizeof k, "d%03d", i);
		packbp(v, &d->bp);
		kv.k = k;
		kv.nk = strlen(k);
		kv.v = v;
		kv.nv = Ptrsz;
		setval(l, &kv);
		s->data[s->ndata++] = d->bp;
		dropblk(d);
	}
	enqueue(l);
	lock(&fs->snap.lk);
	o = nil;
	if(fs->snap.bp.addr != -1)
		o = getblk(fs->snap.bp, 0);
	fs->snap.bp = l->bp;
	fs->snap.ht = 1;
	unlock(&fs->snap.lk);
	if(o != nil){
		freeblk(&fs->snap, o);
		dropblk(o);
	}
	dropblk(l);
	/* churn the allocator, so logs chain and frees are logged */
	for(i = 0; i < nalloc; i++){
		if(i % Rrperiod == 0)
			fs->rrctr = 0;
		vlong a = blkalloc(Tleaf, 0, 0);
		if(i % 3 == 0)
			qfree(a, 0);
	}
}

/* Apply the writes of seg that sel picks, on top of every earlier segment. */
static int
trysubset(State *s0, State *s1, int seg, int (*sel)(int, int), int arg, char *what)
{
	int i, j;

	restore();
	for(i = 0; i < nwr && wr[i].seg < seg; i++)
		rawwrite(wr[i].off, wr[i].buf, wr[i].n);
	for(j = 0; i < nwr && wr[i].seg == seg; i++, j++)
		if(sel(j, arg))
			rawwrite(wr[i].off, wr[i].buf, wr[i].n);
	return verify(s0, s1, what);
}

static int
allbut(int j, int k)
{
	return j != k;
}

static int
only(int j, int k)
{
	return j == k;
}

static int
anyof(int j, int k)
{
	USED(j);
	USED(k);
	return rand64() % 2;
}

/*
 * Fragment arena 0's free map: its compressed log then spans blocks,
 * so later syncs append to a committed tail instead of compressing.
 */
static void
fragment(void)
{
	vlong a[4096];
	int i;

	for(i = 0; i < (int)nelem(a); i++){
		/* keep arena 0 the preferred arena */
		if(i % Rrperiod == 0)
			fs->rrctr = 0;
		a[i] = blkalloc(Tleaf, 0, 0);
	}
	for(i = 0; i < (int)nelem(a); i += 2)
		qfree(a[i], 0);
	qfence();
}

static void
freewrites(void)
{
	int i;

	for(i = 0; i < nwr; i++){
		free(wr[i].buf);
		free(wr[i].old);
	}
	nwr = 0;
}

/*
 * Starting from the committed image (s0, a copy at base), record one
 * change and commit (s1), then try every crash image.  Returns the index
 * of the first superblock write: the writes before it crash to s0.
 */
static int
onecommit(char *name, State *s0, char *base, int nalloc, int compress)
{
	State s1;
	char what[96];
	int i, j, k, t, good, seg, bfd, first;
	vlong oldhd;

	memset(&s1, 0, sizeof s1);
	if(load(img) == -1)
		return -1;
	/* no compression: the committed tails are appended in place */
	if(!compress)
		for(i = 0; i < fs->narena; i++)
			fs->arenas[i].lastlogsz = 1000;
	oldhd = fs->arenas[1].loghd.addr;
	memcpy(s1.data, s0->data, sizeof s0->data);
	freewrites();
	nseg = 0;
	recfd = fs->fd;
	recording = 1;
	change(&s1, 2000, nalloc);
	ok(fssync() == 0, "%s: the new commit", name);
	if(compress)
		ok(fs->arenas[1].loghd.addr != oldhd, "%s: the logs were compressed", name);
	else
		ok(fs->arenas[1].loghd.addr == oldhd, "%s: the logs were appended in place", name);
	j = s1.ndata;
	closefs();
	recording = 0;
	capture(&s1);
	s1.ndata = j;
	ok(s1.qgen > s0->qgen, "%s: %d writes, %d flushes", name, nwr, nseg);

	/* the committed image's bytes under every write */
	bfd = open(base, O_RDONLY);
	first = nwr;
	for(i = 0; i < nwr; i++){
		wr[i].old = malloc(wr[i].n);
		if(pread(bfd, wr[i].old, wr[i].n, wr[i].off) != wr[i].n)
			memset(wr[i].old, 0, wr[i].n);
		if(first == nwr && wr[i].n == Blksz && (wr[i].off == 0 || wr[i].off == (1LL<<30) - Blksz))
			first = i;
	}
	close(bfd);
	ifd = open(img, O_RDWR);

	good = 1;
	for(k = 0; k <= nwr; k++){
		restore();
		for(i = 0; i < k; i++)
			rawwrite(wr[i].off, wr[i].buf, wr[i].n);
		snprintf(what, sizeof what, "%s: prefix %d", name, k);
		good &= verify(s0, &s1, what);
	}
	ok(good, "%s: every prefix of the writes loads as one commit", name);

	good = 1;
	for(seg = 0; seg <= nseg; seg++){
		for(k = 0, i = 0; i < nwr; i++)
			k += wr[i].seg == seg;
		for(j = 0; j < k; j++){
			snprintf(what, sizeof what, "%s: segment %d without write %d", name, seg, j);
			good &= trysubset(s0, &s1, seg, allbut, j, what);
			snprintf(what, sizeof what, "%s: segment %d with only write %d", name, seg, j);
			good &= trysubset(s0, &s1, seg, only, j, what);
		}
		for(t = 0; t < 8; t++){
			snprintf(what, sizeof what, "%s: segment %d, random subset %d", name, seg, t);
			good &= trysubset(s0, &s1, seg, anyof, 0, what);
		}
	}
	ok(good, "%s: any subset of the writes since the last flush loads as one commit", name);

	good = 1;
	for(k = 0; k < nwr; k++){
		restore();
		for(i = 0; i < k; i++)
			rawwrite(wr[i].off, wr[i].buf, wr[i].n);
		for(j = 0; j < wr[k].n; j += 512)
			if(rand64() % 2)
				rawwrite(wr[k].off + j, wr[k].buf + j, MIN(512, wr[k].n - j));
		snprintf(what, sizeof what, "%s: write %d torn", name, k);
		good &= verify(s0, &s1, what);
	}
	ok(good, "%s: a write torn at any sectors loads as one commit", name);

	restore();
	for(i = 0; i < nwr; i++)
		rawwrite(wr[i].off, wr[i].buf, wr[i].n);
	ok(verify(&s1, &s1, "all"), "%s: all the writes: the new commit", name);
	close(ifd);
	free(s1.map.r);
	return first;
}

static void
run(char *name, int nalloc, int compress)
{
	State s0;
	char base[400], cmd[900], n2[64];
	int i, k;

	memset(&s0, 0, sizeof s0);
	img = mkimg(name, 1LL<<30);
	if(ream(img) == -1 || load(img) == -1)
		return;
	fragment();
	change(&s0, 1000, 10);
	if(haltfs() == -1){
		diag("halt: %s", errstr());
		closefs();
		return;
	}
	k = s0.ndata;
	closefs();
	capture(&s0);
	s0.ndata = k;
	snprintf(base, sizeof base, "%s.base", img);
	snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", img, base);
	if(system(cmd) != 0)
		return;
	k = onecommit(name, &s0, base, nalloc, compress);

	/*
	 * Crash just before the superblock, then go on from there: the
	 * tails hold uncommitted bytes the next commit must not trust.
	 */
	if(k < 0)
		return;
	ifd = open(img, O_RDWR);
	restore();
	for(i = 0; i < k; i++)
		rawwrite(wr[i].off, wr[i].buf, wr[i].n);
	close(ifd);
	if(system(cmd) != 0)
		return;
	snprintf(n2, sizeof n2, "%s after a crash", name);
	onecommit(n2, &s0, base, nalloc, compress);
	freewrites();
	free(s0.map.r);
}

int
main(void)
{
	/*
	 * Crash images make the loader warn about every stale header.  The
	 * stream goes, not descriptor 2, where sanitizer reports still go.
	 */
	if((stderr = fopen("/dev/null", "w")) == nil)
		return 1;
	run("inplace", 50, 0);
	run("chained", 3000, 0);
	run("compress", 50, 1);
	rmtmp();
	free(wr);
	return done();
}
