/*
 * check.c: the tree invariant checker (runtime §7.1, without its bugs).
 *
 * Every node reachable from the root is read (getblk verifies its hash
 * against the pointer that names it) and checked: node layout, height,
 * key order, that every key, separator and buffered message lies in the
 * range its parent gives the node, that the fill recorded in the parent
 * is the child's, and that buffered messages are valid.  Each problem is
 * reported with the block address and the key, and counted.
 */
#include <stdarg.h>
#include <stdio.h>
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
 * Check the node bp names, at height ht, whose keys must lie in
 * [lo, hi) (nil: unbounded), with fill as its parent recorded it
 * (-1 for the root).
 */
static void
checknode(Chk *c, Bptr bp, int ht, Key *lo, Key *hi, int fill, int isroot)
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
	b = getblk(bp, 0);
	if(b == nil){
		bad(c, bp.addr, nil, 0, "unreadable: %s", errstr());
		return;
	}
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
		if(b->type == Tleaf && kv.k[0] == Kdat && kv.nv != Ptrsz)
			bad(c, bp.addr, kv.k, kv.nk, "data pointer of %d bytes", kv.nv);
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
			prev = k;
			haveprev = 1;
		}
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
				checknode(c, unpackbp(kv.v), ht-1, &nlo, &nhi, get16(kv.v+Ptrsz), 0);
			}else
				checknode(c, unpackbp(kv.v), ht-1, &nlo, hi, get16(kv.v+Ptrsz), 0);
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
	checknode(&c, bp, ht, nil, nil, -1, 1);
	return c.nbad;
}
