/*
 * test/tree.c: the Bε-tree message by message, at a leaf root and
 * buffered in pivots, with maximal keys, values and separators,
 * malformed messages, atomic batches and resumed scans.
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

static Tree	*t;

static void
setup(void)
{
	char *img;

	img = mkimg("tree.img", 1024*MiB);
	if(ream(img) == -1 || load(img) == -1){
		rmtmp();
		exit(1);
	}
}

/* An empty tree in a generation of its own, as a new snapshot's. */
static Tree*
newtree(void)
{
	Tree *nt;
	Blk *b;

	nt = emalloc(sizeof *nt);
	nt->memgen = ++fs->nextgen;
	nt->ht = 1;
	if((b = newblk(nt, Tleaf, 0)) == nil){
		diag("newtree: %s", errstr());
		exit(1);
	}
	enqueue(b);
	nt->bp = b->bp;
	dropblk(b);
	return nt;
}

/* An upsert as the mutator does it: then let retired blocks go. */
static int
up(Msg *m, int n)
{
	int r;

	r = upsert(t, m, n);
	epochclean();
	return r;
}

static void
mkmsg(Msg *m, int op, char *k, int nk, char *v, int nv)
{
	m->op = op;
	m->kv.k = k;
	m->kv.nk = nk;
	m->kv.v = v;
	m->kv.nv = nv;
}

static int
send(int op, char *k, int nk, char *v, int nv)
{
	Msg m;

	mkmsg(&m, op, k, nk, v, nv);
	return up(&m, 1);
}

/* Look k up; the value goes to val (Inlmax bytes), its size to *nv. */
static int
look(char *k, int nk, char *val, int *nv)
{
	char buf[Kvmax];
	Kvp r;
	Key key;
	int n;

	key.k = k;
	key.nk = nk;
	n = btlookup(t, &key, &r, buf, sizeof buf);
	if(n == 1){
		memmove(val, r.v, r.nv);
		*nv = r.nv;
	}
	return n;
}

static int
haskey(char *k, int nk)
{
	char v[Inlmax];
	int n;

	return look(k, nk, v, &n);
}

/* Does some pivot still buffer a message for k? */
static int
buffered1(Bptr bp, int ht, char *k, int nk)
{
	Kvp kv;
	Msg m;
	Blk *b;
	int i, r;

	if(ht == 1)
		return 0;
	b = getblk(bp, 0);
	if(b == nil)
		return -1;
	r = 0;
	for(i = 0; i < b->nbuf && r == 0; i++){
		nodemsg(b, i, &m);
		if(m.kv.nk == nk && memcmp(m.kv.k, k, nk) == 0)
			r = 1;
	}
	for(i = 0; i < b->nval && r == 0; i++){
		nodeent(b, i, &kv);
		r = buffered1(unpackbp(kv.v), ht-1, k, nk);
	}
	dropblk(b);
	return r;
}

static int
buffered(char *k, int nk)
{
	return buffered1(t->bp, t->ht, k, nk);
}

/* Filler keys: Kconf "f" + 8 digits, 100-byte values. */
static int
filler(int i, char *k)
{
	k[0] = Kconf;
	k[1] = 'f';
	put64(k+2, i);
	return 10;
}

static int nfill;

/* Add filler keys until the tree is at least ht high. */
static void
grow(int ht)
{
	char v[100];
	Msg m[32];
	int j;
	static char ks[32][16];

	memset(v, 'v', sizeof v);
	while(t->ht < ht){
		for(j = 0; j < 32; j++){
			filler(nfill++, ks[j]);
			mkmsg(&m[j], Oinsert, ks[j], 10, v, sizeof v);
		}
		if(up(m, 32) < 0){
			diag("grow: %s", errstr());
			return;
		}
	}
}

/* Push k's messages down to its leaf by writing neighbours of k until none is buffered. */
static void
sink(char *k, int nk)
{
	char v[100];
	Msg m[32];
	int i, j, n, nv;
	static char ks[32][Keymax+8];

	/* neighbours of a data key are data keys: give them a null pointer */
	memset(v, k[0] == Kdat ? 0xff : 's', sizeof v);
	nv = k[0] == Kdat ? Ptrsz : sizeof v;
	n = MIN(nk, Keymax-4);
	for(i = 0; i < 400 && buffered(k, nk) > 0; i++){
		for(j = 0; j < 32; j++){
			memmove(ks[j], k, n);
			put32(ks[j]+n, i*32 + j);
			mkmsg(&m[j], Oinsert, ks[j], n+4, v, nv);
		}
		if(up(m, 32) < 0){
			diag("sink: %s", errstr());
			return;
		}
	}
}

/* A packed directory entry with recognisable fields. */
static void
mkdir(char *v)
{
	int i;

	for(i = 0; i < Xdirsz; i++)
		v[i] = i;
}

/* A packed tree record with these counts. */
static void
mkrec(char *v, u32int nref, u32int nlbl)
{
	memset(v, 0, Treesz);
	put32(v, nref);
	put32(v+4, nlbl);
	put32(v+8, 1);
	put64(v+16, 42);
	put64(v+24, 41);
	put64(v+32, -1);
	put64(v+40, 7);
}

static void
mktp(char *p, vlong link, int dlbl, int dref)
{
	put64(p, link);
	p[8] = dlbl;
	p[9] = dref;
}

/* ------------------------------------------------------------- applymsg */

static void
testapply(void)
{
	char v[Inlmax], want[Treesz], p[64], k[1] = {Kent};
	int present, nv, i;
	Msg m;

	/* every Owstat field in turn, at its offset; each bumps qid.vers */
	static struct { int fl, off, w; } f[] = {
		{Owsize, 41, 8}, {Owmode, 21, 4}, {Owmtime, 33, 8}, {Owatime, 25, 8},
		{Owuid, 49, 4}, {Owgid, 53, 4}, {Owmuid, 57, 4},
	};
	for(i = 0; i < (int)nelem(f); i++){
		mkdir(v);
		mkdir(want);
		p[0] = f[i].fl;
		memset(p+1, 0xa0+i, f[i].w);
		memset(want + f[i].off, 0xa0+i, f[i].w);
		if(f[i].fl == Owmode)
			want[20] = 0xa0+i;
		put32(want+16, get32(want+16)+1);
		mkmsg(&m, Owstat, k, 1, p, 1+f[i].w);
		present = 1;
		nv = Xdirsz;
		ok(applymsg(&m, &present, v, &nv) == 0 && nv == Xdirsz
			&& memcmp(v, want, Xdirsz) == 0, "wstat flag %#x patches offset %d", f[i].fl, f[i].off);
	}
	/* all flags at once, in flag order */
	mkdir(v);
	p[0] = Owmask;
	put64(p+1, 1000);
	put32(p+9, DMDIR|0755);
	put64(p+13, 2000);
	put64(p+21, 3000);
	put32(p+29, 5);
	put32(p+33, 6);
	put32(p+37, 7);
	mkmsg(&m, Owstat, k, 1, p, 41);
	present = 1;
	nv = Xdirsz;
	ok(applymsg(&m, &present, v, &nv) == 0 && get64(v+41) == 1000 && get32(v+21) == (DMDIR|0755)
		&& (uchar)v[20] == QTDIR && get64(v+33) == 2000 && get64(v+25) == 3000
		&& get32(v+49) == 5 && get32(v+53) == 6 && get32(v+57) == 7,
		"wstat with every flag: 41-byte payload in flag order");
	mkdir(v);
	p[0] = 0;
	mkmsg(&m, Owstat, k, 1, p, 1);
	present = 1;
	nv = Xdirsz;
	mkdir(want);
	put32(want+16, get32(want+16)+1);
	ok(applymsg(&m, &present, v, &nv) == 0 && memcmp(v, want, Xdirsz) == 0,
		"wstat with no flags only bumps qid.vers");
	put32(v+16, 0xffffffff);
	ok(applymsg(&m, &present, v, &nv) == 0 && get32(v+16) == 0, "qid.vers wraps");

	mkdir(v);
	memmove(want, v, Xdirsz);
	p[0] = Owsize;
	mkmsg(&m, Owstat, k, 1, p, 5);
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Ecorrupt) && memcmp(v, want, Xdirsz) == 0,
		"wstat payload shorter than its flags: error, value untouched");
	mkmsg(&m, Owstat, k, 1, p, 10);
	ok(applymsg(&m, &present, v, &nv) < 0, "wstat payload longer than its flags: error");
	p[0] = 0x80;
	mkmsg(&m, Owstat, k, 1, p, 1);
	ok(applymsg(&m, &present, v, &nv) < 0, "wstat flag 0x80: error");
	p[0] = 0;
	nv = 60;
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Ecorrupt), "wstat of a 60-byte value: error");
	present = 0;
	nv = 0;
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Enoval), "wstat of nothing: %s", errstr());

	/* snapshot records */
	mkrec(v, 2, 1);
	present = 1;
	nv = Treesz;
	mktp(p, 99, -1, 1);
	mkmsg(&m, Orelink, k, 1, p, Tpsz);
	ok(applymsg(&m, &present, v, &nv) == 0 && get32(v) == 3 && get32(v+4) == 0
		&& get64(v+32) == 99 && get64(v+24) == 41, "relink: succ, nlbl-1, nref+1");
	mkmsg(&m, Oreprev, k, 1, p, Tpsz);
	mktp(p, 98, 1, -1);
	ok(applymsg(&m, &present, v, &nv) == 0 && get32(v) == 2 && get32(v+4) == 1
		&& get64(v+24) == 98 && get64(v+32) == 99, "reprev: pred, nlbl+1, nref-1");
	mktp(p, -1, 0, 1);
	mkmsg(&m, Oincref, k, 1, p, Tpsz);
	ok(applymsg(&m, &present, v, &nv) == 0 && get32(v) == 3 && get32(v+4) == 1
		&& get64(v+24) == 98 && get64(v+32) == 99, "incref: only the counts; link ignored");
	mkrec(v, 0, 1);
	memmove(want, v, Treesz);
	mktp(p, 5, 0, -1);
	mkmsg(&m, Oincref, k, 1, p, Tpsz);
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Ecorrupt) && memcmp(v, want, Treesz) == 0,
		"nref below zero: error, record untouched");
	mktp(p, 5, -2, 0);
	mkmsg(&m, Orelink, k, 1, p, Tpsz);
	ok(applymsg(&m, &present, v, &nv) < 0, "nlbl below zero: error");
	mkrec(v, 0xffffffff, 1);
	mktp(p, 5, 0, 1);
	ok(applymsg(&m, &present, v, &nv) < 0, "nref past 2^32-1: error");
	nv = Treesz - 1;
	mktp(p, 5, 0, 0);
	ok(applymsg(&m, &present, v, &nv) < 0, "relink of a 71-byte value: error");
	present = 0;
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Enoval), "relink of nothing: error");

	/* what creates and what removes */
	present = 0;
	mkmsg(&m, Oclearb, k, 1, nil, 0);
	ok(applymsg(&m, &present, v, &nv) == 0 && !present, "clearb of nothing: nothing");
	m.op = Oclobber;
	ok(applymsg(&m, &present, v, &nv) == 0 && !present, "clobber of nothing: nothing");
	m.op = Odelete;
	ok(applymsg(&m, &present, v, &nv) < 0 && iserr(Enoval), "delete of nothing: error");
	mkmsg(&m, Oinsert, k, 1, "abc", 3);
	ok(applymsg(&m, &present, v, &nv) == 0 && present && nv == 3 && memcmp(v, "abc", 3) == 0,
		"insert creates");
	mkmsg(&m, Odelete, k, 1, "x", 1);
	ok(applymsg(&m, &present, v, &nv) == 0 && !present, "delete with a 1-byte payload removes");
	m.op = 0;
	present = 1;
	ok(applymsg(&m, &present, v, &nv) < 0 && present, "op 0: error");
	m.op = Nmsgtype;
	ok(applymsg(&m, &present, v, &nv) < 0, "op %d: error", Nmsgtype);
}

/* -------------------------------------------------------- bad messages */

static void
testbad(void)
{
	char k[Keymax+2], v[Inlmax+2], p[64];
	Msg m[2];
	Bptr before;
	int i;

	static struct { int op, ktype, nk, nv, p0; char *what; } bad[] = {
		{0, Kent, 12, 0, 0, "op 0"},
		{Nmsgtype, Kent, 12, 0, 0, "op past the last"},
		{255, Kent, 12, 0, 0, "op 255"},
		{Oinsert, Kconf, Keymax+1, 0, 0, "257-byte key"},
		{Oinsert, Kconf, 0, 0, 0, "empty key"},
		{Oinsert, Kconf, 5, Inlmax+1, 0, "513-byte value"},
		{Oinsert, Kdat, Offksz, 23, 0, "23-byte data pointer"},
		{Oclearb, Kdat, Offksz, 1, 0, "clearb with a payload"},
		{Oclobber, Kent, 12, 1, 0, "clobber with a payload"},
		{Owstat, Kent, 12, 0, 0, "wstat without flags byte"},
		{Owstat, Kent, 12, 1, 0x80, "wstat flag 0x80"},
		{Owstat, Kent, 12, 8, Owsize, "wstat size cut short"},
		{Owstat, Kent, 12, 10, Owsize, "wstat with a trailing byte"},
		{Owstat, Kconf, 12, 1, 0, "wstat of a non-entry key"},
		{Orelink, Ksnap, Snapsz, 9, 0, "relink payload of 9"},
		{Oreprev, Ksnap, Snapsz, 11, 0, "reprev payload of 11"},
		{Oincref, Kent, 12, Tpsz, 0, "incref of a non-snapshot key"},
		{Orelink, Ksnap, Snapsz+1, Tpsz, 0, "relink of a 10-byte snapshot key"},
	};
	memset(k, 1, sizeof k);
	memset(v, 2, sizeof v);
	for(i = 0; i < (int)nelem(bad); i++){
		k[0] = bad[i].ktype;
		v[0] = bad[i].p0;
		before = t->bp;
		mkmsg(&m[0], Oinsert, "\x06good", 5, "ok", 2);
		mkmsg(&m[1], bad[i].op, k, bad[i].nk, v, bad[i].nv);
		ok(up(m, 2) < 0 && t->bp.addr == before.addr && haskey("\x06good", 5) == 0,
			"refused with the batch: %s (%s)", bad[i].what, errstr());
	}
	USED(p);
}

/* ------------------------------------------------ messages, one level */

static char	entk[12+5] = "\x01\0\0\0\0\0\0\0\x01\0\x05users";
static char	snapk[Snapsz] = "\x04\0\0\0\0\0\0\0\x02";
static char	datk[Offksz] = "\0\0\0\0\0\0\0\0\x09\0\0\0\0\0\0\0\0";

/*
 * Every message type on keys that live at a leaf (buffered: no) or in
 * the root's buffer (yes); where says which, for the test names.
 */
static void
testops(char *where, int wantbuf)
{
	char v[Inlmax], got[Inlmax], p[64], xd[Xdirsz];
	int nv, r;
	Bptr before;

	mkdir(xd);
	ok(send(Oinsert, entk, 17, xd, Xdirsz) == 0 && look(entk, 17, got, &nv) == 1
		&& nv == Xdirsz && memcmp(got, xd, Xdirsz) == 0, "%s: insert creates", where);
	if(wantbuf)
		ok(buffered(entk, 17) == 1, "%s: the insert is buffered in a pivot", where);
	p[0] = Owsize|Owmuid;
	put64(p+1, 4096);
	put32(p+9, 77);
	ok(send(Owstat, entk, 17, p, 13) == 0 && look(entk, 17, got, &nv) == 1
		&& get64(got+41) == 4096 && get32(got+57) == 77 && get32(got+16) == get32(xd+16)+1,
		"%s: wstat patches length and muid, bumps vers", where);
	p[0] = 0;
	ok(send(Owstat, entk, 17, p, 1) == 0 && look(entk, 17, got, &nv) == 1
		&& get32(got+16) == get32(xd+16)+2, "%s: touch bumps vers again", where);
	ok(send(Oinsert, entk, 17, xd, Xdirsz) == 0 && look(entk, 17, got, &nv) == 1
		&& memcmp(got, xd, Xdirsz) == 0, "%s: insert replaces", where);
	ok(send(Oclobber, entk, 17, nil, 0) == 0 && haskey(entk, 17) == 0, "%s: clobber removes", where);
	ok(send(Oclobber, entk, 17, nil, 0) == 0 && haskey(entk, 17) == 0,
		"%s: clobber of nothing does nothing", where);
	ok(send(Oinsert, entk, 17, xd, Xdirsz) == 0 && send(Odelete, entk, 17, nil, 0) == 0
		&& haskey(entk, 17) == 0, "%s: delete removes", where);
	ok(send(Oinsert, entk, 17, xd, Xdirsz) == 0 && send(Odelete, entk, 17, v, Dlvsz) == 0
		&& haskey(entk, 17) == 0, "%s: delete with a 48-byte payload removes", where);

	mkrec(v, 1, 1);
	ok(send(Oinsert, snapk, Snapsz, v, Treesz) == 0, "%s: insert a tree record", where);
	mktp(p, 9, 1, 1);
	r = send(Orelink, snapk, Snapsz, p, Tpsz);
	mktp(p, 8, -1, -1);
	r |= send(Oreprev, snapk, Snapsz, p, Tpsz);
	mktp(p, -1, 0, 2);
	r |= send(Oincref, snapk, Snapsz, p, Tpsz);
	ok(r == 0 && look(snapk, Snapsz, got, &nv) == 1 && nv == Treesz && get32(got) == 3
		&& get32(got+4) == 1 && get64(got+32) == 9 && get64(got+24) == 8,
		"%s: relink, reprev, incref", where);
	if(!wantbuf){
		/* buffered, this would poison the tree: see testmissing */
		before = t->bp;
		mktp(p, -1, 0, -4);
		ok(send(Oincref, snapk, Snapsz, p, Tpsz) < 0 && iserr(Ecorrupt) && t->bp.addr == before.addr,
			"%s: a count below zero fails, tree unchanged (%s)", where, errstr());
	}

	ok(send(Oclearb, datk, Offksz, nil, 0) == 0 && haskey(datk, Offksz) == 0,
		"%s: clearb of a hole does nothing", where);
}

/* ---------------------------------------------------- scans and holes */

static int
scanall(char *pfx, int npfx, int *n)
{
	Scan *s;
	Kvp kv;
	int r;

	s = emalloc(sizeof *s);
	btnewscan(s, pfx, npfx);
	*n = 0;
	if(btenter(t, s) < 0){
		free(s);
		return -1;
	}
	while((r = btnext(s, &kv)) > 0)
		(*n)++;
	btexit(s);
	free(s);
	return r;
}

static void
testholes(char *where)
{
	char k[Offksz];
	int i, n, r;

	k[0] = Kdat;
	put64(k+1, 77);
	for(i = 0; i < 8; i++){
		put64(k+9, (uvlong)i*Blksz);
		send(Oclearb, k, Offksz, nil, 0);
	}
	for(i = 8; i < 16; i++){
		put64(k+9, (uvlong)i*Blksz);
		send(Oclobber, k, Offksz, nil, 0);
	}
	r = scanall(k, 9, &n);
	ok(r == 0 && n == 0, "%s: a scan returns no clearb or clobber of a hole (%d)", where, n);
}

/* Messages that need a value, sent to nothing. */
static void
testmissing(char *where, int inpivot)
{
	char k[20] = "\x01\0\0\0\0\0\0\0\x03\0\x04gone";
	char p[16], got[Inlmax];
	Bptr before;
	int nv;

	k[15] = 0;
	before = t->bp;
	p[0] = 0;
	if(!inpivot){
		ok(send(Owstat, k, 16, p, 1) < 0 && iserr(Enoval) && t->bp.addr == before.addr,
			"%s: wstat of a missing key fails, tree unchanged (%s)", where, errstr());
		ok(send(Odelete, k, 16, nil, 0) < 0 && iserr(Enoval) && t->bp.addr == before.addr,
			"%s: delete of a missing key fails, tree unchanged", where);
		return;
	}
	ok(send(Owstat, k, 16, p, 1) == 0 && buffered(k, 16) == 1, "%s: wstat of a missing key is buffered", where);
	ok(look(k, 16, got, &nv) < 0 && iserr(Enoval), "%s: looking it up is an error: %s", where, errstr());
	ok(scanall(k, 9, &nv) < 0 && iserr(Enoval), "%s: so is scanning over it", where);
	before = t->bp;
	sink(k, 16);
	ok(iserr(Enoval) && buffered(k, 16) == 1,
		"%s: flushing it to its leaf fails, the message stays (%s)", where, errstr());
	ok(checktree(t, nil, nil) == 0, "%s: the tree still checks", where);
	USED(before);
}

/* A scan suspended after a few keys resumes strictly after the last, in the newer tree. */
static void
testresume(void)
{
	char k[8];
	Scan *s;
	Kvp kv;
	int i, r, n, seen[40];

	s = emalloc(sizeof *s);
	k[0] = Kconf;
	k[1] = 'r';
	for(i = 0; i < 40; i += 2){
		put32(k+2, i);
		send(Oinsert, k, 6, "v", 1);
	}
	btnewscan(s, "\x06r", 2);
	memset(seen, 0, sizeof seen);
	ok(btenter(t, s) == 0, "resume: enter");
	for(i = 0; i < 3; i++){
		r = btnext(s, &kv);
		if(r == 1)
			seen[get32(kv.k+2)]++;
	}
	btexit(s);
	ok(seen[0] && seen[2] && seen[4] && s->nlast == 6 && get32(s->last+2) == 4,
		"resume: three keys, then suspended at the last");
	/* change things on both sides of the suspension point */
	put32(k+2, 1);
	send(Oinsert, k, 6, "n", 1);
	put32(k+2, 5);
	send(Oinsert, k, 6, "n", 1);
	put32(k+2, 4);
	send(Oinsert, k, 6, "w", 1);
	put32(k+2, 6);
	send(Odelete, k, 6, nil, 0);
	ok(btenter(t, s) == 0, "resume: enter the newer tree");
	n = 0;
	while((r = btnext(s, &kv)) == 1){
		seen[get32(kv.k+2)]++;
		n++;
	}
	btexit(s);
	ok(r == 0 && !seen[1] && seen[5] == 1 && seen[4] == 1 && !seen[6] && seen[8] == 1 && seen[38] == 1 && n == 17,
		"resume: strictly after the last key, sees the newer tree (%d more)", n);
	ok(btenter(t, s) == 0 && btnext(s, &kv) == 0, "resume: a finished scan stays finished");
	btexit(s);
	free(s);
}

static void
testsmallbuf(void)
{
	char buf[8];
	Kvp r;
	Key k;

	send(Oinsert, "\x06small", 6, "0123456789", 10);
	k.k = "\x06small";
	k.nk = 6;
	ok(btlookup(t, &k, &r, buf, sizeof buf) < 0, "lookup into a buffer too small: error");
}

/* ------------------------------------------------------- maximal sizes */

static void
maxkey(char *k, int i)
{
	int j;

	k[0] = Kconf;
	for(j = 1; j < Keymax; j++)
		k[j] = 'a' + (j*7 + i) % 26;
	put32(k+Keymax-4, i);
}

static void
testmax(void)
{
	char got[Inlmax];
	static char ks[8][Keymax], vs[8][Inlmax];
	Msg m[8];
	int i, j, n, r, nv, bad, maxht;

	maxht = t->ht;
	for(i = 0; i < 3000; i += 8){
		for(j = 0; j < 8; j++){
			maxkey(ks[j], i+j);
			memset(vs[j], 'a' + (i+j)%26, Inlmax);
			mkmsg(&m[j], Oinsert, ks[j], Keymax, vs[j], Inlmax);
		}
		if(up(m, 8) < 0){
			diag("max: %s", errstr());
			break;
		}
		maxht = MAX(maxht, t->ht);
	}
	ok(i == 3000 && maxht >= 3, "3000 keys of 256 bytes with 512-byte values: height %d", maxht);
	ok(checktree(t, nil, nil) == 0, "max: tree checks (256-byte separators)");
	bad = 0;
	for(i = 0; i < 3000; i += 7){
		maxkey(ks[0], i);
		if(look(ks[0], Keymax, got, &nv) != 1 || nv != Inlmax || got[0] != 'a' + i%26)
			bad++;
	}
	ok(bad == 0, "max: lookups");
	r = scanall("\x06", 1, &n);
	ok(r == 0 && n == 3000, "max: a scan sees them all (%d)", n);
	for(i = 2999; i >= 0; i -= 8){
		for(j = 0; j < 8 && i-j >= 0; j++){
			maxkey(ks[j], i-j);
			mkmsg(&m[j], Odelete, ks[j], Keymax, nil, 0);
		}
		if(up(m, j) < 0){
			diag("max delete: %s", errstr());
			break;
		}
	}
	r = scanall("\x06", 1, &n);
	ok(r == 0 && n == 0, "max: nothing left after deleting (%d)", n);
	ok(t->ht == 1, "max: back to one leaf");
	ok(checktree(t, nil, nil) == 0, "max: tree checks after deleting");
}

/* --------------------------------------------------------------- batches */

static void
testbatch(void)
{
	char k[4][8], v[16];
	Msg m[4];
	int nv;

	/* equal keys in one batch apply in the caller's order */
	memmove(k[0], "\x06same", 5);
	mkmsg(&m[0], Oinsert, k[0], 5, "one", 3);
	mkmsg(&m[1], Odelete, k[0], 5, nil, 0);
	mkmsg(&m[2], Oinsert, k[0], 5, "three", 5);
	mkmsg(&m[3], Oinsert, "\x06" "aaa", 4, "first", 5);
	ok(up(m, 4) == 0 && look(k[0], 5, v, &nv) == 1 && nv == 5 && memcmp(v, "three", 5) == 0,
		"a batch applies equal keys in order");
	mkmsg(&m[0], Oinsert, k[0], 5, "four", 4);
	mkmsg(&m[1], Odelete, k[0], 5, nil, 0);
	ok(up(m, 2) == 0 && haskey(k[0], 5) == 0, "insert then delete in one batch: gone");
}

/*
 * Data blocks named by Kdat values are released when the value is
 * replaced or removed at its leaf (format §7.2), not before.
 */
static void
testdata(char *where, int inpivot)
{
	char k[Offksz], v[Ptrsz];
	Blk *d[3];
	int i;

	k[0] = Kdat;
	put64(k+1, 50);
	put64(k+9, 0);
	for(i = 0; i < 3; i++)
		d[i] = mkdata(t, i+1);
	packbp(v, &d[0]->bp);
	send(Oinsert, k, Offksz, v, Ptrsz);
	packbp(v, &d[1]->bp);
	send(Oinsert, k, Offksz, v, Ptrsz);
	settle();
	if(inpivot)
		ok(!blkisfree(d[0]->bp.addr), "%s: a replaced data block stays while the message is buffered", where);
	sink(k, Offksz);
	settle();
	ok(blkisfree(d[0]->bp.addr) && !blkisfree(d[1]->bp.addr),
		"%s: the replaced data block is freed at the leaf", where);
	send(Oclearb, k, Offksz, nil, 0);
	sink(k, Offksz);
	settle();
	ok(blkisfree(d[1]->bp.addr) && haskey(k, Offksz) == 0, "%s: clearb frees the data block", where);
	packbp(v, &d[2]->bp);
	send(Oinsert, k, Offksz, v, Ptrsz);
	send(Odelete, k, Offksz, nil, 0);
	sink(k, Offksz);
	settle();
	ok(blkisfree(d[2]->bp.addr), "%s: delete frees the data block", where);
	ok(checktree(t, nil, nil) == 0, "%s: tree checks after data frees", where);
	for(i = 0; i < 3; i++)
		dropblk(d[i]);
}

/* Buffered messages pushed down to their leaf give the same value. */
static void
testsunk(void)
{
	char xd[Xdirsz], p[16], got[Inlmax], rec[Treesz];
	int nv;

	mkdir(xd);
	p[0] = Owgid;
	put32(p+1, 1234);
	send(Oinsert, entk, 17, xd, Xdirsz);
	send(Owstat, entk, 17, p, 5);
	mkrec(rec, 0, 1);
	send(Oinsert, snapk, Snapsz, rec, Treesz);
	mktp(p, 5, 0, 1);
	send(Orelink, snapk, Snapsz, p, Tpsz);
	ok(buffered(entk, 17) == 1 && buffered(snapk, Snapsz) == 1, "sink: messages start buffered");
	sink(entk, 17);
	sink(snapk, Snapsz);
	ok(buffered(entk, 17) == 0 && buffered(snapk, Snapsz) == 0, "sink: flushed down to the leaves");
	ok(look(entk, 17, got, &nv) == 1 && get32(got+53) == 1234 && get32(got+16) == get32(xd+16)+1,
		"sink: the entry was patched at its leaf");
	ok(look(snapk, Snapsz, got, &nv) == 1 && get32(got) == 1 && get64(got+32) == 5,
		"sink: the record was relinked at its leaf");
	ok(checktree(t, nil, nil) == 0, "sink: tree checks");
}

int
main(int argc, char **argv)
{
	setup();
	free(t);
	t = newtree();
	testapply();
	testbad();
	testops("leaf", 0);
	testmissing("leaf", 0);
	testholes("leaf");
	testbatch();
	testsmallbuf();
	testdata("leaf", 0);
	ok(t->ht == 1, "all that fit in one leaf");
	ok(checktree(t, nil, nil) == 0, "leaf: tree checks");

	grow(2);
	testops("pivot", 1);
	testholes("pivot");
	testbatch();
	testresume();
	testdata("pivot", 1);
	ok(t->ht >= 2, "pivot tests ran on a tree of height %d", t->ht);
	ok(checktree(t, nil, nil) == 0, "pivot: tree checks");
	testsunk();

	free(t);
	t = newtree();
	testmax();

	free(t);
	t = newtree();
	grow(2);
	testmissing("pivot", 1);
	free(t);
	closefs();
	rmtmp();
	return done();
}
