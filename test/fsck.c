/*
 * test/fsck.c: the whole volume's check (checkstat, check.c) finds what
 * breaks the allocator's bargain, in volumes of several arenas: a block
 * allocated that nothing names (a leak), a named block that is free, a
 * block named as the data of two file offsets or as a node and as data,
 * a deadlist entry that is no block; and it finds nothing wrong in a
 * volume with snapshots that share subtrees and data, nor with writes
 * not committed yet (data blocks only in the cache).
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"
#include "test/files.h"

static char out[64*1024];
static int nout;

static void
collect(void *arg, char *line)
{
	USED(arg);
	nout += snprintf(out+nout, sizeof out - nout, "%s\n", line);
	if(nout >= (int)sizeof out)
		nout = sizeof out - 1;
}

static int
said(char *s)
{
	return strstr(out, s) != nil;
}

/* Check the volume: the stats, the lines in out. */
static Chkstat
chk(void)
{
	Chkstat st;

	nout = 0;
	out[0] = 0;
	checkstat(collect, nil, &st);
	if(st.nbad != 0 || st.leaked != 0)
		diag("check: %d problems, %lld leaked:\n%s", st.nbad, (long long)st.leaked, out);
	return st;
}

/* A fresh volume with files 100..107 in main, committed and settled. */
static void
setup(char *name)
{
	char *img;
	Mount *m;
	int q;

	img = mkimg(name, 256*MiB);
	if(ream(img) == -1 || load(img) == -1)
		exit(1);
	if((m = getmount("main")) == nil)
		exit(1);
	for(q = 100; q < 100+Nfile; q++)
		if(wfile(m, q, 1) == -1){
			diag("write %d: %s", q, errstr());
			exit(1);
		}
	putmount(m);
	if(fssync() == -1)
		exit(1);
	settle();
}

static void
finish(void)
{
	if(haltfs() == -1)
		diag("halt: %s", errstr());
	closefs();
}

/* The data block of file q at block j in main. */
static Bptr
datbp(int q, int j)
{
	char k[Keymax], buf[Kvmax];
	Mount *m;
	Key key;
	Kvp kv;
	Bptr bp;

	bp.addr = -1;
	if((m = getmount("main")) == nil)
		return bp;
	packdatkey(k, q, (uvlong)j*Blksz);
	key.k = k;
	key.nk = Offksz;
	epochstart();
	if(btlookup(m->root, &key, &kv, buf, sizeof buf) == 1)
		bp = unpackbp(kv.v);
	epochend();
	putmount(m);
	return bp;
}

/* Name bp as the data of file q at offset off in main. */
static int
pointat(int q, uvlong off, Bptr bp)
{
	char k[Keymax], v[Ptrsz];
	Mount *m;
	Msg msg;
	int r;

	if((m = getmount("main")) == nil)
		return -1;
	packdatkey(k, q, off);
	packbp(v, &bp);
	memset(&msg, 0, sizeof msg);
	msg.op = Oinsert;
	msg.kv.k = k;
	msg.kv.nk = Offksz;
	msg.kv.v = v;
	msg.kv.nv = Ptrsz;
	qlock(&fs->mutlk);
	r = upsert(m->root, &msg, 1);
	qunlock(&fs->mutlk);
	putmount(m);
	return r;
}

/* How many arenas hold a data block of main's files. */
static int
arenasused(void)
{
	Arena *seen[Nfile*Nblk], *a;
	int n, i, q, j;
	Bptr bp;

	n = 0;
	for(q = 100; q < 100+Nfile; q++)
		for(j = 0; j < Nblk; j++){
			bp = datbp(q, j);
			if((a = getarena(bp.addr)) == nil)
				continue;
			for(i = 0; i < n && seen[i] != a; i++)
				;
			if(i == n)
				seen[n++] = a;
		}
	return n;
}

static void
clean(void)
{
	Chkstat st;

	setup("clean");
	ok(fs->narena > 1, "the volume has %d arenas", fs->narena);
	ok(arenasused() > 1, "main's data lies in %d arenas", arenasused());
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "a fresh volume checks clean");
	ok(st.nodes > 0 && st.logs > 0, "it read %lld nodes and %lld log blocks", (long long)st.nodes,
		(long long)st.logs);
	is(st.data, Nfile*Nblk + 1, "it verified every data block once (the files' and /adm/users')");
	finish();
}

/* An allocated block nothing names, in the last arena. */
static void
leak(void)
{
	char want[128];
	Chkstat st;
	Fnode *fn;
	Arena *a;
	vlong addr;

	setup("leak");
	a = &fs->arenas[fs->narena-1];
	qlock(&a->lk);
	fn = rangefirst(a);
	addr = fn->off + fn->len - Blksz;
	ok(rangegrab(a, addr, Blksz) == 0, "a free block of the last arena taken out of its free map");
	a->used += Blksz;
	qunlock(&a->lk);
	st = chk();
	ok(st.nbad == 0, "a leak is no problem");
	is(st.leaked, 1, "one leaked block");
	snprintf(want, sizeof want, "arena %llx: 1 allocated blocks nothing names, the first %llx",
		(unsigned long long)a->base, (unsigned long long)addr);
	ok(said(want), "the leak is named: %s", want);
	qlock(&a->lk);
	rangefree(a, addr, Blksz);
	a->used -= Blksz;
	qunlock(&a->lk);
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "given back, the volume checks clean");
	finish();
}

/* A named block, a file's data, returned to the free map. */
static void
namedfree(void)
{
	char want[128];
	Chkstat st;
	Arena *a;
	Bptr bp;

	setup("namedfree");
	bp = datbp(100+Nfile-1, Nblk-1);
	a = getarena(bp.addr);
	ok(a != nil && a != &fs->arenas[0], "the last file's last block is in arena %d",
		a != nil ? (int)(a - fs->arenas) : -1);
	qlock(&a->lk);
	ok(rangefree(a, bp.addr, Blksz) == 0, "it is put in the free map");
	a->used -= Blksz;
	qunlock(&a->lk);
	st = chk();
	snprintf(want, sizeof want, "block %llx is named but free", (unsigned long long)bp.addr);
	ok(st.nbad == 1 && said(want), "the check finds it: %s", want);
	qlock(&a->lk);
	rangegrab(a, bp.addr, Blksz);
	a->used += Blksz;
	qunlock(&a->lk);
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "taken back, the volume checks clean");
	finish();
}

/* One block named as the data of two offsets, and a node named as data. */
static void
twice(void)
{
	char want[128];
	Chkstat st;
	Bptr bp, root;

	setup("twice");
	bp = datbp(101, 0);
	ok(pointat(105, (uvlong)Nblk*Blksz, bp) == 0, "file 105 names file 101's first block past its end");
	st = chk();
	snprintf(want, sizeof want, "block %llx used twice: two different data blocks", (unsigned long long)bp.addr);
	ok(st.nbad == 1 && said(want), "the check finds it: %s", want);
	ok(said("file 69 offset c000"), "and names the second file and offset");
	finish();

	setup("nodedata");
	root = fs->snap.bp;
	ok(pointat(102, (uvlong)Nblk*Blksz, root) == 0, "file 102 names the snap tree's root as data");
	st = chk();
	snprintf(want, sizeof want, "block %llx used twice: as a tree node and as a data block",
		(unsigned long long)root.addr);
	ok(st.nbad == 1 && said(want), "the check finds it: %s", want);
	finish();
}

/* Snapshots share subtrees and data: nothing is wrong, nothing leaks. */
static void
shares(void)
{
	Chkstat st, st1;
	Mount *m;
	int q;

	setup("shares");
	st1 = chk();
	ok(snapcreate("main", "s1", 0) == 0 && snapcreate("main", "s2", 0) == 0, "two snapshots of main");
	if((m = getmount("main")) == nil)
		exit(1);
	ok(wfile(m, 103, 2) == 0, "main's file 103 rewritten");
	putmount(m);
	ok(fssync() == 0, "committed");
	settle();
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "shared subtrees and data check clean");
	is(st.data, st1.data + Nblk, "each data block verified once: only 103's new blocks are new");

	if((m = getmount("main")) == nil)
		exit(1);
	for(q = 100; q < 100+Nfile; q += 2)
		ok(wfile(m, q, 3) == 0, "main's file %d rewritten, not committed", q);
	putmount(m);
	st = chk();
	ok(st.nbad == 0, "blocks only in the cache (not on the disk yet) verify");
	ok(fssync() == 0, "committed");
	settle();
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "and the volume checks clean after the commit");
	finish();
}

/*
 * Main's uncommitted tree replaced by a pivot naming its committed root
 * twice (the record still names it): the second time the bounds exclude
 * its keys.  Then a pivot over it one level too high.
 */
static void
resight(void)
{
	char k0[Keymax], want[128];
	Bptr c, obp;
	Chkstat st;
	int ht, oht;
	Mount *m;
	Blk *b, *p;
	Kvp kv;
	Key k;

	setup("resight");
	if((m = getmount("main")) == nil)
		exit(1);
	lock(&m->root->lk);
	c = obp = m->root->bp;
	ht = oht = m->root->ht;
	unlock(&m->root->lk);
	if((b = getblk(c, 0)) == nil || nodeent(b, 0, &kv) == -1)
		exit(1);
	memcpy(k0, kv.k, kv.nk);
	k.k = k0;
	k.nk = kv.nk;
	p = newblk(nil, Tpivot, 0);
	setptr(p, &k, c, blkfill(b));
	k.k = "\xff";
	k.nk = 1;
	setptr(p, &k, c, blkfill(b));
	enqueue(p);
	lock(&m->root->lk);
	m->root->bp = p->bp;
	m->root->ht = ht+1;
	unlock(&m->root->lk);
	st = chk();
	snprintf(want, sizeof want, "node %llx key ", (unsigned long long)c.addr);
	ok(said(want) && said("key below the node's separator"),
		"a subtree named again under bounds that exclude its keys: %s...", want);
	ok(said("mounted label main: its tree is broken"), "main's tree is broken");
	dropblk(p);

	p = newblk(nil, Tpivot, 0);
	k.k = k0;
	k.nk = kv.nk;
	setptr(p, &k, c, blkfill(b));
	enqueue(p);
	lock(&m->root->lk);
	m->root->bp = p->bp;
	m->root->ht = ht+2;
	unlock(&m->root->lk);
	st = chk();
	snprintf(want, sizeof want, "node %llx: %s at height %d", (unsigned long long)c.addr,
		b->type == Tleaf ? "leaf" : "pivot", ht+1);
	ok(st.nbad >= 1 && said(want), "a subtree named again at the wrong height: %s", want);
	dropblk(p);
	dropblk(b);
	lock(&m->root->lk);
	m->root->bp = obp;
	m->root->ht = oht;
	unlock(&m->root->lk);
	putmount(m);
	finish();
}

/*
 * File q of main with n data blocks (block j all bytes j), in batches
 * of Nbatch upserts: a file longer than the check reads at once.
 */
enum {
	Nbatch	= 64,
	Nbig	= 1000,		/* 16 MB: more than the check's buffers (Nrun runs of Runmax) */
};

static int
wbig(Mount *m, int q, int n)
{
	char k[Nbatch][Keymax], v[Nbatch][Ptrsz];
	Msg msg[Nbatch];
	Blk *b;
	int i, j, r;

	r = 0;
	qlock(&fs->mutlk);
	for(j = 0; j < n && r == 0; j += i){
		for(i = 0; i < Nbatch && j+i < n; i++){
			if((b = allocblk(m->root, Tdat, q, 0)) == nil){
				qunlock(&fs->mutlk);
				return -1;
			}
			memset(b->buf, j+i, Blksz);
			enqueue(b);
			msg[i].op = Oinsert;
			msg[i].kv.k = k[i];
			msg[i].kv.nk = Offksz;
			packdatkey(k[i], q, (uvlong)(j+i)*Blksz);
			msg[i].kv.v = v[i];
			msg[i].kv.nv = Ptrsz;
			packbp(v[i], &b->bp);
			dropblk(b);
		}
		r = upsert(m->root, msg, i);
	}
	qunlock(&fs->mutlk);
	epochclean();
	return r;
}

/*
 * Data blocks damaged on the disk, in the first run the check reads and
 * in one read long after, once every buffer was used and given back:
 * the hashers find both, and the check names the file and offset.
 */
static void
corrupt(void)
{
	char *img, want[128];
	Chkstat st;
	Bptr bp[2];
	Mount *m;
	int i, blk[2] = {3, 900};

	img = mkimg("corrupt", 256*MiB);
	if(ream(img) == -1 || load(img) == -1)
		exit(1);
	if((m = getmount("main")) == nil)
		exit(1);
	ok(wbig(m, 200, Nbig) == 0, "a file of %d blocks written", Nbig);
	putmount(m);
	if(fssync() == -1)
		exit(1);
	settle();
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "it checks clean");
	is(st.data, Nbig + 1, "every data block verified once (the file's and /adm/users')");
	for(i = 0; i < 2; i++)
		bp[i] = datbp(200, blk[i]);
	finish();
	/* reloaded: the cache, which would have the good copies, is empty */
	for(i = 0; i < 2; i++)
		flip(img, bp[i].addr + 100*i + 7);
	if(load(img) == -1)
		exit(1);
	st = chk();
	is(st.nbad, 2, "two damaged data blocks are two problems");
	for(i = 0; i < 2; i++){
		snprintf(want, sizeof want, "file c8 offset %llx: data block %llx: ",
			(unsigned long long)blk[i]*Blksz, (unsigned long long)bp[i].addr);
		ok(said(want), "block %d of the file is named: %s...", blk[i], want);
	}
	is(st.data, Nbig + 1, "and every data block was still verified once");
	finish();
	for(i = 0; i < 2; i++)
		flip(img, bp[i].addr + 100*i + 7);
	if(load(img) == -1)
		exit(1);
	st = chk();
	ok(st.nbad == 0 && st.leaked == 0, "restored, the volume checks clean");
	finish();
}

int
main(void)
{
	clean();
	leak();
	namedfree();
	twice();
	shares();
	resight();
	corrupt();
	rmtmp();
	return done();
}
