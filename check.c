/*
 * check.c: the tree invariant checker (runtime §7.1, without its bugs).
 *
 * Every node reachable from the root is read (getblk verifies its hash
 * against the pointer that names it) and checked: node layout, height,
 * key order, that every key, separator and buffered message lies in the
 * range its parent gives the node, that the fill recorded in the parent
 * is the child's, that buffered messages are valid, and that no node or
 * data block it reaches is free in the allocator.  Each problem is
 * reported with the block address and the key, and counted.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

static void
bad(Chk *c, vlong addr, char *k, int nk, char *fmt, ...)
{
	char line[512], kb[80], why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if(k != nil)
		snprintf(line, sizeof line, "node %llx key %s: %s",
			(unsigned long long)addr, keyfmt(kb, sizeof kb, k, nk), why);
	else
		snprintf(line, sizeof line, "node %llx: %s", (unsigned long long)addr, why);
	if(c->out != nil)
		c->out(c->arg, line);
	else
		warn("check: %s", line);
	c->nbad++;
}

static int
below(Key *k, char *p, int n)
{
	Key x;

	if(k == nil)
		return 0;
	x.k = p;
	x.nk = n;
	return keycmp(&x, k) < 0;
}

static int
atorabove(Key *k, char *p, int n)
{
	Key x;

	if(k == nil)
		return 0;
	x.k = p;
	x.nk = n;
	return keycmp(&x, k) >= 0;
}

/* A buffered message must be one an upsert would take. */
static void
checkmsg(Chk *c, Blk *b, Msg *m)
{
	if(m->op < Oinsert || m->op >= Nmsgtype){
		bad(c, b->bp.addr, m->kv.k, m->kv.nk, "invalid message op %d", m->op);
		return;
	}
	if(msgcheck(m) < 0)
		bad(c, b->bp.addr, m->kv.k, m->kv.nk, "%s", errstr());
}

/*
 * The whole volume (runtime §7.1, without its gaps): the snap tree and
 * every snapshot's tree checked, every data block read and verified,
 * the snapshot graph and counters checked, every arena's free map
 * checked for order, overlap and its used count, every allocation log
 * chain read from the disk and verified by its hashes, and every block
 * something names (trees, data, deadlists and the blocks they list,
 * allocation logs, frees waiting for a commit) compared with the
 * allocator: a named block that is free is an error, and so is a block
 * named as two different things (a node and a data block, data of two
 * different file offsets...); an allocated block nothing names is a
 * leak, counted in *leaked.  Counters that are too high (older volumes,
 * format §18.2-3) are leaks too, not errors: each such record counts as
 * one leaked block, whatever it holds.  Leaks are exact at a quiet
 * point: after a sync, once the frees it released reached the
 * allocator.  Takes fs->mutlk.
 *
 * One walk does it all: each tree is checked and its blocks named in
 * the same pass, and a subtree already named (shared by snapshots) is
 * not walked again (see shared()).  What is named is kept in bitmaps,
 * one bit per block per arena, and compared with a bitmap of the free
 * map built once at the end, so no block costs a lookup in the
 * allocator or an allocation.  The memory this takes beside the cache
 * is bounded by the volume's size: six bits per 16 KiB block (named,
 * two for what as, listed by a deadlist, held for a commit, free), 48
 * KiB per GiB of volume, 48 MiB for a TiB; plus Nrun runs of Runmax
 * blocks of buffer for reading data (6 MiB), Npend data pointers waiting
 * to be sorted (1.2 MiB), and the map below of the data blocks, 16 bytes per data
 * pointer at most twice over.
 */

/* What a block is named as, to find one block used as two things. */
enum {
	Unode	= 1,
	Udata,
	Ulog,
	Udlist,
};

static char *usename[] = {
	[Unode] = "tree node",
	[Udata] = "data block",
	[Ulog] = "allocation log block",
	[Udlist] = "deadlist block",
};

enum {
	Runmax	= 64,	/* data blocks read with one pread: 1 MiB */
	Nrun	= 6,	/* runs of buffer: being filled, read and hashed, or verified */
	Nhasher	= 2,	/* threads that read and hash runs, while the walk goes on */
	Whymax	= 32,	/* bytes of a data key kept to name it */
	Npend	= 16384,	/* data blocks named, sorted by address before they are read: 256 MB */
};

/* Data block address -> a hash of the key that names it. */
typedef struct Umap	Umap;
struct Umap {
	vlong	*addr;		/* addr+1; 0 empty */
	uvlong	*tag;
	long	n;
	long	cap;
};

/* Arena i's blocks, one bit (use: two) per block from its base. */
typedef struct Amap	Amap;
struct Amap {
	vlong	base;
	vlong	nblk;
	uchar	*reach;		/* named as something: use says what */
	uchar	*use;		/* what it was named as first, less 1: 2 bits */
	uchar	*listed;	/* listed by a deadlist */
	uchar	*held;		/* a free waiting for a commit */
	uchar	*free;		/* free or pending free in the allocator, at the end */
};

/* A data block waiting to be verified, and who named it. */
typedef struct Dref	Dref;
struct Dref {
	Bptr	bp;
	vlong	node;
	int	nk;
	char	k[Whymax];
};

/*
 * Consecutive data blocks, read with one pread and hashed by a hasher
 * thread; the walk verifies what it found (ok) when the run comes back.
 */
typedef struct Drun	Drun;
struct Drun {
	Drun	*next;		/* the free list */
	Dref	ref[Runmax];
	uchar	ok[Runmax];
	int	n;
	char	*buf;		/* Runmax blocks */
};

typedef struct Fsck	Fsck;
struct Fsck {
	Chk	c;
	Amap	*am;
	int	nam;
	int	last;		/* the arena of the last lookup */
	Umap	dtag;
	Dref	*pend;		/* Npend data blocks named, not in runs yet */
	int	npend;
	Drun	*runs;		/* Nrun of them */
	Drun	*idle;		/* runs neither filled nor out */
	Drun	*cur;		/* the run being filled */
	int	nout;		/* runs sent to the hashers, not verified yet */
	Chan	*todo;		/* runs to read and hash */
	Chan	*done;		/* runs read and hashed */
	pthread_t hasher[Nhasher];
	int	nhasher;	/* 0: the walk reads and hashes itself */
	vlong	leaks;
	int	nuse;		/* of c.nbad, blocks named twice: not the tree's structure */
	int	ndat;		/* of c.nbad, data blocks that do not verify: neither */
	Chkstat	st;
};

static void
fbad(Fsck *f, char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if(f->c.out != nil)
		f->c.out(f->c.arg, line);
	else
		warn("check: %s", line);
	f->c.nbad++;
}

static void
fleak(Fsck *f, vlong n, char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if(f->c.out != nil)
		f->c.out(f->c.arg, line);
	else
		warn("check: %s", line);
	f->leaks += n;
}

static int
bit(uchar *m, vlong i)
{
	return (m[i>>3] >> (i&7)) & 1;
}

static void
setbit(uchar *m, vlong i)
{
	m[i>>3] |= 1 << (i&7);
}

/* Set bits [i, j) of m. */
static void
setbits(uchar *m, vlong i, vlong j)
{
	for(; i < j && (i&7) != 0; i++)
		setbit(m, i);
	if(j - i >= 8){
		memset(m + (i>>3), 0xff, (j - i) >> 3);
		i += (j - i) & ~7LL;
	}
	for(; i < j; i++)
		setbit(m, i);
}

static int
getuse(Amap *m, vlong i)
{
	return ((m->use[i>>2] >> (2*(i&3))) & 3) + 1;
}

static void
setuse(Amap *m, vlong i, int u)
{
	m->use[i>>2] |= (u-1) << (2*(i&3));
}

static void
amapinit(Fsck *f)
{
	Amap *m;
	Arena *a;
	int i;

	f->nam = fs->narena;
	f->am = emalloc(f->nam * sizeof *f->am);
	for(i = 0; i < f->nam; i++){
		a = &fs->arenas[i];
		m = &f->am[i];
		m->base = a->base;
		m->nblk = (a->size + 2*Blksz) / Blksz;
		m->reach = emalloc((m->nblk+7)/8);
		m->listed = emalloc((m->nblk+7)/8);
		m->held = emalloc((m->nblk+7)/8);
		m->use = emalloc((m->nblk+3)/4);
		m->free = emalloc((m->nblk+7)/8);
	}
}

static void
amapfree(Fsck *f)
{
	int i;

	for(i = 0; i < f->nam; i++){
		free(f->am[i].reach);
		free(f->am[i].listed);
		free(f->am[i].held);
		free(f->am[i].use);
		free(f->am[i].free);
	}
	free(f->am);
	f->am = nil;
}

/* The map of the arena holding the block at addr, and its index there; nil if none. */
static Amap*
amapfind(Fsck *f, vlong addr, vlong *i)
{
	int lo, hi, mid;
	Amap *m;

	if(addr < 0 || addr % Blksz != 0 || f->nam == 0)
		return nil;
	m = &f->am[f->last];
	if(addr < m->base || addr >= m->base + m->nblk*Blksz){
		lo = 0;
		hi = f->nam;
		while(lo < hi){
			mid = (lo + hi)/2;
			if(f->am[mid].base <= addr)
				lo = mid+1;
			else
				hi = mid;
		}
		if(lo == 0)
			return nil;
		m = &f->am[lo-1];
		if(addr >= m->base + m->nblk*Blksz)
			return nil;
		f->last = lo-1;
	}
	*i = (addr - m->base) / Blksz;
	return m;
}

/* Name the block at addr without saying as what (a free waiting for a commit). */
static void
hold(Fsck *f, vlong addr)
{
	Amap *m;
	vlong i;

	if((m = amapfind(f, addr, &i)) != nil)
		setbit(m->held, i);
}

/*
 * Name addr as a u: 1 if it was not named as anything yet.  A block
 * named again must be named as the same thing (a shared subtree, a
 * file's data shared by snapshots): if not, 0 with *was what it was
 * named as first, for the caller to report.  A block outside every
 * arena is left to the read that follows, which names the error.
 */
static int
mark(Fsck *f, vlong addr, int u, int *was)
{
	Amap *m;
	vlong i;

	*was = u;
	if((m = amapfind(f, addr, &i)) == nil)
		return 1;
	if(!bit(m->reach, i)){
		setbit(m->reach, i);
		setuse(m, i, u);
		return 1;
	}
	*was = getuse(m, i);
	return 0;
}

/* Name addr as a u, reporting a block used as two things: 1 if it was not named yet. */
static int
markas(Fsck *f, vlong addr, int u, char *who)
{
	int o;

	if(mark(f, addr, u, &o))
		return 1;
	if(o != u){
		fbad(f, "block %llx used twice: as a %s and as a %s (%s)", (unsigned long long)addr,
			usename[o], usename[u], who);
		f->nuse++;
	}
	return 0;
}

static long
uslot(Umap *m, vlong a)
{
	long i;

	i = ihash(a) & (m->cap-1);
	while(m->addr[i] != 0 && m->addr[i] != a+1)
		i = (i+1) & (m->cap-1);
	return i;
}

static void
ugrow(Umap *m)
{
	Umap o;
	long i, j;

	o = *m;
	m->cap = o.cap ? 2*o.cap : 1024;
	m->addr = emalloc(m->cap*sizeof(vlong));
	m->tag = emalloc(m->cap*sizeof(uvlong));
	for(i = 0; i < o.cap; i++)
		if(o.addr[i] != 0){
			j = uslot(m, o.addr[i]-1);
			m->addr[j] = o.addr[i];
			m->tag[j] = o.tag[i];
		}
	free(o.addr);
	free(o.tag);
}

static void
ufree(Umap *m)
{
	free(m->addr);
	free(m->tag);
	memset(m, 0, sizeof *m);
}

/* Who names a data block, for a report. */
static char*
dwho(char *who, int n, vlong node, char *k, int nk)
{
	char kb[80];

	if(nk == Offksz)
		snprintf(who, n, "node %llx: file %llx offset %llx", (unsigned long long)node,
			(unsigned long long)get64(k+1), (unsigned long long)get64(k+9));
	else
		snprintf(who, n, "node %llx key %s", (unsigned long long)node, keyfmt(kb, sizeof kb, k, nk));
	return who;
}

/*
 * A run read with one pread and each block hashed against its pointer:
 * what a hasher thread does, beside the walk; it touches nothing but
 * the run and the device.
 */
static void
hashrun(Drun *r)
{
	int i, ok;

	ok = devreadn(r->ref[0].bp.addr, r->buf, r->n) == 0;
	for(i = 0; i < r->n; i++)
		r->ok[i] = ok && blkhash(r->buf + i*Blksz, Blksz) == r->ref[i].bp.hash;
}

static void
hasherproc(void *arg)
{
	Fsck *f;
	Drun *r;

	f = arg;
	while((r = chrecv(f->todo)) != nil){
		hashrun(r);
		chsend(f->done, r);
	}
}

/*
 * A run back from the hashers, verified.  A block that did not verify
 * goes through getblk: it may be a write still in the cache, not on the
 * disk yet (the console's check runs beside the server), which getblk
 * finds there; else getblk reads it alone and names the error as a
 * read would.  Nothing read for runs enters the cache: the check must
 * not evict the trees it walks for data it reads once.
 */
static void
settle(Fsck *f, Drun *r)
{
	char who[128];
	Dref *d;
	Blk *b;
	int i;

	for(i = 0; i < r->n; i++){
		d = &r->ref[i];
		f->st.data++;
		if(r->ok[i])
			continue;
		if((b = getblk(d->bp, GBraw)) == nil){
			fbad(f, "%s: data block %llx: %s", dwho(who, sizeof who, d->node, d->k, d->nk),
				(unsigned long long)d->bp.addr, errstr());
			f->ndat++;
			continue;
		}
		dropblk(b);
	}
	r->n = 0;
	r->next = f->idle;
	f->idle = r;
}

/* Wait for a run from the hashers and verify it; the wait counts as time spent on data. */
static void
settleone(Fsck *f)
{
	vlong t0;

	t0 = monons();
	settle(f, chrecv(f->done));
	f->nout--;
	f->st.datans += monons() - t0;
}

/* Send the run being filled to the hashers (or read and hash it here) and start another. */
static void
flushrun(Fsck *f)
{
	Drun *r;
	vlong t0;

	r = f->cur;
	if(r->n == 0)
		return;
	if(f->nhasher == 0){
		t0 = monons();
		hashrun(r);
		settle(f, r);
		f->st.datans += monons() - t0;
	}else{
		chsend(f->todo, r);
		f->nout++;
	}
	while(f->idle == nil)
		settleone(f);
	f->cur = f->idle;
	f->idle = f->cur->next;
}

static int
drefcmp(const void *a, const void *b)
{
	vlong x, y;

	x = ((Dref*)a)->bp.addr;
	y = ((Dref*)b)->bp.addr;
	return x < y ? -1 : x > y;
}

/*
 * The data blocks named since the last drain, in the order of their
 * addresses, into runs for the hashers.  The walk finds them in key
 * order, which the allocator scatters over the arenas (a small file's
 * block goes to the arena its qid picks): sorted, the blocks of each
 * arena lie together, and one pread reads many.
 */
static void
drain(Fsck *f)
{
	Drun *r;
	Dref *d;
	int i;

	qsort(f->pend, f->npend, sizeof *f->pend, drefcmp);
	for(i = 0; i < f->npend; i++){
		d = &f->pend[i];
		r = f->cur;
		if(r->n == Runmax || (r->n > 0 && r->ref[r->n-1].bp.addr + Blksz != d->bp.addr)){
			flushrun(f);
			r = f->cur;
		}
		r->ref[r->n++] = *d;
	}
	f->npend = 0;
}

static void
hashersinit(Fsck *f)
{
	int i;

	f->pend = emalloc(Npend * sizeof *f->pend);
	f->runs = emalloc(Nrun * sizeof *f->runs);
	for(i = 0; i < Nrun; i++){
		f->runs[i].buf = emalloc(Runmax*Blksz);
		f->runs[i].next = f->idle;
		f->idle = &f->runs[i];
	}
	f->cur = f->idle;
	f->idle = f->cur->next;
	f->todo = mkchan(Nrun);
	f->done = mkchan(Nrun);
	for(i = 0; i < Nhasher; i++)
		if(launch(hasherproc, f, "hasher", &f->hasher[f->nhasher]) == 0)
			f->nhasher++;
}

/* Every run read and verified, the hashers gone. */
static void
hashersdone(Fsck *f)
{
	int i;

	drain(f);
	flushrun(f);
	while(f->nout > 0)
		settleone(f);
	chclose(f->todo);
	for(i = 0; i < f->nhasher; i++)
		pthread_join(f->hasher[i], nil);
	freechan(f->todo);
	freechan(f->done);
	for(i = 0; i < Nrun; i++)
		free(f->runs[i].buf);
	free(f->runs);
	free(f->pend);
}

/*
 * A file's data block: named as the data of one file offset (a
 * snapshot may name it again for the same offset), and read once.
 */
static void
markdat(Fsck *f, vlong node, char *k, int nk, char *v, int nv)
{
	char who[128];
	Umap *m;
	uvlong t;
	Dref *d;
	Bptr bp;
	long i;
	int o;

	if(nv != Ptrsz)
		return;
	bp = unpackbp(v);
	/* a file offset key is two numbers; any other key is hashed whole */
	t = nk == Offksz ? ihash(get64(k+1)) ^ get64(k+9) : blkhash(k, nk);
	m = &f->dtag;
	if(2*(m->n+1) > m->cap)
		ugrow(m);
	i = uslot(m, bp.addr);
	if(m->addr[i] != 0){
		if(m->tag[i] != t){
			fbad(f, "block %llx used twice: two different data blocks (%s)", (unsigned long long)bp.addr,
				dwho(who, sizeof who, node, k, nk));
			f->nuse++;
		}
		return;
	}
	m->addr[i] = bp.addr+1;
	m->tag[i] = t;
	m->n++;
	if(!mark(f, bp.addr, Udata, &o)){
		if(o != Udata){
			fbad(f, "block %llx used twice: as a %s and as a %s (%s)", (unsigned long long)bp.addr,
				usename[o], usename[Udata], dwho(who, sizeof who, node, k, nk));
			f->nuse++;
		}
		return;
	}
	if(f->npend == Npend)
		drain(f);
	d = &f->pend[f->npend++];
	d->bp = bp;
	d->node = node;
	d->nk = nk < Whymax ? nk : Whymax;
	memcpy(d->k, k, d->nk);
}

/*
 * A subtree named before, now named again (by another snapshot's tree,
 * or twice in one tree, which its bounds then reject): it was checked
 * the first time, so what remains is what depends on the new parent.
 * The node must be the one the pointer names (getblk checks the hash,
 * from the cache), the fill must be the one recorded, its type must fit
 * the height, and its keys must lie in [lo, hi): its least key is the
 * first separator or message of its root (the children's keys are at
 * or above their separators), its greatest the last key of the
 * rightmost leaf or the last message of a node on the path down to it.
 * Following that path also finds a node at the wrong height (a loop).
 */
static void
shared(Chk *c, Bptr bp, int ht, Key *lo, Key *hi, int fill)
{
	Kvp kv;
	Msg m;
	Blk *b;
	int h;

	if((b = getblk(bp, 0)) == nil){
		bad(c, bp.addr, nil, 0, "unreadable: %s", errstr());
		return;
	}
	if(fill >= 0 && blkfill(b) != fill)
		bad(c, bp.addr, nil, 0, "fill %d, parent recorded %d", blkfill(b), fill);
	if(b->nval > 0 && nodeent(b, 0, &kv) == 0 && below(lo, kv.k, kv.nk))
		bad(c, bp.addr, kv.k, kv.nk, "key below the node's separator");
	if(b->type == Tpivot && b->nbuf > 0 && nodemsg(b, 0, &m) == 0 && below(lo, m.kv.k, m.kv.nk))
		bad(c, bp.addr, m.kv.k, m.kv.nk, "message below the node's separator");
	for(h = ht; h >= 1; h--){
		if(!nodeok(b) || (b->type == Tleaf) != (h == 1)){
			bad(c, b->bp.addr, nil, 0, "%s at height %d",
				b->type == Tleaf ? "leaf" : "pivot", h);
			break;
		}
		if(b->type == Tpivot && b->nbuf > 0 && nodemsg(b, b->nbuf-1, &m) == 0
		&& atorabove(hi, m.kv.k, m.kv.nk))
			bad(c, b->bp.addr, m.kv.k, m.kv.nk, "message at or above the next separator");
		if(b->nval == 0 || nodeent(b, b->nval-1, &kv) < 0)
			break;
		if(b->type == Tleaf){
			if(atorabove(hi, kv.k, kv.nk))
				bad(c, b->bp.addr, kv.k, kv.nk, "key at or above the next separator");
			break;
		}
		bp = unpackbp(kv.v);
		dropblk(b);
		if((b = getblk(bp, 0)) == nil){
			bad(c, bp.addr, nil, 0, "unreadable: %s", errstr());
			return;
		}
	}
	dropblk(b);
}

/*
 * Ask the kernel for the children of pivot b the walk has not named
 * yet, all at once, before descending into the first: the reads of a
 * cold volume then overlap, where getblk alone would wait for each in
 * turn.  Consecutive children go in one request.  Only a hint: what is
 * cached, or a device that takes no advice, costs nothing more.
 */
static void
prefetch(Fsck *f, Blk *b)
{
	vlong a, lo, hi, i;
	Amap *m;
	Kvp kv;
	int j;

	lo = hi = -1;
	for(j = 0; j < b->nval; j++){
		if(nodeent(b, j, &kv) < 0 || kv.nv < Ptrsz)
			break;
		a = get64(kv.v);
		if((m = amapfind(f, a, &i)) == nil || bit(m->reach, i))
			continue;
		if(a == hi){
			hi += Blksz;
			continue;
		}
		if(lo != -1)
			posix_fadvise(fs->fd, lo, hi - lo, POSIX_FADV_WILLNEED);
		lo = a;
		hi = a + Blksz;
	}
	if(lo != -1)
		posix_fadvise(fs->fd, lo, hi - lo, POSIX_FADV_WILLNEED);
}

/*
 * Check the node bp names, at height ht, whose keys must lie in
 * [lo, hi) (nil: unbounded), with fill as its parent recorded it
 * (-1 for the root).  With f, name its blocks too: a node named before
 * is only checked against its new parent.
 */
static void
checknode(Chk *c, Fsck *f, Bptr bp, int ht, Key *lo, Key *hi, int fill, int isroot)
{
	Key k, prev, nlo, nhi;
	int i, haveprev;
	Kvp kv, next;
	Blk *b;
	Msg m;

	if(ht < 1 || ht > Maxht){
		bad(c, bp.addr, nil, 0, "height %d", ht);
		return;
	}
	if(f != nil && !markas(f, bp.addr, Unode, "a tree")){
		shared(c, bp, ht, lo, hi, fill);
		return;
	}
	b = getblk(bp, 0);
	if(b == nil){
		bad(c, bp.addr, nil, 0, "unreadable: %s", errstr());
		return;
	}
	if(f != nil)
		f->st.nodes++;
	if(b->type != Tleaf && b->type != Tpivot){
		bad(c, bp.addr, nil, 0, "block type %d in a tree", b->type);
		goto out;
	}
	if((b->type == Tleaf) != (ht == 1)){
		bad(c, bp.addr, nil, 0, "%s at height %d",
			b->type == Tleaf ? "leaf" : "pivot", ht);
		goto out;
	}
	if(!nodeok(b)){
		bad(c, bp.addr, nil, 0, "header out of bounds: nval %d valsz %d nbuf %d bufsz %d",
			b->nval, b->valsz, b->nbuf, b->bufsz);
		goto out;
	}
	/* the whole volume's check compares every named block with the allocator at the end */
	if(f == nil && blkisfree(bp.addr))
		bad(c, bp.addr, nil, 0, "reachable block is free");
	if(fill >= 0 && blkfill(b) != fill)
		bad(c, bp.addr, nil, 0, "fill %d, parent recorded %d", blkfill(b), fill);
	if(b->nval == 0 && (!isroot || b->type == Tpivot))
		bad(c, bp.addr, nil, 0, "empty %s", b->type == Tleaf ? "leaf" : "pivot");

	haveprev = 0;
	for(i = 0; i < b->nval; i++){
		if(nodeent(b, i, &kv) < 0){
			bad(c, bp.addr, nil, 0, "%s", errstr());
			goto out;
		}
		if(kv.nk < 1)
			bad(c, bp.addr, kv.k, kv.nk, "empty key");
		if(haveprev && keycmp(&prev, &(Key){kv.k, kv.nk}) >= 0)
			bad(c, bp.addr, kv.k, kv.nk, "misordered key after %d", i-1);
		if(below(lo, kv.k, kv.nk))
			bad(c, bp.addr, kv.k, kv.nk, "key below the node's separator");
		if(atorabove(hi, kv.k, kv.nk))
			bad(c, bp.addr, kv.k, kv.nk, "key at or above the next separator");
		if(b->type == Tleaf && kv.nk > 0 && kv.k[0] == Kdat){
			if(kv.nv != Ptrsz)
				bad(c, bp.addr, kv.k, kv.nk, "data pointer of %d bytes", kv.nv);
			else if(f != nil)
				markdat(f, bp.addr, kv.k, kv.nk, kv.v, kv.nv);
			else if(blkisfree(unpackbp(kv.v).addr))
				bad(c, bp.addr, kv.k, kv.nk, "data block %llx is free",
					(unsigned long long)unpackbp(kv.v).addr);
		}
		prev.k = kv.k;
		prev.nk = kv.nk;
		haveprev = 1;
	}

	if(b->type == Tpivot){
		haveprev = 0;
		for(i = 0; i < b->nbuf; i++){
			if(nodemsg(b, i, &m) < 0){
				bad(c, bp.addr, nil, 0, "%s", errstr());
				goto out;
			}
			k.k = m.kv.k;
			k.nk = m.kv.nk;
			if(haveprev && keycmp(&prev, &k) > 0)
				bad(c, bp.addr, k.k, k.nk, "misordered message %d", i);
			if(below(lo, k.k, k.nk))
				bad(c, bp.addr, k.k, k.nk, "message below the node's separator");
			if(atorabove(hi, k.k, k.nk))
				bad(c, bp.addr, k.k, k.nk, "message at or above the next separator");
			checkmsg(c, b, &m);
			if(f != nil && m.op == Oinsert && m.kv.nk > 0 && m.kv.k[0] == Kdat)
				markdat(f, bp.addr, m.kv.k, m.kv.nk, m.kv.v, m.kv.nv);
			prev = k;
			haveprev = 1;
		}
		if(f != nil)
			prefetch(f, b);
		for(i = 0; i < b->nval; i++){
			if(nodeent(b, i, &kv) < 0)
				goto out;
			nlo.k = kv.k;
			nlo.nk = kv.nk;
			if(i+1 < b->nval){
				if(nodeent(b, i+1, &next) < 0)
					goto out;
				nhi.k = next.k;
				nhi.nk = next.nk;
				checknode(c, f, unpackbp(kv.v), ht-1, &nlo, &nhi, get16(kv.v+Ptrsz), 0);
			}else
				checknode(c, f, unpackbp(kv.v), ht-1, &nlo, hi, get16(kv.v+Ptrsz), 0);
		}
	}
out:
	dropblk(b);
}

int
checktree(Tree *t, void (*out)(void*, char*), void *arg)
{
	Chk c;
	Bptr bp;
	int ht;

	memset(&c, 0, sizeof c);
	c.t = t;
	c.out = out;
	c.arg = arg;
	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	checknode(&c, nil, bp, ht, nil, nil, -1, 1);
	return c.nbad;
}

/*
 * Check the tree t and name its blocks; 0 if its structure is sound.
 * Its data blocks are verified later, by the hashers: a bad one is
 * reported then, and says nothing of the tree.
 */
static int
walktree(Fsck *f, Tree *t)
{
	Bptr bp;
	int ht, n;

	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	n = f->c.nbad - f->nuse - f->ndat;
	checknode(&f->c, f, bp, ht, nil, nil, -1, 1);
	return f->c.nbad - f->nuse - f->ndat - n;
}

/* A block a deadlist lists: freed in a later snapshot, not named yet by an older one. */
static void
listed(Fsck *f, vlong gen, vlong bgen, vlong addr)
{
	Amap *m;
	vlong i;

	/* what is no block of any arena is left alone, as the allocator leaves it */
	if((m = amapfind(f, addr, &i)) == nil)
		return;
	if(bit(m->listed, i))
		fbad(f, "deadlist (%lld, %lld): block %llx listed twice", (long long)gen, (long long)bgen,
			(unsigned long long)addr);
	setbit(m->listed, i);
}

/* Is the block at addr listed by a deadlist or held for a commit? */
static int
listedorheld(Fsck *f, vlong addr)
{
	Amap *m;
	vlong i;

	if((m = amapfind(f, addr, &i)) == nil)
		return 0;
	return bit(m->listed, i) || bit(m->held, i);
}

static void
markchain(Fsck *f, vlong gen, vlong bgen, Bptr hd, Bptr tl)
{
	vlong n, max, cur;
	Bptr bp;
	Blk *b;
	int o;

	if(hd.addr == -1)
		return;
	max = fs->size / Blksz;
	bp = hd;
	for(n = 0; n < max; n++){
		if(!markas(f, bp.addr, Udlist, "a deadlist chain") || listedorheld(f, bp.addr))
			fbad(f, "deadlist (%lld, %lld): block %llx named twice", (long long)gen, (long long)bgen,
				(unsigned long long)bp.addr);
		if((b = getblk(bp, GBlog)) == nil){
			fbad(f, "deadlist (%lld, %lld): block %llx unreadable: %s", (long long)gen, (long long)bgen,
				(unsigned long long)bp.addr, errstr());
			return;
		}
		f->st.dlists++;
		for(o = 0; o+8 <= b->logsz; o += 8)
			listed(f, gen, bgen, get64(b->data+o));
		cur = bp.addr;
		bp = b->logp;
		dropblk(b);
		if(cur == tl.addr)
			return;
		if(bp.addr == -1){
			fbad(f, "deadlist (%lld, %lld): chain ends before its tail", (long long)gen, (long long)bgen);
			return;
		}
	}
	fbad(f, "deadlist (%lld, %lld): chain does not reach its tail", (long long)gen, (long long)bgen);
}

typedef struct Snapent	Snapent;
struct Snapent {
	Tree	t;
	int	labels;
	int	forks;
};

static Snapent*
findrec(Snapent *s, int n, vlong gen)
{
	int lo, hi, m;

	lo = 0;
	hi = n;
	while(lo < hi){
		m = (lo+hi)/2;
		if(s[m].t.gen < gen)
			lo = m+1;
		else
			hi = m;
	}
	return lo < n && s[lo].t.gen == gen ? &s[lo] : nil;
}

static int
ismemgen(vlong gen)
{
	Mount *m;
	int r;

	r = 0;
	qlock(&fs->mountlk);
	for(m = fs->mounts; m != nil; m = m->next)
		if(m->root->memgen == gen)
			r = 1;
	qunlock(&fs->mountlk);
	return r;
}

/* Labels, records, deadlists: read, cross-checked, their blocks named. */
static void
checksnaps(Fsck *f)
{
	Snapent *s, *x;
	vlong *lg, gen, bgen;
	int ns, nl, i;
	u32int flag;
	Bptr hd, tl;
	Scan *sc;
	Kvp kv;
	Tree t;

	s = nil;
	lg = nil;
	ns = nl = 0;
	sc = emalloc(sizeof *sc);
	btnewscan(sc, "", 0);
	if(btenter(&fs->snap, sc) < 0){
		fbad(f, "snap tree: %s", errstr());
		goto out;
	}
	while(btnext(sc, &kv) == 1){
		switch(kv.k[0]){
		case Klabel:
			if(unpacklblval(kv.v, kv.nv, &gen, &flag) == -1){
				fbad(f, "label %.*s: %s", kv.nk-1, kv.k+1, errstr());
				break;
			}
			if(nl % 64 == 0)
				lg = erealloc(lg, (nl+64)*sizeof *lg);
			lg[nl++] = gen;
			break;
		case Ksnap:
			memset(&t, 0, sizeof t);
			if(kv.nk != Snapsz || unpacktree(&t, kv.v, kv.nv) == -1 || t.gen != (vlong)get64(kv.k+1)){
				fbad(f, "snapshot record %s", keyfmt((char[40]){0}, 40, kv.k, kv.nk));
				break;
			}
			if(ns % 64 == 0)
				s = erealloc(s, (ns+64)*sizeof *s);
			memset(&s[ns], 0, sizeof *s);
			s[ns++].t = t;
			if(walktree(f, &t) != 0)
				fbad(f, "snapshot %lld: its tree is broken", (long long)t.gen);
			break;
		case Kdlist:
			if(kv.nk != Dlksz || unpackdlval(kv.v, kv.nv, &hd, &tl) == -1){
				fbad(f, "deadlist record %s", keyfmt((char[40]){0}, 40, kv.k, kv.nk));
				break;
			}
			gen = get64(kv.k+1);
			bgen = get64(kv.k+9);
			markchain(f, gen, bgen, hd, tl);
			if(findrec(s, ns, gen) == nil && !ismemgen(gen))
				fbad(f, "deadlist (%lld, %lld) of no snapshot", (long long)gen, (long long)bgen);
			break;
		}
	}
	btexit(sc);
	for(i = 0; i < nl; i++){
		if((x = findrec(s, ns, lg[i])) == nil)
			fbad(f, "a label names snapshot %lld, which does not exist", (long long)lg[i]);
		else
			x->labels++;
	}
	for(i = 0; i < ns; i++)
		if(s[i].t.pred == -1 && s[i].t.base != -1 && (x = findrec(s, ns, s[i].t.base)) != nil)
			x->forks++;
	for(i = 0; i < ns; i++){
		t = s[i].t;
		if(t.nlbl < s[i].labels)
			fbad(f, "snapshot %lld: nlbl %d, %d labels", (long long)t.gen, t.nlbl, s[i].labels);
		if(t.nref < s[i].forks)
			fbad(f, "snapshot %lld: nref %d, %d forks", (long long)t.gen, t.nref, s[i].forks);
		if(t.nlbl > s[i].labels || t.nref > s[i].forks)
			fleak(f, 1, "snapshot %lld: counts nlbl %d nref %d for %d labels and %d forks: kept for ever",
				(long long)t.gen, t.nlbl, t.nref, s[i].labels, s[i].forks);
		if(t.succ != -1 && ((x = findrec(s, ns, t.succ)) == nil || x->t.pred != t.gen))
			fbad(f, "snapshot %lld: successor %lld does not lead back", (long long)t.gen, (long long)t.succ);
		if(t.pred != -1 && ((x = findrec(s, ns, t.pred)) == nil || x->t.succ != t.gen))
			fbad(f, "snapshot %lld: predecessor %lld does not lead on", (long long)t.gen, (long long)t.pred);
	}
out:
	free(sc);
	free(s);
	free(lg);
}

/*
 * Arena i's free map: ranges of whole blocks inside the arena, strictly
 * ordered, apart (adjacent ranges should have been merged), and adding
 * up to what the used count says is free.  Under a->lk.
 */
static void
checkfree(Fsck *f, Arena *a, int i)
{
	vlong lo, hi, end, sum;
	Fnode *fn;

	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	end = -1;
	sum = 0;
	for(fn = rangefirst(a); fn != nil; fn = rangenext(a, fn)){
		if(fn->off % Blksz != 0 || fn->len <= 0 || fn->len % Blksz != 0
		|| fn->off < lo || fn->off + fn->len > hi)
			fbad(f, "arena %d: free range %llx+%llx outside the arena or not whole blocks", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len);
		if(end != -1 && fn->off < end)
			fbad(f, "arena %d: free range %llx+%llx overlaps the one before, ending at %llx", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len, (unsigned long long)end);
		else if(end != -1 && fn->off == end)
			fbad(f, "arena %d: free range %llx+%llx adjoins the one before", i,
				(unsigned long long)fn->off, (unsigned long long)fn->len);
		end = fn->off + fn->len;
		sum += fn->len;
	}
	if(a->used != a->size - sum)
		fbad(f, "arena %d: used %lld bytes, but its free map leaves %lld", i,
			(long long)a->used, (long long)(a->size - sum));
}

/*
 * Arena i's allocation log as it is on the disk: every block of the
 * chain from the head the next commit writes to the open tail, each a
 * log block whose header hash covers its entries, entries with valid
 * ops and ranges inside the arena; the chain the arena keeps in memory.
 * Under a->lk.
 */
static void
checklog(Fsck *f, Arena *a, int i)
{
	vlong lo, hi, addr, len;
	uvlong w, h;
	char *buf, *d;
	int n, sz, o, op;
	Bptr bp;

	buf = emalloc(Blksz);
	lo = a->base + 2*Blksz;
	hi = a->base + a->size + 2*Blksz;
	bp = a->loghd;
	d = buf + Loghdsz;
	for(n = 0; n < a->logblks.n; n++){
		if(bp.addr != a->logblks.p[n].addr){
			fbad(f, "arena %d: log block %d at %llx, the chain in memory says %llx", i, n,
				(unsigned long long)bp.addr, (unsigned long long)a->logblks.p[n].addr);
			break;
		}
		markas(f, bp.addr, Ulog, "an allocation log");
		if(devread(bp.addr, buf) == -1){
			fbad(f, "arena %d: log block %llx: %s", i, (unsigned long long)bp.addr, errstr());
			break;
		}
		sz = get16(buf+2);
		if(get16(buf) != Tlog || sz > Logspc){
			fbad(f, "arena %d: log block %llx: a %s block of %d bytes", i,
				(unsigned long long)bp.addr, blktype(get16(buf)), sz);
			break;
		}
		if((h = blkhash(d, sz)) != get64(buf+4)){
			fbad(f, "arena %d: log block %llx: expected hash %llx, found %llx", i,
				(unsigned long long)bp.addr, (unsigned long long)get64(buf+4), (unsigned long long)h);
			break;
		}
		f->st.logs++;
		for(o = 0; o+8 <= sz; o += op == LogAlloc || op == LogFree ? 16 : 8){
			w = get64(d+o);
			op = w & 0xff;
			if(op == LogSync)
				continue;
			addr = w & ~0xffULL;
			len = Blksz;
			if(op == LogAlloc || op == LogFree)
				len = o+16 <= sz ? (vlong)get64(d+o+8) : -1;
			else if(op != LogAlloc1 && op != LogFree1){
				fbad(f, "arena %d: log block %llx entry %d: invalid op %d", i,
					(unsigned long long)bp.addr, o/8, op);
				break;
			}
			if(len <= 0 || len % Blksz != 0 || addr % Blksz != 0 || addr < lo || addr >= hi || len > hi - addr){
				fbad(f, "arena %d: log block %llx entry %d: range %llx+%llx outside the arena", i,
					(unsigned long long)bp.addr, o/8, (unsigned long long)addr, (unsigned long long)len);
				break;
			}
		}
		if(n+1 < a->logblks.n)
			bp = unpackbp(buf+12);
	}
	if(n == a->logblks.n && (a->logtl == nil || bp.addr != a->logtl->bp.addr))
		fbad(f, "arena %d: the log chain ends at %llx, not at the open tail", i, (unsigned long long)bp.addr);
	free(buf);
}

/*
 * The trees of mounted labels with changes not committed yet name
 * blocks too: checked and named like the committed ones.
 */
static void
checkmounts(Fsck *f)
{
	Mount *m;
	Tree *t;

	qlock(&fs->mountlk);
	for(m = fs->mounts; m != nil; m = m->next){
		t = m->root;
		if(t == &fs->snap)
			continue;
		if(walktree(f, t) != 0)
			fbad(f, "mounted label %s: its tree is broken", m->name);
	}
	qunlock(&fs->mountlk);
}

/* Set the blocks of the ranges from fn on in m->free, clipped to the arena. */
static void
freebits(Amap *m, Arena *a, Fnode *fn, Fnode *(*next)(Arena*, Fnode*))
{
	vlong i, j;

	for(; fn != nil; fn = next(a, fn)){
		i = (fn->off - m->base) / Blksz;
		j = (fn->off + fn->len - m->base + Blksz-1) / Blksz;
		if(i < 0)
			i = 0;
		if(j > m->nblk)
			j = m->nblk;
		if(i < j)
			setbits(m->free, i, j);
	}
}

/*
 * Arena a's named blocks against its free map, eight blocks at a time:
 * a named block that is free is an error, an allocated block nothing
 * names a leak.  The free map is read now, at the end, under a->lk.
 */
static void
compare(Fsck *f, Amap *m, Arena *a)
{
	vlong j, i, nb, lo, hi, nleak, first;
	uchar nm, v;
	int k;

	qlock(&a->lk);
	freebits(m, a, rangefirst(a), rangenext);
	freebits(m, a, pendfirst(a), pendnext);
	qunlock(&a->lk);
	/* the two headers, and the last two blocks of an arena, are never used (format §5) */
	lo = 2;
	hi = m->nblk - 2;
	nleak = 0;
	first = -1;
	nb = (m->nblk + 7) / 8;
	for(j = 0; j < nb; j++){
		nm = m->reach[j] | m->listed[j] | m->held[j];
		if((v = nm & m->free[j]) != 0)
			for(k = 0; k < 8; k++)
				if(v & (1<<k))
					fbad(f, "block %llx is named but free", (unsigned long long)(m->base + (8*j+k)*Blksz));
		v = ~(nm | m->free[j]);
		if(8*j < lo || 8*j+8 > hi)
			for(k = 0; k < 8; k++){
				i = 8*j + k;
				if(i < lo || i >= hi)
					v &= ~(1<<k);
			}
		if(v == 0)
			continue;
		if(first == -1)
			first = m->base + (8*j + __builtin_ctz(v))*Blksz;
		nleak += __builtin_popcount(v);
	}
	if(nleak > 0)
		fleak(f, nleak, "arena %llx: %lld allocated blocks nothing names, the first %llx",
			(unsigned long long)m->base, (long long)nleak, (unsigned long long)first);
}

int
checkstat(Linefn *out, void *arg, Chkstat *st)
{
	Fsck f;
	Dlist *d;
	Arena *a;
	int i, j;
	vlong t0;

	t0 = monons();
	memset(&f, 0, sizeof f);
	f.c.out = out;
	f.c.arg = arg;
	hashersinit(&f);
	qlock(&fs->mutlk);
	epochstart();
	amapinit(&f);
	if(walktree(&f, &fs->snap) != 0)
		fbad(&f, "the snap tree is broken");
	checksnaps(&f);
	checkmounts(&f);
	hashersdone(&f);
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		checkfree(&f, a, i);
		checklog(&f, a, i);
		for(j = 0; j < a->logblks.n; j++)
			hold(&f, a->logblks.p[j].addr);
		qunlock(&a->lk);
	}
	lock(&fs->deferlk);
	for(j = 0; j < fs->deferred.n; j++)
		hold(&f, fs->deferred.p[j].addr);
	unlock(&fs->deferlk);
	for(d = fs->dlists; d != nil; d = d->next)
		if(d->ins != nil)
			hold(&f, d->ins->bp.addr);
	for(i = 0; i < fs->narena; i++)
		compare(&f, &f.am[i], &fs->arenas[i]);
	epochend();
	qunlock(&fs->mutlk);
	amapfree(&f);
	ufree(&f.dtag);
	f.st.nbad = f.c.nbad;
	f.st.leaked = f.leaks;
	f.st.ns = monons() - t0;
	if(st != nil)
		*st = f.st;
	return f.c.nbad;
}

int
checkfs(void (*out)(void*, char*), void *arg, vlong *leaked)
{
	Chkstat st;
	int bad;

	bad = checkstat(out, arg, &st);
	if(leaked != nil)
		*leaked = st.leaked;
	return bad;
}

/*
 * What a check read and how fast, on one line.  The rate is of
 * metadata: the bytes of the distinct tree nodes, deadlist blocks and
 * allocation log blocks it read and verified, over the wall time of the
 * whole check, reading and hashing every data block included; then the
 * same bytes over the wall time less the time the walk spent on data
 * runs: waiting for the hashers (which read and hash beside the walk)
 * and verifying what they found, or reading and hashing itself when it
 * has no hashers.  What remains is the walk and the allocator
 * comparison.  MB is 2^20 bytes.
 */
char*
checkrate(char *buf, int n, Chkstat *st)
{
	double mb, s, ds;

	mb = (double)(st->nodes + st->dlists + st->logs) * Blksz / (1024*1024);
	s = st->ns / 1e9;
	ds = st->datans / 1e9;
	snprintf(buf, n, "checked %lld tree nodes, %lld deadlist blocks, %lld log blocks (%.1f MB of metadata)"
		" and %lld data blocks (%.1f MB, %.3f s) in %.3f s: %.1f MB of metadata per second, %.1f without the data",
		(long long)st->nodes, (long long)st->dlists, (long long)st->logs, mb,
		(long long)st->data, (double)st->data * Blksz / (1024*1024), ds, s,
		s > 0 ? mb / s : 0, s - ds > 0 ? mb / (s - ds) : 0);
	return buf;
}

/*
 * The check of the console's check and of gefs -c (runtime §7.1): every
 * problem, one line each, then the verdict on one line of its own: "ok",
 * or "broken: N problems, M leaked blocks".  0 if ok, else -1 with the
 * verdict as the error.  A leak is a failure too: after any crash the
 * volume must come back without one.
 */
int
checkvol(Linefn *out, void *arg)
{
	return checkvolstat(out, arg, nil);
}

/* checkvol, with what the check read and how fast on a line before the verdict. */
int
checkvolstat(Linefn *out, void *arg, Chkstat *st)
{
	char v[256];
	Chkstat s;
	vlong leaks;
	int bad;

	bad = checkstat(out, arg, &s);
	leaks = s.leaked;
	if(st != nil){
		*st = s;
		out(arg, checkrate(v, sizeof v, &s));
	}
	if(bad == 0 && leaks == 0){
		out(arg, "ok");
		return 0;
	}
	snprintf(v, sizeof v, "broken: %d problems, %lld leaked blocks", bad, (long long)leaks);
	out(arg, v);
	werrstr("%s: %d problems, %lld leaked blocks", Echeck, bad, (long long)leaks);
	return -1;
}
