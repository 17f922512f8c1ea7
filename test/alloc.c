/*
 * test/alloc.c: arenas, allocation, the allocation log (chaining,
 * compression, replay to the last barrier), the reserve, a full volume,
 * frees through epochs, and write errors.
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

static vlong asz1g = 8189LL*Blksz;

static vlong
abase(int i, vlong asz)
{
	return Blksz + i*(asz + 2*Blksz);
}

/* The free map of a fresh 1 GiB volume (format §10.2). */
static void
testfresh(char *img)
{
	Fnode *f;
	Arena *a;
	int i, good;

	if(load(img) == -1)
		return;
	is(fs->narena, 8, "8 arenas");
	good = 1;
	for(i = 0; i < 8; i++){
		a = &fs->arenas[i];
		f = rangefirst(a);
		if(f == nil || rangenext(a, f) != nil){
			good = 0;
			continue;
		}
		if(i == 0)
			good &= f->off == abase(0, asz1g) + 3*Blksz && f->len == asz1g - 6*Blksz;
		else if(i == 1)
			good &= f->off == abase(1, asz1g) + 4*Blksz && f->len == asz1g - 4*Blksz;
		else
			good &= f->off == abase(i, asz1g) + 3*Blksz && f->len == asz1g - 3*Blksz;
		good &= a->reserve == 512*1024;
	}
	ok(good, "replayed free maps are the ream layout");
	is(fs->arenas[0].used, 6*Blksz, "arena 0 used after replay");
	closefs();
}

/* Placement: metadata from the top, sequential data from the bottom (format §9.2-9.3). */
static void
testplace(char *img)
{
	vlong a;

	if(load(img) == -1)
		return;
	is(blkalloc(Tleaf, 0, 0), abase(0, asz1g) + asz1g - 4*Blksz, "metadata: highest free block of arena 0");
	is(blkalloc(Tdat, 5, 1), abase(6, asz1g) + 3*Blksz, "sequential data of qid 5: lowest free block of arena 6");
	is(blkalloc(Tdat, 0, 1), abase(1, asz1g) + 4*Blksz, "sequential data of qid 0: arena 1");
	a = blkalloc(Tdat, 8, 0);
	is(a, abase(2, asz1g) + asz1g - Blksz, "other data of qid 8: top of arena 2");
	ok(getarena(a) == &fs->arenas[2], "getarena finds it");
	ok(getarena(abase(3, asz1g) - 1) == &fs->arenas[2], "getarena: the last byte of a span");
	ok(getarena(abase(3, asz1g)) == &fs->arenas[3], "getarena: the first byte of the next");
	ok(getarena(0) == nil && getarena(1LL<<40) == nil, "getarena: outside every arena");
	closefs();
}

/* Allocate, free in patterns, sync, reload: the same free map. */
static void
testpattern(char *img)
{
	Bptr keep[200];
	int seed[200];
	Fmap m1, m2;
	Blk *b;
	int i, j, nk, good;
	Tree t;

	memset(&m1, 0, sizeof m1);
	memset(&m2, 0, sizeof m2);
	memset(&t, 0, sizeof t);
	t.memgen = 9;
	if(load(img) == -1)
		return;
	nk = 0;
	for(i = 0; i < 600; i++){
		if(i % 2 == 0)
			b = mkdata(&t, i);
		else{
			b = newblk(&t, Tleaf, 0);
			enqueue(b);
		}
		if(b == nil)
			break;
		if(i % 3 == 0)
			freeblk(&t, b);
		else if(i % 2 == 0 && nk < (int)nelem(keep)){
			seed[nk] = i;
			keep[nk++] = b->bp;
		}
		dropblk(b);
	}
	is(i, 600, "600 blocks allocated");
	epochflush();
	ok(qfence() == 0, "frees processed");
	ok(fssync() == 0, "sync");
	settle();
	getfmap(&m1);
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "free map after reload = free map at sync");
	good = 1;
	for(i = 0; i < nk; i++){
		if((b = getblk(keep[i], GBraw)) == nil){
			diag("%s", errstr());
			good = 0;
			continue;
		}
		for(j = 0; j < Blksz; j++)
			if(b->buf[j] != (char)(seed[i]*31 + j)){
				diag("block %#llx byte %d", (unsigned long long)keep[i].addr, j);
				good = 0;
				break;
			}
		dropblk(b);
	}
	ok(good, "kept data blocks read back verified");
	closefs();
	free(m1.r);
	free(m2.r);
}

/* Run freemap through the independent reader and compare. */
static int
pymap(char *img, Fmap *m)
{
	char cmd[512], line[256];
	unsigned long long o, l;
	FILE *p;
	int a, i, good;

	snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py freemap '%s'", getenv("TOP") ? getenv("TOP") : ".", img);
	if((p = popen(cmd, "r")) == nil)
		return 0;
	good = 1;
	for(i = 0; fgets(line, sizeof line, p) != nil; i++){
		if(sscanf(line, "%d %llx %llx", &a, &o, &l) != 3 || i >= m->n
		|| a != m->r[3*i] || (vlong)o != m->r[3*i+1] || (vlong)l != m->r[3*i+2]){
			if(good)
				diag("independent reader: line %d: %s", i, line);
			good = 0;
		}
	}
	if(pclose(p) != 0 || i != m->n){
		diag("independent reader: %d ranges, we have %d", i, m->n);
		good = 0;
	}
	return good;
}

/* Fragment the free map so the log spans blocks; compress; reload. */
static void
testcompress(char *img)
{
	vlong addr[6000];
	Fmap m1, m2;
	Arena *a;
	int i, n, nblk;

	memset(&m1, 0, sizeof m1);
	memset(&m2, 0, sizeof m2);
	if(load(img) == -1)
		return;
	for(n = 0; n < (int)nelem(addr); n++)
		if((addr[n] = blkalloc(Tdat, 0, 1)) == -1)
			break;
	is(n, nelem(addr), "6000 sequential allocations");
	for(i = 0; i < n; i += 2)
		qfree(addr[i], 0);
	ok(qfence() == 0, "every other one freed");
	ok(fssync() == 0, "sync compresses");
	nblk = 0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		if(a->lastlogsz > 0)
			nblk++;
	}
	ok(nblk > 0, "some arena's compressed log spans several blocks");
	a = getarena(addr[0]);
	ok(a->logblks.n >= 2 && a->loghd.addr == a->logblks.p[0].addr, "its chain is recorded from the head");
	settle();
	getfmap(&m1);
	closefs();
	ok(pymap(img, &m1), "the independent reader replays the same free map");
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "compressed log replays to the same free map");
	/* now a small change: no compression, the tail is appended in place */
	for(i = 1; i < 200; i += 2)
		qfree(addr[i], 0);
	qfence();
	a = getarena(addr[1]);
	i = a->nlog;
	ok(fssync() == 0, "sync again");
	ok(a->nlog >= i, "a large log is not compressed at every sync");
	settle();
	getfmap(&m1);
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "appended log replays to the same free map");
	ok(pymap(img, &m2), "and the independent reader agrees");
	closefs();
	free(m1.r);
	free(m2.r);
}

/* Everything in the log after the committed barrier is ignored (format §9.8, §17.3). */
static void
testbarrier(char *img)
{
	Fmap m1, m2;
	Arena *a;
	vlong g;
	int i, n;

	memset(&m1, 0, sizeof m1);
	memset(&m2, 0, sizeof m2);
	if(load(img) == -1)
		return;
	ok(fssync() == 0, "committed");
	settle();
	getfmap(&m1);
	/* enough entries to chain log blocks, which are written at once */
	for(n = 0; n < 5000; n++)
		if(blkalloc(Tleaf, 0, 0) == -1)
			break;
	is(n, 5000, "5000 more allocations");
	for(i = 0; i < fs->narena; i++)
		if(fs->arenas[i].nlog > 0)
			break;
	ok(i < fs->narena, "the log chained to new blocks");
	/* pass 0 of a sync that never reaches its superblock */
	g = qbarrier();
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		logappend(a, LogSync, g, 0);
		logflush(a);
		qunlock(&a->lk);
	}
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "replay stops at the barrier of the committed superblock");
	/* the cut tail is appended to, committed and replayed again */
	for(n = 0; n < 100; n++)
		blkalloc(Tleaf, 0, 0);
	ok(fssync() == 0, "commit on the cut log");
	settle();
	getfmap(&m1);
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "the cut log replays with the new entries");
	closefs();
	free(m1.r);
	free(m2.r);
}

/* Fill the smallest volume: Efull, nothing lost, it loads and checks afterwards. */
static void
testfill(char *img)
{
	Bptr *bp;
	Fmap m1, m2;
	vlong nfree0;
	int i, n, cap, good;
	Blk *b;
	Tree t;
	char cmd[512];

	memset(&m1, 0, sizeof m1);
	memset(&m2, 0, sizeof m2);
	memset(&t, 0, sizeof t);
	t.memgen = 5;
	if(ream(img) == -1 || load(img) == -1)
		return;
	nfree0 = nfreeblks();
	cap = 9000;
	bp = emalloc(cap*sizeof(Bptr));
	for(n = 0; n < cap; n++){
		if((b = mkdata(&t, n)) == nil)
			break;
		bp[n] = b->bp;
		dropblk(b);
	}
	ok(n < cap && iserr(Efull), "allocation fails with '%s'", Efull);
	is(strcmp(errstr(), Efull), 0, "the error is exactly the string of runtime §3.16");
	diag("%d blocks allocated, %lld were free", n, (long long)nfree0);
	ok(n > nfree0 - 8*40 && n <= nfree0 - 8*32, "everything but the arena reserves was used");
	ok(!isrdonly(), "still writable");
	fs->usereserve = 1;
	b = mkdata(&t, 1);
	ok(b != nil, "the reserve can be used when allowed");
	if(b != nil){
		bp[n++] = b->bp;
		dropblk(b);
	}
	fs->usereserve = 0;
	ok(fssync() == 0, "a full volume still syncs");
	settle();
	getfmap(&m1);
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "the full volume reloads with the same free map");
	ok(pymap(img, &m2), "and the independent reader agrees");
	good = 1;
	for(i = 0; i < n; i += 97){
		if((b = getblk(bp[i], GBraw)) == nil || (uchar)b->buf[7] != (uchar)(i*31 + 7)){
			good = 0;
			diag("block %d: %s", i, b == nil ? errstr() : "wrong contents");
		}
		dropblk(b);
	}
	ok(good, "data written while filling reads back");
	for(i = 0; i < n; i++)
		freebp(&t, bp[i]);
	ok(haltfs() == 0, "everything freed and committed");
	ok(nfreeblks() >= nfree0 - 2*fs->narena, "the space came back");
	closefs();
	snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py check '%s' >/dev/null",
		getenv("TOP") ? getenv("TOP") : ".", img);
	if(!ok(system(cmd) == 0, "the independent reader finds a consistent volume, no leaks")){
		snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py check '%s' | head -20",
			getenv("TOP") ? getenv("TOP") : ".", img);
		if(system(cmd) != 0)
			diag("could not run the reader");
	}
	free(bp);
	free(m1.r);
	free(m2.r);
}

/* dupblk copies entries, not slack. */
static void
testdup(char *img)
{
	char k[8], v[8];
	Blk *b, *n;
	Kvp kv;
	int i, z;

	if(load(img) == -1)
		return;
	b = newblk(nil, Tleaf, 0);
	memset(b->buf + 500, 0xaa, 2000);
	for(i = 0; i < 10; i++){
		snprintf(k, sizeof k, "k%d", i);
		snprintf(v, sizeof v, "v%d", i);
		kv.k = k;
		kv.nk = strlen(k);
		kv.v = v;
		kv.nv = strlen(v);
		setval(b, &kv);
	}
	n = dupblk(nil, b);
	ok(n != nil && n->nval == 10 && n->valsz == b->valsz && n->bp.addr != b->bp.addr, "dupblk copies the header fields");
	z = 1;
	for(i = Leafhdsz + 20; i < Blksz - b->valsz; i++)
		z &= n->buf[i] == 0;
	ok(z, "the copy's slack is zero");
	ok(memcmp(n->buf + Blksz - b->valsz, b->buf + Blksz - b->valsz, b->valsz) == 0
		&& memcmp(n->buf + Leafhdsz, b->buf + Leafhdsz, 20) == 0, "entries and offsets equal");
	freeblk(nil, b);
	freeblk(nil, n);
	dropblk(b);
	dropblk(n);
	closefs();
}

/* A write error: read-only, a clear error, the last commit intact. */
static void
testwerr(char *img)
{
	Fmap m1, m2;
	int fd;

	memset(&m1, 0, sizeof m1);
	memset(&m2, 0, sizeof m2);
	if(load(img) == -1)
		return;
	ok(fssync() == 0, "committed");
	settle();
	getfmap(&m1);
	blkalloc(Tleaf, 0, 0);
	/* writes through a read-only descriptor fail */
	fd = open(img, O_RDONLY);
	dup2(fd, fs->fd);
	close(fd);
	ok(fssync() == -1, "sync fails");
	diag("%s", errstr());
	ok(isrdonly(), "the file system is read-only");
	ok(newblk(nil, Tleaf, 0) == nil && iserr(Erdonly), "allocation says '%s'", Erdonly);
	closefs();
	if(load(img) == -1)
		return;
	getfmap(&m2);
	ok(fmapeq(&m1, &m2), "the last commit is intact");
	qfree(fs->arenas[0].free->off, 0);
	qfence();
	ok(isrdonly(), "a double free makes the file system read-only");
	closefs();
	free(m1.r);
	free(m2.r);
}

/* -R: nothing is ever written. */
static void
testrdonly(char *img)
{
	char a[Blksz], b[Blksz];
	Fmap m;

	memset(&m, 0, sizeof m);
	if(peek(img, 0, a, Blksz) == -1 || loadfs(img, 1, Testcache) == -1){
		diag("%s", errstr());
		return;
	}
	ok(isrdonly(), "a -R load is read-only");
	ok(newblk(nil, Tleaf, 0) == nil && iserr(Erdonly), "no allocation");
	ok(fssync() == -1 && iserr(Erdonly), "no sync");
	getfmap(&m);
	ok(m.n > 0, "but the free maps are there");
	closefs();
	ok(peek(img, 0, b, Blksz) == 0 && memcmp(a, b, Blksz) == 0, "the superblock is untouched");
	free(m.r);
}

int
main(void)
{
	char *img, *small;

	img = mkimg("vol", 1LL<<30);
	small = mkimg("small", 128*MiB + Blksz);
	if(ream(img) == -1)
		return 1;
	testfresh(img);
	testplace(img);
	testpattern(img);
	testcompress(img);
	testbarrier(img);
	testdup(img);
	testwerr(img);
	testrdonly(img);
	testfill(small);
	rmtmp();
	return done();
}
