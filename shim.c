/*
 * shim.c: the disk shim, between the volume layer and its device
 * (gefs(4), DISK SHIM).  Off unless GEFS_SHIM names what it should do.
 * It can record every write and flush, in the order they are issued, to
 * a log the crash tests replay (test/replay.c), and make one chosen
 * write or flush fail the way disks fail:
 *
 *	log:PATH	record every write and flush to PATH
 *	fail:N:eio	the Nth write fails with EIO; nothing is written
 *	fail:N:enospc	the Nth write fails with ENOSPC; nothing is written
 *	fail:N:short	the Nth write transfers only its first half and
 *			says so; writing the rest again succeeds
 *	fail:N:torn	the Nth write reaches the disk only in its first
 *			4 KiB sectors (half of them), and the process is
 *			killed at once, as by a power cut during the write
 *	fail:N:flush	the Nth flush fails with EIO
 *
 * Specifications are separated by commas.  Writes and flushes are
 * counted from 1, from shiminit (the start of gefs), in the order the
 * log records them.
 *
 * The log: the line "gefs shim log 1\n", then records, each a type
 * byte: 'W', a u64 offset, a u32 length and the bytes written (what
 * reached the device, so a short write is recorded short); 'F', a
 * flush; 'M', a u32 length and a text the program marks the log with
 * (shimmark).  Integers are big-endian.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dat.h"
#include "fns.h"

static Shim shim;

static int
parsefail(char *s)
{
	static char *kinds[] = {
		[Seio] = "eio",
		[Senospc] = "enospc",
		[Sshort] = "short",
		[Storn] = "torn",
		[Sflush] = "flush",
	};
	char *e;
	long n;
	int k;

	n = strtol(s, &e, 10);
	if(e == s || *e != ':' || n < 1){
		werrstr("shim: bad failure '%s': want fail:N:KIND", s);
		return -1;
	}
	for(k = Seio; k < Nshimfail; k++)
		if(strcmp(e+1, kinds[k]) == 0){
			shim.failat = n;
			shim.fail = k;
			return 0;
		}
	werrstr("shim: unknown failure kind '%s'", e+1);
	return -1;
}

/* Start the shim as spec says (see above); nil or "" leaves it off. */
int
shiminit(char *spec)
{
	char *s, *p, *q;
	int r;

	if(spec == nil || *spec == 0)
		return 0;
	if(!shim.on)
		qlockinit(&shim.lk);
	shim.nwrite = shim.nflush = 0;
	shim.failat = 0;
	shim.fail = 0;
	s = estrdup(spec);
	r = 0;
	for(p = s; p != nil && r == 0; p = q){
		if((q = strchr(p, ',')) != nil)
			*q++ = 0;
		if(strncmp(p, "log:", 4) == 0){
			if(shim.logfd != 0)
				close(shim.logfd);
			shim.logfd = open(p+4, O_WRONLY|O_CREAT|O_TRUNC, 0644);
			if(shim.logfd == -1){
				werrstr("shim: %s: %s", p+4, strerror(errno));
				r = -1;
			}else if(write(shim.logfd, Shimmagic, strlen(Shimmagic)) != (ssize_t)strlen(Shimmagic)){
				werrstr("shim: %s: %s", p+4, strerror(errno));
				r = -1;
			}
		}else if(strncmp(p, "fail:", 5) == 0)
			r = parsefail(p+5);
		else{
			werrstr("shim: unknown '%s': want log:PATH or fail:N:KIND", p);
			r = -1;
		}
	}
	free(s);
	if(r == 0)
		shim.on = 1;
	return r;
}

int
shimon(void)
{
	return shim.on;
}

/* Append one record; a log that cannot be written stops the test. */
static void
logrec(int type, vlong off, char *buf, int n)
{
	char h[13];
	int hn;

	if(shim.logfd <= 0)
		return;
	h[0] = type;
	hn = 1;
	if(type == 'W'){
		put64(h+1, off);
		put32(h+9, n);
		hn = 13;
	}else if(type == 'M'){
		put32(h+1, n);
		hn = 5;
	}
	if(write(shim.logfd, h, hn) != hn || (n > 0 && write(shim.logfd, buf, n) != n))
		sysfatal("shim: log: %s", strerror(errno));
}

/*
 * pwrite through the shim: counts the write, records it, injects the
 * failure chosen for it.
 */
int
shimpwrite(int fd, char *buf, int n, vlong off)
{
	int r;
	int k;

	qlock(&shim.lk);
	k = ++shim.nwrite == shim.failat && shim.fail != Sflush ? shim.fail : 0;
	switch(k){
	case Seio:
	case Senospc:
		qunlock(&shim.lk);
		errno = k == Seio ? EIO : ENOSPC;
		return -1;
	case Sshort:
		n = n > 1 ? n/2 : n;
		break;
	case Storn:
		n = n > 4096 ? (n/4096 + 1)/2 * 4096 : n/2;
		logrec('W', off, buf, n);
		if(n > 0 && pwrite(fd, buf, n, off) == -1)
			sysfatal("shim: torn write: %s", strerror(errno));
		kill(getpid(), SIGKILL);
		break;
	}
	logrec('W', off, buf, n);
	r = pwrite(fd, buf, n, off);
	qunlock(&shim.lk);
	return r;
}

/* A flush through the shim. */
int
shimflush(int fd)
{
	int r;

	qlock(&shim.lk);
	if(++shim.nflush == shim.failat && shim.fail == Sflush){
		qunlock(&shim.lk);
		errno = EIO;
		return -1;
	}
	logrec('F', 0, nil, 0);
#ifdef __APPLE__
	r = fsync(fd);
#else
	r = fdatasync(fd);
#endif
	qunlock(&shim.lk);
	return r;
}

/* Mark the log with a text, for whoever replays it. */
void
shimmark(char *text)
{
	if(!shim.on)
		return;
	qlock(&shim.lk);
	logrec('M', 0, text, strlen(text));
	qunlock(&shim.lk);
}

/* Writes and flushes so far. */
void
shimcount(long *nwrite, long *nflush)
{
	*nwrite = *nflush = 0;
	if(!shim.on)
		return;
	qlock(&shim.lk);
	*nwrite = shim.nwrite;
	*nflush = shim.nflush;
	qunlock(&shim.lk);
}
