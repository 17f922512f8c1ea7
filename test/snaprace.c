/*
 * test/snaprace.c: readers walking snapshots while the mutator rewrites
 * main, takes snapshots, deletes them and commits (runtime §2).  Each
 * reader, inside an epoch, finds a snapshot through the snap tree (its
 * label, then its record) and reads every file of it; the mutator may
 * delete that snapshot meanwhile, and its blocks must not be reused
 * until the reader has left the epoch.  Readers also read the live
 * main and a mounted snapshot.  Meant for ASan and TSan.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"
#include "test/files.h"

enum {
	Nreader	= 2,
	Rounds	= 40,
};

static int	stop;		/* atomic */
static int	newest;		/* atomic: the newest snapshot taken, t<newest> */
static int	bad;		/* atomic: mismatches readers saw */
static int	walks;		/* atomic: snapshots read whole */
static Mount	*old;

static void
report(void *arg, char *line)
{
	USED(arg);
	diag("check: %s", line);
}

/* The seed a tree's file q was written with, read from its first byte. */
static int
seedof(Tree *t, int q)
{
	char k[Offksz], buf[Kvmax];
	Key key;
	Kvp kv;
	Blk *b;
	int s;

	packdatkey(k, q, 0);
	key.k = k;
	key.nk = Offksz;
	if(btlookup(t, &key, &kv, buf, sizeof buf) != 1)
		return -1;
	if((b = getblk(unpackbp(kv.v), GBraw)) == nil)
		return -1;
	for(s = 1; s < 256; s++)
		if((uchar)b->buf[0] == pat(q, 0, s, 0))
			break;
	dropblk(b);
	return s;
}

/* Snapshot t<n> through the snap tree: every file holds seed n. */
static void
walksnap(int n)
{
	char name[16], k[Keymax], v[Kvmax];
	vlong gen;
	u32int flag;
	Tree t;
	Key key;
	Kvp kv;
	int q;

	snprintf(name, sizeof name, "t%d", n);
	key.k = k;
	key.nk = packlabel(k, sizeof k, name);
	epochstart();
	if(btlookup(&fs->snap, &key, &kv, v, sizeof v) != 1 || unpacklblval(kv.v, kv.nv, &gen, &flag) == -1)
		goto out;
	key.nk = packsnapkey(k, gen) - k;
	memset(&t, 0, sizeof t);
	if(btlookup(&fs->snap, &key, &kv, v, sizeof v) != 1 || unpacktree(&t, kv.v, kv.nv) == -1)
		goto out;
	for(q = 100; q < 100+Nfile; q++)
		if(!hasfile(&t, q, n)){
			diag("t%d: file %d differs", n, q);
			aincl(&bad, 1);
		}
	aincl(&walks, 1);
out:
	epochend();
}

static void
reader(void *arg)
{
	Mount *m;
	Tree *t, v;
	int q, s, n;

	USED(arg);
	m = getmount("main");
	while(!agetl(&stop)){
		n = agetl(&newest);
		if(n > 0)
			walksnap(n);
		epochstart();
		/* one version of main: the mutator goes on writing it */
		t = agetp((void**)&m->root);
		memset(&v, 0, sizeof v);
		lock(&t->lk);
		v.bp = t->bp;
		v.ht = t->ht;
		unlock(&t->lk);
		t = &v;
		for(q = 100; q < 100+Nfile; q++)
			if((s = seedof(t, q)) < 0 || !hasfile(t, q, s)){
				diag("main: file %d is not whole (seed %d)", q, s);
				aincl(&bad, 1);
			}
		t = agetp((void**)&old->root);
		for(q = 100; q < 100+Nfile; q++)
			if(!hasfile(t, q, 1)){
				diag("old: file %d changed", q);
				aincl(&bad, 1);
			}
		epochend();
	}
	putmount(m);
}

int
main(void)
{
	pthread_t tid[Nreader];
	char name[16];
	Mount *m;
	vlong leaks;
	int i, q, nb;
	char *img;

	img = mkimg("race.img", 1024*MiB);
	if(ream(img) == -1 || load(img) == -1)
		return 1;
	m = getmount("main");
	for(q = 100; q < 100+Nfile; q++)
		wfile(m, q, 1);
	snapcreate("main", "old", 0);
	old = getmount("old");
	fssync();
	for(i = 0; i < Nreader; i++)
		launch(reader, nil, "reader", &tid[i]);
	for(i = 2; i < Rounds; i++){
		/* one file per upsert: a reader of main sees each file whole */
		for(q = 100; q < 100+Nfile; q++)
			if(wfile(m, q, i) == -1)
				diag("write: %s", errstr());
		snprintf(name, sizeof name, "t%d", i);
		if(snapcreate("main", name, 0) == -1)
			diag("snap %s: %s", name, errstr());
		asetl(&newest, i);
		if(i >= 4){
			snprintf(name, sizeof name, "t%d", i-2);
			if(snapdelete(name) == -1)
				diag("delete %s: %s", name, errstr());
		}
		if(i % 3 == 0 && fssync() == -1)
			diag("sync: %s", errstr());
	}
	asetl(&stop, 1);
	for(i = 0; i < Nreader; i++)
		pthread_join(tid[i], nil);
	ok(agetl(&bad) == 0, "readers saw only whole, unchanged snapshots (%d walks of deleted-soon snapshots)", agetl(&walks));
	ok(!isrdonly(), "no block was read after its reuse (no checksum failure)");
	putmount(old);
	putmount(m);
	fssync();
	settle();
	nb = checkfs(report, nil, &leaks);
	ok(nb == 0 && leaks == 0, "the volume checks: %d problems, %lld leaked blocks", nb, (long long)leaks);
	closefs();
	rmtmp();
	return done();
}
