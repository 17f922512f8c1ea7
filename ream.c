/*
 * ream.c: formatting a volume (format §10.1-10.2, §6.5, §17.9) and
 * growing one into new space (format §10.4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

/*
 * A new arena's first log block and headers, as ream step 1: the whole
 * arena free, its log block taken, a barrier at qgen; then replayed.
 */
static int
initarena(Arena *a, vlong qgen)
{
	char *buf;
	Blk *b;
	vlong lb;

	qlockinit(&a->lk);
	a->reserve = MIN(MAX(a->size/1024, Minreserve), Maxreserve);
	a->logbuf[0] = staticblk();
	a->logbuf[1] = staticblk();
	lb = a->base + 2*Blksz;
	b = a->logbuf[0];
	memset(b->buf, 0, Blksz);
	b->type = Tlog;
	b->data = b->buf + Loghdsz;
	b->logp = Zb;
	b->bp = (Bptr){lb, -1, -1};
	put64(b->data, lb | LogFree);
	put64(b->data+8, a->size - 2*Blksz);
	put64(b->data+16, lb | LogAlloc);
	put64(b->data+24, Blksz);
	put64(b->data+32, (uvlong)qgen<<8 | LogSync);
	b->logsz = 40;
	finalize(b);
	if(devwrite(lb, b->buf, Blksz) == -1)
		return -1;
	a->loghd = (Bptr){lb, b->bp.hash, -1};
	buf = emalloc(Blksz);
	packarena(buf, &a->loghd, a->size, Blksz);
	if(devwrite(a->base, buf, Blksz) == -1 || devwrite(a->base+Blksz, buf, Blksz) == -1){
		free(buf);
		return -1;
	}
	free(buf);
	return loadlog(a, qgen, 0);
}

/* Rewrite the log tail and both headers with what the arena holds now. */
static int
flusharena(Arena *a, char *buf)
{
	if(logflush(a) == -1)
		return -1;
	packarena(buf, &a->loghd, a->size, a->used);
	a->hdloghd = a->loghd;
	a->hdused = a->used;
	a->hdhash = blkhash(buf, Blksz);
	if(devwrite(a->base, buf, Blksz) == -1 || devwrite(a->base+Blksz, buf, Blksz) == -1)
		return -1;
	return 0;
}

static void
addkv(Blk *b, char *k, int nk, char *v, int nv)
{
	Kvp kv;

	kv.k = k;
	kv.nk = nk;
	kv.v = v;
	kv.nv = nv;
	setval(b, &kv);
}

/* A directory entry: owned by adm (-1), times 0 (format §6.5). */
static void
adddir(Blk *b, uvlong up, char *name, uvlong qpath, int qtype, u32int mode, uvlong len)
{
	char k[Keymax], v[Xdirsz];
	Xdir d;
	int nk;

	memset(&d, 0, sizeof d);
	d.qid.path = qpath;
	d.qid.type = qtype;
	d.mode = mode;
	d.length = len;
	d.uid = -1;
	d.gid = -1;
	d.muid = 0;
	nk = packdkey(k, sizeof k, up, name, strlen(name));
	packdir(v, &d);
	addkv(b, k, nk, v, Xdirsz);
}

/* Kup(qid) -> the root's Kent key (parent -1, empty name). */
static void
addrootup(Blk *b, uvlong qid)
{
	char k[Upksz], v[Keymax];
	int nv;

	packupkey(k, qid);
	nv = packdkey(v, sizeof v, -1, "", 0);
	addkv(b, k, Upksz, v, nv);
}

static void
addlabel(Blk *b, char *name, vlong gen, u32int flags)
{
	char k[Keymax], v[Snapsz+4];
	int nk;

	nk = packlabel(k, sizeof k, name);
	packlblval(v, gen, flags);
	addkv(b, k, nk, v, sizeof v);
}

static void
addsnap(Blk *b, vlong gen, int nref, vlong pred, vlong base, Bptr root)
{
	char k[Snapsz], v[Treesz];
	Tree t;

	memset(&t, 0, sizeof t);
	t.nref = nref;
	t.nlbl = 1;
	t.ht = 1;
	t.gen = gen;
	t.pred = pred;
	t.succ = -1;
	t.base = base;
	t.bp = root;
	packsnapkey(k, gen);
	packtree(v, &t);
	addkv(b, k, Snapsz, v, Treesz);
}

static int
putblk(Blk *b)
{
	finalize(b);
	return devwrite(b->bp.addr, b->buf, Blksz);
}

/*
 * The trees of a fresh volume (format §6.5 with §17.9): main and adm
 * root leaves, the users file, the snap tree leaf.  Allocation order
 * decides the addresses: the leaves from the top of arena 0, the users
 * block from the bottom of arena 1.
 */
static int
reamtrees(char *users, Bptr *snaproot)
{
	Blk *mb, *ab, *ub, *sb;
	char k[Offksz], v[Ptrsz];
	Tree t;
	int r, n;

	memset(&t, 0, sizeof t);
	t.memgen = 0;
	mb = ab = ub = sb = nil;
	r = -1;
	n = strlen(users);
	if((mb = newblk(&t, Tleaf, 0)) == nil
	|| (ab = newblk(&t, Tleaf, 0)) == nil
	|| (ub = allocblk(&t, Tdat, 0, 1)) == nil
	|| (sb = newblk(&t, Tleaf, 0)) == nil)
		goto out;

	adddir(mb, -1, "", Qmain, QTDIR, DMDIR|0775, 0);
	addrootup(mb, Qmain);
	if(putblk(mb) == -1)
		goto out;

	memcpy(ub->buf, users, n);
	if(putblk(ub) == -1)
		goto out;

	packdatkey(k, Qusers, 0);
	packbp(v, &ub->bp);
	addkv(ab, k, Offksz, v, Ptrsz);
	adddir(ab, Qadm, "ctl", Qctl, 0, 0664, 0);
	adddir(ab, Qadm, "users", Qusers, 0, 0664, n);
	adddir(ab, Qadm, "status", Qstatus, 0, 0664, 0);
	adddir(ab, -1, "", Qadm, QTDIR, DMDIR|0775, 0);
	addrootup(ab, Qadm);
	if(putblk(ab) == -1)
		goto out;

	addlabel(sb, "adm", 1, Lmut);
	addlabel(sb, "empty", 0, 0);
	addlabel(sb, "main", 2, Lmut);
	addsnap(sb, 0, 2, -1, -1, mb->bp);
	addsnap(sb, 1, 0, -1, 0, ab->bp);
	addsnap(sb, 2, 0, -1, 0, mb->bp);
	if(putblk(sb) == -1)
		goto out;
	*snaproot = sb->bp;
	r = 0;
out:
	dropblk(mb);
	dropblk(ab);
	dropblk(ub);
	dropblk(sb);
	return r;
}

static int
writesuper(Super *s)
{
	char *buf;
	int r;

	buf = emalloc(Blksz);
	packsuper(buf, s);
	r = -1;
	if(devwrite(0, buf, Blksz) == 0 && devwrite(fs->size - Blksz, buf, Blksz) == 0)
		r = devsync();
	free(buf);
	return r;
}

/* Format dev for user (format §10.2); everything is written synchronously. */
int
reamfs(char *dev, char *user, vlong cachesz)
{
	vlong sz, asz;
	char *users, *buf;
	Super s;
	Arena *a;
	int i, n, r;

	if((users = reamusers(user)) == nil)
		return -1;
	if(openfs(dev, 0, cachesz) == -1){
		free(users);
		return -1;
	}
	r = -1;
	buf = emalloc(Blksz);
	memset(&s, 0, sizeof s);
	if(fs->size < Minream){
		werrstr("ream: disk too small");
		goto out;
	}
	sz = fs->size - 2*Blksz;
	n = (sz + Arenamax - 1)/Arenamax;
	n = MIN(MAX(n, Reamminarena), Reammaxarena);
	if(cachefits(n) == -1)
		goto out;
	asz = sz/n;
	asz = asz - asz % Blksz - 2*Blksz;
	printf("reaming %s\n", dev);
	fs->arenas = emalloc(n*sizeof(Arena));
	for(i = 0; i < n; i++){
		a = &fs->arenas[i];
		a->base = Blksz + i*(asz + 2*Blksz);
		a->size = asz;
		printf("\tarena %d: %lld blocks at %llx\n", i, (long long)(asz/Blksz), (unsigned long long)a->base);
		fs->narena++;
		if(initarena(a, 0) == -1)
			goto out;
	}
	fflush(stdout);
	s.narena = n;
	s.ht = 1;
	if(reamtrees(users, &s.root) == -1)
		goto out;
	s.arenas = emalloc(n*sizeof(Bptr));
	for(i = 0; i < n; i++){
		a = &fs->arenas[i];
		if(flusharena(a, buf) == -1)
			goto out;
		s.arenas[i] = (Bptr){a->base, a->hdhash, -1};
	}
	s.nextqid = 3;
	s.nextgen = 3;
	s.qgen = 0;
	if(devsync() == -1)
		goto out;
	r = writesuper(&s);
out:
	free(s.arenas);
	free(buf);
	free(users);
	if(r == -1){
		char e[Errmax];

		snprintf(e, sizeof e, "%s", errstr());
		closefs();
		werrstr("%s", e);
	}else
		closefs();
	return r;
}

/*
 * Grow (format §10.4): four new arenas in the space past the last one,
 * then a commit that writes every arena pointer with its real hash and
 * the backup superblock at the new end of the device.
 */
int
growfs(char *dev, vlong cachesz)
{
	vlong end, space, asz;
	Arena *na, *a, *l;
	int i, n, o;

	if(loadfs(dev, 0, cachesz) == -1)
		return -1;
	l = &fs->arenas[fs->narena-1];
	end = l->base + l->size + 2*Blksz;
	space = fs->size - 2*Blksz - end;
	if(space < Growmin){
		werrstr("new arenas too small (%lld < %lld), not growing", (long long)space, (long long)Growmin);
		goto err;
	}
	n = fs->narena + Growarenas;
	if(n > Maxarena){
		werrstr("cannot grow to %d arenas: at most %d", n, Maxarena);
		goto err;
	}
	if(cachefits(n) == -1)
		goto err;
	asz = space/Growarenas;
	asz = asz - asz % Blksz - 2*Blksz;
	printf("growing %s\n", dev);
	/* the syncer is idle once the queue is drained: the arenas may move */
	if(qfence() == -1)
		goto err;
	na = emalloc(n*sizeof(Arena));
	memcpy(na, fs->arenas, fs->narena*sizeof(Arena));
	for(i = 0; i < fs->narena; i++)
		qlockinit(&na[i].lk);
	free(fs->arenas);
	fs->arenas = na;
	o = fs->narena;
	for(i = o; i < n; i++){
		a = &fs->arenas[i];
		a->base = end + (i - o)*(asz + 2*Blksz);
		a->size = asz;
		printf("\tarena %d: %lld blocks at %llx\n", i, (long long)(asz/Blksz), (unsigned long long)a->base);
		fs->narena++;
		if(initarena(a, fs->qgen) == -1)
			goto err;
	}
	fflush(stdout);
	if(haltfs() == -1)
		goto err;
	closefs();
	return 0;
err:
	{
		char e[Errmax];

		snprintf(e, sizeof e, "%s", errstr());
		closefs();
		werrstr("%s", e);
	}
	return -1;
}
