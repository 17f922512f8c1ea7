/*
 * test/replay.c: crash replay, in the spirit of dm-log-writes and
 * upstream's freplay (format §9.5, runtime §8.7-8.8, DESIGN.md §8).
 *
 * replay [-k] [-g GEFS] [WORKLOAD...]	record each workload, then replay it
 * replay [-k] [-g GEFS] -l LOG -b BASE	replay a log the shim recorded
 * replay -F [WORKLOAD...]		fail the device under each workload
 * replay -B [-g GEFS]			flip bytes in each kind of block
 * replay -S				fill the volume
 * replay -K				kill -9 the writer at random, twenty times
 *
 * -k keeps the logs and images.  With -F, every failure the shim
 * injects (EIO, ENOSPC, short and torn writes, a failed flush) hits
 * each workload at points of every kind (a data block, a log header,
 * an arena header, the superblock, a backup header; each flush of a
 * commit): the server must go read-only with a clear message on stderr
 * (or retry a short write and go on; a torn write kills it), and after
 * a restart the volume must check clean, hold the last commit the
 * workload saw complete (or the one it was making) and take new files.
 *
 * A workload runs on a freshly reamed minimal volume through the
 * function-level API (files as the server stores them, snapshots
 * through snap.c), with the disk shim (shim.c) recording every write
 * and flush.  After each sync it marks the log with what was committed:
 * the commit's generation and every file of every label, with the
 * contents of each block.
 *
 * The replay rebuilds the image, from the base image the log started
 * on, after every prefix of the writes; for every interval between two
 * flushes, with writes of the interval dropped or reordered (each write
 * dropped alone; the interval in reverse, and Nperm random orders, each
 * cut at Ncut points: at most Maxdrop + (1+Nperm)*Ncut states per
 * interval); and with each 16 KiB write torn after its first 1, 2 or 3
 * 4 KiB sectors.  Each state must load, pass the check (checkvol; gefs
 * -c on every Sample-th state), and hold exactly the files of one
 * commit: the last one whose sync had completed when the state was cut
 * (its last flush is in the state), or a later one.  One image is
 * reused: writes are applied and undone incrementally.
 */
#include <stdarg.h>
#include <sys/wait.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Maxblk	= 64,		/* blocks of the largest file */
	Maxfile	= 420,
	Maxlbl	= 6,
	Batch	= 16,		/* data blocks per upsert */
	Cachesz	= 8*MiB,
	Maxdrop	= 48,		/* single-write drops per interval */
	Nperm	= 3,		/* random orders per interval, besides the reverse */
	Ncut	= 4,		/* cuts of each order */
	Sample	= 40,		/* gefs -c on every Sample-th state */
};

/* ------------------------------------------------------------ the model */

typedef struct File File;
typedef struct Lbl Lbl;
typedef struct Man Man;

/* File i of a label is qid 100+i, named fQ, or gQ once renamed. */
struct File {
	int	live;
	int	ren;
	int	nblk;
	int	seed[Maxblk];
};

struct Lbl {
	char	name[32];
	int	live;		/* 0: the label must not exist */
	int	nf;
	File	f[Maxfile];
};

/* What a commit holds. */
struct Man {
	vlong	qgen;
	int	nl;
	Lbl	l[Maxlbl];
	long	need;		/* the record index of the last flush before the mark */
	int	intent;		/* not a commit: what the commit being made will hold */
};

static Man model;
static char *gefs = "./gefs";

static uchar
pat(int q, int blk, int seed, int i)
{
	return (q*131 + blk*17 + seed*61 + i + (i>>8)*7) & 0xff;
}

static void
fname(char *buf, int n, File *f, int i)
{
	snprintf(buf, n, "%c%d", f->ren ? 'g' : 'f', 100+i);
}

static Lbl*
lbl(Man *m, char *name)
{
	int i;

	for(i = 0; i < m->nl; i++)
		if(strcmp(m->l[i].name, name) == 0)
			return &m->l[i];
	if(m->nl == Maxlbl)
		abort();
	memset(&m->l[m->nl], 0, sizeof m->l[0]);
	snprintf(m->l[m->nl].name, sizeof m->l[0].name, "%s", name);
	m->l[m->nl].live = 1;
	return &m->l[m->nl++];
}

/* The manifest as the text of a mark. */
static char*
mantext(Man *m)
{
	char *s, *p, *e;
	int i, j, k, n;
	File *f;
	Lbl *l;

	n = 64;
	for(i = 0; i < m->nl; i++)
		n += 64 + m->l[i].nf*(32 + 12*Maxblk);
	s = emalloc(n);
	p = s;
	e = s + n;
	p += snprintf(p, e-p, "commit %lld\n", (long long)m->qgen);
	for(i = 0; i < m->nl; i++){
		l = &m->l[i];
		p += snprintf(p, e-p, "label %s %d\n", l->name, l->live);
		for(j = 0; j < l->nf; j++){
			f = &l->f[j];
			p += snprintf(p, e-p, "file %d %d %d %d", j, f->live, f->ren, f->nblk);
			for(k = 0; k < f->nblk; k++)
				p += snprintf(p, e-p, " %d", f->seed[k]);
			p += snprintf(p, e-p, "\n");
		}
	}
	return s;
}

static int
parseman(char *s, int n, Man *m)
{
	char *t, *line, *next;
	int j, k, live;
	File *f;
	Lbl *l;

	memset(m, 0, sizeof *m);
	t = emalloc(n+1);
	memcpy(t, s, n);
	l = nil;
	for(line = t; line != nil && *line != 0; line = next){
		if((next = strchr(line, '\n')) != nil)
			*next++ = 0;
		if(strcmp(line, "intent") == 0)
			m->intent = 1;
		else if(strncmp(line, "commit ", 7) == 0)
			m->qgen = strtoll(line+7, nil, 10);
		else if(strncmp(line, "label ", 6) == 0){
			char name[32];
			if(sscanf(line+6, "%31s %d", name, &live) != 2)
				goto bad;
			l = lbl(m, name);
			l->live = live;
		}else if(strncmp(line, "file ", 5) == 0 && l != nil){
			char *p;
			j = strtol(line+5, &p, 10);
			if(j < 0 || j >= Maxfile)
				goto bad;
			f = &l->f[j];
			f->live = strtol(p, &p, 10);
			f->ren = strtol(p, &p, 10);
			f->nblk = strtol(p, &p, 10);
			if(f->nblk < 0 || f->nblk > Maxblk)
				goto bad;
			for(k = 0; k < f->nblk; k++)
				f->seed[k] = strtol(p, &p, 10);
			if(j >= l->nf)
				l->nf = j+1;
		}else
			goto bad;
	}
	free(t);
	return 0;
bad:
	free(t);
	return -1;
}

/* ------------------------------------------------- files in the trees */

/* Blocks [from, to) of file q; a batch that fails frees what it took. */
static int
putblocks(Tree *t, int q, int from, int to, int seed)
{
	char k[Batch][Offksz], v[Batch][Ptrsz];
	Blk *b[Batch];
	Msg msg[Batch];
	int i, j, n, r;

	for(j = from; j < to; j += n){
		n = MIN(Batch, to - j);
		for(i = 0; i < n; i++){
			if((b[i] = allocblk(t, Tdat, q, 0)) == nil)
				break;
			for(int x = 0; x < Blksz; x++)
				b[i]->buf[x] = pat(q, j+i, seed, x);
			enqueue(b[i]);
			msg[i].op = Oinsert;
			msg[i].kv.k = k[i];
			msg[i].kv.nk = Offksz;
			packdatkey(k[i], q, (uvlong)(j+i)*Blksz);
			msg[i].kv.v = v[i];
			msg[i].kv.nv = Ptrsz;
			packbp(v[i], &b[i]->bp);
		}
		r = i == n ? upsert(t, msg, n) : -1;
		while(--i >= 0){
			if(r == -1)
				freeblk(t, b[i]);
			dropblk(b[i]);
		}
		if(r == -1)
			return -1;
	}
	return 0;
}

static int
putent(Tree *t, File *f, int i, int op)
{
	char k[Keymax], v[Inlmax], name[16];
	Msg m;
	Xdir d;

	fname(name, sizeof name, f, i);
	memset(&d, 0, sizeof d);
	d.qid.path = 100+i;
	d.mode = 0664;
	d.length = (uvlong)f->nblk*Blksz;
	memset(&m, 0, sizeof m);
	m.op = op;
	m.kv.k = k;
	m.kv.nk = packdkey(k, Keymax, Qmain, name, strlen(name));
	if(op == Oinsert){
		m.kv.v = v;
		m.kv.nv = packdir(v, &d) - v;
	}
	return upsert(t, &m, 1);
}

/* Write blocks [from, to) of file i of label l (main's mount m) with seed. */
static int
wfile(Mount *m, Lbl *l, int i, int from, int to, int seed)
{
	File *f;
	int j, r;

	f = &l->f[i];
	qlock(&fs->mutlk);
	r = putblocks(m->root, 100+i, from, to, seed);
	if(r == 0){
		if(to > f->nblk)
			f->nblk = to;
		for(j = from; j < to; j++)
			f->seed[j] = seed;
		f->live = 1;
		if(i >= l->nf)
			l->nf = i+1;
		r = putent(m->root, f, i, Oinsert);
	}
	qunlock(&fs->mutlk);
	epochclean();
	return r;
}

static int
rmfile(Mount *m, Lbl *l, int i)
{
	char k[Maxblk+1][Keymax], name[16];
	Msg msg[Maxblk+1];
	File *f;
	int j, r;

	f = &l->f[i];
	memset(msg, 0, sizeof msg);
	for(j = 0; j < f->nblk; j++){
		msg[j].op = Odelete;
		msg[j].kv.k = k[j];
		msg[j].kv.nk = Offksz;
		packdatkey(k[j], 100+i, (uvlong)j*Blksz);
	}
	fname(name, sizeof name, f, i);
	msg[j].op = Odelete;
	msg[j].kv.k = k[j];
	msg[j].kv.nk = packdkey(k[j], Keymax, Qmain, name, strlen(name));
	qlock(&fs->mutlk);
	r = upsert(m->root, msg, j+1);
	qunlock(&fs->mutlk);
	epochclean();
	f->live = 0;
	f->nblk = 0;
	return r;
}

static int
mvfile(Mount *m, Lbl *l, int i)
{
	File *f;
	int r;

	f = &l->f[i];
	qlock(&fs->mutlk);
	r = putent(m->root, f, i, Odelete);
	f->ren = !f->ren;
	if(r == 0)
		r = putent(m->root, f, i, Oinsert);
	qunlock(&fs->mutlk);
	epochclean();
	return r;
}

/* Does tree t hold file i exactly as f says (or not at all)? */
static int
fileok(Tree *t, File *f, int i, char *why, int nwhy)
{
	char k[Keymax], buf[Kvmax], name[16];
	int j, x, r;
	Key key;
	Kvp kv;
	Xdir d;
	Blk *b;

	for(int ren = 0; ren < 2; ren++){
		File g = *f;
		g.ren = ren;
		fname(name, sizeof name, &g, i);
		key.k = k;
		key.nk = packdkey(k, Keymax, Qmain, name, strlen(name));
		r = btlookup(t, &key, &kv, buf, sizeof buf);
		if(r == -1){
			snprintf(why, nwhy, "%s: %s", name, errstr());
			return 0;
		}
		if(r != (f->live && ren == f->ren)){
			snprintf(why, nwhy, "%s is %s", name, r ? "there" : "missing");
			return 0;
		}
		if(r == 1 && (kv2dir(&kv, &d) == -1 || d.qid.path != (uvlong)(100+i) || d.length != (uvlong)f->nblk*Blksz)){
			snprintf(why, nwhy, "%s: wrong entry (length %llu, want %llu)", name,
				(unsigned long long)d.length, (unsigned long long)f->nblk*Blksz);
			return 0;
		}
	}
	for(j = 0; j < (f->live ? f->nblk : 1); j++){
		packdatkey(k, 100+i, (uvlong)j*Blksz);
		key.nk = Offksz;
		r = btlookup(t, &key, &kv, buf, sizeof buf);
		if(r != f->live){
			snprintf(why, nwhy, "file %d block %d is %s", 100+i, j, r == 1 ? "there" : r == 0 ? "missing" : errstr());
			return 0;
		}
		if(!f->live)
			break;
		if((b = getblk(unpackbp(kv.v), GBraw)) == nil){
			snprintf(why, nwhy, "file %d block %d: %s", 100+i, j, errstr());
			return 0;
		}
		for(x = 0; x < Blksz; x++)
			if((uchar)b->buf[x] != pat(100+i, j, f->seed[j], x))
				break;
		dropblk(b);
		if(x < Blksz){
			snprintf(why, nwhy, "file %d block %d differs at byte %d (want seed %d)", 100+i, j, x, f->seed[j]);
			return 0;
		}
	}
	return 1;
}

/* Every label of the manifest as it says, in the loaded volume. */
static int
manok(Man *m, char *why, int nwhy)
{
	Mount *mt;
	Lbl *l;
	int i, j, good;

	for(i = 0; i < m->nl; i++){
		l = &m->l[i];
		mt = getmount(l->name);
		if(!l->live || mt == nil){
			putmount(mt);
			if(l->live != (mt != nil)){
				snprintf(why, nwhy, "label %s is %s", l->name, mt != nil ? "there" : "missing");
				return 0;
			}
			continue;
		}
		good = 1;
		epochstart();
		for(j = 0; j < l->nf && good; j++)
			if(!fileok(agetp((void**)&mt->root), &l->f[j], j, why, nwhy))
				good = 0;
		epochend();
		putmount(mt);
		if(!good){
			char t[256];
			snprintf(t, sizeof t, "label %s: %s", l->name, why);
			snprintf(why, nwhy, "%s", t);
			return 0;
		}
	}
	return 1;
}

/* --------------------------------------------------------- recording */

static vlong
diskqgen(char *img)
{
	char *buf;
	Super s;
	vlong g;

	buf = emalloc(Blksz);
	g = -1;
	if(peek(img, 0, buf, Blksz) == 0 && unpacksuper(buf, &s) == 0){
		g = s.qgen;
		free(s.arenas);
	}
	free(buf);
	return g;
}

static char *curimg;

/* Commit, and mark the log with what the commit holds. */
static int
commit(void)
{
	char *t, *i;

	t = mantext(&model);
	i = emalloc(strlen(t) + 8);
	sprintf(i, "intent\n%s", t);
	shimmark(i);
	free(i);
	free(t);
	if(fssync() == -1)
		return -1;
	model.qgen = diskqgen(curimg);
	t = mantext(&model);
	shimmark(t);
	free(t);
	return 0;
}

static uvlong rng;

static uvlong
rand64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Many small files, a commit every few of them; some rewritten. */
static int
wlsmall(Mount *m)
{
	Lbl *l;
	int i;

	l = lbl(&model, "main");
	for(i = 0; i < 120; i++){
		if(wfile(m, l, i, 0, 1, 1) == -1)
			return -1;
		if(i % 20 == 19 && commit() == -1)
			return -1;
	}
	for(i = 0; i < 120; i += 7)
		if(wfile(m, l, i, 0, 1, 2) == -1)
			return -1;
	return commit();
}

/* A large file written, overwritten in parts, extended. */
static int
wllarge(Mount *m)
{
	Lbl *l;

	l = lbl(&model, "main");
	if(wfile(m, l, 0, 0, 40, 1) == -1 || commit() == -1)
		return -1;
	if(wfile(m, l, 0, 5, 25, 2) == -1 || commit() == -1)
		return -1;
	if(wfile(m, l, 0, 20, 56, 3) == -1 || wfile(m, l, 0, 0, 3, 4) == -1 || commit() == -1)
		return -1;
	if(wfile(m, l, 0, 0, 56, 5) == -1 || commit() == -1)
		return -1;
	return 0;
}

static int
snap(char *old, char *new)
{
	Lbl *o, *n;

	if(snapcreate(old, new, 0) == -1){
		diag("snap %s %s: %s", old, new, errstr());
		return -1;
	}
	o = lbl(&model, old);
	n = lbl(&model, new);
	memcpy(n->f, o->f, sizeof o->f);
	n->nf = o->nf;
	n->live = 1;
	return 0;
}

static int
unsnap(char *name)
{
	if(snapdelete(name) == -1){
		diag("snap -d %s: %s", name, errstr());
		return -1;
	}
	lbl(&model, name)->live = 0;
	return 0;
}

/* Snapshots taken and deleted while the files change. */
static int
wlsnap(Mount *m)
{
	Lbl *l;
	int i;

	l = lbl(&model, "main");
	for(i = 0; i < 12; i++)
		if(wfile(m, l, i, 0, 2, 1) == -1)
			return -1;
	if(commit() == -1 || snap("main", "s1") == -1 || commit() == -1)
		return -1;
	for(i = 0; i < 12; i += 2)
		if(wfile(m, l, i, 0, 2, 2) == -1)
			return -1;
	if(rmfile(m, l, 3) == -1 || commit() == -1 || snap("main", "s2") == -1)
		return -1;
	for(i = 0; i < 12; i += 3)
		if(wfile(m, l, i, l->f[i].live ? 1 : 0, 3, 3) == -1)
			return -1;
	if(commit() == -1 || unsnap("s1") == -1 || commit() == -1)
		return -1;
	if(wfile(m, l, 1, 0, 2, 4) == -1 || unsnap("s2") == -1 || commit() == -1)
		return -1;
	return 0;
}

/* Files renamed back and forth. */
static int
wlrename(Mount *m)
{
	Lbl *l;
	int i;

	l = lbl(&model, "main");
	for(i = 0; i < 30; i++)
		if(wfile(m, l, i, 0, 1, 1) == -1)
			return -1;
	if(commit() == -1)
		return -1;
	for(i = 0; i < 30; i += 2)
		if(mvfile(m, l, i) == -1)
			return -1;
	if(commit() == -1)
		return -1;
	for(i = 0; i < 30; i += 3)
		if(mvfile(m, l, i) == -1)
			return -1;
	if(wfile(m, l, 4, 0, 1, 2) == -1 || commit() == -1)
		return -1;
	return 0;
}

/* Files removed, a few at a time, then all. */
static int
wlremove(Mount *m)
{
	Lbl *l;
	int i;

	l = lbl(&model, "main");
	for(i = 0; i < 40; i++)
		if(wfile(m, l, i, 0, 1 + i%3, 1) == -1)
			return -1;
	if(commit() == -1)
		return -1;
	for(i = 0; i < 40; i += 2)
		if(rmfile(m, l, i) == -1)
			return -1;
	if(commit() == -1)
		return -1;
	for(i = 1; i < 40; i += 2)
		if(rmfile(m, l, i) == -1)
			return -1;
	if(commit() == -1)
		return -1;
	return 0;
}

typedef struct Workload Workload;
struct Workload {
	char	*name;
	int	(*fn)(Mount*);
};

static Workload workloads[] = {
	{"small", wlsmall},
	{"large", wllarge},
	{"snap", wlsnap},
	{"rename", wlrename},
	{"remove", wlremove},
};

/* Ream, keep the base image, run the workload with the shim logging. */
static int
record(Workload *w, char *img, char *base, char *log)
{
	char cmd[1024], spec[400];
	Mount *m;
	int r;

	if(ream(img) == -1)
		return -1;
	snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", img, base);
	if(system(cmd) != 0)
		return -1;
	snprintf(spec, sizeof spec, "log:%s", log);
	if(shiminit(spec) == -1){
		diag("%s", errstr());
		return -1;
	}
	if(loadfs(img, 0, Cachesz) == -1){
		diag("load: %s", errstr());
		return -1;
	}
	curimg = img;
	memset(&model, 0, sizeof model);
	lbl(&model, "main");
	model.qgen = fs->qgen;
	{
		char *t = mantext(&model);
		shimmark(t);
		free(t);
	}
	if((m = getmount("main")) == nil){
		diag("getmount main: %s", errstr());
		closefs();
		return -1;
	}
	r = w->fn(m);
	if(r == -1)
		diag("workload %s: %s", w->name, errstr());
	putmount(m);
	closefs();
	return r;
}

/* ------------------------------------------------------------ replay */

typedef struct Rec Rec;
struct Rec {
	int	type;
	vlong	off;
	int	n;
	char	*buf;
	long	lastflush;	/* W: index of the last flush record before it, -1 */
};

typedef struct Undo Undo;
struct Undo {
	vlong	off;
	int	n;
	char	*old;
};

static Rec *rec;
static long nrec;
static Man *marks;
static int nmark;
static Undo *undo;
static long nundo, capundo;
static int ifd;
static char *rimg;
static char *rname;
static long nstate, nbad, ncheck;

static int
readlog(char *path, char **data, long *len)
{
	FILE *f;
	long n;

	if((f = fopen(path, "r")) == nil)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*data = emalloc(n+1);
	if(fread(*data, 1, n, f) != (size_t)n){
		fclose(f);
		return -1;
	}
	fclose(f);
	*len = n;
	return 0;
}

static int
parselog(char *d, long n)
{
	long o, lastf, cap;
	int ml;
	Rec *r;

	ml = strlen(Shimmagic);
	if(n < ml || memcmp(d, Shimmagic, ml) != 0)
		return -1;
	cap = 0;
	nrec = 0;
	nmark = 0;
	lastf = -1;
	for(o = ml; o < n;){
		if(nrec == cap){
			cap = cap ? 2*cap : 1024;
			rec = erealloc(rec, cap*sizeof *rec);
		}
		r = &rec[nrec];
		r->type = d[o++];
		switch(r->type){
		case 'W':
			if(o + 12 > n || o + 12 + (long)get32(d+o+8) > n)
				return 0;	/* a log cut by a kill ends with a partial record */
			r->off = get64(d+o);
			r->n = get32(d+o+8);
			r->buf = d+o+12;
			o += 12 + r->n;
			r->lastflush = lastf;
			break;
		case 'F':
			lastf = nrec;
			break;
		case 'M':
			if(o + 4 > n || o + 4 + (long)get32(d+o) > n)
				return 0;
			r->n = get32(d+o);
			r->buf = d+o+4;
			o += 4 + r->n;
			marks = erealloc(marks, (nmark+1)*sizeof *marks);
			if(parseman(r->buf, r->n, &marks[nmark]) == -1)
				return -1;
			marks[nmark++].need = lastf;
			break;
		default:
			return -1;
		}
		if(o > n)
			return -1;
		nrec++;
	}
	return 0;
}

static void
rawput(vlong off, char *buf, int n)
{
	if(pwrite(ifd, buf, n, off) != n){
		perror("pwrite");
		exit(1);
	}
}

static void
apply(vlong off, char *buf, int n)
{
	Undo *u;

	if(nundo == capundo){
		capundo = capundo ? 2*capundo : 1024;
		undo = erealloc(undo, capundo*sizeof *undo);
	}
	u = &undo[nundo++];
	u->off = off;
	u->n = n;
	u->old = emalloc(n);
	if(pread(ifd, u->old, n, off) != n)
		memset(u->old, 0, n);
	rawput(off, buf, n);
}

static void
unapply(long to)
{
	Undo *u;

	while(nundo > to){
		u = &undo[--nundo];
		rawput(u->off, u->old, u->n);
		free(u->old);
	}
}

static char *report;
static int nreport;

static void
collect(void *arg, char *line)
{
	USED(arg);
	if(nreport++ < 4){
		int n = report != nil ? strlen(report) : 0;
		report = erealloc(report, n + strlen(line) + 3);
		sprintf(report+n, "%s%s", n ? "; " : "", line);
	}
}

/* gefs -c on the image: its exit status and last line. */
static int
gefscheck(char *why, int nwhy)
{
	char cmd[1024], out[1024], *p, *last;
	FILE *f;
	int st;

	snprintf(cmd, sizeof cmd, "'%s' -c -m 16 -f '%s' 2>&1", gefs, rimg);
	if((f = popen(cmd, "r")) == nil)
		return 0;
	last = nil;
	out[0] = 0;
	while(fgets(out, sizeof out, f) != nil)
		;
	st = pclose(f);
	if((p = strchr(out, '\n')) != nil)
		*p = 0;
	last = out;
	if(!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(last, "ok") != 0){
		snprintf(why, nwhy, "gefs -c: status %d, verdict '%s'", WIFEXITED(st) ? WEXITSTATUS(st) : -1, last);
		return 0;
	}
	return 1;
}

/*
 * The state now in the image, cut after the flush record lastf: it must
 * load, check clean and be a commit no older than the last completed.
 */
static int
verify(long lastf, char *what, ...)
{
	char why[512], desc[256];
	int i, need, good;
	va_list ap;

	va_start(ap, what);
	vsnprintf(desc, sizeof desc, what, ap);
	va_end(ap);
	nstate++;
	why[0] = 0;
	good = 0;
	if(loadfs(rimg, 1, Cachesz) == -1){
		snprintf(why, sizeof why, "load: %s", errstr());
		goto out;
	}
	need = -1;
	for(i = 0; i < nmark; i++)
		if(!marks[i].intent && marks[i].need <= lastf)
			need = i;
	for(i = 0; i < nmark; i++)
		if(!marks[i].intent && marks[i].qgen == fs->qgen)
			break;
	if(nmark > 0 && i == nmark)
		snprintf(why, sizeof why, "commit %lld is none the workload made", (long long)fs->qgen);
	else if(nmark > 0 && i < need)
		snprintf(why, sizeof why, "commit %lld is older than the synced commit %lld",
			(long long)fs->qgen, (long long)marks[need].qgen);
	else if(nmark > 0 && !manok(&marks[i], why, sizeof why))
		;
	else{
		free(report);
		report = nil;
		nreport = 0;
		if(checkvol(collect, nil) == -1)
			snprintf(why, sizeof why, "check: %s", report != nil ? report : errstr());
		else
			good = 1;
	}
	closefs();
	if(good && nstate % Sample == 0){
		ncheck++;
		good = gefscheck(why, sizeof why);
	}
out:
	if(!good){
		nbad++;
		if(nbad <= 20)
			diag("%s: %s: %s", rname, desc, why);
	}
	return good;
}

/* Write records of rec[] between flush records: [lo, hi) of the write index list. */
static long *widx;
static long nw;

static void
shuffle(long *a, long n)
{
	long i, j, t;

	for(i = n-1; i > 0; i--){
		j = rand64() % (i+1);
		t = a[i];
		a[i] = a[j];
		a[j] = t;
	}
}

/*
 * The interval of writes [lo, hi) (indices into widx) after flush
 * lastf, with everything before it in the image: dropped and reordered.
 */
static int
interval(long lo, long hi, long lastf, long seg)
{
	long n, i, j, k, base, step, *ord;
	int good, p, c;

	n = hi - lo;
	if(n < 2)
		return 1;
	good = 1;
	base = nundo;
	step = n > Maxdrop ? (n + Maxdrop - 1)/Maxdrop : 1;
	for(k = 0; k < n; k += step){
		for(i = lo; i < hi; i++)
			if(i != lo+k)
				apply(rec[widx[i]].off, rec[widx[i]].buf, rec[widx[i]].n);
		good &= verify(lastf, "interval %ld: write %ld dropped", seg, widx[lo+k]);
		unapply(base);
	}
	ord = emalloc(n*sizeof *ord);
	for(p = 0; p <= Nperm; p++){
		for(i = 0; i < n; i++)
			ord[i] = p == 0 ? hi-1-i : lo+i;
		if(p > 0)
			shuffle(ord, n);
		for(c = 1; c <= Ncut; c++){
			j = n*c/Ncut;
			for(i = 0; i < j; i++)
				apply(rec[widx[ord[i]]].off, rec[widx[ord[i]]].buf, rec[widx[ord[i]]].n);
			good &= verify(lastf, "interval %ld: %s order %d, first %ld of %ld writes", seg,
				p == 0 ? "reversed" : "random", p, j, n);
			unapply(base);
		}
	}
	free(ord);
	return good;
}

static int
replaylog(char *name, char *log, char *base, char *img)
{
	char cmd[1024], *d;
	long len, i, lo, seg, lastf, before, endf;
	int good, k, sec;

	rname = name;
	rimg = img;
	nstate = nbad = 0;
	if(readlog(log, &d, &len) == -1 || parselog(d, len) == -1){
		diag("%s: cannot read the log %s", name, log);
		return 0;
	}
	snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", base, img);
	if(system(cmd) != 0)
		return 0;
	if((ifd = open(img, O_RDWR)) == -1)
		return 0;
	widx = emalloc((nrec+1)*sizeof *widx);
	nw = 0;
	for(i = 0; i < nrec; i++)
		if(rec[i].type == 'W')
			widx[nw++] = i;
	endf = -1;
	for(i = 0; i < nrec; i++)
		if(rec[i].type == 'F')
			endf = i;
	good = 1;
	lo = 0;
	seg = 0;
	for(i = 0; i <= nw; i++){
		lastf = i < nw ? rec[widx[i]].lastflush : endf;
		/* an interval ended: its writes are all in; vary them */
		if(i > lo && (i == nw || rec[widx[i]].lastflush != rec[widx[i-1]].lastflush)){
			before = nundo;
			unapply(nundo - (i - lo));
			good &= interval(lo, i, rec[widx[lo]].lastflush, seg++);
			for(k = lo; k < i; k++)
				apply(rec[widx[k]].off, rec[widx[k]].buf, rec[widx[k]].n);
			if(nundo != before)
				abort();
			lo = i;
		}
		good &= verify(lastf, "prefix of %ld writes", i);
		if(i == nw)
			break;
		if(rec[widx[i]].n == Blksz)
			for(sec = 1; sec < 4; sec++){
				before = nundo;
				apply(rec[widx[i]].off, rec[widx[i]].buf, sec*4096);
				good &= verify(rec[widx[i]].lastflush, "write %ld torn after %d sectors", i, sec);
				unapply(before);
			}
		apply(rec[widx[i]].off, rec[widx[i]].buf, rec[widx[i]].n);
	}
	unapply(0);
	close(ifd);
	free(widx);
	free(d);
	for(k = 0, sec = 0; k < nmark; k++)
		sec += !marks[k].intent;
	free(marks);
	marks = nil;
	ok(good, "%s: %ld writes, %ld flushes, %d commits: %ld crash states load, check clean (gefs -c on %ld) and hold the last synced commit or a later one",
		name, nw, nrec - nw - nmark, sec - 1, nstate, ncheck);
	if(nbad > 0)
		diag("%s: %ld bad states", name, nbad);
	ncheck = 0;
	return good;
}


/* ------------------------------------------------------------ faults */

enum {
	Pdata,		/* a data or tree block */
	Plog,		/* a log tail's header */
	Ph0,		/* a primary arena header */
	Psuper,		/* the primary superblock */
	Ph1,		/* a backup arena header */
	Npoint,
};

static char *pointname[Npoint] = {"a data or tree block", "a log header", "an arena header", "the superblock", "a backup arena header"};

/*
 * Points of the recorded log to fail at, each the first of its kind
 * after the first commit: write numbers (from 1) in wpt, flush numbers
 * in fpt.
 */
static void
points(long *wpt, long *fpt, int nf)
{
	long i, w, f, first;
	int k, sb;
	Rec *r;

	for(k = 0; k < Npoint; k++)
		wpt[k] = 0;
	/* the first commit mark is the state the workload started from */
	first = -1;
	for(i = 0, k = 0; i < nrec && first == -1; i++)
		if(rec[i].type == 'M' && strncmp(rec[i].buf, "commit ", 7) == 0 && k++ == 1)
			first = i;
	w = f = 0;
	sb = 0;
	for(i = 0; i < nrec; i++){
		r = &rec[i];
		if(r->type == 'F'){
			f++;
			if(i > first && nf > 0 && fpt[0] == 0)
				for(k = 0; k < nf; k++)
					fpt[k] = f + k;
			continue;
		}
		if(r->type != 'W')
			continue;
		w++;
		if(i < first)
			continue;
		if(r->n == Loghdsz)
			k = Plog;
		else if(r->n != Blksz)
			continue;
		else if(r->off == 0){
			k = Psuper;
			sb = 1;
		}else if(get16(r->buf) == Tarena)
			k = sb ? Ph1 : Ph0;
		else if(r->off == ((vlong)Minream/Blksz*Blksz) - Blksz)
			continue;
		else
			k = Pdata;
		if(wpt[k] == 0)
			wpt[k] = w;
	}
}

static long ncommit, ninflight;

static char *kindname[] = {
	[Seio] = "eio",
	[Senospc] = "enospc",
	[Sshort] = "short",
	[Storn] = "torn",
	[Sflush] = "flush",
};

/*
 * The child: the workload on img with the shim failing as spec says.
 * Exits 0 if the workload ran through, 3 if it failed and the volume
 * went read-only, 4 if it failed otherwise.
 */
static void
faultchild(Workload *w, char *img, char *spec, char *errpath)
{
	Mount *m;
	int fd, r;

	if((fd = open(errpath, O_WRONLY|O_CREAT|O_TRUNC, 0644)) == -1)
		_exit(5);
	dup2(fd, 2);
	close(fd);
	setvbuf(stderr, nil, _IONBF, 0);
	if(shiminit(spec) == -1 || loadfs(img, 0, Cachesz) == -1)
		_exit(5);
	curimg = img;
	memset(&model, 0, sizeof model);
	lbl(&model, "main");
	model.qgen = fs->qgen;
	{
		char *t = mantext(&model);
		shimmark(t);
		free(t);
	}
	if((m = getmount("main")) == nil)
		_exit(5);
	r = w->fn(m);
	if(r == 0){
		putmount(m);
		closefs();
		_exit(0);
	}
	fprintf(stderr, "workload failed: %s\n", errstr());
	/* read-only now: a new file is refused, and so is a commit */
	r = isrdonly() && wfile(m, lbl(&model, "main"), Maxfile-1, 0, 1, 9) == -1 && iserr(Erdonly)
		&& fssync() == -1;
	putmount(m);
	closefs();
	_exit(r ? 3 : 4);
}

static int
grepfile(char *path, char *s)
{
	char *d;
	long n;
	int r;

	if(readlog(path, &d, &n) == -1)
		return 0;
	d[n] = 0;
	r = strstr(d, s) != nil;
	free(d);
	return r;
}

/*
 * After the fault, the volume loads, checks clean, holds the last
 * commit the workload saw complete (or the one it was making), and
 * takes new files again.
 */
static int
afterfault(char *img, char *log, int andwrite, char *why, int nwhy)
{
	char *d;
	long n;
	int i, last, in;
	Mount *m;
	Lbl *l;

	if(readlog(log, &d, &n) == -1 || parselog(d, n) == -1){
		snprintf(why, nwhy, "the child's log does not parse");
		return 0;
	}
	last = in = -1;
	for(i = 0; i < nmark; i++)
		if(!marks[i].intent){
			last = i;
			in = -1;
			ncommit++;
		}else
			in = i;
	ncommit--;	/* the first mark is the state it started from */
	if(loadfs(img, 0, Cachesz) == -1){
		snprintf(why, nwhy, "load: %s", errstr());
		goto bad;
	}
	if(fs->qgen == marks[last].qgen)
		i = last;
	else if(fs->qgen > marks[last].qgen && in != -1){
		i = in;
		ninflight++;
	}
	else{
		snprintf(why, nwhy, "commit %lld, the last synced was %lld", (long long)fs->qgen, (long long)marks[last].qgen);
		goto bad1;
	}
	if(!manok(&marks[i], why, nwhy))
		goto bad1;
	free(report);
	report = nil;
	nreport = 0;
	if(checkvol(collect, nil) == -1){
		snprintf(why, nwhy, "check: %s", report);
		goto bad1;
	}
	model = marks[i];
	if(!andwrite){
		closefs();
		goto done;
	}
	/* and it takes new files */
	l = lbl(&model, "main");
	if((m = getmount("main")) == nil || wfile(m, l, Maxfile-2, 0, 2, 7) == -1 || fssync() == -1){
		snprintf(why, nwhy, "writing after the restart: %s", errstr());
		putmount(m);
		goto bad1;
	}
	putmount(m);
	closefs();
	if(loadfs(img, 1, Cachesz) == -1){
		snprintf(why, nwhy, "second load: %s", errstr());
		goto bad;
	}
	if(!manok(&model, why, nwhy))
		goto bad1;
	if(checkvol(collect, nil) == -1){
		snprintf(why, nwhy, "second check: %s", report);
		goto bad1;
	}
	closefs();
done:
	free(d);
	free(marks);
	marks = nil;
	return 1;
bad1:
	closefs();
bad:
	free(d);
	free(marks);
	marks = nil;
	return 0;
}

static void
onefault(Workload *w, char *base, int kind, long at, char *where)
{
	char cmd[1024], spec[1024], why[512], *img, *log, *err;
	int st, good, want;
	pid_t pid;

	img = estrdup(mkimg("fault.img", 0));
	log = estrdup(mkimg("fault.log", 0));
	err = estrdup(mkimg("fault.err", 0));
	snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", base, img);
	if(system(cmd) != 0)
		exit(1);
	snprintf(spec, sizeof spec, "log:%s,fail:%ld:%s", log, at, kindname[kind]);
	fflush(stdout);
	if((pid = fork()) == 0)
		faultchild(w, img, spec, err);
	waitpid(pid, &st, 0);
	why[0] = 0;
	good = 1;
	want = kind == Sshort ? 0 : 3;
	if(kind == Storn){
		if(!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL){
			snprintf(why, sizeof why, "the torn write did not kill the server (status %#x)", st);
			good = 0;
		}
	}else if(!WIFEXITED(st) || WEXITSTATUS(st) != want){
		snprintf(why, sizeof why, "the server exited %d, not %d: %s", WIFEXITED(st) ? WEXITSTATUS(st) : -1, want,
			WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "it did not fail" : "it did not go read-only");
		good = 0;
	}else if(want == 3 && (!grepfile(err, "i/o error") || !grepfile(err, Erdonly)
	|| !grepfile(err, kind == Senospc ? "No space left on device" : "Input/output error"))){
		snprintf(why, sizeof why, "no clear message on stderr");
		good = 0;
	}else if(want == 0 && grepfile(err, Erdonly)){
		snprintf(why, sizeof why, "a short write made the file system read-only");
		good = 0;
	}
	if(good)
		good = afterfault(img, log, 1, why, sizeof why);
	ok(good, "%s: %s at %s %ld (%s): %s; after a restart the last synced commit is there, checks clean, takes new files",
		w->name, kindname[kind], kind == Sflush ? "flush" : "write", at, where,
		kind == Sshort ? "retried, no error" : kind == Storn ? "killed" : "read-only with a message");
	if(!good)
		diag("%s", why);
	free(img);
	free(log);
	free(err);
}

/* Record w once to find its points, then fail at each of them in every way. */
static void
faults(Workload *w)
{
	char *lg, *bs, *img, *d, where[64];
	long wpt[Npoint], fpt[4];
	long n;
	int k, p;

	lg = estrdup(mkimg("replay.log", 0));
	bs = estrdup(mkimg("replay.base", 0));
	img = estrdup(mkimg("work.img", Minream));
	memset(fpt, 0, sizeof fpt);
	if(record(w, img, bs, lg) == -1 || readlog(lg, &d, &n) == -1 || parselog(d, n) == -1){
		ok(0, "%s: the workload runs", w->name);
		exit(1);
	}
	points(wpt, fpt, nelem(fpt));
	free(marks);
	marks = nil;
	for(k = Seio; k < Nshimfail; k++){
		if(k == Sflush){
			for(p = 0; p < (int)nelem(fpt); p++){
				snprintf(where, sizeof where, "flush %d of a commit", p+1);
				onefault(w, bs, k, fpt[p], where);
			}
			continue;
		}
		for(p = 0; p < Npoint; p++)
			if(wpt[p] > 0)
				onefault(w, bs, k, wpt[p], pointname[p]);
	}
	free(d);
	free(lg);
	free(bs);
	free(img);
}

/* --------------------------------------------------------- bit flips */

enum {
	Nflipfile	= 400,	/* enough one-block files for a pivot over leaves */
};

/* Does gefs -c fail on the image, naming addr (and want, if not nil)? */
static int
gefsfails(char *img, vlong addr, char *want, char *why, int nwhy)
{
	char cmd[1024], out[1024], a[32];
	int st, named, wanted;
	FILE *f;

	snprintf(cmd, sizeof cmd, "'%s' -c -m 16 -f '%s' 2>&1", gefs, img);
	if((f = popen(cmd, "r")) == nil)
		return 0;
	snprintf(a, sizeof a, "%llx", (unsigned long long)addr);
	named = 0;
	wanted = want == nil;
	while(fgets(out, sizeof out, f) != nil){
		named |= strstr(out, a) != nil;
		wanted |= want != nil && strstr(out, want) != nil;
	}
	st = pclose(f);
	if(!WIFEXITED(st) || WEXITSTATUS(st) != 1 || strncmp(out, "broken", 6) != 0 || !named || !wanted){
		snprintf(why, nwhy, "gefs -c: status %d, last line '%.60s', %s block %s, %s '%s'",
			WIFEXITED(st) ? WEXITSTATUS(st) : -1, out, named ? "names" : "does not name", a,
			wanted ? "says" : "does not say", want != nil ? want : "");
		return 0;
	}
	return 1;
}

/*
 * Read every file of the model: each one exact, or refused with an
 * error naming addr.  How many were refused, or -1 if one was served
 * wrong or refused for another reason.
 */
static int
readall(Man *m, vlong addr, char *why, int nwhy)
{
	char a[32], w[256];
	Mount *mt;
	int i, j, n;
	Lbl *l;

	snprintf(a, sizeof a, "%#llx", (unsigned long long)addr);
	n = 0;
	for(i = 0; i < m->nl; i++){
		l = &m->l[i];
		if((mt = getmount(l->name)) == nil){
			if(!iserr(Ecorrupt) || strstr(errstr(), a) == nil){
				snprintf(why, nwhy, "label %s: %s", l->name, errstr());
				return -1;
			}
			n += l->nf;
			continue;
		}
		epochstart();
		for(j = 0; j < l->nf; j++){
			w[0] = 0;
			if(fileok(agetp((void**)&mt->root), &l->f[j], j, w, sizeof w))
				continue;
			if(strstr(w, Ecorrupt) == nil || strstr(w, a) == nil){
				snprintf(why, nwhy, "label %s file %d: %s", l->name, 100+j, w);
				epochend();
				putmount(mt);
				return -1;
			}
			n++;
		}
		epochend();
		putmount(mt);
	}
	return n;
}

static void
oneflip(char *img, char *what, vlong addr, int off, char *want, int loads, int minbad, int maxbad)
{
	char why[512];
	int n, good;

	why[0] = 0;
	flip(img, addr + off);
	good = gefsfails(img, addr, want, why, sizeof why);
	if(good && loadfs(img, 1, Cachesz) == -1){
		if(loads || !iserr(Ecorrupt)){
			snprintf(why, sizeof why, "load: %s", errstr());
			good = 0;
		}
	}else if(good){
		if(!loads){
			snprintf(why, sizeof why, "the volume loads with a corrupt %s", what);
			good = 0;
		}else if((n = readall(&model, addr, why, sizeof why)) < minbad || n > maxbad){
			if(n >= 0)
				snprintf(why, sizeof why, "%d files refused, want %d to %d", n, minbad, maxbad);
			good = 0;
		}
		closefs();
	}
	flip(img, addr + off);
	ok(good, "a flipped byte in a %s block %llx: gefs -c names it and fails; %s", what, (unsigned long long)addr,
		loads ? "reads of what it holds fail naming it, every other file reads exact" : "the volume does not load");
	if(!good)
		diag("%s", why);
	if(gefsfails(img, addr, nil, why, sizeof why))
		ok(0, "flipped back: gefs -c passes again");
}

/* One flipped byte in a data, leaf, pivot and log block of a volume. */
static void
flips(void)
{
	char k[Keymax], buf[Kvmax], *img, why[256];
	vlong dat, leaf, piv, log;
	Mount *m;
	Key key;
	Kvp kv;
	Blk *b;
	Lbl *l;
	int i;

	img = estrdup(mkimg("flip.img", Minream));
	if(ream(img) == -1 || loadfs(img, 0, Cachesz) == -1)
		exit(1);
	memset(&model, 0, sizeof model);
	l = lbl(&model, "main");
	m = getmount("main");
	for(i = 0; i < Nflipfile; i++)
		if(wfile(m, l, i, 0, 1, 1) == -1)
			exit(1);
	/* old shares main's leaves, not its root */
	if(fssync() == -1 || snap("main", "old") == -1 || wfile(m, l, Nflipfile, 0, 1, 2) == -1 || fssync() == -1)
		exit(1);
	putmount(m);
	closefs();

	if(loadfs(img, 1, Cachesz) == -1)
		exit(1);
	m = getmount("main");
	piv = m->root->bp.addr;
	ok(m->root->ht >= 2, "main is a tree of height %d", m->root->ht);
	b = getblk(m->root->bp, 0);
	nodeent(b, b->nval/2, &kv);
	leaf = unpackbp(kv.v).addr;
	dropblk(b);
	packdatkey(k, 100 + Nflipfile/2, 0);
	key.k = k;
	key.nk = Offksz;
	if(btlookup(m->root, &key, &kv, buf, sizeof buf) != 1)
		exit(1);
	dat = unpackbp(kv.v).addr;
	log = fs->arenas[0].loghd.addr;
	putmount(m);
	closefs();
	ok(gefsfails(img, 0, nil, why, sizeof why) == 0, "the volume checks clean before");

	snprintf(buf, sizeof buf, "file %x offset 0", 100 + Nflipfile/2);
	/* the data block is main's and old's: one file in each */
	oneflip(img, "data", dat, 5000, buf, 1, 2, 2);
	/* a middle leaf holds entries of some files of main, maybe of old */
	oneflip(img, "leaf", leaf, 100, nil, 1, 1, 2*Nflipfile);
	/* main's root: every file of main, none of old */
	oneflip(img, "pivot", piv, 100, nil, 1, Nflipfile+1, Nflipfile+1);
	oneflip(img, "log", log, Loghdsz + 8, nil, 0, 0, 0);
	free(img);
}

/* ------------------------------------------------------ a full volume */

/* Fill main with 32-block files until the volume is full; the first file not written. */
static int
fill(Mount *m, Lbl *l, int from, int seed)
{
	int i;

	for(i = from; i < Maxfile-2; i++)
		if(wfile(m, l, i, 0, Batch, seed) == -1 || wfile(m, l, i, Batch, 2*Batch, seed) == -1)
			return i;
	return -1;
}

static int
exactly(char *what)
{
	char why[512];
	vlong leaks;
	int bad;

	why[0] = 0;
	if(!manok(&model, why, sizeof why)){
		diag("%s: %s", what, why);
		return 0;
	}
	free(report);
	report = nil;
	nreport = 0;
	bad = checkfs(collect, nil, &leaks);
	if(bad != 0 || leaks != 0){
		diag("%s: check: %s", what, report);
		return 0;
	}
	return 1;
}

static int
room(Mount *m, Lbl *l, int i)
{
	return wfile(m, l, i, 0, 1, 5) == 0;
}

/*
 * Fill the volume: writes fail with the upstream string and nothing
 * else breaks; deleting files, then deleting a snapshot that held
 * them, makes room again; the reserve switch (the console's reserve
 * sets fs->usereserve) lets a full volume be cleaned up.
 */
static void
full(void)
{
	char *img, e[Errmax];
	int n, i, r;
	Mount *m;
	Lbl *l;

	img = estrdup(mkimg("full.img", Minream));
	if(ream(img) == -1 || loadfs(img, 0, Cachesz) == -1)
		exit(1);
	memset(&model, 0, sizeof model);
	l = lbl(&model, "main");
	m = getmount("main");

	n = fill(m, l, 0, 1);
	snprintf(e, sizeof e, "%s", errstr());
	ok(n > 0 && strcmp(e, Efull) == 0, "the volume fills after %d files of 512 KiB: '%s'", n, e);
	ok(!isrdonly(), "a full volume is not read-only");
	r = fssync();
	ok(r == 0, "a full volume commits%s%s", r ? ": " : "", r ? errstr() : "");
	settle();
	ok(exactly("full"), "a full volume holds every file it took and checks clean");
	/* the commit gave back what copy-on-write replaced: fill that too */
	n = fill(m, l, n, 1);
	ok(n > 0 && iserr(Efull) && fssync() == 0, "full again after the commit, and it commits");

	for(i = 0; i < n; i += 2)
		if(rmfile(m, l, i) == -1)
			break;
	ok(i >= n, "files can be removed from a full volume%s%s", i < n ? ": " : "", i < n ? errstr() : "");
	ok(fssync() == 0, "and the removal committed");
	settle();
	ok(room(m, l, n), "removing files makes room");
	ok(exactly("after removal"), "everything is there and checks clean");

	/* a snapshot holds files that are then removed: the space stays taken */
	for(i = 0; i < Maxfile-2; i++)
		if(l->f[i].live && rmfile(m, l, i) == -1)
			break;
	ok(fssync() == 0 && wfile(m, l, 0, 0, 2*Batch, 2) == 0 && wfile(m, l, 1, 0, 2*Batch, 2) == 0
		&& snap("main", "keep") == 0, "a snapshot");
	ok(rmfile(m, l, 0) == 0 && rmfile(m, l, 1) == 0 && fssync() == 0, "its files removed from main");
	settle();
	n = fill(m, l, 2, 3);
	ok(n > 0 && iserr(Efull), "full again: %s", errstr());
	ok(fssync() == 0, "committed");
	settle();
	n = fill(m, l, n, 3);
	ok(n > 0 && iserr(Efull), "full after the commit: %s", errstr());
	ok(unsnap("keep") == 0 && fssync() == 0, "the snapshot deleted and committed");
	settle();
	ok(room(m, l, n), "deleting the snapshot makes room");
	ok(exactly("after the snapshot"), "everything is there and checks clean");

	n = fill(m, l, n+1, 4);
	ok(n > 0 && iserr(Efull), "full a third time: %s", errstr());
	for(r = 0, i = 0; i < n && r == 0; i++)
		if(l->f[i].live)
			r = rmfile(m, l, i) == -1 && iserr(Efull);
	ok(!r, "files can be removed without opening the reserve");
	asetl(&fs->usereserve, 1);
	ok(room(m, l, n), "with the reserve open, the administrator can write");
	for(i = 0; i < n; i++)
		if(l->f[i].live && rmfile(m, l, i) == -1)
			break;
	ok(i >= n && fssync() == 0, "and remove every file and commit");
	asetl(&fs->usereserve, 0);
	settle();
	ok(room(m, l, n+1) && fssync() == 0, "room again with the reserve kept");
	ok(exactly("cleaned up"), "everything is there and checks clean");
	putmount(m);
	closefs();
	ok(loadfs(img, 1, Cachesz) == 0 && exactly("reloaded"), "after a restart too");
	closefs();
	free(img);
}

/* ------------------------------------------------------- kill -9 loop */

enum {
	Nround	= 20,
	Nkfile	= 60,
};

static int
haslabel(char *name)
{
	int i;

	for(i = 0; i < model.nl; i++)
		if(strcmp(model.l[i].name, name) == 0)
			return model.l[i].live;
	return 0;
}

/* Random changes to main, a commit every few; runs until killed. */
static void
killchild(char *img, char *log, uvlong seed)
{
	char name[32], *t;
	Mount *m;
	int i, op;
	Lbl *l;

	rng = seed;
	if(shiminit(log) == -1 || loadfs(img, 0, Cachesz) == -1)
		_exit(5);
	curimg = img;
	model.qgen = fs->qgen;
	t = mantext(&model);
	shimmark(t);
	free(t);
	if((m = getmount("main")) == nil)
		_exit(5);
	l = lbl(&model, "main");
	for(;;){
		i = rand64() % Nkfile;
		op = rand64() % 100;
		if(!l->f[i].live || op < 40)
			op = wfile(m, l, i, 0, 1 + rand64() % 4, 1 + rand64() % 1000);
		else if(op < 60)
			op = rmfile(m, l, i);
		else if(op < 75)
			op = mvfile(m, l, i);
		else if(op < 85){
			snprintf(name, sizeof name, "k%d", (int)(rand64() % 3));
			op = haslabel(name) ? unsnap(name) : snap("main", name);
		}else
			op = wfile(m, l, i, 0, 2, 1 + rand64() % 1000);
		if(op == -1)
			_exit(4);
		if(rand64() % 6 == 0 && commit() == -1)
			_exit(4);
	}
}

/*
 * Start, change and commit, kill -9 at a random moment, restart: the
 * volume checks clean and holds the last commit the child saw complete,
 * or the one it was making, exactly.  Every round goes on from there.
 */
static void
killloop(void)
{
	char *img, *lg, spec[400], why[512];
	int r, st, good, nbad;
	pid_t pid;

	img = estrdup(mkimg("kill.img", Minream));
	lg = estrdup(mkimg("kill.log", 0));
	if(ream(img) == -1)
		exit(1);
	memset(&model, 0, sizeof model);
	lbl(&model, "main");
	snprintf(spec, sizeof spec, "log:%s", lg);
	nbad = 0;
	for(r = 0; r < Nround; r++){
		fflush(stdout);
		if((pid = fork()) == 0)
			killchild(img, spec, 0x9e3779b97f4a7c15ULL * (r+1));
		usleep(50000 + rand64() % 400000);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		why[0] = 0;
		good = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		if(!good)
			snprintf(why, sizeof why, "the child ended by itself, status %#x", st);
		else
			good = afterfault(img, lg, 0, why, sizeof why);
		if(!good){
			nbad++;
			diag("round %d: %s", r, why);
		}
	}
	diag("%ld commits in all; %ld restarts found the commit being made when the kill came", ncommit, ninflight);
	ok(nbad == 0 && ncommit >= Nround, "kill -9 loop: %d rounds of changes, commits and a kill at a random moment: each restart checks clean and holds exactly what was synced", Nround);
	free(img);
	free(lg);
}

static int
finish(char *img, int keep)
{
	if(keep)
		diag("the logs and images are in %s", tmpdir);
	else
		rmtmp();
	free(img);
	free(report);
	free(rec);
	free(undo);
	free(marks);
	return done();
}

int
main(int argc, char **argv)
{
	char *log, *base, *img, *lg, *bs, *w;
	int c, i, j, keep, fault;

	log = base = nil;
	keep = 0;
	fault = 0;
	while((c = getopt(argc, argv, "KSBFkg:l:b:")) != -1)
		switch(c){
		case 'K':
			fault = 4;
			break;
		case 'S':
			fault = 3;
			break;
		case 'B':
			fault = 2;
			break;
		case 'F':
			fault = 1;
			break;
		case 'k':
			keep = 1;
			break;
		case 'g':
			gefs = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'b':
			base = optarg;
			break;
		default:
			fprintf(stderr, "usage: replay [-kF] [-g gefs] [workload...] | [-k] [-g gefs] -l log -b base\n");
			return 2;
		}
	/* crash images make the loader warn about every stale header */
	if(freopen("/dev/null", "w", stderr) == nil)
		return 1;
	rng = 0x9e3779b97f4a7c15ULL;
	img = estrdup(mkimg("replay.img", Minream));
	if(fault == 4){
		killloop();
		return finish(img, 0);
	}
	if(fault == 3){
		full();
		return finish(img, 0);
	}
	if(fault == 2){
		flips();
		return finish(img, 0);
	}
	if(log != nil){
		if(base == nil)
			return 2;
		replaylog(log, log, base, img);
		return finish(img, keep);
	}
	for(i = optind; i < argc || (optind == argc && i < optind + (int)nelem(workloads)); i++){
		char *name = optind == argc ? workloads[i-optind].name : argv[i];
		for(j = 0; j < (int)nelem(workloads); j++)
			if(strcmp(workloads[j].name, name) == 0)
				break;
		if(j == nelem(workloads)){
			ok(0, "no workload %s", name);
			continue;
		}
		if(fault){
			faults(&workloads[j]);
			continue;
		}
		lg = estrdup(mkimg("replay.log", 0));
		bs = estrdup(mkimg("replay.base", 0));
		w = estrdup(mkimg("work.img", Minream));
		if(record(&workloads[j], w, bs, lg) == -1)
			ok(0, "%s: the workload runs", name);
		else
			replaylog(name, lg, bs, img);
		free(lg);
		free(bs);
		free(w);
	}
	return finish(img, keep);
}
