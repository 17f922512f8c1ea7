/*
 * main.c: the gefs program (runtime §9.1, §12).
 */
#include <stdio.h>
#include <stdlib.h>
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

/* What this build cannot do yet says so, and fails. */
static void
notyet(char *what)
{
	fprintf(stderr, "%s: %s is not implemented in this build\n", argv0, what);
	exit(1);
}

int
main(int argc, char **argv)
{
	char *dev, *user, *mem, *seed;
	int c, grow, check, fuzz, rdonly, nann;
	vlong cachesz;

	argv0 = argv[0];
	setprogname(argv[0]);
	dev = user = mem = seed = nil;
	grow = check = fuzz = rdonly = nann = 0;
	while((c = getopt(argc, argv, "SARscr:m:n:a:gz:df:")) != -1){
		switch(c){
		case 'S':	/* permissive: matters when serving */
		case 'A':	/* no authentication: matters when serving */
		case 's':	/* 9P on stdin/stdout */
		case 'n':	/* service name */
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
			if(++nann > Maxannounce)
				sysfatal("too many announces");
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
		notyet("the consistency check (-c)");
	if(loadfs(dev, rdonly, cachesz) == -1)
		sysfatal("load fs: %s", errstr());
	loadsummary();
	closefs();
	notyet("serving 9P");
	return 1;
}
