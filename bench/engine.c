/*
 * bench/engine.c: the Bε-tree against LMDB (a copy-on-write B+tree),
 * doing the same work in the same run: N random upserts of 16-byte keys
 * with 100-byte values in batches (gefs: one upsert per batch; LMDB: one
 * write transaction per batch, no sync per commit), everything made
 * durable with one sync at the end, then random point lookups of keys
 * that are present.  Besides the wall-clock rates it prints the
 * process CPU time of each phase (user+sys, every thread: gefs writes
 * blocks from its own thread) and the load average, since the machine
 * it runs on may be shared.
 *
 * usage: engine [-b batch] [-m cachemb] [-l lookups] [-d dir] [N...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <lmdb.h>
#include "dat.h"
#include "fns.h"

enum {
	Ksz	= 16,
	Vsz	= 100,
};

static int	batch = 32;
static vlong	cachemb = 1024;
static vlong	nlook = 1000000;
static char	*dir;

/* One engine's run: rates and the seconds they came from. */
typedef struct Res	Res;
struct Res {
	double	ups;		/* upserts per wall-clock second */
	double	lks;		/* lookups per wall-clock second */
	double	upwall, upcpu;	/* seconds of the upserts (sync included) */
	double	lkwall, lkcpu;	/* seconds of the lookups */
	int	ht;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec/1e9;
}

/* Process CPU seconds so far, user and system, all threads. */
static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec/1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec/1e6;
}

static double
load1(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

/* Key i of run seed: random bytes after a Kconf type byte; the same for both engines. */
static void
mkkey(char *k, uvlong i)
{
	uvlong x;

	x = i * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	k[0] = Kconf;
	put64(k+1, x);
	put32(k+9, i);
	k[13] = x >> 3;
	k[14] = x >> 11;
	k[15] = x >> 19;
}

static void
mkval(char *v, uvlong i)
{
	int j;

	for(j = 0; j < Vsz; j++)
		v[j] = i*7 + j;
}

static uvlong
pick(uvlong *s, uvlong n)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s % n;
}

static void
rmrf(char *p)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
	if(system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", p);
}

/* gefs: ream an image, fill a fresh tree, sync, look up. */
static int
gefsrun(vlong n, Res *res)
{
	char img[512], *k, *v, buf[Kvmax];
	double t0, t1, c0;
	uvlong s, i;
	Msg *m;
	Tree t;
	Blk *b;
	Key key;
	Kvp r;
	int fd, j, nb, dn;

	snprintf(img, sizeof img, "%s/gefs.img", dir);
	if((fd = open(img, O_RDWR|O_CREAT|O_TRUNC, 0644)) == -1 || ftruncate(fd, 256LL<<30) == -1){
		fprintf(stderr, "%s: %s\n", img, strerror(errno));
		return -1;
	}
	close(fd);
	fflush(stdout);
	dn = dup(1);
	if(freopen("/dev/null", "w", stdout) == nil || reamfs(img, "bench", 64LL<<20) == -1){
		dup2(dn, 1);
		fprintf(stderr, "ream: %s\n", errstr());
		return -1;
	}
	fflush(stdout);
	dup2(dn, 1);
	close(dn);
	if(loadfs(img, 0, cachemb<<20) == -1){
		fprintf(stderr, "load: %s\n", errstr());
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.memgen = ++fs->nextgen;
	t.ht = 1;
	b = newblk(&t, Tleaf, 0);
	enqueue(b);
	t.bp = b->bp;
	dropblk(b);

	m = emalloc(batch * sizeof(Msg));
	k = emalloc(batch * Ksz);
	v = emalloc(batch * Vsz);
	qlock(&fs->mutlk);
	c0 = cpu();
	t0 = now();
	for(i = 0; i < (uvlong)n; ){
		for(nb = 0; nb < batch && i < (uvlong)n; nb++, i++){
			mkkey(k + nb*Ksz, i);
			mkval(v + nb*Vsz, i);
			m[nb].op = Oinsert;
			m[nb].kv.k = k + nb*Ksz;
			m[nb].kv.nk = Ksz;
			m[nb].kv.v = v + nb*Vsz;
			m[nb].kv.nv = Vsz;
		}
		if(upsert(&t, m, nb) == -1){
			fprintf(stderr, "upsert: %s\n", errstr());
			return -1;
		}
		epochclean();
	}
	qunlock(&fs->mutlk);
	if(qfence() == -1 || fssync() == -1){
		fprintf(stderr, "sync: %s\n", errstr());
		return -1;
	}
	t1 = now();
	res->upwall = t1 - t0;
	res->upcpu = cpu() - c0;
	res->ups = n / res->upwall;
	res->ht = t.ht;

	s = 88172645463325252ULL;
	key.nk = Ksz;
	c0 = cpu();
	t0 = now();
	for(i = 0; i < (uvlong)nlook; i++){
		mkkey(k, pick(&s, n));
		key.k = k;
		if((j = btlookup(&t, &key, &r, buf, sizeof buf)) != 1){
			fprintf(stderr, "lookup %llu: %d %s\n", (unsigned long long)i, j, j < 0 ? errstr() : "missing");
			return -1;
		}
	}
	t1 = now();
	res->lkwall = t1 - t0;
	res->lkcpu = cpu() - c0;
	res->lks = nlook / res->lkwall;
	free(m);
	free(k);
	free(v);
	closefs();
	unlink(img);
	return 0;
}

static int
lmdbfail(char *what, int e)
{
	fprintf(stderr, "lmdb %s: %s\n", what, mdb_strerror(e));
	return -1;
}

/* LMDB: the same keys and values, one write transaction per batch. */
static int
lmdbrun(vlong n, Res *res)
{
	char path[512], k[Ksz], v[Vsz];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val mk, mv;
	double t0, t1, c0;
	uvlong s, i;
	int e, nb;

	snprintf(path, sizeof path, "%s/lmdb", dir);
	rmrf(path);
	if(mkdir(path, 0755) == -1){
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if((e = mdb_env_create(&env)) != 0)
		return lmdbfail("create", e);
	mdb_env_set_mapsize(env, 256LL<<30);
	if((e = mdb_env_open(env, path, MDB_NOSYNC, 0644)) != 0)
		return lmdbfail("open", e);
	if((e = mdb_txn_begin(env, nil, 0, &txn)) != 0 || (e = mdb_dbi_open(txn, nil, 0, &dbi)) != 0
	|| (e = mdb_txn_commit(txn)) != 0)
		return lmdbfail("dbi", e);
	c0 = cpu();
	t0 = now();
	for(i = 0; i < (uvlong)n; ){
		if((e = mdb_txn_begin(env, nil, 0, &txn)) != 0)
			return lmdbfail("begin", e);
		for(nb = 0; nb < batch && i < (uvlong)n; nb++, i++){
			mkkey(k, i);
			mkval(v, i);
			mk.mv_data = k;
			mk.mv_size = Ksz;
			mv.mv_data = v;
			mv.mv_size = Vsz;
			if((e = mdb_put(txn, dbi, &mk, &mv, 0)) != 0)
				return lmdbfail("put", e);
		}
		if((e = mdb_txn_commit(txn)) != 0)
			return lmdbfail("commit", e);
	}
	if((e = mdb_env_sync(env, 1)) != 0)
		return lmdbfail("sync", e);
	t1 = now();
	res->upwall = t1 - t0;
	res->upcpu = cpu() - c0;
	res->ups = n / res->upwall;

	s = 88172645463325252ULL;
	if((e = mdb_txn_begin(env, nil, MDB_RDONLY, &txn)) != 0)
		return lmdbfail("read txn", e);
	c0 = cpu();
	t0 = now();
	for(i = 0; i < (uvlong)nlook; i++){
		mkkey(k, pick(&s, n));
		mk.mv_data = k;
		mk.mv_size = Ksz;
		if((e = mdb_get(txn, dbi, &mk, &mv)) != 0)
			return lmdbfail("get", e);
	}
	t1 = now();
	res->lkwall = t1 - t0;
	res->lkcpu = cpu() - c0;
	res->lks = nlook / res->lkwall;
	res->ht = 0;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	rmrf(path);
	return 0;
}

int
main(int argc, char **argv)
{
	vlong sizes[16], n;
	double l0, l1, l2;
	char tmpl[512], *t;
	int c, i, ns;
	Res g, l;

	ns = 0;
	while((c = getopt(argc, argv, "b:m:l:d:")) != -1)
		switch(c){
		case 'b':
			batch = atoi(optarg);
			break;
		case 'm':
			cachemb = atoll(optarg);
			break;
		case 'l':
			nlook = atoll(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: engine [-b batch] [-m cachemb] [-l lookups] [-d dir] [N...]\n");
			return 2;
		}
	for(i = optind; i < argc && ns < (int)nelem(sizes); i++)
		sizes[ns++] = atoll(argv[i]);
	if(ns == 0){
		sizes[ns++] = 1000000;
		sizes[ns++] = 10000000;
	}
	if(batch < 1 || cachemb < 16 || nlook < 1){
		fprintf(stderr, "engine: bad arguments\n");
		return 2;
	}
	if(dir == nil){
		t = getenv("TMPDIR");
		snprintf(tmpl, sizeof tmpl, "%s/gefs-bench.XXXXXX", t != nil ? t : "/var/tmp");
		if((dir = mkdtemp(tmpl)) == nil){
			perror(tmpl);
			return 1;
		}
	}
	printf("engine: random upserts of %d-byte keys with %d-byte values, %d per batch "
		"(LMDB: one transaction each, MDB_NOSYNC), one sync at the end; then %lld random lookups.\n"
		"gefs cache %lld MiB; files in %s\n"
		"Rows: rates per wall-clock second; rates per second of process CPU time (user+sys, all threads)\n"
		"with the ratios of CPU time; the seconds, and the 1-minute load average before gefs, between, after LMDB.\n", Ksz, Vsz, batch, (long long)nlook, (long long)cachemb, dir);
	printf("%10s %14s %14s %8s %14s %14s %8s %6s\n", "keys", "gefs upsert/s", "lmdb upsert/s", "ratio",
		"gefs lookup/s", "lmdb lookup/s", "ratio", "height");
	for(i = 0; i < ns; i++){
		n = sizes[i];
		l0 = load1();
		if(gefsrun(n, &g) == -1)
			return 1;
		l1 = load1();
		if(lmdbrun(n, &l) == -1)
			return 1;
		l2 = load1();
		printf("%10lld %14.0f %14.0f %8.2f %14.0f %14.0f %8.2f %6d\n", (long long)n,
			g.ups, l.ups, g.ups/l.ups, g.lks, l.lks, g.lks/l.lks, g.ht);
		printf("%10s %14.0f %14.0f %8.2f %14.0f %14.0f %8.2f\n", "per cpu s",
			n/g.upcpu, n/l.upcpu, l.upcpu/g.upcpu, nlook/g.lkcpu, nlook/l.lkcpu, l.lkcpu/g.lkcpu);
		printf("%10s upserts: gefs %.1f s wall %.1f s cpu, lmdb %.1f s wall %.1f s cpu; "
			"lookups: gefs %.1f/%.1f, lmdb %.1f/%.1f; load average %.1f, %.1f, %.1f\n", "",
			g.upwall, g.upcpu, l.upwall, l.upcpu, g.lkwall, g.lkcpu, l.lkwall, l.lkcpu, l0, l1, l2);
		fflush(stdout);
	}
	rmdir(dir);
	return 0;
}
