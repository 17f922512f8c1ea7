/*
 * main.c: the gefs program (runtime §9.1, §12).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dat.h"
#include "fns.h"

static char *argv0 = "gefs";

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-SARsc] [-r user] [-m mem] [-n srv] [-a net]... [-g] [-z seed[,steps[,readers]]] [-d] -f dev\n", argv0);
	exit(2);
}

static void
errline(void *arg, char *line)
{
	USED(arg);
	fprintf(stderr, "%s\n", line);
}

/*
 * gefs -c: load without writing anything, check (runtime §7.1) on
 * stderr, then what it read and how fast (checkrate), the verdict last;
 * the exit status is the verdict.
 */
static int
checkonly(char *dev, vlong cachesz)
{
	Chkstat st;
	int r;

	if(loadfs(dev, 1, cachesz) == -1){
		fprintf(stderr, "%s: broken fs: %s\n", argv0, errstr());
		fprintf(stderr, "broken: the volume does not load\n");
		return 1;
	}
	r = checkvolstat(errline, nil, &st);
	closefs();
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char *dev, *user, *mem, *seed;
	int c, grow, check, fuzz, rdonly;
	vlong cachesz;
	Srvconf cf;

	argv0 = argv[0];
	setprogname(argv[0]);
	dev = user = mem = seed = nil;
	grow = check = fuzz = rdonly = 0;
	memset(&cf, 0, sizeof cf);
	while((c = getopt(argc, argv, "SARscr:m:n:a:gz:df:")) != -1){
		switch(c){
		case 'S':
			cf.permissive = 1;
			break;
		case 'A':
			cf.noauth = 1;
			break;
		case 's':
			cf.stdio = 1;
			break;
		case 'n':
			cf.name = optarg;
			break;
		case 'R':
			rdonly = 1;
			break;
		case 'c':
			check = 1;
			break;
		case 'r':
			user = optarg;
			break;
		case 'm':
			mem = optarg;
			break;
		case 'a':
			if(cf.naddr == Maxannounce)
				sysfatal("too many announces");
			cf.addr[cf.naddr++] = optarg;
			break;
		case 'g':
			grow = 1;
			break;
		case 'z':
			fuzz = 1;
			seed = optarg;
			break;
		case 'd':
			debug++;
			break;
		case 'f':
			dev = optarg;
			break;
		default:
			usage();
		}
	}
	if(optind != argc)
		usage();
	if(shiminit(getenv("GEFS_SHIM")) == -1)
		sysfatal("GEFS_SHIM: %s", errstr());
	cachesz = defcachesz();
	if(mem != nil && (cachesz = parsecachesz(mem)) == -1)
		sysfatal("%s", errstr());
	if(fuzz){
		if(fuzzmain(seed, dev, cachesz) == -1){
			if(errstr()[0] != 0)
				fprintf(stderr, "%s: %s\n", argv0, errstr());
			return 1;
		}
		return 0;
	}
	if(dev == nil)
		usage();
	if(user != nil){
		if(reamfs(dev, user, cachesz) == -1)
			sysfatal("ream %s: %s", dev, errstr());
		return 0;
	}
	if(grow){
		if(growfs(dev, cachesz) == -1)
			sysfatal("grow %s: %s", dev, errstr());
		return 0;
	}
	if(check)
		return checkonly(dev, cachesz);
	/* before the first thread starts: they all inherit the mask */
	srvsignals();
	if(loadfs(dev, rdonly, cachesz) == -1)
		sysfatal("load fs: %s", errstr());
	loadsummary();
	if(fsloadusers(cf.permissive) == -1)
		sysfatal("load users: %s", errstr());
	cf.rdonly = rdonly;
	/* threads may still be reading standard input: exit, not return */
	exit(serve(&cf));
}
