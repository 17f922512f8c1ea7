/*
 * bench/gefsd: the 9P server for the benchmark, until gefs -f serves.
 * No branch has committed the few lines of main.c that start serving,
 * so this program does what they will do, with the same library calls
 * (runtime §9.1): the server measured is the server's own code.
 *
 *	gefsd [-m mem] [-n srv] [-a net]... [-A] -f dev
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dat.h"
#include "fns.h"

static void
usage(void)
{
	fprintf(stderr, "usage: gefsd [-m mem] [-n srv] [-a net]... [-A] -f dev\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char *dev;
	vlong cachesz;
	Srvconf cf;
	int c;

	setprogname("gefsd");
	memset(&cf, 0, sizeof cf);
	dev = nil;
	cachesz = defcachesz();
	while((c = getopt(argc, argv, "m:n:a:Af:")) != -1){
		switch(c){
		case 'm':
			if((cachesz = parsecachesz(optarg)) == -1)
				sysfatal("%s", errstr());
			break;
		case 'n':
			cf.name = optarg;
			break;
		case 'a':
			if(cf.naddr == Maxannounce)
				sysfatal("too many announces");
			cf.addr[cf.naddr++] = optarg;
			break;
		case 'A':
			cf.noauth = 1;
			break;
		case 'f':
			dev = optarg;
			break;
		default:
			usage();
		}
	}
	if(dev == nil || optind != argc)
		usage();
	/* before any thread starts: they all inherit the signal mask */
	srvsignals();
	if(loadfs(dev, 0, cachesz) == -1)
		sysfatal("load fs: %s", errstr());
	if(fsloadusers(0) == -1)
		sysfatal("load users: %s", errstr());
	exit(serve(&cf));
}
