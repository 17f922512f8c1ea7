/*
 * dump.c: debugging dumps of trees for the console's show tree
 * (runtime §7.2), one line at a time through a Linefn.
 *
 * Pointers print as (addr,hash,gen), keys by their type, values by the
 * type of their key (or of the message that carries them), and a tree as
 * its blocks, each entry of a block on a line of its own behind one
 * "|   " per level.  Blocks that do not read (a bad hash, say) show as
 * NIL with the reason, and the dump goes on.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"

typedef struct Line	Line;
struct Line {
	char	s[4*Keymax + 2*Inlmax + 512];
	int	n;
};

static char *opname[Nmsgtype] = {
	[Onop] =	"Onop",
	[Oinsert] =	"Oinsert",
	[Odelete] =	"Odelete",
	[Oclearb] =	"Oclearb",
	[Oclobber] =	"Oclobber",
	[Owstat] =	"Owstat",
	[Orelink] =	"Orelink",
	[Oreprev] =	"Oreprev",
	[Oincref] =	"Oincref",
};

static void
lprint(Line *l, char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lprint(Line *l, char *fmt, ...)
{
	va_list ap;
	int n;

	if(l->n >= (int)sizeof l->s - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
	va_end(ap);
	if(n > 0)
		l->n = MIN(l->n + n, (int)sizeof l->s - 1);
}

static void
lbp(Line *l, Bptr bp)
{
	lprint(l, "(%llx,%016llx,%llx)", (unsigned long long)bp.addr,
		(unsigned long long)bp.hash, (unsigned long long)bp.gen);
}

/* A name from a key or a value, quoted; control bytes escaped. */
static void
lname(Line *l, char *p, int n)
{
	int i;

	lprint(l, "\"");
	for(i = 0; i < n; i++)
		if((uchar)p[i] < 0x20 || p[i] == 0x7f || p[i] == '"')
			lprint(l, "\\x%02x", (uchar)p[i]);
		else
			lprint(l, "%c", p[i]);
	lprint(l, "\"");
}

static void
lhex(Line *l, char *p, int n)
{
	int i;

	for(i = 0; i < n; i++)
		lprint(l, "%02x", (uchar)p[i]);
}

static void
lkey(Line *l, char *k, int nk)
{
	if(nk == 0){
		lprint(l, "\"\"");
		return;
	}
	switch(k[0]){
	case Kdat:
		if(nk != Offksz)
			break;
		lprint(l, "dat qid:%llx off:%llx", (unsigned long long)get64(k+1), (unsigned long long)get64(k+9));
		return;
	case Kent:
		if(nk < Dpfxsz+3)
			break;
		lprint(l, "ent dir:%llx, name:", (unsigned long long)get64(k+1));
		lname(l, k+11, nk-12);
		return;
	case Kup:
		if(nk != Upksz)
			break;
		lprint(l, "up dir:%llx", (unsigned long long)get64(k+1));
		return;
	case Klabel:
		lprint(l, "label name:");
		lname(l, k+1, nk-1);
		return;
	case Ksnap:
		if(nk != Snapsz)
			break;
		lprint(l, "snap id:%lld", (long long)get64(k+1));
		return;
	case Kdlist:
		if(nk != Dlksz)
			break;
		lprint(l, "dlist gen:%lld, bgen:%lld", (long long)get64(k+1), (long long)get64(k+9));
		return;
	case Kconf:
		lprint(l, "conf name:");
		lname(l, k+1, nk-1);
		return;
	}
	lprint(l, "??? ");
	lhex(l, k, nk);
}

/* The size of an Owstat payload with fields fl (format §7.1), or -1. */
static int
wstatsz(int fl)
{
	static int sz[] = {8, 4, 8, 8, 4, 4, 4};
	int i, n;

	if(fl & ~Owmask)
		return -1;
	n = 1;
	for(i = 0; i < (int)nelem(sz); i++)
		if(fl & (1<<i))
			n += sz[i];
	return n;
}

static void
lwstat(Line *l, char *p, int n)
{
	int fl;

	if(n < 1 || wstatsz((uchar)p[0]) != n){
		lprint(l, "BROKEN wstat ");
		lhex(l, p, n);
		return;
	}
	fl = (uchar)*p++;
	if(fl & Owsize){
		lprint(l, "size:%llx ", (unsigned long long)get64(p));
		p += 8;
	}
	if(fl & Owmode){
		lprint(l, "mode:%o ", get32(p));
		p += 4;
	}
	if(fl & Owmtime){
		lprint(l, "mtime:%llx ", (unsigned long long)get64(p));
		p += 8;
	}
	if(fl & Owatime){
		lprint(l, "atime:%llx ", (unsigned long long)get64(p));
		p += 8;
	}
	if(fl & Owuid){
		lprint(l, "uid:%d ", (s32int)get32(p));
		p += 4;
	}
	if(fl & Owgid){
		lprint(l, "gid:%d ", (s32int)get32(p));
		p += 4;
	}
	if(fl & Owmuid)
		lprint(l, "muid:%d ", (s32int)get32(p));
}

/* The value v of key k, carried by a message of op (Oinsert for entries). */
static void
lval(Line *l, int op, char *k, int nk, char *v, int nv)
{
	Kvp kv;
	Xdir d;
	Tree t;
	Bptr hd, tl;
	vlong gen;
	u32int flag;

	switch(op){
	case Odelete:
	case Oclearb:
	case Oclobber:
		lprint(l, "delete");
		return;
	case Owstat:
		lwstat(l, v, nv);
		return;
	case Orelink:
	case Oreprev:
	case Oincref:
		if(nv != Tpsz)
			break;
		lprint(l, "gen: %lld, dlbl: %d, dref: %d", (long long)get64(v), (s8int)v[8], (s8int)v[9]);
		return;
	}
	switch(nk > 0 ? k[0] : -1){
	case Kdat:
		if(nv != Ptrsz)
			break;
		lprint(l, "ptr:");
		lbp(l, unpackbp(v));
		return;
	case Kent:
		kv.k = k;
		kv.nk = nk;
		kv.v = v;
		kv.nv = nv;
		if(kv2dir(&kv, &d) == -1)
			break;
		lprint(l, "[qid=(%llx,%u,%x), p=%o, f=%llx, t=%lld,%lld, l=%llu, o=%d, g=%d m=%d]",
			(unsigned long long)d.qid.path, d.qid.vers, d.qid.type, d.mode,
			(unsigned long long)d.flag, (long long)d.atime, (long long)d.mtime,
			(unsigned long long)d.length, d.uid, d.gid, d.muid);
		return;
	case Kup:
		if(nv < Dpfxsz+3)
			break;
		lprint(l, "super dir:%llx, name:", (unsigned long long)get64(v+1));
		lname(l, v+11, nv-12);
		return;
	case Klabel:
		if(unpacklblval(v, nv, &gen, &flag) == -1)
			break;
		lprint(l, "snap id:%lld", (long long)gen);
		return;
	case Ksnap:
		memset(&t, 0, sizeof t);
		if(unpacktree(&t, v, nv) == -1)
			break;
		lprint(l, "<tree ");
		lbp(l, t.bp);
		lprint(l, " [pred=%lld, succ=%lld, nref=%d, nlbl=%d]>",
			(long long)t.pred, (long long)t.succ, t.nref, t.nlbl);
		return;
	case Kdlist:
		if(unpackdlval(v, nv, &hd, &tl) == -1)
			break;
		lprint(l, "hd:");
		lbp(l, hd);
		lprint(l, ", tl:");
		lbp(l, tl);
		return;
	case Kconf:
		lname(l, v, nv);
		return;
	}
	lprint(l, "BROKEN ");
	lhex(l, v, nv);
}

static void
indent(Line *l, int depth)
{
	int i;

	l->n = 0;
	l->s[0] = 0;
	for(i = 0; i < depth && i < 32; i++)
		lprint(l, "|   ");
}

static void
emit(Line *l, Linefn *out, void *arg)
{
	l->s[l->n] = 0;
	out(arg, l->s);
}

/* The node bp at height ht, and below it; inside an epoch. */
static void
dumpnode(Bptr bp, int ht, int depth, Line *l, Linefn *out, void *arg)
{
	Blk *b;
	Msg m;
	Kvp kv;
	Key k;
	Bptr cbp;
	int i, fill;

	indent(l, depth);
	if((b = getblk(bp, 0)) == nil){
		lprint(l, "NIL ");
		lbp(l, bp);
		lprint(l, ": %s", errstr());
		emit(l, out, arg);
		return;
	}
	if((b->type != Tpivot && b->type != Tleaf) || (b->type == Tleaf) != (ht == 1) || !nodeok(b)){
		lprint(l, "BROKEN block ");
		lbp(l, bp);
		lprint(l, ": type %s at height %d", blktype(b->type), ht);
		emit(l, out, arg);
		dropblk(b);
		return;
	}
	lprint(l, "[BLK]|{");
	lbp(l, bp);
	lprint(l, "}");
	emit(l, out, arg);
	if(b->type == Tpivot)
		for(i = 0; i < b->nbuf; i++){
			indent(l, depth);
			if(nodemsg(b, i, &m) == -1)
				lprint(l, "[%03d]|BROKEN: %s", i, errstr());
			else{
				lprint(l, "[%03d]|Msg(%s, ", i, m.op < Nmsgtype ? opname[m.op] : "O???");
				lkey(l, m.kv.k, m.kv.nk);
				lprint(l, ") => (");
				lval(l, m.op, m.kv.k, m.kv.nk, m.kv.v, m.kv.nv);
				lprint(l, ")");
			}
			emit(l, out, arg);
		}
	for(i = 0; i < b->nval; i++){
		indent(l, depth);
		if(nodeent(b, i, &kv) == -1){
			lprint(l, "[%03d]|BROKEN: %s", i, errstr());
			emit(l, out, arg);
			continue;
		}
		lprint(l, "[%03d]|Kvp(", i);
		lkey(l, kv.k, kv.nk);
		lprint(l, ") => (");
		if(b->type == Tpivot){
			getptr(b, i, &k, &cbp, &fill);
			lbp(l, cbp);
			lprint(l, ",%d)", fill);
			emit(l, out, arg);
			dumpnode(cbp, ht-1, depth+1, l, out, arg);
		}else{
			lval(l, Oinsert, kv.k, kv.nk, kv.v, kv.nv);
			lprint(l, ")");
			emit(l, out, arg);
		}
	}
	dropblk(b);
}

/*
 * show tree [name]: the tree a label names now (its unsynced changes
 * included), or with name "snap" the snapshot tree.
 */
int
dumptree(char *name, Linefn *out, void *arg)
{
	Mount *m;
	Tree *t;
	Line *l;
	Bptr bp;
	int ht;

	m = nil;
	if(strcmp(name, "snap") == 0)
		t = &fs->snap;
	else if((m = getmount(name)) == nil)
		return -1;
	else
		t = m->root;
	l = emalloc(sizeof *l);
	epochstart();
	if(m != nil)
		t = agetp((void**)&m->root);
	lock(&t->lk);
	bp = t->bp;
	ht = t->ht;
	unlock(&t->lk);
	l->n = 0;
	lprint(l, "=== [%s] ", name);
	lbp(l, bp);
	lprint(l, " @%d", ht);
	emit(l, out, arg);
	l->n = 0;
	lprint(l, "=== contents");
	emit(l, out, arg);
	dumpnode(bp, ht, 0, l, out, arg);
	epochend();
	putmount(m);
	free(l);
	return 0;
}
