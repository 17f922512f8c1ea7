/*
 * bench/snapvol: snapshots and the check, timed through the function
 * API (snap.c, check.c) on a volume a stopped server left: the calls
 * themselves, without the console's round trips around them.
 *
 *	snapvol [-m cachemb] IMG op...
 *
 * The ops run in order on one load of the volume, each printing one line
 * of name=value pairs, after the load's own line:
 *
 *	(load)		op=load: load_ms, load_mb (bytes loadfs read)
 *	create NAME	snapshot main as NAME: create_ms (snapcreate),
 *			sync_ms (the commit that makes it durable)
 *	delete NAME	delete NAME: delete_ms, sync_ms, freed_mb (blocks
 *			the deletion gave back, once the commit is durable)
 *	check		checkstat over the whole volume (checkrate in
 *			check.c defines the figures): check_ms (wall),
 *			data_ms (of it, reading and hashing data blocks),
 *			meta_mb (distinct tree nodes, deadlist and log
 *			blocks), data_mb, read_mb (bytes read(2) in all),
 *			meta_mb_s = meta_mb over check_ms, walk_mb_s =
 *			meta_mb over check_ms less data_ms, problems, leaked
 *	usage		used_mb, size_mb, labels
 *
 * The volume is halted (committed) before exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"

static double
ms(vlong t0, vlong t1)
{
	return (t1 - t0) / 1e6;
}

/* Bytes in use (fsusage counts bytes of blocks). */
static vlong
usedbytes(void)
{
	vlong used, size;

	fsusage(&used, &size);
	return used;
}

/* Bytes this process has read with read(2) and pread(2) so far. */
static vlong
rchar(void)
{
	char line[128];
	vlong n;
	FILE *f;

	n = -1;
	if((f = fopen("/proc/self/io", "r")) == nil)
		return -1;
	while(fgets(line, sizeof line, f) != nil)
		if(strncmp(line, "rchar:", 6) == 0)
			n = strtoll(line+6, nil, 10);
	fclose(f);
	return n;
}

/* What checkvol says: problems, one a line, then the verdict. */
typedef struct Verdict Verdict;
struct Verdict {
	int	problems;
	long long	leaked;
};

static void
report(void *arg, char *line)
{
	Verdict *v;
	int bad;
	long long leaked;

	v = arg;
	if(strcmp(line, "ok") == 0)
		return;
	if(sscanf(line, "broken: %d problems, %lld leaked blocks", &bad, &leaked) == 2){
		v->leaked = leaked;
		return;
	}
	v->problems++;
	fprintf(stderr, "snapvol: check: %s\n", line);
}

static int
opcreate(char *name)
{
	vlong t0, t1, t2;

	t0 = monons();
	if(snapcreate("main", name, 0) == -1)
		return -1;
	t1 = monons();
	if(fssync() == -1)
		return -1;
	t2 = monons();
	printf("op=create name=%s create_ms=%.3f sync_ms=%.3f\n", name, ms(t0, t1), ms(t1, t2));
	return 0;
}

static int
opdelete(char *name)
{
	vlong t0, t1, t2, u0, u1;

	/* what earlier commits freed comes back first, so it is not counted */
	epochflush();
	qfence();
	u0 = usedbytes();
	t0 = monons();
	if(snapdelete(name) == -1)
		return -1;
	t1 = monons();
	if(fssync() == -1)
		return -1;
	t2 = monons();
	epochflush();
	qfence();
	u1 = usedbytes();
	printf("op=delete name=%s delete_ms=%.3f sync_ms=%.3f freed_mb=%.3f\n", name,
		ms(t0, t1), ms(t1, t2), (double)(u0 - u1) / (1024*1024));
	return 0;
}

static int
opcheck(void)
{
	vlong r0, r1;
	Verdict v;
	Chkstat st;
	double mb;

	memset(&v, 0, sizeof v);
	r0 = rchar();
	checkstat(report, &v, &st);
	r1 = rchar();
	mb = (double)(st.nodes + st.dlists + st.logs) * Blksz / (1024*1024);
	printf("op=check check_ms=%.3f data_ms=%.3f meta_mb=%.3f data_mb=%.3f read_mb=%.3f"
		" meta_mb_s=%.1f walk_mb_s=%.1f problems=%d leaked=%lld\n",
		st.ns / 1e6, st.datans / 1e6, mb, (double)st.data * Blksz / (1024*1024),
		(double)(r1 - r0) / (1024*1024), mb / (st.ns / 1e9),
		st.ns > st.datans ? mb / ((st.ns - st.datans) / 1e9) : 0, st.nbad, (long long)st.leaked);
	return 0;
}

static int
opusage(void)
{
	vlong used, size;
	Label *l;
	int n;

	fsusage(&used, &size);
	if((n = snaplist(&l)) == -1)
		return -1;
	freelabels(l, n);
	printf("op=usage used_mb=%.3f size_mb=%.3f labels=%d\n",
		(double)used / (1024*1024), (double)size / (1024*1024), n);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: snapvol [-m cachemb] IMG {create NAME | delete NAME | check | usage}...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	vlong cachemb, t0, r0;
	char *img, *e;
	int i, r;

	setprogname("snapvol");
	cachemb = 1024;
	i = 1;
	if(i+1 < argc && strcmp(argv[i], "-m") == 0){
		cachemb = strtoll(argv[i+1], &e, 10);
		if(*e != 0 || cachemb <= 0)
			usage();
		i += 2;
	}
	if(i+1 >= argc)
		usage();
	img = argv[i++];
	r0 = rchar();
	t0 = monons();
	if(loadfs(img, 0, cachemb*1024*1024) == -1){
		fprintf(stderr, "snapvol: load %s: %s\n", img, errstr());
		return 1;
	}
	printf("op=load load_ms=%.3f load_mb=%.3f\n", ms(t0, monons()),
		(double)(rchar() - r0) / (1024*1024));
	r = 0;
	for(; i < argc && r == 0; i++){
		if(strcmp(argv[i], "create") == 0 && i+1 < argc)
			r = opcreate(argv[++i]);
		else if(strcmp(argv[i], "delete") == 0 && i+1 < argc)
			r = opdelete(argv[++i]);
		else if(strcmp(argv[i], "check") == 0)
			r = opcheck();
		else if(strcmp(argv[i], "usage") == 0)
			r = opusage();
		else
			usage();
		if(r == -1)
			fprintf(stderr, "snapvol: %s: %s\n", argv[i], errstr());
		fflush(stdout);
	}
	if(haltfs() == -1){
		fprintf(stderr, "snapvol: halt: %s\n", errstr());
		r = -1;
	}
	closefs();
	return r == -1;
}
