/*
 * test/bigtree.c: trees of 1 to N keys.  For each size, insert in
 * sequential, reverse or random order and delete everything in another
 * order, verifying by a full scan and by lookups (present and absent
 * keys) after inserting, halfway through deleting and at the end; the
 * tree must grow and, once empty, be a single leaf again.
 *
 * usage: bigtree [-m cachemb] [-1] N...  (-1: random in, sequential out only)
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

enum {
	Nbatch	= 64,
	Nlook	= 100000,	/* lookups checked per stage */
};

enum { Seq, Rev, Rand };
static char *ordname[] = {"sequential", "reverse", "random"};

static Tree	*t;
static uvlong	rng = 0x9e3779b97f4a7c15ULL;

static uvlong
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Key i: Kconf, i big-endian, then 7 bytes that depend on i: key order is i order. */
static void
mkkey(char *k, vlong i)
{
	k[0] = Kconf;
	put64(k+1, i);
	put32(k+9, i*2654435761U);
	k[13] = i;
	k[14] = i >> 8;
	k[15] = i >> 16;
}

static int
mkval(char *v, vlong i)
{
	int n, j;

	n = 8 + i % 93;
	for(j = 0; j < n; j++)
		v[j] = i + j;
	return n;
}

static vlong*
order(vlong n, int how)
{
	vlong *o, i, j, x;

	o = emalloc(n * sizeof(vlong));
	for(i = 0; i < n; i++)
		o[i] = how == Rev ? n-1-i : i;
	if(how == Rand)
		for(i = n-1; i > 0; i--){
			j = rnd() % (i+1);
			x = o[i];
			o[i] = o[j];
			o[j] = x;
		}
	return o;
}

static int
apply(vlong *o, vlong from, vlong to, int op)
{
	static char ks[Nbatch][16], vs[Nbatch][100];
	Msg m[Nbatch];
	vlong i;
	int n;

	for(i = from; i < to; ){
		for(n = 0; n < Nbatch && i < to; n++, i++){
			mkkey(ks[n], o[i]);
			m[n].op = op;
			m[n].kv.k = ks[n];
			m[n].kv.nk = 16;
			m[n].kv.v = vs[n];
			m[n].kv.nv = op == Oinsert ? mkval(vs[n], o[i]) : 0;
		}
		if(upsert(t, m, n) < 0){
			diag("upsert: %s", errstr());
			return -1;
		}
		epochclean();
	}
	return 0;
}

/* A full scan must return exactly the keys with present[i] set, in order, with their values. */
static int
scancheck(vlong n, char *present, vlong want)
{
	char v[100];
	vlong i, got;
	Scan *s;
	Kvp kv;
	int r, nv;

	s = emalloc(sizeof *s);
	btnewscan(s, "\x06", 1);
	got = 0;
	i = 0;
	if(btenter(t, s) < 0){
		diag("btenter: %s", errstr());
		free(s);
		return -1;
	}
	while((r = btnext(s, &kv)) > 0){
		while(i < n && !present[i])
			i++;
		if(i == n || kv.nk != 16 || (vlong)get64(kv.k+1) != i){
			diag("scan: key %lld where %lld was expected", (long long)get64(kv.k+1), (long long)i);
			r = -1;
			break;
		}
		nv = mkval(v, i);
		if(kv.nv != nv || memcmp(kv.v, v, nv) != 0){
			diag("scan: key %lld has the wrong value", (long long)i);
			r = -1;
			break;
		}
		got++;
		i++;
	}
	btexit(s);
	free(s);
	if(r < 0)
		return -1;
	if(got != want){
		diag("scan: %lld keys, want %lld", (long long)got, (long long)want);
		return -1;
	}
	return 0;
}

/* Lookups of every key (or a sample of Nlook), and of keys never inserted. */
static int
lookcheck(vlong n, char *present)
{
	char k[16], v[100], buf[Kvmax];
	vlong i, j, bad;
	Key key;
	Kvp r;
	int x, nv;

	bad = 0;
	key.k = k;
	key.nk = 16;
	for(j = 0; j < MIN(n, Nlook) + 100; j++){
		i = j < MIN(n, Nlook) ? (n <= Nlook ? j : (vlong)(rnd() % n)) : n + j;
		mkkey(k, i);
		x = btlookup(t, &key, &r, buf, sizeof buf);
		if(i >= n || !present[i]){
			if(x != 0)
				bad++;
			continue;
		}
		nv = mkval(v, i);
		if(x != 1 || r.nv != nv || memcmp(r.v, v, nv) != 0)
			bad++;
	}
	if(bad > 0)
		diag("lookups: %lld wrong", (long long)bad);
	return bad == 0 ? 0 : -1;
}

static void
run(vlong n, int ins, int del)
{
	vlong *io, *dor, i, half;
	char *present, name[80];
	int maxht;
	Blk *b;

	snprintf(name, sizeof name, "%lld keys, %s in, %s out", (long long)n, ordname[ins], ordname[del]);
	t = emalloc(sizeof *t);
	t->memgen = ++fs->nextgen;
	t->ht = 1;
	b = newblk(t, Tleaf, 0);
	enqueue(b);
	t->bp = b->bp;
	dropblk(b);
	present = emalloc(n+1);
	io = order(n, ins);
	dor = order(n, del);
	maxht = 1;
	for(i = 0; i < n; i += 10000){
		if(apply(io, i, MIN(n, i+10000), Oinsert) < 0)
			break;
		maxht = MAX(maxht, t->ht);
	}
	memset(present, 1, n);
	ok(i >= n, "%s: inserted, height %d", name, t->ht);
	ok(scancheck(n, present, n) == 0, "%s: scan after inserting", name);
	ok(lookcheck(n, present) == 0, "%s: lookups after inserting", name);
	ok(checktree(t, nil, nil) == 0, "%s: tree checks", name);
	half = n/2;
	ok(apply(dor, 0, half, Odelete) == 0, "%s: deleted half", name);
	for(i = 0; i < half; i++)
		present[dor[i]] = 0;
	ok(scancheck(n, present, n - half) == 0, "%s: scan halfway", name);
	ok(lookcheck(n, present) == 0, "%s: lookups halfway", name);
	ok(apply(dor, half, n, Odelete) == 0, "%s: deleted the rest", name);
	memset(present, 0, n);
	ok(scancheck(n, present, 0) == 0, "%s: nothing left", name);
	ok(lookcheck(n, present) == 0, "%s: lookups find nothing", name);
	ok(checktree(t, nil, nil) == 0, "%s: empty tree checks", name);
	ok(t->ht == 1, "%s: height grew to %d and is back to %d", name, maxht, t->ht);
	if(n > 20000)
		ok(maxht >= 3, "%s: the tree grew to height %d", name, maxht);
	free(io);
	free(dor);
	free(present);
	free(t);
}

int
main(int argc, char **argv)
{
	vlong n, cache;
	char *img;
	int i, one;

	cache = 256*MiB;
	one = 0;
	for(i = 1; i < argc && argv[i][0] == '-'; i++){
		if(strcmp(argv[i], "-1") == 0)
			one = 1;
		else if(strcmp(argv[i], "-m") == 0 && i+1 < argc)
			cache = atoll(argv[++i]) * MiB;
	}
	img = mkimg("big.img", 64LL*1024*MiB);
	if(ream(img) == -1 || loadfs(img, 0, cache) == -1){
		diag("%s", errstr());
		rmtmp();
		return 1;
	}
	for(; i < argc; i++){
		n = atoll(argv[i]);
		if(one){
			run(n, Rand, Seq);
			continue;
		}
		run(n, Seq, Rand);
		run(n, Rev, Seq);
		run(n, Rand, Rev);
	}
	closefs();
	rmtmp();
	return done();
}
