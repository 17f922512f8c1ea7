/*
 * bench/snapvol: snapshots, timed through the function API (snap.c) on
 * a volume a stopped server left: the calls themselves, without the
 * console's round trips around them.
 *
 *	snapvol [-m cachemb] IMG op...
 *
 * The ops run in order on one load of the volume, each printing one line
 * of name=value pairs, after the load's own line:
 *
 *	(load)		op=load: load_ms, load_mb (bytes loadfs read)
 *	create NAME	snapshot main as NAME: create_ms (snapcreate),
 *			sync_ms (the commit that makes it durable)
 *	delete NAME	delete NAME: delete_ms, sync_ms (its commit),
 *			freed_mb (what the deletion gave back, once the
 *			commits after it let the blocks return: settled)
 *	purge		delete every automatic (retention) snapshot: purged
 *			(how many), delete_ms (all the snapdeletes), sync_ms,
 *			freed_mb, as delete
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

/*
 * Bytes in use once what the last commit freed is back in the arenas:
 * a freed block returns only after the commits that could still see it
 * (two, three), so a few empty commits first.
 */
static vlong
settled(void)
{
	int i;

	for(i = 0; i < 4; i++){
		if(fssync() == -1)
			return -1;
		epochflush();
		qfence();
	}
	return usedbytes();
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

/*
 * Delete the snapshots names[0..n), timed: the deletions in all
 * (delete_ms), the commit after them (sync_ms), the space they gave
 * back once it settled (freed_mb).  The line starts with what.
 */
static int
deletesnaps(char *what, char **names, int n)
{
	vlong t, t0, t1, u0, u1;
	int i;

	/* what earlier commits freed comes back first, so it is not counted */
	if((u0 = settled()) == -1)
		return -1;
	t = 0;
	for(i = 0; i < n; i++){
		t0 = monons();
		if(snapdelete(names[i]) == -1)
			return -1;
		t += monons() - t0;
	}
	t0 = monons();
	if(fssync() == -1)
		return -1;
	t1 = monons();
	if((u1 = settled()) == -1)
		return -1;
	printf("%s delete_ms=%.3f sync_ms=%.3f freed_mb=%.3f\n", what,
		t / 1e6, ms(t0, t1), (double)(u0 - u1) / (1024*1024));
	return 0;
}

static int
opdelete(char *name)
{
	char what[Keymax+32];

	snprintf(what, sizeof what, "op=delete name=%s", name);
	return deletesnaps(what, &name, 1);
}

/* An automatic snapshot's label: MOUNT@minute.STAMP, @hour., @day. */
static int
isauto(char *name)
{
	return strstr(name, "@minute.") != nil || strstr(name, "@hour.") != nil
		|| strstr(name, "@day.") != nil;
}

static int
oppurge(void)
{
	char what[64], **names;
	Label *l;
	int i, n, np, r;

	if((n = snaplist(&l)) == -1)
		return -1;
	names = emalloc((n+1) * sizeof names[0]);
	np = 0;
	for(i = 0; i < n; i++)
		if(isauto(l[i].name))
			names[np++] = l[i].name;
	snprintf(what, sizeof what, "op=purge purged=%d", np);
	r = deletesnaps(what, names, np);
	free(names);
	freelabels(l, n);
	return r;
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
	fprintf(stderr, "usage: snapvol [-m cachemb] IMG {create NAME | delete NAME | purge | usage}...\n");
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
		else if(strcmp(argv[i], "purge") == 0)
			r = oppurge();
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
