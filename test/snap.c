/*
 * test/snap.c: snapshots, forks and their deletion through the
 * function-level API, on reamed volumes.  Files are Kent and Kdat keys
 * written straight into the trees; after every step the whole volume
 * is checked (checkfs: trees, snapshot graph, and every allocated block
 * named exactly once where it must be), and every label's files are read
 * back and compared with a model.
 */
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"
#include "test/files.h"

enum {
	Nlbl	= 8,
};

/* What each label should hold: per file, the seed of its contents or 0. */
typedef struct Model Model;
struct Model {
	char	name[32];
	int	live;
	int	seed[Nfile];
};

static Model	model[Nlbl];
static char	*img;

static void
report(void *arg, char *line)
{
	USED(arg);
	diag("check: %s", line);
}

static Model*
mdl(char *name)
{
	int i;

	for(i = 0; i < Nlbl; i++)
		if(model[i].live && strcmp(model[i].name, name) == 0)
			return &model[i];
	for(i = 0; i < Nlbl; i++)
		if(!model[i].live){
			memset(&model[i], 0, sizeof model[i]);
			snprintf(model[i].name, sizeof model[i].name, "%s", name);
			model[i].live = 1;
			return &model[i];
		}
	abort();
}

/* Every file of the label as the model says. */
static int
labelok(Model *md)
{
	Mount *m;
	Tree *t;
	int q, good;

	if((m = getmount(md->name)) == nil){
		diag("getmount %s: %s", md->name, errstr());
		return 0;
	}
	good = 1;
	epochstart();
	t = agetp((void**)&m->root);
	for(q = 0; q < Nfile; q++)
		if(!hasfile(t, 100+q, md->seed[q])){
			diag("label %s: file %d is not as it should be (seed %d)", md->name, 100+q, md->seed[q]);
			good = 0;
		}
	epochend();
	putmount(m);
	return good;
}

static int
alllabelsok(void)
{
	int i, good;

	good = 1;
	for(i = 0; i < Nlbl; i++)
		if(model[i].live && !labelok(&model[i]))
			good = 0;
	return good;
}

/* Commit, let the released frees reach the allocator, check everything. */
static int
volok(char *what)
{
	vlong leaks;
	int bad;

	if(fssync() == -1){
		diag("%s: sync: %s", what, errstr());
		return 0;
	}
	settle();
	bad = checkfs(report, nil, &leaks);
	if(bad != 0 || leaks != 0)
		diag("%s: %d problems, %lld leaked blocks", what, bad, (long long)leaks);
	return bad == 0 && leaks == 0;
}

static vlong
usedblks(void)
{
	vlong used, size;

	fsusage(&used, &size);
	return used / Blksz;
}

static int
mwrite(char *label, int q, int seed)
{
	Mount *m;
	int r;

	if((m = getmount(label)) == nil)
		return -1;
	r = wfile(m, q, seed);
	putmount(m);
	if(r == 0)
		mdl(label)->seed[q-100] = seed;
	return r;
}

static int
mremove(char *label, int q)
{
	Mount *m;
	int r;

	if((m = getmount(label)) == nil)
		return -1;
	r = rmfile(m, q);
	putmount(m);
	if(r == 0)
		mdl(label)->seed[q-100] = 0;
	return r;
}

static int
msnap(char *old, char *new, int mut)
{
	Model *o, *n;

	if(snapcreate(old, new, mut) == -1){
		diag("snap %s %s: %s", old, new, errstr());
		return -1;
	}
	o = mdl(old);
	n = mdl(new);
	memcpy(n->seed, o->seed, sizeof n->seed);
	return 0;
}

static int
mdelete(char *name)
{
	if(snapdelete(name) == -1){
		diag("delete %s: %s", name, errstr());
		return -1;
	}
	mdl(name)->live = 0;
	return 0;
}

static void
fresh(char *name)
{
	memset(model, 0, sizeof model);
	img = mkimg(name, 1024*MiB);
	if(ream(img) == -1 || load(img) == -1)
		exit(1);
	mdl("main");
}

/*
 * The history every deletion order starts from: snapshots s1-s3 of
 * main, forks k1 (of s1) and k2 (of main), with files overwritten,
 * removed and added between them, synced at a few points.
 */
static int
history(void)
{
	int q;

	for(q = 100; q < 104; q++)
		if(mwrite("main", q, 1) == -1)
			return -1;
	if(fssync() == -1 || msnap("main", "s1", 0) == -1)
		return -1;
	if(mwrite("main", 100, 2) == -1 || mremove("main", 101) == -1 || mwrite("main", 104, 2) == -1)
		return -1;
	if(msnap("main", "s2", 0) == -1 || msnap("s1", "k1", 1) == -1)
		return -1;
	if(mwrite("k1", 102, 3) == -1 || mwrite("k1", 105, 3) == -1)
		return -1;
	if(fssync() == -1 || mwrite("main", 103, 4) == -1 || msnap("main", "s3", 0) == -1)
		return -1;
	if(msnap("main", "k2", 1) == -1 || mremove("k2", 100) == -1 || mwrite("k2", 106, 6) == -1)
		return -1;
	if(mwrite("main", 102, 5) == -1 || mremove("main", 104) == -1 || mwrite("main", 107, 5) == -1)
		return -1;
	if(mwrite("k1", 102, 7) == -1 || fssync() == -1)
		return -1;
	return 0;
}

/* Used blocks of a fresh volume whose main holds what main holds now. */
static vlong
freshused(Model *mainmodel)
{
	Model keep;
	vlong u;
	int q;

	keep = *mainmodel;
	closefs();
	fresh("fresh.img");
	for(q = 0; q < Nfile; q++)
		if(keep.seed[q] != 0)
			mwrite("main", 100+q, keep.seed[q]);
	fssync();
	settle();
	fssync();
	settle();
	u = usedblks();
	closefs();
	return u;
}

static void
order(char *what, char **names, int n)
{
	char step[128];
	Model mainmodel;
	vlong used, fu;
	int i;

	fresh("order.img");
	if(!ok(history() == 0, "%s: history", what))
		return;
	ok(volok(what) && alllabelsok(), "%s: the history checks and reads back", what);
	for(i = 0; i < n; i++){
		if(mdelete(names[i]) == -1){
			ok(0, "%s: delete %s", what, names[i]);
			continue;
		}
		snprintf(step, sizeof step, "%s: after deleting %s", what, names[i]);
		ok(volok(step) && alllabelsok(), "%s: no leak, no lost block, every label reads back", step);
	}
	fssync();
	settle();
	fssync();
	settle();
	used = usedblks();
	mainmodel = *mdl("main");
	fu = freshused(&mainmodel);
	ok(used >= fu-2 && used <= fu+4, "%s: %lld blocks used, a fresh volume with the same files uses %lld",
		what, (long long)used, (long long)fu);
}

static void
errors(void)
{
	Label *l0, *l1;
	int n0, n1, i, same;
	Mount *m;

	fresh("errors.img");
	history();
	n0 = snaplist(&l0);
	ok(snapcreate("main", "adm", 0) == -1 && iserr(Esnapr), "snap main adm: %s", errstr());
	ok(snapcreate("main", "dump", 1) == -1 && iserr(Esnapr), "snap -m main dump: %s", errstr());
	ok(snapcreate("main", "empty", 0) == -1 && iserr(Esnapr), "snap main empty: %s", errstr());
	ok(snapcreate("main", "s1", 0) == -1 && iserr(Esnapx), "snap main s1 (exists): %s", errstr());
	ok(snapcreate("nosuch", "x", 0) == -1 && iserr(Enosnap), "snap nosuch x: %s", errstr());
	ok(snapcreate("dump", "x", 0) == -1 && iserr(Enosnap), "snap dump x: %s", errstr());
	ok(snapcreate("main", "a/b", 0) == -1 && iserr(Ename), "snap main a/b: %s", errstr());
	ok(snapcreate("main", "..", 0) == -1 && iserr(Ename), "snap main ..: %s", errstr());
	ok(snapcreate("main", "", 0) == -1 && iserr(Ename), "snap main '': %s", errstr());
	ok(snapdelete("adm") == -1 && iserr(Esnapr), "snap -d adm: %s", errstr());
	ok(snapdelete("empty") == -1 && iserr(Esnapr), "snap -d empty: %s", errstr());
	ok(snapdelete("dump") == -1 && iserr(Esnapr), "snap -d dump: %s", errstr());
	ok(snapdelete("nosuch") == -1 && iserr(Enosnap), "snap -d nosuch: %s", errstr());
	m = getmount("k1");
	ok(snapdelete("k1") == -1 && iserr(Esnapu), "snap -d of a mounted label: %s", errstr());
	putmount(m);
	ok(getmount("nosuch") == nil && iserr(Enosnap), "getmount nosuch: %s", errstr());
	n1 = snaplist(&l1);
	same = n0 == n1 && n0 > 0;
	for(i = 0; same && i < n0; i++)
		same = strcmp(l0[i].name, l1[i].name) == 0 && l0[i].gen == l1[i].gen && l0[i].flag == l1[i].flag;
	ok(same, "refused requests changed no label (%d labels)", n1);
	for(i = 0; i < n1; i++)
		diag("label %s -> %lld flags %d", l1[i].name, (long long)l1[i].gen, l1[i].flag);
	freelabels(l0, n0);
	freelabels(l1, n1);
	ok(volok("errors") && alllabelsok(), "the volume is intact");

	m = getmount("dump");
	ok(m != nil && m->root == &fs->snap && !(m->flag & Lmut), "dump is the read-only snap tree");
	putmount(m);
	m = getmount("main");
	ok(m != nil && (m->flag & Lmut), "main is writable");
	putmount(m);
	m = getmount("s1");
	ok(m != nil && !(m->flag & Lmut), "a snapshot is read-only");
	putmount(m);
	m = getmount("k1");
	ok(m != nil && (m->flag & Lmut), "a fork is writable");
	putmount(m);

	/* changes not yet committed when the last reference goes */
	ok(mwrite("k2", 105, 8) == 0 && msnap("k2", "k2snap", 0) == 0 && labelok(mdl("k2snap")),
		"a snapshot of a label holds its uncommitted changes");
	ok(mwrite("k2", 105, 9) == 0 && mdelete("k2") == 0, "a label with uncommitted changes nobody holds is deleted");
	ok(mwrite("main", 106, 9) == 0 && fssync() == 0 && labelok(mdl("main")), "a sync commits changes nobody holds any more");
	ok(volok("uncommitted") && alllabelsok(), "and the volume checks without a leaked block");

	/*
	 * The hazard of runtime §4.3: a label naming the record main is
	 * mounted on is deleted; at main's next commit the record has no
	 * label left and must be collapsed, not kept for ever.
	 */
	m = getmount("main");
	ok(msnap("main", "x", 0) == 0 && mdelete("x") == 0 && mwrite("main", 100, 10) == 0,
		"snapshot main while it is mounted, delete the snapshot, write main");
	ok(volok("collapse") && alllabelsok(), "the unlabelled record was collapsed: nothing is kept for ever");
	putmount(m);

	/* everything survives a reload */
	fssync();
	closefs();
	if(load(img) == -1)
		exit(1);
	ok(alllabelsok() && volok("reload"), "after a reload every label reads back and checks");
	closefs();
}

/*
 * Two merges into one deadlist: files killed in s2, s3 and s4 were all
 * born before s1; deleting s3 and then s2 merges their lists into s4's,
 * twice.  The reference lost the first merged chain (format §13 item 6).
 */
static void
merges(void)
{
	char name[8];
	int i, q;
	Model keep;

	fresh("merges.img");
	for(q = 100; q < 104; q++)
		mwrite("main", q, 1);
	msnap("main", "s1", 0);
	for(i = 2; i <= 4; i++){
		mwrite("main", 98+i, i);
		snprintf(name, sizeof name, "s%d", i);
		msnap("main", name, 0);
	}
	ok(volok("merges") && alllabelsok(), "merges: s1-s4 check and read back");
	ok(mdelete("s3") == 0 && volok("merges: s3") && alllabelsok(), "merges: deleting s3 merges into s4's list");
	ok(mdelete("s2") == 0 && volok("merges: s2") && alllabelsok(), "merges: deleting s2 merges into it again");
	ok(mdelete("s4") == 0 && volok("merges: s4") && alllabelsok(), "merges: deleting s4 frees the merged list");
	ok(mdelete("s1") == 0 && volok("merges: s1") && alllabelsok(), "merges: deleting s1 leaves main alone");
	keep = *mdl("main");
	fssync();
	settle();
	fssync();
	settle();
	i = usedblks();
	q = freshused(&keep);
	ok(i >= q-2 && i <= q+4, "merges: %d blocks used, a fresh volume with the same files uses %d", i, q);
}

int
main(void)
{
	char *oldest[] = {"s1", "s2", "s3", "k1", "k2"};
	char *newest[] = {"k2", "k1", "s3", "s2", "s1"};
	char *middle[] = {"s2", "s3", "s1", "k2", "k1"};
	char *forksfirst[] = {"k1", "k2", "s1", "s2", "s3"};
	char *basefirst[] = {"s1", "k1", "s3", "k2", "s2"};

	errors();
	merges();
	order("oldest first", oldest, nelem(oldest));
	order("newest first", newest, nelem(newest));
	order("middle first", middle, nelem(middle));
	order("forks before their bases", forksfirst, nelem(forksfirst));
	order("bases before their forks", basefirst, nelem(basefirst));
	rmtmp();
	return done();
}
