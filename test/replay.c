/*
 * test/replay.c: crash replay, in the spirit of dm-log-writes and
 * upstream's freplay (format §9.5, runtime §8.7-8.8, DESIGN.md §8).
 *
 * replay [-g GEFS] WORKLOAD...	record each workload, then replay it
 * replay [-g GEFS] -l LOG -b BASE	replay a log the shim recorded
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
	Maxfile	= 160,
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
		if(strncmp(line, "commit ", 7) == 0)
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

static int
putblocks(Tree *t, int q, int from, int to, int seed)
{
	char k[Batch][Offksz], v[Batch][Ptrsz];
	Msg msg[Batch];
	Blk *b;
	int i, j, n;

	for(j = from; j < to; j += n){
		n = MIN(Batch, to - j);
		for(i = 0; i < n; i++){
			if((b = allocblk(t, Tdat, q, 0)) == nil)
				return -1;
			for(int x = 0; x < Blksz; x++)
				b->buf[x] = pat(q, j+i, seed, x);
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
		if(upsert(t, msg, n) == -1)
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
	char *t;

	if(fssync() == -1){
		diag("sync: %s", errstr());
		return -1;
	}
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
			if(o + 12 > n)
				return -1;
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
		if(marks[i].need <= lastf)
			need = i;
	for(i = 0; i < nmark; i++)
		if(marks[i].qgen == fs->qgen)
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
	free(marks);
	marks = nil;
	ok(good, "%s: %ld writes, %ld flushes, %d commits: %ld crash states load, check clean (gefs -c on %ld) and hold the last synced commit or a later one",
		name, nw, nrec - nw - nmark, nmark, nstate, ncheck);
	if(nbad > 0)
		diag("%s: %ld bad states", name, nbad);
	ncheck = 0;
	return good;
}

int
main(int argc, char **argv)
{
	char *log, *base, *img, *lg, *bs, *w;
	int c, i, j, keep;

	log = base = nil;
	keep = 0;
	while((c = getopt(argc, argv, "kg:l:b:")) != -1)
		switch(c){
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
			fprintf(stderr, "usage: replay [-k] [-g gefs] [workload...] | [-k] [-g gefs] -l log -b base\n");
			return 2;
		}
	/* crash images make the loader warn about every stale header */
	if(freopen("/dev/null", "w", stderr) == nil)
		return 1;
	rng = 0x9e3779b97f4a7c15ULL;
	img = estrdup(mkimg("replay.img", Minream));
	if(log != nil){
		if(base == nil)
			return 2;
		replaylog(log, log, base, img);
		if(!keep)
			rmtmp();
		return done();
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
	if(keep)
		diag("the logs and images are in %s", tmpdir);
	else
		rmtmp();
	return done();
}
