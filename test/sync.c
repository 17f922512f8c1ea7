/*
 * test/sync.c: the periodic sync (every Syncperiod seconds while
 * anything changed) and what a commit carries in the superblock.
 */
#include <time.h>
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

static vlong
diskqgen(char *img)
{
	char buf[Blksz];
	Super s;

	if(peek(img, 0, buf, Blksz) == -1 || unpacksuper(buf, &s) == -1)
		return -1;
	free(s.arenas);
	return s.qgen;
}

int
main(void)
{
	struct timespec ts;
	char *img;
	vlong q0;
	Blk *b;
	int i;

	img = mkimg("vol", 1LL<<30);
	if(ream(img) == -1 || load(img) == -1)
		return 1;
	fs->nextqid = 1234;
	fs->nextgen = 77;
	ok(fssync() == 0, "sync");
	closefs();
	if(load(img) == -1)
		return 1;
	ok(fs->nextqid == 1234 && fs->nextgen == 77, "the counters survive a reload");
	q0 = diskqgen(img);
	ok(q0 > 0, "the superblock holds the commit's qgen (%lld)", (long long)q0);

	starttimer();
	b = newblk(nil, Tleaf, 0);
	enqueue(b);
	dropblk(b);
	ts.tv_sec = 0;
	ts.tv_nsec = 100*1000*1000;
	/* a deadline, not a timing assertion: the timer runs every Syncperiod seconds */
	for(i = 0; i < 10*(12*Syncperiod) && diskqgen(img) == q0; i++)
		nanosleep(&ts, nil);
	ok(diskqgen(img) > q0, "a change is committed by the timer");
	stoptimer();
	ok(haltfs() == 0, "halt");
	closefs();
	rmtmp();
	return done();
}
