/*
 * fs.c: the 9P2000 service (runtime §1, §3): connections, fids, dents,
 * every request, the reader pool and the single mutator.
 *
 * Each connection has a reader thread, which decodes requests, answers
 * Tversion, Tauth, Tflush and Tclunk itself, and hands out the rest:
 * requests that change a tree go to the mutator, which runs them one at
 * a time under fs->mutlk; requests that only read go to one of the
 * reader workers (chosen by fid, so the requests of one fid stay in
 * order), or, when nothing else of the connection is in flight, run on
 * the connection's reader thread itself, which costs no hand-off.
 * Workers enter an epoch around each request: what they read of a tree
 * stays valid until they leave it.  Whoever finishes a request sends
 * the reply, without blocking (outq); what the socket does not take at
 * once goes to the connection's writer thread, which sends its queue in
 * order and alone waits for a slow client.
 *
 * The tree holds every file's record; a dent (one per file and mount in
 * use) holds only what the tree cannot: the record's key, whether the
 * file was removed, how many fids have it open.  So every request reads
 * a fresh record, and a reader sees a record and the data it describes
 * from one version of the tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "fcall.h"

static struct {
	Srvconf	*conf;
	Chan	*wrchan;		/* to the mutator */
	Chan	*rdchan[Maxreaders];	/* to the reader workers */
	int	nrd;
	pthread_t mutator;
	pthread_t reader[Maxreaders];
	s32int	stopped;		/* atomic: the workers stopped; nothing runs any more */

	QLock	connlk;
	Rendez	connr;			/* a connection ended */
	Conn	*conns;
	int	nconn;

	QLock	dentlk[Ndentlk];
	Dent	*dents[Ndenthash];
} srv;

static int	rmfile(Fid*, int);

/* ------------------------------------------------------------- helpers */

static u32int
nstos(vlong ns)
{
	if(ns <= 0)
		return 0;
	return (ns + 500000000LL) / 1000000000LL;
}

static u32int
iounit(Conn *c)
{
	return agetl(&c->msize) - IOHDRSZ;
}

/* A reader's view of m: its current root, fixed for the request. */
static void
rdtree(Mount *m, Tree *t)
{
	Tree *r;

	memset(t, 0, sizeof *t);
	r = agetp((void**)&m->root);
	lock(&r->lk);
	t->bp = r->bp;
	t->ht = r->ht;
	unlock(&r->lk);
}

/* The mutator's tree for m: it is the only one changing it. */
static Tree*
mutree(Mount *m)
{
	return agetp((void**)&m->root);
}

static int
writable(Mount *m)
{
	if(m == nil || !(m->flag & Lmut) || isrdonly()){
		werrstr("%s", Erdonly);
		return -1;
	}
	return 0;
}

/* The entry under key k: 1, 0 if there is none, -1 on error. */
static int
getent(Tree *t, char *k, int nk, Ent *e)
{
	Key key;
	Kvp kv;
	int r;

	key.k = k;
	key.nk = nk;
	r = btlookup(t, &key, &kv, e->buf, sizeof e->buf);
	if(r != 1)
		return r;
	if(kv2dir(&kv, &e->d) == -1)
		return -1;
	e->up = get64(kv.k+1);
	e->nkey = kv.nk;
	return 1;
}

/* The entry called name in directory dir. */
static int
getchild(Tree *t, uvlong dir, char *name, Ent *e)
{
	char k[Keymax];
	int nk;

	if((nk = packdkey(k, sizeof k, dir, name, strlen(name))) == -1)
		return -1;
	return getent(t, k, nk, e);
}

/* The entry of directory qid q, found through its back-link. */
static int
getdirent(Tree *t, uvlong q, Ent *e)
{
	char k[Upksz], buf[Keymax+Inlmax];
	Key key;
	Kvp kv;
	int r;

	packupkey(k, q);
	key.k = k;
	key.nk = Upksz;
	if((r = btlookup(t, &key, &kv, buf, sizeof buf)) != 1){
		if(r == 0)
			werrstr("%s: no back-link for directory %llx", Esrch, (unsigned long long)q);
		return -1;
	}
	if((r = getent(t, kv.v, kv.nv, e)) != 1){
		if(r == 0)
			werrstr("%s: back-link of %llx leads nowhere", Esrch, (unsigned long long)q);
		return -1;
	}
	return 0;
}

static int
rootent(Tree *t, Ent *e)
{
	char k[Keymax];
	int nk, r;

	nk = packdkey(k, sizeof k, -1, "", 0);
	if((r = getent(t, k, nk, e)) != 1){
		if(r == 0)
			werrstr("%s: the tree has no root", Enosnap);
		return -1;
	}
	return 0;
}

/* Is directory q empty in t? 1, 0, or -1. */
static int
emptydir(Tree *t, uvlong q)
{
	Scan *s;
	Kvp kv;
	char pfx[Dpfxsz];
	int r;

	pfx[0] = Kent;
	put64(pfx+1, q);
	s = emalloc(sizeof *s);
	btnewscan(s, pfx, sizeof pfx);
	if(btenter(t, s) == -1){
		free(s);
		return -1;
	}
	r = btnext(s, &kv);
	btexit(s);
	free(s);
	if(r == -1)
		return -1;
	return r == 0;
}

/* A new name (runtime §3.4). */
static int
okname(char *name)
{
	int n;
	uchar *p;

	n = strlen(name);
	if(n > Maxname){
		werrstr("%s", Elength);
		return -1;
	}
	if(n == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		goto bad;
	for(p = (uchar*)name; *p; p++)
		if(*p < 0x20 || *p == '/')
			goto bad;
	return 0;
bad:
	werrstr("%s", Ename);
	return -1;
}

static int
fidaccess(Fid *f, Xdir *d, int bits)
{
	Users *u;
	int r;

	u = getusers();
	r = fsaccess(u, f->uid, f->permit, d->mode, d->uid, d->gid, bits);
	putusers(u);
	return r;
}

/* ------------------------------------------------------------ batches */

static void
binit(Mlist *b)
{
	memset(b, 0, sizeof b[0]);
}

/*
 * The new blocks of messages that never reached the tree go back; those
 * of an applied batch belong to the tree, and only our references go.
 */
static void
bblocks(Mlist *b, int applied)
{
	int i;

	for(i = 0; i < b->nblk; i++){
		if(!applied)
			freeblk(b->t, b->blk[i]);
		dropblk(b->blk[i]);
	}
	b->nblk = 0;
}

static void
bfree(Mlist *b)
{
	bblocks(b, 0);
	free(b->msg);
	free(b->koff);
	free(b->voff);
	free(b->pool);
	free(b->blk);
	binit(b);
}

/* A new data block for t that a message of the batch points at. */
static void
bblock(Mlist *b, Tree *t, Blk *nb)
{
	if(b->nblk == b->ablk){
		b->ablk = MAX(2*b->ablk, 8);
		b->blk = erealloc(b->blk, b->ablk*sizeof b->blk[0]);
	}
	b->t = t;
	b->blk[b->nblk++] = nb;
}

static int
bspace(Mlist *b, char *p, int n)
{
	int off;

	if(b->npool + n > b->apool){
		b->apool = MAX(2*b->apool, b->npool + n + 1024);
		b->pool = erealloc(b->pool, b->apool);
	}
	off = b->npool;
	if(n > 0)
		memmove(b->pool + off, p, n);
	b->npool += n;
	return off;
}

static void
badd(Mlist *b, int op, char *k, int nk, char *v, int nv)
{
	if(b->nmsg == b->amsg){
		b->amsg = MAX(2*b->amsg, 16);
		b->msg = erealloc(b->msg, b->amsg*sizeof b->msg[0]);
		b->koff = erealloc(b->koff, b->amsg*sizeof b->koff[0]);
		b->voff = erealloc(b->voff, b->amsg*sizeof b->voff[0]);
	}
	memset(&b->msg[b->nmsg], 0, sizeof b->msg[0]);
	b->msg[b->nmsg].op = op;
	b->msg[b->nmsg].kv.nk = nk;
	b->msg[b->nmsg].kv.nv = nv;
	b->koff[b->nmsg] = bspace(b, k, nk);
	b->voff[b->nmsg] = bspace(b, v, nv);
	b->nmsg++;
}

/* Apply the batch to t as one upsert and empty it. */
static int
bapply(Mlist *b, Tree *t)
{
	int i, r;

	for(i = 0; i < b->nmsg; i++){
		b->msg[i].kv.k = b->pool + b->koff[i];
		b->msg[i].kv.v = b->pool + b->voff[i];
	}
	r = upsert(t, b->msg, b->nmsg);
	bblocks(b, r == 0);
	b->nmsg = 0;
	b->npool = 0;
	return r;
}

/* An Owstat message; flags say which of the values follow (format §7.1). */
static void
bwstat(Mlist *b, char *k, int nk, int fl, Xdir *d)
{
	char v[64], *p;

	p = v;
	*p++ = fl;
	if(fl & Owsize){
		put64(p, d->length);
		p += 8;
	}
	if(fl & Owmode){
		put32(p, d->mode);
		p += 4;
	}
	if(fl & Owmtime){
		put64(p, d->mtime);
		p += 8;
	}
	if(fl & Owatime){
		put64(p, d->atime);
		p += 8;
	}
	if(fl & Owuid){
		put32(p, d->uid);
		p += 4;
	}
	if(fl & Owgid){
		put32(p, d->gid);
		p += 4;
	}
	if(fl & Owmuid){
		put32(p, d->muid);
		p += 4;
	}
	badd(b, Owstat, k, nk, v, p - v);
}

/*
 * Data of file q at offsets >= from goes, in batches of Clearbatch:
 * whatever b already holds goes in the first one, so the record that
 * makes the data unreachable changes in the same upsert as the first
 * records go (runtime §8.9).  All of it happens under the mutation lock,
 * so no commit sees a state in between.  If a later batch fails, the
 * file has changed and the rest of its data is left over: a leak that
 * check reports, not a corruption.  Batches are large: the blocks every
 * upsert rewrites stay allocated until the next commit, and on a full
 * volume a removal has only the reserve (test/bigfile.t).
 */
static int
bclear(Mlist *b, Tree *t, uvlong q, uvlong from)
{
	char pfx[Upksz];
	Scan *s;
	Kvp kv;
	int r;

	pfx[0] = Kdat;
	put64(pfx+1, q);
	s = emalloc(sizeof *s);
	btnewscan(s, pfx, sizeof pfx);
	for(;;){
		if(btenter(t, s) == -1)
			goto err;
		r = 0;
		while(b->nmsg < Clearbatch && (r = btnext(s, &kv)) == 1)
			if(kv.nk == Offksz && get64(kv.k+9) >= from)
				badd(b, Oclearb, kv.k, kv.nk, nil, 0);
		btexit(s);
		if(r == -1)
			goto err;
		if(b->nmsg > 0 && bapply(b, t) == -1)
			goto err;
		if(r == 0)
			break;
	}
	free(s);
	return 0;
err:
	btexit(s);
	free(s);
	return -1;
}

/*
 * Zero the tail of the block holding offset len, so that growing the
 * file later shows zeros there: the copy goes into b.
 */
static int
bzerotail(Mlist *b, Tree *t, uvlong q, uvlong len)
{
	char k[Offksz], buf[Keymax+Inlmax], v[Ptrsz];
	Blk *ob, *nb;
	uvlong bo;
	Key key;
	Kvp kv;
	Bptr bp;
	int r, n;

	n = len % Blksz;
	if(n == 0)
		return 0;
	bo = len - n;
	packdatkey(k, q, bo);
	key.k = k;
	key.nk = Offksz;
	if((r = btlookup(t, &key, &kv, buf, sizeof buf)) != 1)
		return r;
	bp = unpackbp(kv.v);
	if((ob = getblk(bp, GBraw)) == nil)
		return -1;
	if((nb = allocblk(t, Tdat, q, 0)) == nil){
		dropblk(ob);
		return -1;
	}
	memcpy(nb->buf, ob->buf, n);
	dropblk(ob);
	enqueue(nb);
	bblock(b, t, nb);
	packbp(v, &nb->bp);
	badd(b, Oinsert, k, Offksz, v, Ptrsz);
	return 0;
}

/* ------------------------------------------------------------- dents */

static u32int
dentbucket(Mount *m, uvlong q)
{
	return ihash(q ^ (uvlong)(uintptr_t)m) % Ndenthash;
}

static QLock*
dentlock(u32int h)
{
	return &srv.dentlk[h % Ndentlk];
}

/*
 * The dent of file q of m, whose record a walk found under key k in a
 * version of the tree that may be older than the current one.  An
 * existing dent is shared.  A new one is made only if the current tree
 * still lists the file there: a file renamed or removed meanwhile has
 * no dent any more, and must not get one with a stale key.
 */
static Dent*
getdent(Mount *m, uvlong q, char *k, int nk)
{
	Dent *d;
	Ent *e;
	Tree t;
	u32int h;
	int r;

	h = dentbucket(m, q);
	qlock(dentlock(h));
	for(d = srv.dents[h]; d != nil; d = d->next)
		if(d->mnt == m && d->qpath == q)
			break;
	if(d != nil){
		rlock(&d->lk);
		r = d->gone;
		runlock(&d->lk);
		if(r){
			qunlock(dentlock(h));
			werrstr("%s", Esrch);
			return nil;
		}
		d->ref++;
		qunlock(dentlock(h));
		return d;
	}
	e = emalloc(sizeof *e);
	rdtree(m, &t);
	r = getent(&t, k, nk, e);
	if(r != 1 || e->d.qid.path != q){
		qunlock(dentlock(h));
		free(e);
		if(r != -1)
			werrstr("%s", Esrch);
		return nil;
	}
	free(e);
	d = emalloc(sizeof *d);
	d->mnt = m;
	d->qpath = q;
	d->ref = 1;
	rwlockinit(&d->lk);
	d->key = emalloc(nk);
	memcpy(d->key, k, nk);
	d->nkey = nk;
	d->next = srv.dents[h];
	srv.dents[h] = d;
	qunlock(dentlock(h));
	return d;
}

static void
putdent(Dent *d)
{
	Dent **pp;
	u32int h;

	if(d == nil)
		return;
	h = dentbucket(d->mnt, d->qpath);
	qlock(dentlock(h));
	if(--d->ref > 0){
		qunlock(dentlock(h));
		return;
	}
	for(pp = &srv.dents[h]; *pp != nil; pp = &(*pp)->next)
		if(*pp == d){
			*pp = d->next;
			break;
		}
	qunlock(dentlock(h));
	pthread_rwlock_destroy(&d->lk.rw);
	free(d->key);
	free(d);
}

/*
 * f's record.  Readers pass a Tree to fill with their view; the mutator
 * passes nil and reads the mount's own tree.  A removed file is a phase
 * error.
 */
static int
fident(Fid *f, Tree *t, Ent *e)
{
	Dent *d;
	int r;

	d = f->dent;
	rlock(&d->lk);
	if(d->gone){
		runlock(&d->lk);
		werrstr("%s", Ephase);
		return -1;
	}
	if(t != nil)
		rdtree(f->mnt, t);
	else
		t = mutree(f->mnt);
	r = getent(t, d->key, d->nkey, e);
	runlock(&d->lk);
	if(r == 0)
		werrstr("%s", Ephase);
	return r == 1 ? 0 : -1;
}

/* The dump root (runtime §4.6): the directory of labels. */
static void
dumpdir(Xdir *d)
{
	memset(d, 0, sizeof *d);
	d->qid.path = Qdump;
	d->qid.type = QTDIR;
	d->mode = DMDIR|0555;
	d->uid = d->gid = d->muid = Admid;
	d->name = "/";
	d->nname = 1;
}

/* ------------------------------------------------------------- mounts */

/*
 * Another reference to m.  The contract offers getmount and putmount:
 * sharing by name gives the same mount while it is in use.
 */
static Mount*
dupmount(Mount *m)
{
	Mount *n;

	if((n = getmount(m->name)) == nil)
		return nil;
	if(n != m){
		putmount(n);
		werrstr("%s: %s was replaced", Enosnap, m->name);
		return nil;
	}
	return n;
}

/* --------------------------------------------------------------- fids */

static Fid*
mkfid(u32int num)
{
	Fid *f;

	f = emalloc(sizeof *f);
	f->num = num;
	f->ref = 1;
	f->mode = -1;
	qlockinit(&f->lk);
	return f;
}

/*
 * Releasing a fid may put its mount, which must not happen under
 * fs->mutlk (fns.h, snap.c): the mutator keeps such fids until it has
 * let go of the lock.
 */
static _Thread_local int mutating;
static _Thread_local Fid *released;

static void
freefid(Fid *f)
{
	if(f->mode != -1 && f->dent != nil){
		wlock(&f->dent->lk);
		f->dent->nopen--;
		wunlock(&f->dent->lk);
	}
	putdent(f->dent);
	if(f->mnt != nil)
		putmount(f->mnt);
	free(f->scan);
	free(f->pend);
	free(f->text);
	free(f);
}

static void
putfid(Fid *f)
{
	if(f == nil || aincl(&f->ref, -1) > 0)
		return;
	if(mutating){
		f->next = released;
		released = f;
		return;
	}
	freefid(f);
}

/* The mutator, out of fs->mutlk: free what it released under it. */
static void
mutdone(void)
{
	Fid *f;

	mutating = 0;
	while((f = released) != nil){
		released = f->next;
		freefid(f);
	}
}

static Fid**
fidbucket(Conn *c, u32int num)
{
	return &c->fids[ihash(num) & (c->nfidhash - 1)];
}

static Fid*
getfid(Conn *c, u32int num)
{
	Fid *f;

	lock(&c->fidlk);
	for(f = *fidbucket(c, num); f != nil; f = f->next)
		if(f->num == num){
			aincl(&f->ref, 1);
			break;
		}
	unlock(&c->fidlk);
	if(f == nil)
		werrstr("%s", Enofid);
	return f;
}

static int
hasfid(Conn *c, u32int num)
{
	Fid *f;

	if((f = getfid(c, num)) == nil)
		return 0;
	putfid(f);
	return 1;
}

/*
 * Four times the buckets once there are two fids a bucket: 9pfuse keeps
 * a fid on every file the kernel remembers, 100 000 and more, and a
 * fixed table would make every request walk a long chain.  Under fidlk.
 */
static void
growfids(Conn *c)
{
	Fid **old, *f, *next, **b;
	u32int i, n;

	if(c->nfid < 2*(long)c->nfidhash || c->nfidhash >= Maxfidhash)
		return;
	old = c->fids;
	n = c->nfidhash;
	c->nfidhash = 4*n;
	c->fids = emalloc(c->nfidhash * sizeof c->fids[0]);
	for(i = 0; i < n; i++)
		for(f = old[i]; f != nil; f = next){
			next = f->next;
			b = fidbucket(c, f->num);
			f->next = *b;
			*b = f;
		}
	free(old);
}

/* Enter f, made by the caller, into the table, which takes its reference. */
static int
addfid(Conn *c, Fid *f)
{
	Fid *o, **b;

	lock(&c->fidlk);
	for(o = *fidbucket(c, f->num); o != nil; o = o->next)
		if(o->num == f->num){
			unlock(&c->fidlk);
			werrstr("%s", Efid);
			return -1;
		}
	c->nfid++;
	growfids(c);
	b = fidbucket(c, f->num);
	f->next = *b;
	*b = f;
	unlock(&c->fidlk);
	return 0;
}

/* Take num out of the table: the caller gets the table's reference. */
static Fid*
unlinkfid(Conn *c, u32int num)
{
	Fid **pp, *f;

	lock(&c->fidlk);
	for(pp = fidbucket(c, num); (f = *pp) != nil; pp = &f->next)
		if(f->num == num){
			*pp = f->next;
			c->nfid--;
			break;
		}
	unlock(&c->fidlk);
	if(f == nil)
		werrstr("%s", Enofid);
	return f;
}

static void
resetscan(Fid *f)
{
	free(f->scan);
	f->scan = nil;
	free(f->pend);
	f->pend = nil;
	f->npend = 0;
	f->dirnext = 0;
}

/* --------------------------------------------------------- replies */

static Rmsg*
packmsg(Fcall *r)
{
	Rmsg *m;
	long n;

	if((n = fcallsize(r)) < 0)
		return nil;
	m = emalloc(sizeof *m);
	m->buf = emalloc(n);
	m->n = fcallpack(r, m->buf, n);
	if(m->n != n){
		free(m->buf);
		free(m);
		return nil;
	}
	return m;
}

static void
freermsg(Rmsg *m)
{
	free(m->buf);
	free(m);
}

/* The connection is broken: drop every reply, stop reading.  Under c->lk. */
static void
brokenconn(Conn *c)
{
	dprint(1, "%s: %s", c->addr, errstr());
	asetl(&c->hungup, 1);
	shutdown(c->rfd, SHUT_RDWR);
}

/*
 * Send what the socket takes of m without waiting: 1 if all of it went,
 * 0 if the rest must wait for the writer, -1 if the connection broke.
 */
static int
trysend(Conn *c, Rmsg *m)
{
	long n;

	while(m->off < m->n){
		n = send(c->wfd, m->buf+m->off, m->n-m->off, MSG_DONTWAIT|MSG_NOSIGNAL);
		if(n > 0){
			m->off += n;
			continue;
		}
		if(n < 0 && errno == EINTR)
			continue;
		if(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if(n < 0 && errno == ENOTSOCK){
			c->queueonly = 1;
			return 0;
		}
		werrstr("write: %s", n < 0 ? strerror(errno) : "no progress");
		return -1;
	}
	return 1;
}

/*
 * Send m, under c->lk.  Replies go out in the order they come here:
 * while the writer has some queued or is sending one, m joins its
 * queue; otherwise the caller sends it itself, so the usual reply costs
 * no hand-off, and leaves to the writer only what the socket does not
 * take at once.
 */
static void
outq(Conn *c, Rmsg *m)
{
	if(m == nil)
		return;
	if(agetl(&c->hungup)){
		freermsg(m);
		return;
	}
	if(c->outq == nil && !c->writing && !c->queueonly)
		switch(trysend(c, m)){
		case 1:
			freermsg(m);
			return;
		case -1:
			brokenconn(c);
			freermsg(m);
			return;
		}
	m->next = nil;
	if(c->outq == nil)
		c->outq = m;
	else
		c->outtl->next = m;
	c->outtl = m;
	c->nout++;
	rwakeup(&c->outr);
}

static void
freereq(Req *q)
{
	if(q->t != nil){
		fcallclear(q->t);
		free(q->t);
	}
	free(q->frame);
	free(q);
}

/* Under c->lk. */
static void
untag(Conn *c, Req *q)
{
	Req **pp;

	if(!q->tagged)
		return;
	for(pp = &c->tags[q->t->tag % Ntaghash]; *pp != nil; pp = &(*pp)->next)
		if(*pp == q){
			*pp = q->next;
			break;
		}
	q->tagged = 0;
}

static Req*
findtag(Conn *c, u16int tag)
{
	Req *q;

	for(q = c->tags[tag % Ntaghash]; q != nil; q = q->next)
		if(q->t->tag == tag)
			return q;
	return nil;
}

static void
done(Conn *c, Req *q)
{
	if(q->counted){
		c->ninflight--;
		rwakeupall(&c->idle);
	}
}

/*
 * Send r as the reply to q, then Rflush for every Tflush that waited
 * for it (runtime §1.6): the client sees the reply before the Rflush.
 * A reply too large for the connection becomes an error.
 */
static void
respond(Req *q, Fcall *r)
{
	Conn *c;
	Req *f, *fn, *o;
	Rmsg *m;
	Fcall rf, re;
	char e[Errmax];

	c = q->c;
	m = nil;
	if(!q->internal){
		r->tag = q->t->tag;
		m = packmsg(r);
		if(m == nil || m->n > agetl(&c->msize)){
			if(m != nil){
				snprintf(e, sizeof e, "%s: %s reply of %ld bytes exceeds msize %d",
					Ebotch, fcallname(r->type), m->n, agetl(&c->msize));
				freermsg(m);
			}else
				snprintf(e, sizeof e, "%s: cannot encode %s", Efs, fcallname(r->type));
			memset(&re, 0, sizeof re);
			re.type = Rerror;
			re.tag = q->t->tag;
			re.ename = e;
			m = packmsg(&re);
		}
		if(debug >= 2 && m != nil){
			char buf[256];

			fcallfmt(buf, sizeof buf, r);
			dprint(2, "%s → %s", c->addr, buf);
		}
	}
	qlock(&c->lk);
	untag(c, q);
	outq(c, m);
	/* a flush of a flush waits in the first one's list: answer it next */
	for(f = q->flush; f != nil; f = fn){
		fn = f->flink;
		if(f->flush != nil){
			for(o = f->flush; o->flink != nil; o = o->flink)
				;
			o->flink = fn;
			fn = f->flush;
		}
		untag(c, f);
		memset(&rf, 0, sizeof rf);
		rf.type = Rflush;
		rf.tag = f->t->tag;
		outq(c, packmsg(&rf));
		done(c, f);
		freereq(f);
	}
	done(c, q);
	qunlock(&c->lk);
	freereq(q);
}

static void
rerror(Req *q, char *err)
{
	Fcall r;

	memset(&r, 0, sizeof r);
	r.type = Rerror;
	r.ename = err;
	respond(q, &r);
}

/* A worker takes q: 0 if a Tflush cancelled it meanwhile. */
static int
startreq(Req *q)
{
	Conn *c;

	c = q->c;
	qlock(&c->lk);
	if(q->state == Rflushed){
		done(c, q);
		qunlock(&c->lk);
		freereq(q);
		return 0;
	}
	q->state = Rrunning;
	qunlock(&c->lk);
	return 1;
}

/* ------------------------------------------------------------- attach */

static int
authorize(Conn *c, char *uname)
{
	if(srv.conf->noauth || c->trusted)
		return 0;
	if(c->net == Cunix)
	if(strcmp(uname, "none") == 0 || (c->peername != nil && strcmp(uname, c->peername) == 0))
		return 0;
	werrstr("%s", Ebadu);
	return -1;
}

static int
fsattach(Req *q, Fcall *r)
{
	Fcall *t;
	Users *u;
	Fid *f;
	Ent *e;
	Tree tr;
	char *aname;
	s32int uid;
	int permit, isdump;

	t = q->t;
	if(t->afid != NOFID){
		werrstr("%s", Ebadu);
		return -1;
	}
	if(hasfid(q->c, t->fid)){
		werrstr("%s", Efid);
		return -1;
	}
	aname = t->aname;
	permit = 0;
	if(*aname == '%'){
		permit = 1;
		aname++;
	}
	if(*aname == 0)
		aname = "main";
	isdump = strcmp(aname, "dump") == 0;
	/* who may claim the name first: that says nothing about who exists */
	if(authorize(q->c, t->uname) == -1)
		return -1;
	u = getusers();
	if(agetl(&srv.conf->permissive) && strcmp(aname, "adm") == 0)
		uid = u->adm;
	else if(name2uid(u, t->uname, &uid) == -1){
		putusers(u);
		return -1;
	}
	if(permit && !agetl(&srv.conf->permissive) && !ingroup(u, uid, u->adm)){
		putusers(u);
		werrstr("%s", Eperm);
		return -1;
	}
	putusers(u);

	f = mkfid(t->fid);
	f->uid = uid;
	f->permit = permit;
	if(isdump){
		f->qid.path = Qdump;
		f->qid.type = QTDIR;
	}else{
		if((f->mnt = getmount(aname)) == nil)
			goto err;
		e = emalloc(sizeof *e);
		rdtree(f->mnt, &tr);
		if(rootent(&tr, e) == -1){
			free(e);
			goto err;
		}
		f->qid = e->d.qid;
		f->dent = getdent(f->mnt, e->d.qid.path, e->buf, e->nkey);
		free(e);
		if(f->dent == nil)
			goto err;
	}
	if(addfid(q->c, f) == -1)
		goto err;
	r->type = Rattach;
	r->qid = f->qid;
	return 0;
err:
	putfid(f);
	return -1;
}

/* --------------------------------------------------------------- walk */

static void
wsetmount(Wpos *w, Mount *m, int own)
{
	if(w->ownm && w->m != nil)
		putmount(w->m);
	w->m = m;
	w->ownm = own;
	if(m != nil)
		rdtree(m, &w->t);
}

/* One element: 1 if it was found, 0 if not (the walk stops), -1 to fail it. */
static int
walk1(Fid *f, Wpos *w, char *name)
{
	Mount *m;
	Ent *e;
	int r;

	if(strlen(name) > Maxname){
		werrstr("%s", Elength);
		return -1;
	}
	if(w->m == nil){
		if(strcmp(name, "..") == 0)
			return 1;
		if((m = getmount(name)) == nil)
			return -1;
		wsetmount(w, m, 1);
		w->fromdump = 1;
		return rootent(&w->t, &w->e) == -1 ? -1 : 1;
	}
	if(!(w->e.d.qid.type & QTDIR) || fidaccess(f, &w->e.d, DMEXEC) == -1)
		return 0;
	if(strcmp(name, "..") == 0){
		if(w->e.up != (uvlong)-1)
			return getdirent(&w->t, w->e.up, &w->e) == -1 ? -1 : 1;
		if(w->fromdump){
			wsetmount(w, nil, 0);
			w->fromdump = 0;
		}
		return 1;
	}
	e = emalloc(sizeof *e);
	r = getchild(&w->t, w->e.d.qid.path, name, e);
	if(r == 1)
		memcpy(&w->e, e, sizeof *e);
	free(e);
	return r;
}

static int
fswalk(Req *q, Fcall *r)
{
	Fcall *t;
	Fid *f, *nf;
	Wpos *w;
	Mount *m;
	Dent *d;
	int i, x, ret;

	t = q->t;
	if((f = getfid(q->c, t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	ret = -1;
	w = emalloc(sizeof *w);
	if(f->mode != -1){
		werrstr("%s", Einuse);
		goto out;
	}
	if(t->newfid != t->fid && hasfid(q->c, t->newfid)){
		werrstr("%s", Efid);
		goto out;
	}
	if(f->mnt == nil)
		w->m = nil;
	else{
		w->m = f->mnt;
		w->fromdump = f->fromdump;
		if(fident(f, &w->t, &w->e) == -1)
			goto out;
	}
	r->type = Rwalk;
	for(i = 0; i < t->nwname; i++){
		if((x = walk1(f, w, t->wname[i])) == -1)
			goto out;
		if(x == 0)
			break;
		if(w->m == nil){
			r->wqid[i].path = Qdump;
			r->wqid[i].type = QTDIR;
			r->wqid[i].vers = 0;
		}else
			r->wqid[i] = w->e.d.qid;
	}
	r->nwqid = i;
	if(i == 0 && t->nwname > 0){
		werrstr("%s", Esrch);
		goto out;
	}
	if(i < t->nwname){
		ret = 0;
		goto out;
	}

	/* the whole path: the fid, or a new one, moves there */
	m = nil;
	d = nil;
	if(w->m != nil){
		if(w->ownm){
			m = w->m;
			w->ownm = 0;
		}else if((m = dupmount(w->m)) == nil)
			goto out;
		if((d = getdent(m, w->e.d.qid.path, w->e.buf, w->e.nkey)) == nil){
			putmount(m);
			/* the last file went since the walk saw it: a partial walk */
			if(iserr(Esrch) && i > 1){
				r->nwqid = i-1;
				ret = 0;
			}
			goto out;
		}
	}
	if(t->newfid == t->fid){
		putdent(f->dent);
		if(f->mnt != nil)
			putmount(f->mnt);
		nf = f;
	}else
		nf = mkfid(t->newfid);
	nf->mnt = m;
	nf->dent = d;
	if(m != nil){
		nf->fromdump = w->fromdump;
		nf->qid = w->e.d.qid;
	}else{
		nf->fromdump = 0;
		memset(&nf->qid, 0, sizeof nf->qid);
		nf->qid.path = Qdump;
		nf->qid.type = QTDIR;
	}
	resetscan(nf);
	if(nf != f){
		nf->uid = f->uid;
		nf->permit = f->permit;
		if(addfid(q->c, nf) == -1){
			putfid(nf);
			goto out;
		}
	}
	ret = 0;
out:
	wsetmount(w, nil, 0);
	free(w);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* --------------------------------------------------------------- open */

static int
checkomode(int mode)
{
	if(mode & ~Omodemask){
		werrstr("%s", Emode);
		return -1;
	}
	return omodebits(mode);
}

static int
fsopen(Req *q, Fcall *r)
{
	Fcall *t;
	Mlist b;
	Fid *f;
	Ent *e, *pe;
	Dent *d;
	int bits, ret;

	t = q->t;
	if((f = getfid(q->c, t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	e = emalloc(sizeof *e);
	pe = nil;
	binit(&b);
	d = nil;
	ret = -1;
	if(f->mode != -1){
		werrstr("%s", Einuse);
		goto out;
	}
	if((bits = checkomode(t->mode)) == -1)
		goto out;
	if(f->mnt == nil){
		/* the dump root: read it, nothing else */
		if((bits & DMWRITE) || (t->mode & ORCLOSE)){
			werrstr("%s", Eperm);
			goto out;
		}
		r->qid = f->qid;
		goto opened;
	}
	d = f->dent;
	wlock(&d->lk);
	if(d->gone){
		werrstr("%s", Ephase);
		goto out;
	}
	if(getent(mutree(f->mnt), d->key, d->nkey, e) != 1){
		werrstr("%s", Ephase);
		goto out;
	}
	if((e->d.qid.type & QTDIR) && (bits & DMWRITE)){
		werrstr("%s", Eperm);
		goto out;
	}
	if(fidaccess(f, &e->d, bits) == -1)
		goto out;
	/* ctl takes commands on a read-only file system too: check, users */
	if((bits & DMWRITE) && !(e->d.qid.path & Qmagic) && writable(f->mnt) == -1)
		goto out;
	if((e->d.mode & DMEXCL) && d->nopen > 0){
		werrstr("%s", Elocked);
		goto out;
	}
	if(t->mode & ORCLOSE){
		if(writable(f->mnt) == -1)
			goto out;
		if(e->up == (uvlong)-1 || (e->d.qid.path & Qmagic)){
			werrstr("%s", Eperm);
			goto out;
		}
		pe = emalloc(sizeof *pe);
		if(getdirent(mutree(f->mnt), e->up, pe) == -1 || fidaccess(f, &pe->d, DMWRITE) == -1)
			goto out;
		if(e->d.qid.type & QTDIR)
		switch(emptydir(mutree(f->mnt), e->d.qid.path)){
		case 0:
			werrstr("%s", Enempty);
			/* fall through */
		case -1:
			goto out;
		}
	}
	/* ctl and status hold no data: truncating them is a no-op (echo sync >/adm/ctl) */
	if((t->mode & OTRUNC) && !(e->d.mode & DMAPPEND) && !(e->d.qid.path & Qmagic)){
		if(writable(f->mnt) == -1)
			goto out;
		e->d.length = 0;
		e->d.muid = f->uid;
		bwstat(&b, e->buf, e->nkey, Owsize|Owmuid, &e->d);
		reserveenter();
		ret = bclear(&b, mutree(f->mnt), e->d.qid.path, 0);
		reserveleave();
		if(ret == -1)
			goto out;
		e->d.qid.vers++;
	}
	d->nopen++;
	r->qid = e->d.qid;
opened:
	f->mode = bits;
	asetl(&f->rclose, (t->mode & ORCLOSE) != 0);
	resetscan(f);
	r->type = Ropen;
	r->iounit = iounit(q->c);
	ret = 0;
out:
	if(d != nil)
		wunlock(&d->lk);
	bfree(&b);
	free(e);
	free(pe);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* ------------------------------------------------------------- create */

static int
fscreate(Req *q, Fcall *r)
{
	Fcall *t;
	Mlist b;
	Fid *f;
	Ent *e, *ne;
	Dent *nd;
	Tree *tr;
	Xdir x;
	char k[Keymax], v[Keymax];
	uvlong qp;
	int bits, nk, ret;

	t = q->t;
	if((f = getfid(q->c, t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	e = emalloc(sizeof *e);
	ne = emalloc(sizeof *ne);
	binit(&b);
	ret = -1;
	if(okname(t->name) == -1)
		goto out;
	if(t->perm & (DMMOUNT|DMAUTH)){
		werrstr("%s", Ebotch);
		goto out;
	}
	if(t->perm & ~Dfilemode){
		werrstr("%s", Ewstatb);
		goto out;
	}
	if((bits = checkomode(t->mode)) == -1)
		goto out;
	if(f->mode != -1){
		werrstr("%s", Einuse);
		goto out;
	}
	if(f->mnt == nil){
		werrstr("%s", Erdonly);
		goto out;
	}
	if(fident(f, nil, e) == -1)
		goto out;
	if(!(e->d.qid.type & QTDIR)){
		werrstr("%s", Ecdir);
		goto out;
	}
	if((t->perm & DMDIR) && (bits & DMWRITE)){
		werrstr("%s", Eperm);
		goto out;
	}
	if(writable(f->mnt) == -1)
		goto out;
	tr = mutree(f->mnt);
	if((ret = getchild(tr, e->d.qid.path, t->name, ne)) != 0){
		if(ret == 1)
			werrstr("%s", Eexist);
		ret = -1;
		goto out;
	}
	ret = -1;
	if(fidaccess(f, &e->d, DMWRITE) == -1)
		goto out;
	if((uvlong)fs->nextqid+1 >= Qmagic){
		werrstr("%s", Enoqid);
		goto out;
	}
	qp = ++fs->nextqid;

	memset(&x, 0, sizeof x);
	x.qid.path = qp;
	x.qid.vers = 0;
	x.mode = t->perm;
	if(t->perm & DMDIR)
		x.mode &= ~0777 | (e->d.mode & 0777);
	else
		x.mode &= ~0666 | (e->d.mode & 0666);
	x.qid.type = x.mode >> 24;
	x.atime = x.mtime = wallns();
	x.length = 0;
	x.uid = f->uid;
	x.gid = e->d.gid;
	x.muid = f->uid;
	nk = packdkey(k, sizeof k, e->d.qid.path, t->name, strlen(t->name));
	packdir(v, &x);
	badd(&b, Oinsert, k, nk, v, Xdirsz);
	if(t->perm & DMDIR){
		char uk[Upksz];

		packupkey(uk, qp);
		badd(&b, Oinsert, uk, Upksz, k, nk);
	}
	bwstat(&b, e->buf, e->nkey, 0, &x);
	if(bapply(&b, tr) == -1)
		goto out;

	if((nd = getdent(f->mnt, qp, k, nk)) == nil)
		goto out;
	wlock(&nd->lk);
	nd->nopen++;
	wunlock(&nd->lk);
	putdent(f->dent);
	f->dent = nd;
	f->qid = x.qid;
	f->mode = bits;
	asetl(&f->rclose, (t->mode & ORCLOSE) != 0);
	resetscan(f);
	r->type = Rcreate;
	r->qid = x.qid;
	r->iounit = iounit(q->c);
	ret = 0;
out:
	bfree(&b);
	free(e);
	free(ne);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* --------------------------------------------------------------- read */

/* Pack d (named name) as a stat record into buf; its size, or -1 if it does not fit. */
static long
statpack(Xdir *d, char *name, uchar *buf, long nbuf)
{
	char un[Unamesz], gn[Unamesz], mn[Unamesz];
	Users *u;
	Dir s;
	long n;

	u = getusers();
	s.type = 0xFFFF;
	s.dev = 0xFFFFFFFF;
	s.qid = d->qid;
	s.mode = d->mode;
	s.atime = nstos(d->atime);
	s.mtime = nstos(d->mtime);
	s.length = (d->qid.type & QTDIR) ? 0 : d->length;
	s.name = name;
	s.uid = uid2name(u, d->uid, un);
	s.gid = uid2name(u, d->gid, gn);
	s.muid = uid2name(u, d->muid, mn);
	putusers(u);
	n = dirsize(&s);
	if(n < 0 || n > nbuf)
		return -1;
	return dirpack(&s, buf, nbuf);
}

/* A record's name as a string. */
static char*
entname(Xdir *d, char *buf)
{
	memcpy(buf, d->name, d->nname);
	buf[d->nname] = 0;
	return buf;
}

/*
 * Stat records of the next entries of a directory listing, as many as
 * fit in count bytes.  A record that does not fit waits in the fid for
 * the next read; if even the first does not fit, the count is too small.
 */
static long
dirfill(Fid *f, Tree *t, char *pfx, int npfx, uchar *buf, long count)
{
	char name[Keymax+1];
	uchar st[Statfixsz + 4*Keymax];
	Xdir d;
	Kvp kv;
	vlong gen;
	u32int fl;
	long n, m;
	int r;

	n = 0;
	if(f->pend != nil){
		if(f->npend > count)
			goto small;
		memcpy(buf, f->pend, f->npend);
		n = f->npend;
		free(f->pend);
		f->pend = nil;
		f->npend = 0;
	}
	if(f->scan == nil){
		f->scan = emalloc(sizeof *f->scan);
		btnewscan(f->scan, pfx, npfx);
	}
	if(btenter(t, f->scan) == -1)
		return -1;
	while((r = btnext(f->scan, &kv)) == 1){
		if(pfx[0] == Klabel){
			/* the dump: every label is a directory */
			if(unpacklblval(kv.v, kv.nv, &gen, &fl) == -1)
				break;
			dumpdir(&d);
			d.qid.path = gen;
			memcpy(name, kv.k+1, kv.nk-1);
			name[kv.nk-1] = 0;
		}else{
			if(kv2dir(&kv, &d) == -1){
				r = -1;
				break;
			}
			entname(&d, name);
		}
		if((m = statpack(&d, name, st, sizeof st)) == -1){
			werrstr("%s: cannot pack the entry '%s'", Efs, name);
			r = -1;
			break;
		}
		if(n + m > count){
			f->pend = emalloc(m);
			memcpy(f->pend, st, m);
			f->npend = m;
			break;
		}
		memcpy(buf+n, st, m);
		n += m;
	}
	btexit(f->scan);
	if(r == -1)
		return -1;
	if(n == 0 && f->pend != nil)
		goto small;
	return n;
small:
	werrstr("%s: read count %ld is below the size of a directory entry", Ebotch, count);
	return -1;
}

static long
dirread(Fid *f, uvlong off, uchar *buf, long count)
{
	char pfx[Dpfxsz];
	Tree t;
	Ent *e;
	long n;

	if(off == 0)
		resetscan(f);
	else if(off != f->dirnext){
		werrstr("%s", Edscan);
		return -1;
	}
	if(f->mnt == nil){
		pfx[0] = Klabel;
		n = dirfill(f, &fs->snap, pfx, 1, buf, count);
	}else{
		e = emalloc(sizeof *e);
		if(fident(f, &t, e) == -1){
			free(e);
			return -1;
		}
		pfx[0] = Kent;
		put64(pfx+1, e->d.qid.path);
		free(e);
		n = dirfill(f, &t, pfx, Dpfxsz, buf, count);
	}
	if(n >= 0)
		f->dirnext = off + n;
	return n;
}

/* A read that failed says which file (qid path) and offset it was at. */
static int
badread(uvlong q, uvlong off)
{
	char e[Errmax];

	snprintf(e, sizeof e, "%s", errstr());
	werrstr("%s: file %llx offset %llu", e, (unsigned long long)q, (unsigned long long)off);
	return -1;
}

/*
 * The pointers of the blocks of file q from offset bo (a block boundary)
 * up to end, at most Rdbatch of them; holes get address -1.  How many,
 * or -1 with the offset that failed in *bad.
 */
static int
lookupblks(Tree *t, uvlong q, uvlong bo, uvlong end, Bptr *bp, uvlong *bad)
{
	char k[Offksz], kb[Keymax+Inlmax];
	Key key;
	Kvp kv;
	int nb, r;

	for(nb = 0; nb < Rdbatch && bo + (uvlong)nb*Blksz < end; nb++){
		packdatkey(k, q, bo + (uvlong)nb*Blksz);
		key.k = k;
		key.nk = Offksz;
		if((r = btlookup(t, &key, &kv, kb, sizeof kb)) == -1){
			*bad = bo + (uvlong)nb*Blksz;
			return -1;
		}
		if(r == 0 || kv.nv != Ptrsz)
			bp[nb].addr = -1;
		else
			bp[nb] = unpackbp(kv.v);
	}
	return nb;
}

/*
 * Bytes [off, off+n) of file q, all below its length, from t; holes read
 * as zeros.  The pointers of up to Rdbatch blocks are looked up first,
 * so that readblks can read the uncached ones lying together on the disk
 * with one call, then the bytes are copied out block by block.
 */
static int
readdata(Tree *t, uvlong q, uvlong off, uchar *buf, long n)
{
	Bptr bp[Rdbatch];
	uvlong bad;
	long m, in;
	Blk *b;
	int i, nb;

	while(n > 0){
		if((nb = lookupblks(t, q, off - off%Blksz, off + n, bp, &bad)) == -1)
			return badread(q, bad);
		if(nb > 1)
			readblks(bp, nb);
		for(i = 0; i < nb; i++){
			in = off % Blksz;
			m = MIN(n, Blksz - in);
			if(bp[i].addr == -1)
				memset(buf, 0, m);
			else{
				if((b = getblk(bp[i], GBraw)) == nil)
					return badread(q, off - in);
				memcpy(buf, b->buf + in, m);
				dropblk(b);
			}
			buf += m;
			off += m;
			n -= m;
		}
	}
	return 0;
}

/*
 * After a large read ending at off, the blocks that follow it in file q
 * (up to Rdbatch, below len) are announced to the system (adviseblks),
 * so that a stream's next read finds them read or on their way.  Best
 * effort: a failed lookup only means no read-ahead.
 */
static void
readahead(Tree *t, uvlong q, uvlong off, uvlong len)
{
	Bptr bp[Rdbatch];
	uvlong bad;
	int nb;

	off += (Blksz - off%Blksz) % Blksz;
	if(off >= len || (nb = lookupblks(t, q, off, len, bp, &bad)) <= 0)
		return;
	adviseblks(bp, nb);
}

/* /adm/status: a read at offset 0 makes its text afresh; later offsets read that text. */
static long
statusread(Fid *f, uvlong off, uchar *buf, long n)
{
	if(off == 0 || f->text == nil){
		free(f->text);
		f->text = statustext(&f->ntext);
	}
	if(off >= (uvlong)f->ntext)
		return 0;
	n = MIN(n, f->ntext - (long)off);
	memcpy(buf, f->text + off, n);
	return n;
}

static int
fsread(Req *q, Fcall *r)
{
	Fcall *t;
	Fid *f;
	Ent *e;
	Tree tr;
	uchar *buf;
	long n;
	int ret;

	t = q->t;
	if((f = getfid(q->c, t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	ret = -1;
	e = nil;
	buf = nil;
	if(f->mode == -1){
		werrstr("%s", Eopen);
		goto out;
	}
	if(!(f->mode & DMREAD)){
		werrstr("%s", Einuse);
		goto out;
	}
	if(t->offset >= 1ULL<<63){
		werrstr("%s", Eoffset);
		goto out;
	}
	n = MIN(t->count, iounit(q->c));
	buf = emalloc(n);
	if(f->mnt == nil || (f->qid.type & QTDIR)){
		if((n = dirread(f, t->offset, buf, n)) == -1)
			goto out;
	}else if(f->qid.path == Qstatus)
		n = statusread(f, t->offset, buf, n);
	else{
		e = emalloc(sizeof *e);
		if(fident(f, &tr, e) == -1)
			goto out;
		if(t->offset >= e->d.length)
			n = 0;
		else if((uvlong)n > e->d.length - t->offset)
			n = e->d.length - t->offset;
		if(readdata(&tr, e->d.qid.path, t->offset, buf, n) == -1)
			goto out;
		if(n >= Rdbatch*Blksz/4)
			readahead(&tr, e->d.qid.path, t->offset + n, e->d.length);
	}
	r->type = Rread;
	r->count = n;
	r->data = buf;
	respond(q, r);
	ret = 1;
out:
	free(e);
	free(buf);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* -------------------------------------------------------------- write */

static int
fswrite(Req *q, Fcall *r)
{
	Fcall *t;
	Mlist b;
	Fid *f;
	Ent *e;
	Tree *tr;
	Dent *d;
	Blk *nb, *ob;
	char k[Offksz], v[Ptrsz], kb[Keymax+Inlmax];
	uvlong off, bo, end;
	long p, n, in, z;
	int i, fl, ret;
	Key key;
	Kvp kv;

	t = q->t;
	if((f = getfid(q->c, t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	e = emalloc(sizeof *e);
	binit(&b);
	d = nil;
	ret = -1;
	if(f->mode == -1){
		werrstr("%s", Eopen);
		goto out;
	}
	if(!(f->mode & DMWRITE)){
		werrstr("%s", Einuse);
		goto out;
	}
	if(t->offset >= 1ULL<<63 || t->offset + t->count >= 1ULL<<63){
		werrstr("%s", Ewstatl);
		goto out;
	}
	if(writable(f->mnt) == -1)
		goto out;
	d = f->dent;
	wlock(&d->lk);
	if(d->gone){
		werrstr("%s", Ephase);
		goto out;
	}
	tr = mutree(f->mnt);
	if(getent(tr, d->key, d->nkey, e) != 1){
		werrstr("%s", Ephase);
		goto out;
	}
	if(e->d.qid.path & Qmagic){
		werrstr("%s", Eperm);
		goto out;
	}
	off = (e->d.mode & DMAPPEND) ? e->d.length : t->offset;
	for(p = 0; p < t->count; p += n){
		in = (off + p) % Blksz;
		bo = off + p - in;
		n = MIN(Blksz - in, (long)t->count - p);
		if((nb = allocblk(tr, Tdat, e->d.qid.path, in + n == Blksz)) == nil)
			goto out;
		bblock(&b, tr, nb);
		packdatkey(k, e->d.qid.path, bo);
		if((in > 0 || in + n < Blksz) && bo < e->d.length){
			key.k = k;
			key.nk = Offksz;
			if((i = btlookup(tr, &key, &kv, kb, sizeof kb)) == -1)
				goto out;
			if(i == 1 && kv.nv == Ptrsz){
				if((ob = getblk(unpackbp(kv.v), GBraw)) == nil)
					goto out;
				memcpy(nb->buf, ob->buf, Blksz);
				dropblk(ob);
				/* what lies past the end of the file reads as zeros */
				if(e->d.length < bo + Blksz){
					z = e->d.length - bo;
					memset(nb->buf + z, 0, Blksz - z);
				}
			}
		}
		memcpy(nb->buf + in, t->data + p, n);
		enqueue(nb);
		packbp(v, &nb->bp);
		badd(&b, Oinsert, k, Offksz, v, Ptrsz);
	}
	end = off + t->count;
	fl = Owmtime|Owmuid;
	if(end > e->d.length){
		e->d.length = end;
		fl |= Owsize;
	}
	e->d.mtime = wallns();
	e->d.muid = f->uid;
	bwstat(&b, e->buf, e->nkey, fl, &e->d);
	if(bapply(&b, tr) == -1)
		goto out;
	if(f->mnt->name != nil && strcmp(f->mnt->name, "adm") == 0 && e->d.qid.path == Qusers)
		asetl(&f->wrusers, 1);
	r->type = Rwrite;
	r->count = t->count;
	ret = 0;
out:
	if(d != nil)
		wunlock(&d->lk);
	bfree(&b);
	free(e);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* --------------------------------------------------------------- stat */

static int
fsstat(Req *q, Fcall *r)
{
	Fid *f;
	Ent *e;
	Xdir d;
	Tree t;
	char name[Keymax+1];
	uchar *buf;
	long n;
	int ret;

	if((f = getfid(q->c, q->t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	e = emalloc(sizeof *e);
	buf = emalloc(Statfixsz + 4*Keymax);
	ret = -1;
	if(f->mnt == nil){
		dumpdir(&d);
		strcpy(name, "/");
	}else{
		if(fident(f, &t, e) == -1)
			goto out;
		d = e->d;
		entname(&d, name);
	}
	if((n = statpack(&d, name, buf, Statfixsz + 4*Keymax)) == -1){
		werrstr("%s", Efs);
		goto out;
	}
	r->type = Rstat;
	r->nstat = n;
	r->stat = buf;
	respond(q, r);
	ret = 1;
out:
	free(buf);
	free(e);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* -------------------------------------------------------------- wstat */

static int
isnulldir(Dir *d)
{
	return d->type == 0xFFFF && d->dev == 0xFFFFFFFF
		&& d->qid.type == 0xFF && d->qid.vers == 0xFFFFFFFF && d->qid.path == ~0ULL
		&& d->mode == 0xFFFFFFFF && d->atime == 0xFFFFFFFF && d->mtime == 0xFFFFFFFF
		&& d->length == ~0ULL
		&& *d->name == 0 && *d->uid == 0 && *d->gid == 0 && *d->muid == 0;
}

/* A wstat of every field "don't touch" asks for a sync (wstat(5)). */
static int
wstatsync(Req *q, Fcall *r)
{
	Fid *f;

	if((f = getfid(q->c, q->t->fid)) == nil)
		return -1;
	putfid(f);
	if(!fs->rdonly && fssync() == -1)
		return -1;
	r->type = Rwstat;
	return 0;
}

/*
 * Everything is checked before anything changes (runtime §3.13): a
 * wstat that fails changes nothing.
 */
static int
fswstat(Req *q, Fcall *r)
{
	Dir *s;
	Fid *f;
	Ent *e, *pe, *ne;
	Dent *d;
	Tree *tr;
	Users *u;
	Mlist b;
	Xdir x;
	s32int uid, gid;
	char k[Keymax], v[Keymax];
	int fl, nk, mv, owner, ret;

	if((f = getfid(q->c, q->t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	s = dirunpack(q->t->stat, q->t->nstat);
	e = emalloc(sizeof *e);
	pe = emalloc(sizeof *pe);
	ne = emalloc(sizeof *ne);
	u = getusers();
	binit(&b);
	d = nil;
	ret = -1;
	if(s == nil){
		werrstr("%s", Edir);
		goto out;
	}
	if(f->mnt == nil){
		werrstr("%s", Emode);
		goto out;
	}
	d = f->dent;
	wlock(&d->lk);
	if(d->gone){
		werrstr("%s", Ephase);
		goto out;
	}
	tr = mutree(f->mnt);
	if(getent(tr, d->key, d->nkey, e) != 1){
		werrstr("%s", Ephase);
		goto out;
	}
	if(e->d.qid.path & Qmagic){
		werrstr("%s", Emode);
		goto out;
	}
	x = e->d;
	fl = 0;

	/* what changes, and is it well formed */
	if(s->type != 0xFFFF || s->dev != 0xFFFFFFFF
	|| (s->qid.path != ~0ULL && s->qid.path != x.qid.path)
	|| (s->qid.vers != 0xFFFFFFFF && s->qid.vers != x.qid.vers)
	|| (s->qid.type != 0xFF && s->qid.type != x.qid.type)){
		werrstr("%s", Ewstatq);
		goto out;
	}
	mv = 0;
	if(*s->name != 0 && (strlen(s->name) != (size_t)x.nname || memcmp(s->name, x.name, x.nname) != 0)){
		if(okname(s->name) == -1)
			goto out;
		if(e->up == (uvlong)-1){
			werrstr("%s", Eperm);
			goto out;
		}
		if(getchild(tr, e->up, s->name, ne) != 0){
			werrstr("%s", Eexist);
			goto out;
		}
		mv = 1;
	}
	if(s->length != ~0ULL && s->length != x.length){
		if((vlong)s->length < 0){
			werrstr("%s", Ewstatl);
			goto out;
		}
		if(x.qid.type & QTDIR){
			werrstr("%s", Ewstatd);
			goto out;
		}
		fl |= Owsize;
	}
	if(s->mode != 0xFFFFFFFF && s->mode != x.mode){
		if((s->mode & DMDIR) != (x.mode & DMDIR)){
			werrstr("%s", Ewstatd);
			goto out;
		}
		if(s->mode & ~Dfilemode){
			werrstr("%s", Ewstatb);
			goto out;
		}
		fl |= Owmode;
	}
	if(s->mtime != 0xFFFFFFFF && (vlong)s->mtime*1000000000LL != x.mtime)
		fl |= Owmtime;
	if(s->atime != 0xFFFFFFFF && (vlong)s->atime*1000000000LL != x.atime)
		fl |= Owatime;
	if(*s->uid != 0){
		if(strlen(s->uid) > Maxuname){
			werrstr("%s", Elength);
			goto out;
		}
		if(name2uid(u, s->uid, &uid) == -1)
			goto out;
		if(uid != x.uid)
			fl |= Owuid;
	}
	if(*s->gid != 0){
		if(strlen(s->gid) > Maxuname){
			werrstr("%s", Elength);
			goto out;
		}
		if(name2uid(u, s->gid, &gid) == -1){
			werrstr("%s", Enogrp);
			goto out;
		}
		if(gid != x.gid)
			fl |= Owgid;
	}

	/*
	 * may this user make the changes (even none: a wstat that names
	 * only values the file has still sets the muid and the version)
	 */
	if(writable(f->mnt) == -1)
		goto out;
	if(mv){
		if(getdirent(tr, e->up, pe) == -1 || fidaccess(f, &pe->d, DMWRITE) == -1)
			goto out;
	}
	if((fl & Owsize) && fidaccess(f, &x, DMWRITE) == -1)
		goto out;
	owner = f->permit || f->uid == x.uid;
	if((fl & (Owmode|Owmtime|Owatime)) && !owner && !groupleader(u, f->uid, x.gid)){
		werrstr("%s", Ewstato);
		goto out;
	}
	if((fl & Owuid) && !f->permit){
		werrstr("%s", Ewstatu);
		goto out;
	}
	if((fl & Owgid) && !f->permit
	&& !(f->uid == x.uid && ingroup(u, f->uid, gid))
	&& !(groupleader(u, f->uid, x.gid) && groupleader(u, f->uid, gid))){
		werrstr("%s", Ewstatg);
		goto out;
	}

	/* the change, in one upsert (and more for the data of a long truncation) */
	if(fl & Owsize)
		x.length = s->length;
	if(fl & Owmode){
		x.mode = s->mode;
		x.qid.type = x.mode >> 24;
	}
	if(fl & Owmtime)
		x.mtime = (vlong)s->mtime*1000000000LL;
	if(fl & Owatime)
		x.atime = (vlong)s->atime*1000000000LL;
	if(fl & Owuid)
		x.uid = uid;
	if(fl & Owgid)
		x.gid = gid;
	x.muid = f->uid;
	fl |= Owmuid;
	if(mv){
		nk = packdkey(k, sizeof k, e->up, s->name, strlen(s->name));
		x.qid.vers++;
		packdir(v, &x);
		badd(&b, Odelete, e->buf, e->nkey, nil, 0);
		badd(&b, Oinsert, k, nk, v, Xdirsz);
		if(x.qid.type & QTDIR){
			char uk[Upksz];

			packupkey(uk, x.qid.path);
			badd(&b, Oinsert, uk, Upksz, k, nk);
		}
		bwstat(&b, pe->buf, pe->nkey, 0, &x);
	}else{
		nk = 0;
		bwstat(&b, e->buf, e->nkey, fl, &x);
	}
	if((fl & Owsize) && x.length < e->d.length){
		/* truncation makes room: it may use the reserve */
		reserveenter();
		ret = bzerotail(&b, tr, x.qid.path, x.length);
		if(ret == 0)
			ret = bclear(&b, tr, x.qid.path, (x.length + Blksz-1) / Blksz * Blksz);
		reserveleave();
		if(ret == -1)
			goto out;
		ret = -1;
	}else if(bapply(&b, tr) == -1)
		goto out;
	if(mv){
		if(nk != d->nkey)
			d->key = erealloc(d->key, nk);
		memcpy(d->key, k, nk);
		d->nkey = nk;
	}
	r->type = Rwstat;
	ret = 0;
out:
	if(d != nil)
		wunlock(&d->lk);
	bfree(&b);
	putusers(u);
	free(s);
	free(e);
	free(pe);
	free(ne);
	qunlock(&f->lk);
	putfid(f);
	return ret;
}

/* ------------------------------------------------------------- remove */

/*
 * Remove f's file.  perm: check the parent's write permission (Tremove);
 * remove-on-close was checked at open.  The entry, its back-link and the
 * parent's version change in one upsert with the first of the data.
 */
static int
rmfile(Fid *f, int perm)
{
	Mlist b;
	Ent *e, *pe;
	Dent *d;
	Tree *tr;
	char uk[Upksz];
	int r, ret;

	if(f->mnt == nil){
		werrstr("%s", Eperm);
		return -1;
	}
	if(writable(f->mnt) == -1)
		return -1;
	e = emalloc(sizeof *e);
	pe = emalloc(sizeof *pe);
	binit(&b);
	ret = -1;
	d = f->dent;
	wlock(&d->lk);
	if(d->gone){
		werrstr("%s", Ephase);
		goto out;
	}
	tr = mutree(f->mnt);
	if(getent(tr, d->key, d->nkey, e) != 1){
		werrstr("%s", Ephase);
		goto out;
	}
	if(e->up == (uvlong)-1 || ((e->d.qid.path & Qmagic) && !f->permit)){
		werrstr("%s", Eperm);
		goto out;
	}
	if((e->d.mode & DMEXCL) && d->nopen > (f->mode != -1)){
		werrstr("%s", Elocked);
		goto out;
	}
	if(e->d.qid.type & QTDIR){
		if((r = emptydir(tr, e->d.qid.path)) != 1){
			if(r == 0)
				werrstr("%s", Enempty);
			goto out;
		}
	}
	if(getdirent(tr, e->up, pe) == -1)
		goto out;
	if(perm && fidaccess(f, &pe->d, DMWRITE) == -1)
		goto out;
	badd(&b, Odelete, e->buf, e->nkey, nil, 0);
	if(e->d.qid.type & QTDIR){
		packupkey(uk, e->d.qid.path);
		badd(&b, Odelete, uk, Upksz, nil, 0);
	}
	bwstat(&b, pe->buf, pe->nkey, 0, &e->d);
	/* removal makes room: on a full volume it may use the reserve */
	reserveenter();
	r = bclear(&b, tr, e->d.qid.path, 0);
	reserveleave();
	if(r == -1)
		goto out;
	d->gone = 1;
	ret = 0;
out:
	wunlock(&d->lk);
	bfree(&b);
	free(e);
	free(pe);
	return ret;
}

static int
fsremove(Req *q, Fcall *r)
{
	Fid *f;
	int ret;

	/* the fid goes whatever happens to the file (remove(5)) */
	if((f = unlinkfid(q->c, q->t->fid)) == nil)
		return -1;
	qlock(&f->lk);
	asetl(&f->rclose, 0);
	ret = rmfile(f, 1);
	qunlock(&f->lk);
	putfid(f);
	if(ret == -1)
		return -1;
	r->type = Rremove;
	return 0;
}

/* -------------------------------------------------------------- clunk */

/*
 * Read /adm/users from mount m (the adm tree) and make it the user
 * table; the caller is in an epoch.  On a bad table: permissive, fall
 * back to the built-in one; else keep the table we have and fail.
 */
static int
readusers(Mount *m, int permissive, Linefn *diag, void *arg)
{
	Ent *e;
	Tree t;
	char *buf;
	int r;

	e = emalloc(sizeof *e);
	buf = nil;
	rdtree(m, &t);
	if((r = getchild(&t, Qadm, "users", e)) != 1){
		if(r == 0)
			werrstr("%s: /adm/users", Esrch);
		r = -1;
	}else if(e->d.qid.type & QTDIR){
		werrstr("%s: /adm/users is a directory", Etype);
		r = -1;
	}else if(e->d.length >= Usersmax){
		werrstr("%s: /adm/users", Efsize);
		r = -1;
	}else{
		buf = emalloc(e->d.length + 1);
		r = readdata(&t, e->d.qid.path, 0, (uchar*)buf, e->d.length);
		if(r == 0)
			r = loadusers(buf, e->d.length, diag, arg);
	}
	if(r == -1 && permissive){
		warn("user table broken: %s", errstr());
		warn("\tfalling back to default");
		setusers(fallbackusers());
		r = 0;
	}
	free(buf);
	free(e);
	return r;
}

/* The user table from the adm label, at start-up (runtime §6.1). */
int
fsloadusers(int permissive)
{
	Mount *m;
	int r;

	if((m = getmount("adm")) == nil){
		werrstr("%s: %s", Enoadm, errstr());
		return -1;
	}
	epochstart();
	r = readusers(m, permissive, nil, nil);
	epochend();
	putmount(m);
	return r;
}

/*
 * The users command of the console and of /adm/ctl: the table from the
 * adm tree as it is now, unsynced edits included; problems go to diag,
 * and a bad table leaves the old one in force.
 */
int
fsreloadusers(Linefn *diag, void *arg)
{
	Mount *m;
	int r;

	if((m = getmount("adm")) == nil){
		werrstr("%s: %s", Enoadm, errstr());
		return -1;
	}
	epochstart();
	r = readusers(m, 0, diag, arg);
	epochend();
	putmount(m);
	return r;
}

/* The mutator's part of a clunk: remove-on-close, a new user table. */
static void
clunkwork(Fid *f)
{
	qlock(&f->lk);
	if(agetl(&f->rclose) && rmfile(f, 0) == -1)
		dprint(1, "remove on close: %s", errstr());
	qunlock(&f->lk);
	if(agetl(&f->wrusers) && readusers(f->mnt, 0, nil, nil) == -1)
		warn("/adm/users not loaded, keeping the old table: %s", errstr());
}

static int
fsclunk(Req *q, Fcall *r)
{
	clunkwork(q->fid);
	putfid(q->fid);
	q->fid = nil;
	r->type = Rclunk;
	return 0;
}

/* ---------------------------------------------------------- the workers */

static Fsfn *fsfns[Tmax] = {
	[Tattach]	= fsattach,
	[Twalk]	= fswalk,
	[Topen]	= fsopen,
	[Tcreate]	= fscreate,
	[Tread]	= fsread,
	[Twrite]	= fswrite,
	[Tclunk]	= fsclunk,
	[Tremove]	= fsremove,
	[Tstat]	= fsstat,
	[Twstat]	= fswstat,
};

/* Run q: a handler answers itself (1), or fills r (0), or fails (-1). */
static void
run(Req *q)
{
	Fcall r;
	int x;

	memset(&r, 0, sizeof r);
	x = fsfns[q->t->type](q, &r);
	if(x == 1)
		return;
	if(x == -1)
		rerror(q, errstr());
	else
		respond(q, &r);
}

/* Run q, which only reads, on this thread. */
static void
runread(Req *q)
{
	if(!startreq(q))
		return;
	epochstart();
	run(q);
	epochend();
}

static void
readproc(void *arg)
{
	Chan *ch;
	Req *q;

	ch = arg;
	while((q = chrecv(ch)) != nil)
		runread(q);
}

/* Whether fid num of c is open on /adm/ctl. */
static int
isctlfid(Conn *c, u32int num)
{
	Fid *f;
	int r;

	if((f = getfid(c, num)) == nil)
		return 0;
	r = f->mnt != nil && f->qid.path == Qctl;
	putfid(f);
	return r;
}

/*
 * A write to /adm/ctl runs one command of cons.c, without the mutation
 * lock: sync, snap and check take it themselves.  1 if q was one.
 */
static int
ctlreq(Req *q)
{
	Fcall *t, r;
	Fid *f;
	int ret;

	t = q->t;
	if(q->internal || t->type != Twrite || (f = getfid(q->c, t->fid)) == nil)
		return 0;
	if(f->mnt == nil || f->qid.path != Qctl){
		putfid(f);
		return 0;
	}
	qlock(&f->lk);
	ret = -1;
	if(f->mode == -1)
		werrstr("%s", Eopen);
	else if(!(f->mode & DMWRITE))
		werrstr("%s", Einuse);
	else if(t->offset != 0)
		werrstr("%s", Ebotch);
	else if(t->count >= Ctlmax)
		werrstr("%s", Elength);
	else
		ret = 0;
	qunlock(&f->lk);
	putfid(f);
	/* not under f->lk: the commands take fs->mutlk, which comes first */
	if(ret == 0)
		ret = ctlcmd((char*)t->data, t->count);
	if(ret == -1)
		rerror(q, errstr());
	else{
		memset(&r, 0, sizeof r);
		r.type = Rwrite;
		r.count = t->count;
		respond(q, &r);
	}
	return 1;
}

/*
 * Run q, which changes something, under the mutation lock: on the
 * mutator, or on the connection's thread when nothing else of its
 * connection is in flight (dispatch).
 */
static void
runmut(Req *q)
{
	Dir *d;
	int null;

	if(!startreq(q))
		return;
	if(ctlreq(q))
		return;
	if(!q->internal && q->t->type == Twstat){
		/* a sync takes the mutation lock itself */
		d = dirunpack(q->t->stat, q->t->nstat);
		null = d != nil && isnulldir(d);
		free(d);
		if(null){
			Fcall r;

			memset(&r, 0, sizeof r);
			if(wstatsync(q, &r) == -1)
				rerror(q, errstr());
			else
				respond(q, &r);
			return;
		}
	}
	qlock(&fs->mutlk);
	mutating = 1;
	epochstart();
	if(q->internal){
		clunkwork(q->fid);
		putfid(q->fid);
		q->fid = nil;
		epochend();
		qunlock(&fs->mutlk);
		mutdone();
		qlock(&q->c->lk);
		done(q->c, q);
		qunlock(&q->c->lk);
		freereq(q);
	}else{
		run(q);
		epochend();
		qunlock(&fs->mutlk);
		mutdone();
	}
	epochclean();
}

static void
mutproc(void *arg)
{
	Req *q;

	USED(arg);
	while((q = chrecv(srv.wrchan)) != nil)
		runmut(q);
}

/* --------------------------------------------------------- connections */

/* Send the replies the socket did not take at once, in order, waiting as long as it takes. */
static void
writeproc(void *arg)
{
	Conn *c;
	Rmsg *m;
	int r;

	c = arg;
	qlock(&c->lk);
	for(;;){
		while(c->outq == nil && !c->quit)
			rsleep(&c->outr);
		if((m = c->outq) == nil)
			break;
		c->outq = m->next;
		c->writing = 1;
		qunlock(&c->lk);
		r = 0;
		if(!agetl(&c->hungup))
			r = writeframe(c->wfd, m->buf+m->off, m->n-m->off);
		freermsg(m);
		qlock(&c->lk);
		c->writing = 0;
		c->nout--;
		rwakeupall(&c->idle);
		if(r == -1)
			brokenconn(c);
	}
	qunlock(&c->lk);
}

/*
 * Hand q to the mutator or to the reader its fid hashes to; once the
 * workers have stopped, the file system is read-only.
 */
static void
refuse(Req *q)
{
	if(q->internal){
		putfid(q->fid);
		qlock(&q->c->lk);
		done(q->c, q);
		qunlock(&q->c->lk);
		freereq(q);
	}else
		rerror(q, Erdonly);
}

static void
tomutator(Req *q)
{
	if(chsend(srv.wrchan, q) == -1)
		refuse(q);
}

static void
toreader(Req *q)
{
	if(chsend(srv.rdchan[ihash(q->t->fid) % srv.nrd], q) == -1)
		refuse(q);
}

static void
waitidle(Conn *c)
{
	qlock(&c->lk);
	while(c->ninflight > 0)
		rsleep(&c->idle);
	qunlock(&c->lk);
}

/* Every request done, then every fid clunked (hang-up, Tversion). */
static void
clunkall(Conn *c)
{
	Fid **fids, **empty, *f, *next;
	Req *q;
	u32int i, n;

	waitidle(c);
	empty = emalloc(Nfidhash * sizeof empty[0]);
	lock(&c->fidlk);
	fids = c->fids;
	n = c->nfidhash;
	c->fids = empty;
	c->nfidhash = Nfidhash;
	c->nfid = 0;
	unlock(&c->fidlk);
	for(i = 0; i < n; i++){
		for(f = fids[i]; f != nil; f = next){
			next = f->next;
			if(agetl(&f->rclose) || agetl(&f->wrusers)){
				q = emalloc(sizeof *q);
				q->c = c;
				q->fid = f;
				q->internal = 1;
				q->counted = 1;
				q->state = Rqueued;
				qlock(&c->lk);
				c->ninflight++;
				qunlock(&c->lk);
				tomutator(q);
			}else
				putfid(f);
		}
	}
	free(fids);
	waitidle(c);
}

static void
fsversion(Conn *c, Req *q)
{
	Fcall *t, r;
	char *v, buf[Errmax];
	size_t n;

	t = q->t;
	clunkall(c);
	memset(&r, 0, sizeof r);
	if(t->msize < Minmsg){
		snprintf(buf, sizeof buf, "%s: msize %u is below %d", Ebotch, t->msize, Minmsg);
		c->versioned = 0;
		rerror(q, buf);
		return;
	}
	v = t->version;
	n = strcspn(v, ".");
	r.type = Rversion;
	r.msize = MIN(t->msize, (u32int)Maxmsg);
	if(n == 6 && strncmp(v, "9P2000", 6) == 0){
		r.version = "9P2000";
		c->versioned = 1;
		asetl(&c->msize, r.msize);
	}else{
		r.version = "unknown";
		c->versioned = 0;
	}
	respond(q, &r);
}

/*
 * Tflush (runtime §1.6): a request not yet started is cancelled and the
 * Rflush goes at once; a running one gets its reply first, then the
 * Rflush.  Nothing waits here: the connection keeps reading.
 */
static void
fsflush(Conn *c, Req *q)
{
	Req *o;
	Fcall r;

	qlock(&c->lk);
	o = findtag(c, q->t->oldtag);
	if(o == q)
		o = nil;
	if(o != nil && o->state == Rqueued){
		untag(c, o);
		o->state = Rflushed;
		o = nil;
	}
	if(o != nil){
		q->state = Rrunning;
		q->flink = o->flush;
		o->flush = q;
		qunlock(&c->lk);
		return;
	}
	qunlock(&c->lk);
	memset(&r, 0, sizeof r);
	r.type = Rflush;
	respond(q, &r);
}

static void
fsclunkinline(Conn *c, Req *q)
{
	Fcall r;
	Fid *f;

	if((f = unlinkfid(c, q->t->fid)) == nil){
		rerror(q, errstr());
		return;
	}
	if(agetl(&f->rclose) || agetl(&f->wrusers)){
		/* the clunk has happened: a flush waits for its reply */
		q->fid = f;
		qlock(&c->lk);
		q->state = Rrunning;
		qunlock(&c->lk);
		tomutator(q);
		return;
	}
	putfid(f);
	memset(&r, 0, sizeof r);
	r.type = Rclunk;
	respond(q, &r);
}

/*
 * Hand a decoded request out; -1 to hang up (a tag in use).  A request
 * with nothing else of c in flight runs here: the reader pool or the
 * mutator would add a hand-off and nothing else, as this thread would
 * only wait for the next request meanwhile.  (Mutations take the
 * mutation lock here as on the mutator, so they stay one at a time.)
 */
static int
dispatch(Conn *c, Req *q)
{
	Fcall *t;
	char buf[256], e[300];
	int alone;

	t = q->t;
	if(t->type == Tversion){
		fsversion(c, q);
		return 0;
	}
	qlock(&c->lk);
	if(findtag(c, t->tag) != nil){
		qunlock(&c->lk);
		werrstr("tag %d in use", t->tag);
		return -1;
	}
	q->tagged = 1;
	q->counted = 1;
	q->next = c->tags[t->tag % Ntaghash];
	c->tags[t->tag % Ntaghash] = q;
	alone = ++c->ninflight == 1 && !agetl(&srv.stopped);
	qunlock(&c->lk);
	switch(t->type){
	case Tauth:
		rerror(q, Eauth);
		break;
	case Tflush:
		fsflush(c, q);
		break;
	case Tclunk:
		fsclunkinline(c, q);
		break;
	case Tattach:
	case Twalk:
	case Tread:
	case Tstat:
		if(alone)
			runread(q);
		else
			toreader(q);
		break;
	case Topen:
		if(t->mode & (OTRUNC|ORCLOSE)){
			if(alone)
				runmut(q);
			else
				tomutator(q);
		}else if(alone)
			runread(q);
		else
			toreader(q);
		break;
	case Twrite:
		/* a console command (a check) may take long: not on this thread */
		if(alone && !isctlfid(c, t->fid))
			runmut(q);
		else
			tomutator(q);
		break;
	case Tcreate:
	case Twstat:
	case Tremove:
		if(alone)
			runmut(q);
		else
			tomutator(q);
		break;
	default:
		fcallfmt(buf, sizeof buf, t);
		snprintf(e, sizeof e, "unknown message: %s", buf);
		warn("%s: %s", c->addr, e);
		rerror(q, e);
		break;
	}
	return 0;
}

static void
freeconn(Conn *c)
{
	Rmsg *m;

	while((m = c->outq) != nil){
		c->outq = m->next;
		freermsg(m);
	}
	free(c->fids);
	free(c->peername);
	free(c->addr);
	free(c);
}

/* The connection is over: everything it held goes (runtime §3.15). */
static void
teardown(Conn *c)
{
	asetl(&c->hungup, 1);
	shutdown(c->rfd, SHUT_RDWR);
	clunkall(c);
	qlock(&c->lk);
	c->quit = 1;
	rwakeup(&c->outr);
	qunlock(&c->lk);
	pthread_join(c->writer, nil);
	close(c->rfd);
	if(c->wfd != c->rfd)
		close(c->wfd);
	qlock(&srv.connlk);
	if(c->prev != nil)
		c->prev->next = c->next;
	else
		srv.conns = c->next;
	if(c->next != nil)
		c->next->prev = c->prev;
	srv.nconn--;
	rwakeupall(&srv.connr);
	qunlock(&srv.connlk);
	dprint(1, "%s: hung up", c->addr);
	if(c->net == Cstdio)
		kill(getpid(), SIGTERM);
	freeconn(c);
}

static void
connproc(void *arg)
{
	Conn *c;
	Fcall *t;
	Req *q;
	uchar *buf;
	char fmt[256];
	long n;

	c = arg;
	for(;;){
		/* a client that does not read its replies gets no more of them */
		qlock(&c->lk);
		while(c->ninflight + c->nout >= Maxinflight)
			rsleep(&c->idle);
		qunlock(&c->lk);
		n = readframealloc(c->rfd, agetl(&c->msize), &buf);
		if(n <= 0){
			/* a client that vanishes is no news; one that sends nonsense is */
			if(n < 0 && !agetl(&c->hungup) && errno != ECONNRESET)
				warn("%s: %s", c->addr, errstr());
			break;
		}
		t = emalloc(sizeof *t);
		if(fcallunpack(buf, n, t) == -1){
			warn("%s: invalid message: %s", c->addr, errstr());
			free(t);
			free(buf);
			break;
		}
		if(debug >= 2){
			fcallfmt(fmt, sizeof fmt, t);
			dprint(2, "%s ← %s", c->addr, fmt);
		}
		if(!c->versioned && t->type != Tversion){
			warn("%s: version required", c->addr);
			fcallclear(t);
			free(t);
			free(buf);
			break;
		}
		q = emalloc(sizeof *q);
		q->c = c;
		q->t = t;
		q->frame = buf;
		q->state = Rqueued;
		if(dispatch(c, q) == -1){
			warn("%s: %s", c->addr, errstr());
			freereq(q);
			break;
		}
	}
	teardown(c);
}

/*
 * Serve 9P on rfd/wfd.  net says what proves the peer's identity;
 * peername is the peer's login name (Cunix), trusted a peer that may
 * attach as anybody.  -1 if the connection is refused.
 */
int
newconn(int rfd, int wfd, int net, int trusted, char *peername, char *addr)
{
	Conn *c;

	qlock(&srv.connlk);
	if(srv.nconn >= Maxconn){
		qunlock(&srv.connlk);
		werrstr("too many connections (%d)", Maxconn);
		return -1;
	}
	srv.nconn++;
	qunlock(&srv.connlk);
	c = emalloc(sizeof *c);
	c->rfd = rfd;
	c->wfd = wfd;
	c->net = net;
	c->trusted = trusted;
	c->peername = peername != nil ? estrdup(peername) : nil;
	c->addr = estrdup(addr);
	c->msize = Maxmsg;
	c->fids = emalloc(Nfidhash * sizeof c->fids[0]);
	c->nfidhash = Nfidhash;
	qlockinit(&c->lk);
	rendezinit(&c->idle, &c->lk);
	rendezinit(&c->outr, &c->lk);
	if(launch(writeproc, c, "write", &c->writer) == -1)
		goto err;
	qlock(&srv.connlk);
	c->next = srv.conns;
	if(c->next != nil)
		c->next->prev = c;
	srv.conns = c;
	qunlock(&srv.connlk);
	if(launch(connproc, c, "conn", nil) == -1){
		/* nothing can have happened yet: end it the normal way */
		warn("%s: %s", addr, errstr());
		c->versioned = 0;
		teardown(c);
		return 0;
	}
	dprint(1, "%s: connected", addr);
	return 0;
err:
	qlock(&srv.connlk);
	srv.nconn--;
	qunlock(&srv.connlk);
	free(c->fids);
	free(c->peername);
	free(c->addr);
	free(c);
	return -1;
}

/* Hang up every connection and wait until each has released everything. */
void
hangupall(void)
{
	Conn *c;

	qlock(&srv.connlk);
	for(c = srv.conns; c != nil; c = c->next)
		if(c->net != Cstdio){
			asetl(&c->hungup, 1);
			shutdown(c->rfd, SHUT_RDWR);
		}
	for(;;){
		for(c = srv.conns; c != nil; c = c->next)
			if(c->net != Cstdio)
				break;
		if(c == nil)
			break;
		rsleep(&srv.connr);
	}
	qunlock(&srv.connlk);
}

static int
nreaders(void)
{
	char *s;
	long n;

	if((s = getenv("NPROC")) != nil && *s != 0)
		n = strtol(s, nil, 10);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	n = MIN(MAX(n, 2), 8);
	return n/2;
}

/* Start the mutator and the reader pool. */
void
fsstart(Srvconf *conf)
{
	int i;

	srv.conf = conf;
	qlockinit(&srv.connlk);
	rendezinit(&srv.connr, &srv.connlk);
	for(i = 0; i < Ndentlk; i++)
		qlockinit(&srv.dentlk[i]);
	srv.nrd = nreaders();
	srv.wrchan = mkchan(32);
	if(launch(mutproc, nil, "mutate", &srv.mutator) == -1)
		sysfatal("%s", errstr());
	for(i = 0; i < srv.nrd; i++){
		srv.rdchan[i] = mkchan(32);
		if(launch(readproc, srv.rdchan[i], "read", &srv.reader[i]) == -1)
			sysfatal("%s", errstr());
	}
}

/*
 * Stop the workers.  The channels stay, closed: a request that still
 * arrives (on standard input, which we cannot hang up) is refused.
 */
void
fsstop(void)
{
	Dent *d;
	int i, n;

	asetl(&srv.stopped, 1);
	chclose(srv.wrchan);
	pthread_join(srv.mutator, nil);
	for(i = 0; i < srv.nrd; i++){
		chclose(srv.rdchan[i]);
		pthread_join(srv.reader[i], nil);
	}
	/* with every connection gone, nothing may hold a file */
	qlock(&srv.connlk);
	n = 0;
	if(srv.nconn == 0)
		for(i = 0; i < Ndenthash; i++){
			qlock(dentlock(i));
			for(d = srv.dents[i]; d != nil; d = d->next)
				n++;
			qunlock(dentlock(i));
		}
	qunlock(&srv.connlk);
	if(n > 0)
		warn("%d files still held after every connection ended", n);
}
