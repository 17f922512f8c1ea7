/*
 * test/dlist.c: deadlists (format §11.5).  Blocks a tree kills go to
 * in-memory Tdlist blocks keyed (memgen, bgen); sync writes them and
 * records Kdlist -> (head, tail) in the snap tree; the chain reads back,
 * verified by its own hashes, after a reload and by the independent
 * reader.
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Nkill	= 3000,
	Ngen	= 6,	/* birth generations: more lists than open heads */
};

static Bptr killed[Nkill];

/* Every address listed in the deadlist (gen, bgen), head to tail. */
static int
readlist(vlong gen, vlong bgen, vlong *out, int max)
{
	char k[Dlksz], buf[Kvmax];
	Bptr hd, tl, bp;
	Key key;
	Kvp kv;
	Blk *b;
	int n, i;

	packdlkey(k, gen, bgen);
	key.k = k;
	key.nk = Dlksz;
	if(btlookup(&fs->snap, &key, &kv, buf, sizeof buf) != 1){
		diag("no Kdlist(%lld, %lld): %s", (long long)gen, (long long)bgen, errstr());
		return -1;
	}
	if(unpackdlval(kv.v, kv.nv, &hd, &tl) == -1)
		return -1;
	n = 0;
	for(bp = hd;;){
		if((b = getblk(bp, GBlog)) == nil){
			diag("deadlist block %#llx: %s", (unsigned long long)bp.addr, errstr());
			return -1;
		}
		if(b->type != Tdlist){
			dropblk(b);
			return -1;
		}
		for(i = 0; i < b->logsz; i += 8)
			if(n < max)
				out[n++] = get64(b->data + i);
		if(bp.addr == tl.addr){
			dropblk(b);
			break;
		}
		bp = b->logp;
		dropblk(b);
	}
	return n;
}

static int
cmpv(const void *a, const void *b)
{
	vlong x, y;

	x = *(vlong*)a;
	y = *(vlong*)b;
	return (x > y) - (x < y);
}

/* The lists hold exactly the killed blocks of each birth generation. */
static int
checklists(vlong memgen)
{
	vlong got[Nkill], want[Nkill];
	int g, i, n, nw, good;

	good = 1;
	for(g = 0; g < Ngen; g++){
		n = readlist(memgen, 10+g, got, Nkill);
		nw = 0;
		for(i = 0; i < Nkill; i++)
			if(killed[i].gen == 10+g)
				want[nw++] = killed[i].addr;
		if(n != nw){
			diag("bgen %d: %d listed, %d killed", 10+g, n, nw);
			good = 0;
			continue;
		}
		qsort(got, n, sizeof got[0], cmpv);
		qsort(want, nw, sizeof want[0], cmpv);
		good &= memcmp(got, want, n*sizeof got[0]) == 0;
	}
	return good;
}

int
main(void)
{
	char *img, cmd[512];
	vlong before;
	Bptr old;
	Tree t;
	int i;

	img = mkimg("vol", 1LL<<30);
	if(ream(img) == -1 || load(img) == -1)
		return 1;
	fs->dlcmax = 4;
	memset(&t, 0, sizeof t);
	t.memgen = 20;
	t.base = 9;
	for(i = 0; i < Nkill; i++){
		killed[i].addr = blkalloc(Tleaf, 0, 0);
		killed[i].hash = -1;
		killed[i].gen = 10 + i % Ngen;
	}
	before = nfreeblks();
	for(i = 0; i < Nkill; i++)
		freebp(&t, killed[i]);
	ok(nfreeblks() < before, "killed blocks are not freed; the lists take blocks");
	/* born at or before the fork: another chain's, left alone */
	old = (Bptr){blkalloc(Tleaf, 0, 0), -1, 9};
	before = nfreeblks();
	freebp(&t, old);
	epochflush();
	qfence();
	ok(nfreeblks() == before && fs->ndlist <= fs->dlcmax, "a block born before the tree forked is neither freed nor listed");
	qfree(old.addr, 0);
	ok(fs->ndlist <= fs->dlcmax, "at most dlcmax heads open (%d)", fs->ndlist);
	ok(fssync() == 0, "sync writes the lists and their Kdlist records");
	ok(fs->dlists == nil && fs->ndlist == 0, "the descriptors are gone after the commit");
	ok(checklists(20), "each list holds exactly the blocks killed from its birth generation");
	ok(haltfs() == 0, "halt");
	closefs();
	if(load(img) == -1)
		return 1;
	ok(checklists(20), "and so after a reload, every block verified by its own hash");
	closefs();
	snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py check '%s' >/dev/null",
		getenv("TOP") ? getenv("TOP") : ".", img);
	if(!ok(system(cmd) == 0, "the independent reader walks the lists; nothing leaks")){
		snprintf(cmd, sizeof cmd, "python3 %s/test/gefsread.py check '%s' | head -20",
			getenv("TOP") ? getenv("TOP") : ".", img);
		if(system(cmd) != 0)
			diag("could not run the reader");
	}
	rmtmp();
	return done();
}
