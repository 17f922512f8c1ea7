/*
 * test/session: a Plan 9-style session (attach, walk, create, write,
 * read, stat, wstat, remove) at msize 8 KiB, 32 KiB and 1 MiB.
 *
 *	session ADDRESS			one connection per msize
 *	session -s GEFS ARGS...		gefs -s ARGS... on a socket pair as its
 *					standard input and output; the msizes
 *					in turn on that one connection (each
 *					Tversion a new session); then the
 *					end of input must stop gefs, status 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"
#include "test/tap.h"
#include "test/raw.h"

static u32int msizes[] = {8192+IOHDRSZ, 32768+IOHDRSZ, 1024*1024+IOHDRSZ};

static void
plan9(Raw *r, u32int msize)
{
	Fcall *rx;
	Dir d, *s;
	uchar *buf, *got;
	char dir[32];
	long n, i, tot;

	rx = tversion(r, msize, "9P2000");
	if(!isr(rx, Rversion, "version %u", msize))
		return;
	is(rx->msize, msize, "msize %u granted", msize);
	isr(tattach(r, 0, NOFID, "glenda", ""), Rattach, "attach");
	snprintf(dir, sizeof dir, "s%u", msize);
	isr(twalk(r, 0, 1, ""), Rwalk, "walk (clone)");
	isr(tcreate(r, 1, dir, DMDIR|0775, OREAD), Rcreate, "create directory %s", dir);
	isr(tclunk(r, 1), Rclunk, "clunk");
	isr(twalk(r, 0, 1, dir), Rwalk, "walk to %s", dir);
	rx = tcreate(r, 1, "file", 0664, OWRITE);
	if(isr(rx, Rcreate, "create %s/file", dir))
		is(rx->iounit, msize - IOHDRSZ, "iounit");
	n = 3*(msize - IOHDRSZ) + 17;
	buf = emalloc(n);
	got = emalloc(n);
	for(i = 0; i < n; i++)
		buf[i] = i ^ (i >> 9) ^ msize;
	tot = 0;
	for(i = 0; i < n; i += msize - IOHDRSZ){
		rx = twrite(r, 1, i, buf + i, MIN(msize - IOHDRSZ, n - i));
		if(rx == nil || rx->type != Rwrite)
			break;
		tot += rx->count;
	}
	is(tot, n, "write %ld bytes", n);
	isr(tclunk(r, 1), Rclunk, "clunk");
	isr(twalk(r, 0, 2, ""), Rwalk, "walk (clone)");
	rx = twalk(r, 2, 2, dir);
	isr(rx, Rwalk, "walk the clone to %s", dir);
	rx = twalk(r, 2, 2, "file");
	isr(rx, Rwalk, "and on to file");
	isr(topen(r, 2, OREAD), Ropen, "open");
	tot = 0;
	for(;;){
		rx = tread(r, 2, tot, msize - IOHDRSZ);
		if(rx == nil || rx->type != Rread || rx->count == 0 || tot + rx->count > n)
			break;
		memcpy(got + tot, rx->data, rx->count);
		tot += rx->count;
	}
	ok(tot == n && memcmp(got, buf, n) == 0, "read back %ld bytes, equal", tot);
	rx = tstat(r, 2);
	s = rx != nil && rx->type == Rstat ? dirunpack(rx->stat, rx->nstat) : nil;
	ok(s != nil && s->length == (uvlong)n && strcmp(s->name, "file") == 0 && s->mode == 0664,
		"stat: file, %ld bytes, 0664", n);
	free(s);
	nulldir(&d);
	d.name = "renamed";
	d.mode = 0600;
	isr(twstat(r, 2, &d), Rwstat, "wstat: rename, chmod");
	rx = tstat(r, 2);
	s = rx != nil && rx->type == Rstat ? dirunpack(rx->stat, rx->nstat) : nil;
	ok(s != nil && strcmp(s->name, "renamed") == 0 && s->mode == 0600, "stat shows both");
	free(s);
	isr(tremove(r, 2), Rremove, "remove the file");
	isr(twalk(r, 0, 3, dir), Rwalk, "walk to %s", dir);
	isr(tremove(r, 3), Rremove, "remove the directory");
	rx = twalk(r, 0, 4, dir);
	iserror(rx, Esrch, "it is gone");
	isr(tclunk(r, 0), Rclunk, "clunk the root");
	free(buf);
	free(got);
}

int
main(int argc, char **argv)
{
	int sv[2], st;
	pid_t pid;
	Raw *r;
	int i;

	if(argc >= 3 && strcmp(argv[1], "-s") == 0){
		if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
			sysfatal("socketpair: %s", strerror(errno));
		if((pid = fork()) < 0)
			sysfatal("fork");
		if(pid == 0){
			dup2(sv[1], 0);
			dup2(sv[1], 1);
			close(sv[0]);
			close(sv[1]);
			execv(argv[2], argv+2);
			_exit(127);
		}
		close(sv[1]);
		r = emalloc(sizeof *r);
		r->fd = sv[0];
		r->tag = 1;
		for(i = 0; i < (int)nelem(msizes); i++)
			plan9(r, msizes[i]);
		rawclose(r);
		ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			"gefs -s exits 0 at the end of its input (status %#x)", st);
		return done();
	}
	if(argc != 2){
		fprintf(stderr, "usage: session address | session -s gefs args...\n");
		return 2;
	}
	for(i = 0; i < (int)nelem(msizes); i++){
		if((r = rawdial(argv[1])) == nil){
			ok(0, "dial %s", argv[1]);
			continue;
		}
		plan9(r, msizes[i]);
		rawclose(r);
	}
	return done();
}
