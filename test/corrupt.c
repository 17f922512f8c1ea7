/*
 * test/corrupt.c: one flipped byte in each kind of block.  Load or read
 * reports it with the block's address, never returns the bad data, and
 * uses the backup superblock or arena header where the format has one.
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

static char *img;
static int ifd;

/* Arena i's base on the 1 GiB test volume (format §10.1). */
static vlong
fs0base(int i)
{
	return Blksz + i*(8189LL*Blksz + 2*Blksz);
}
static Bptr leaf0, leaf1, pivot, data, dlist;
static char want[Blksz];

static int
mentions(vlong addr)
{
	char a[32];

	snprintf(a, sizeof a, "%#llx", (unsigned long long)addr);
	return iserr(Ecorrupt) && strstr(errstr(), a) != nil;
}

static Blk*
mkleaf(char *k0)
{
	char k[16], v[16];
	Blk *b;
	Kvp kv;
	int i;

	b = newblk(nil, Tleaf, 0);
	for(i = 0; i < 5; i++){
		snprintf(k, sizeof k, "%s%d", k0, i);
		snprintf(v, sizeof v, "val%d", i);
		kv.k = k;
		kv.nk = strlen(k);
		kv.v = v;
		kv.nv = strlen(v);
		setval(b, &kv);
	}
	enqueue(b);
	return b;
}

/* A small tree (a pivot over two leaves) as the snap tree, a data block, a deadlist block. */
static int
build(void)
{
	Blk *l0, *l1, *p, *d, *dl;
	Key k;
	int i;

	if(ream(img) == -1 || load(img) == -1)
		return -1;
	l0 = mkleaf("a");
	l1 = mkleaf("m");
	p = newblk(nil, Tpivot, 0);
	k.k = "a";
	k.nk = 1;
	setptr(p, &k, l0->bp, blkfill(l0));
	k.k = "m";
	setptr(p, &k, l1->bp, blkfill(l1));
	enqueue(p);
	d = mkdata(nil, 7);
	memcpy(want, d->buf, Blksz);
	dl = newblk(nil, Tdlist, 0);
	for(i = 0; i < 10; i++){
		put64(dl->data + dl->logsz, (vlong)(i+1)*Blksz);
		dl->logsz += 8;
	}
	enqueue(dl);
	leaf0 = l0->bp;
	leaf1 = l1->bp;
	pivot = p->bp;
	data = d->bp;
	dlist = dl->bp;
	lock(&fs->snap.lk);
	fs->snap.bp = pivot;
	fs->snap.ht = 2;
	unlock(&fs->snap.lk);
	dropblk(l0);
	dropblk(l1);
	dropblk(p);
	dropblk(d);
	dropblk(dl);
	if(fssync() == -1){
		diag("sync: %s", errstr());
		return -1;
	}
	closefs();
	return 0;
}

/* Read bp with a fresh cache after flipping a byte at off inside it. */
static void
readflipped(char *what, Bptr bp, int flg, int off)
{
	Blk *b;

	flip(img, bp.addr + off);
	if(load(img) == -1){
		flip(img, bp.addr + off);
		return;
	}
	b = getblk(bp, flg);
	ok(b == nil && mentions(bp.addr), "%s: the read fails naming %#llx", what, (unsigned long long)bp.addr);
	diag("%s", errstr());
	ok(isrdonly(), "%s: the file system went read-only", what);
	dropblk(b);
	closefs();
	flip(img, bp.addr + off);
}

static void
testreads(void)
{
	Blk *b;

	if(load(img) == -1)
		return;
	b = getblk(data, GBraw);
	ok(b != nil && memcmp(b->buf, want, Blksz) == 0, "the intact data block reads back");
	dropblk(b);
	b = getblk(pivot, 0);
	ok(b != nil && b->type == Tpivot && b->nval == 2, "the intact pivot reads back");
	dropblk(b);
	b = getblk(dlist, GBlog);
	ok(b != nil && b->type == Tdlist && b->logsz == 80 && get64(b->data+8) == 2*Blksz,
		"the intact deadlist block reads back");
	dropblk(b);
	b = getblk((Bptr){data.addr, data.hash ^ 1, data.gen}, GBraw);
	ok(b == nil && mentions(data.addr), "a cached block is checked against the pointer too");
	closefs();

	readflipped("leaf", leaf1, 0, 9000);
	readflipped("leaf header", leaf0, 0, 3);
	readflipped("leaf slack", leaf0, 0, 100);
	readflipped("data", data, GBraw, Blksz-1);
	readflipped("deadlist payload", dlist, GBlog, Loghdsz+5);
	readflipped("deadlist logh", dlist, GBlog, 6);
}

/* The snap tree root is read at load: a bad one fails the load. */
static void
testroot(void)
{
	flip(img, pivot.addr + 12);
	ok(loadfs(img, 0, Testcache) == -1 && mentions(pivot.addr), "a flipped pivot fails the load, naming it");
	diag("%s", errstr());
	flip(img, pivot.addr + 12);
	flip(img, pivot.addr + 8200);
	ok(loadfs(img, 0, Testcache) == -1 && mentions(pivot.addr), "a flipped pivot buffer byte too");
	flip(img, pivot.addr + 8200);
	ok(load(img) == 0, "restored, it loads");
	closefs();
}

static void
testsuper(void)
{
	vlong sb1;

	if(load(img) == -1)
		return;
	sb1 = fs->size - Blksz;
	closefs();
	flip(img, 100);
	ok(load(img) == 0, "a flipped primary superblock: the backup is used");
	closefs();
	flip(img, sb1 + 20);
	ok(loadfs(img, 0, Testcache) == -1 && strstr(errstr(), "superblock") != nil, "both flipped: the load fails");
	diag("%s", errstr());
	flip(img, 100);
	ok(load(img) == 0, "a flipped backup superblock alone is harmless");
	closefs();
	flip(img, sb1 + 20);
	flip(img, 3);
	ok(loadfs(img, 0, Testcache) == 0, "a bad magic in sb0: the backup is used");
	closefs();
	flip(img, 3);
}

static void
testheaders(void)
{
	char buf[Blksz];
	vlong h0;
	Blk *b;

	if(load(img) == -1)
		return;
	h0 = fs->arenas[3].base;
	closefs();
	flip(img, h0 + 20);
	ok(load(img) == 0, "a flipped h0: the footer h1 is used");
	b = getblk(data, GBraw);
	ok(b != nil, "and the volume reads");
	dropblk(b);
	ok(fssync() == 0, "and commits, rewriting h0");
	closefs();
	if(load(img) == -1)
		return;
	ok(peek(img, h0, buf, Blksz) == 0 && blkhash(buf, Blksz) == fs->arenas[3].hdhash,
		"the rewritten h0 matches the superblock");
	closefs();
	flip(img, h0 + Blksz + 30);
	ok(load(img) == 0, "a flipped h1 alone is harmless");
	ok(peek(img, h0 + Blksz, buf, Blksz) == 0 && blkhash(buf, Blksz) == fs->arenas[3].hdhash,
		"and the load rewrote it from h0");
	closefs();
	flip(img, h0 + 30);
	flip(img, h0 + Blksz + 30);
	ok(loadfs(img, 0, Testcache) == -1 && strstr(errstr(), "no valid header") != nil
		&& strstr(errstr(), "arena 3") != nil, "both copies flipped: the load fails naming the arena");
	diag("%s", errstr());
	flip(img, h0 + 30);
	flip(img, h0 + Blksz + 30);
}

static void
testlog(void)
{
	vlong lb;

	if(load(img) == -1)
		return;
	lb = fs->arenas[5].loghd.addr;
	closefs();
	flip(img, lb + Loghdsz + 3);
	ok(loadfs(img, 0, Testcache) == -1 && mentions(lb), "a flipped log block fails the load, naming it");
	diag("%s", errstr());
	flip(img, lb + Loghdsz + 3);
	flip(img, lb + 1);
	ok(loadfs(img, 0, Testcache) == -1, "a flipped log type fails the load");
	diag("%s", errstr());
	flip(img, lb + 1);
	ok(load(img) == 0, "restored, it loads");
	closefs();
}

/*
 * Older gefs grow writes hash -1 for the old arenas (format §10.4): such
 * pointers cannot be checked, so h0 is taken if it decodes, else h1.
 */
static void
testminus1(void)
{
	char buf[Blksz], save[Blksz];
	vlong sb1, h0;
	Super s;
	int i;

	if(load(img) == -1)
		return;
	sb1 = fs->size - Blksz;
	h0 = fs->arenas[2].base;
	closefs();
	if(peek(img, 0, buf, Blksz) == -1 || unpacksuper(buf, &s) == -1)
		return;
	memcpy(save, buf, Blksz);
	for(i = 0; i < s.narena; i++)
		s.arenas[i].hash = -1;
	packsuper(buf, &s);
	free(s.arenas);
	ifd = open(img, O_RDWR);
	if(pwrite(ifd, buf, Blksz, 0) != Blksz || pwrite(ifd, buf, Blksz, sb1) != Blksz)
		diag("write");
	ok(load(img) == 0, "arena pointers with hash -1 load");
	closefs();
	flip(img, h0);
	ok(load(img) == 0, "an undecodable h0 behind such a pointer: h1 is used");
	closefs();
	flip(img, h0);
	if(pwrite(ifd, save, Blksz, 0) != Blksz || pwrite(ifd, save, Blksz, sb1) != Blksz)
		diag("write");
	close(ifd);
	ok(load(img) == 0, "restored");
	closefs();
}

/* A superblock whose arenas do not fit the device is refused. */
static void
geometry(char *what, int i, vlong addr)
{
	char buf[Blksz], save[Blksz];
	vlong sb1;
	Super s;

	if(load(img) == -1)
		return;
	sb1 = fs->size - Blksz;
	closefs();
	if(peek(img, 0, save, Blksz) == -1 || unpacksuper(save, &s) == -1)
		return;
	s.arenas[i].addr = addr;
	packsuper(buf, &s);
	free(s.arenas);
	ifd = open(img, O_RDWR);
	if(pwrite(ifd, buf, Blksz, 0) != Blksz || pwrite(ifd, buf, Blksz, sb1) != Blksz)
		diag("write");
	ok(loadfs(img, 0, Testcache) == -1 && strstr(errstr(), "bad geometry") != nil, "%s: refused", what);
	diag("%s", errstr());
	if(pwrite(ifd, save, Blksz, 0) != Blksz || pwrite(ifd, save, Blksz, sb1) != Blksz)
		diag("write");
	close(ifd);
}

static void
testgeometry(void)
{
	geometry("overlapping arenas", 1, fs0base(0));
	geometry("an arena past the end of the device", 7, 1LL<<40);
	geometry("an unaligned arena", 3, fs0base(3) + 512);
	ok(load(img) == 0, "restored");
	closefs();
}

/* The independent reader sees the same corruption. */
static void
testreader(void)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py check '%s' >/dev/null",
		getenv("TOP") ? getenv("TOP") : ".", img);
	flip(img, data.addr + 77);
	ok(system(cmd) != 0, "the independent reader catches a flipped data block");
	flip(img, data.addr + 77);
	flip(img, leaf0.addr + 600);
	ok(system(cmd) != 0, "and a flipped leaf");
	flip(img, leaf0.addr + 600);
}

int
main(void)
{
	img = mkimg("vol", 1LL<<30);
	if(build() == -1)
		return 1;
	testreads();
	testroot();
	testsuper();
	testheaders();
	testlog();
	testminus1();
	testgeometry();
	testreader();
	rmtmp();
	return done();
}
