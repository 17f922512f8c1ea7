/*
 * test/conform: 9P2000 conformance of a running gefs, through raw
 * frames: every request type, in the right and in wrong sequences, and
 * the replies and error strings of runtime §3 (format §17.11).
 *
 *	conform ADDRESS
 *
 * ADDRESS serves a freshly reamed volume whose ream user is glenda; the
 * test may attach as anybody (it runs as the server's owner).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"
#include "test/tap.h"
#include "test/raw.h"

static char *addr;
static char *user = "glenda";

static Raw*
session(u32int msize)
{
	Raw *r;

	r = rawsession(addr, msize, user, "");
	ok(r != nil, "session with msize %u", msize);
	return r;
}

/* Create name in the directory fid walks from root fid 0 to; fid ends open on it. */
static int
mk(Raw *r, u32int fid, char *dir, char *name, u32int perm, int mode)
{
	Fcall *rx;

	rx = twalk(r, 0, fid, dir);
	if(rx == nil || rx->type != Rwalk)
		return -1;
	rx = tcreate(r, fid, name, perm, mode);
	if(rx == nil || rx->type != Rcreate){
		diag("create %s/%s: %s", dir, name, rx != nil && rx->type == Rerror ? rx->ename : "?");
		tclunk(r, fid);
		return -1;
	}
	return 0;
}

static Dir*
statof(Raw *r, u32int fid)
{
	Fcall *rx;

	rx = tstat(r, fid);
	if(rx == nil || rx->type != Rstat)
		return nil;
	return dirunpack(rx->stat, rx->nstat);
}

static void
testversion(void)
{
	Fcall *rx;
	Raw *r;

	diag("Tversion");
	r = rawdial(addr);
	rx = tversion(r, 8192, "9P2000");
	if(isr(rx, Rversion, "9P2000 at 8192"))
		ok(rx->msize == 8192 && strcmp(rx->version, "9P2000") == 0,
			"msize %u version %s", rx->msize, rx->version);
	rx = tversion(r, 8192, "9P2000.L");
	if(isr(rx, Rversion, "9P2000.L"))
		ok(strcmp(rx->version, "9P2000") == 0, "9P2000.L is answered %s", rx->version);
	rx = tversion(r, 32768+24, "9P2000.u");
	if(isr(rx, Rversion, "9P2000.u"))
		ok(strcmp(rx->version, "9P2000") == 0 && rx->msize == 32768+24,
			"9P2000.u is answered %s, msize %u", rx->version, rx->msize);
	rx = tversion(r, 0xFFFFFFFF, "9P2000");
	if(isr(rx, Rversion, "msize 2^32-1"))
		is(rx->msize, Maxmsg, "the largest msize is granted down to %d", Maxmsg);
	rx = tversion(r, 256, "9P2000");
	if(isr(rx, Rversion, "msize 256"))
		is(rx->msize, 256, "msize 256 is granted");
	iserror(tversion(r, 255, "9P2000"), Ebotch, "msize 255 is too small");
	iserror(tversion(r, 0, "9P2000"), Ebotch, "msize 0 is too small");
	rx = tversion(r, 8192, "9P2001");
	if(isr(rx, Rversion, "9P2001"))
		ok(strcmp(rx->version, "unknown") == 0, "9P2001 is %s", rx->version);
	rx = tversion(r, 8192, "9P");
	if(isr(rx, Rversion, "9P"))
		ok(strcmp(rx->version, "unknown") == 0, "9P is %s", rx->version);
	/* unversioned again: anything but Tversion hangs up */
	rx = tattach(r, 0, NOFID, user, "");
	ok(rx == nil && rawhungup(r), "attach after an unknown version hangs up");
	rawclose(r);

	r = rawdial(addr);
	rx = tattach(r, 0, NOFID, user, "");
	ok(rx == nil && rawhungup(r), "attach before any version hangs up");
	rawclose(r);

	/* a new version ends the session: fids are gone */
	r = session(8192);
	if(r == nil)
		return;
	isr(twalk(r, 0, 1, ""), Rwalk, "clone before a new version");
	isr(tversion(r, 16384, "9P2000"), Rversion, "version again");
	iserror(twalk(r, 0, 2, ""), Enofid, "fid 0 is gone after Tversion");
	iserror(tclunk(r, 1), Enofid, "fid 1 is gone after Tversion");
	isr(tattach(r, 0, NOFID, user, ""), Rattach, "fid 0 can be attached again");
	rawclose(r);
}

static void
testattach(void)
{
	Fcall *rx;
	Raw *r;
	char *big;
	u64int root;

	diag("Tauth, Tattach");
	r = rawdial(addr);
	tversion(r, Maxmsg, "9P2000");
	iserror(tauth(r, 5, user, ""), Eauth, "Tauth");
	iserror(tauth(r, 5, "none", ""), Eauth, "Tauth as none");
	iserror(tclunk(r, 5), Enofid, "a failed Tauth leaves no fid");
	iserror(tattach(r, 0, NOFID, "nosuchuser", ""), Enouser, "attach as an unknown user");
	iserror(tattach(r, 0, 7, user, ""), Ebadu, "attach with an afid that never authenticated");
	iserror(tattach(r, 0, NOFID, user, "nosuchlabel"), Enosnap, "attach an unknown label");
	rx = tattach(r, 0, NOFID, user, "");
	if(isr(rx, Rattach, "attach \"\"")){
		root = rx->qid.path;
		ok(root == 0 && rx->qid.type == QTDIR, "\"\" is main's root: qid %llx type %x",
			(unsigned long long)root, rx->qid.type);
	}
	iserror(tattach(r, 0, NOFID, user, ""), Efid, "attach to a fid in use");
	rx = tattach(r, 1, NOFID, user, "main");
	if(isr(rx, Rattach, "attach main"))
		is(rx->qid.path, 0, "main's root is qid 0");
	rx = tattach(r, 2, NOFID, user, "adm");
	if(isr(rx, Rattach, "attach adm"))
		is(rx->qid.path, Qadm, "adm's root is qid 1");
	isr(tattach(r, 3, NOFID, user, "empty"), Rattach, "attach empty");
	isr(twalk(r, 3, 9, ""), Rwalk, "clone empty's root");
	iserror(tcreate(r, 9, "x", 0664, OWRITE), Erdonly, "empty is a snapshot: create fails");
	iserror(tremove(r, 9), Erdonly, "nor its root removed");
	rx = tattach(r, 4, NOFID, user, "dump");
	if(isr(rx, Rattach, "attach dump"))
		ok(rx->qid.path == Qdump && rx->qid.type == QTDIR, "dump root qid %llx",
			(unsigned long long)rx->qid.path);
	isr(tattach(r, 5, NOFID, user, "%main"), Rattach, "%%main for a member of adm");
	iserror(tattach(r, 6, NOFID, "none", "%main"), Eperm, "%%main for none");
	isr(tattach(r, 6, NOFID, "none", "main"), Rattach, "main for none");
	isr(tattach(r, 7, NOFID, user, "%dump"), Rattach, "%%dump");

	/* strings of the largest size 9P allows */
	big = emalloc(Maxstr+1);
	memset(big, 'u', Maxstr);
	iserror(tattach(r, 8, NOFID, big, ""), Enouser, "a uname of 65535 bytes");
	rx = tattach(r, 8, NOFID, user, big);
	ok(rx != nil && rx->type == Rerror, "an aname of 65535 bytes: %s",
		rx != nil && rx->type == Rerror ? rx->ename : "accepted");
	free(big);
	iserror(tclunk(r, 8), Enofid, "no fid after failed attaches");
	isr(tclunk(r, 7), Rclunk, "the connection still works");
	rawclose(r);
}

static void
testwalk(void)
{
	Fcall *rx;
	Raw *r;
	Dir *d;
	char *names[2], *big;
	int i;

	diag("Twalk");
	r = rawsession(addr, Maxmsg, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "w", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "w", "sub", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "w", "f", 0664, OWRITE);
	tclunk(r, 1);

	rx = twalk(r, 0, 1, "w/sub");
	if(isr(rx, Rwalk, "walk w/sub"))
		ok(rx->nwqid == 2 && (rx->wqid[0].type & QTDIR) && (rx->wqid[1].type & QTDIR),
			"two directory qids (%d)", rx->nwqid);
	iserror(twalk(r, 0, 2, "nosuch"), Esrch, "walk to nothing");
	iserror(tclunk(r, 2), Enofid, "a failed walk makes no fid");
	rx = twalk(r, 0, 3, "w/nosuch/x");
	if(isr(rx, Rwalk, "walk that fails at the second name"))
		is(rx->nwqid, 1, "one qid");
	iserror(tclunk(r, 3), Enofid, "a partial walk makes no fid");
	rx = twalk(r, 0, 3, "w/f/x");
	if(isr(rx, Rwalk, "walk through a file"))
		is(rx->nwqid, 2, "stops after the file");
	iserror(tclunk(r, 3), Enofid, "no fid");

	rx = twalk(r, 0, 4, "..");
	if(isr(rx, Rwalk, "walk .. at the root"))
		ok(rx->nwqid == 1 && rx->wqid[0].path == 0, "the root's parent is the root");
	tclunk(r, 4);
	rx = twalk(r, 0, 4, "../..");
	if(isr(rx, Rwalk, "walk ../.. at the root"))
		ok(rx->nwqid == 2 && rx->wqid[0].path == 0 && rx->wqid[1].path == 0, "still the root");
	tclunk(r, 4);
	rx = twalk(r, 0, 4, "w/sub/../..");
	if(isr(rx, Rwalk, "walk w/sub/../.."))
		ok(rx->nwqid == 4 && rx->wqid[3].path == 0 && rx->wqid[2].path == rx->wqid[0].path,
			"down and up again");
	tclunk(r, 4);
	rx = twalk(r, 0, 4, "w/sub/../sub/../sub/../sub/../sub/../sub/../sub/../sub");
	if(isr(rx, Rwalk, "walk of 16 names"))
		is(rx->nwqid, 16, "16 qids");
	tclunk(r, 4);

	names[0] = "w/sub";
	iserror(twalkv(r, 0, 4, 1, names), Esrch, "a name with '/' names nothing");
	names[0] = ".";
	iserror(twalkv(r, 0, 4, 1, names), Esrch, "'.' names nothing");
	big = emalloc(Maxstr+1);
	memset(big, 'n', Maxstr);
	names[0] = "w";
	names[1] = big;
	big[Maxname+1] = 0;
	iserror(twalkv(r, 0, 4, 2, names), Elength, "a name of %d bytes", Maxname+1);
	big[Maxname+1] = 'n';
	big[Maxname] = 0;
	rx = twalkv(r, 0, 4, 2, names);
	if(isr(rx, Rwalk, "a name of Maxname bytes is looked up"))
		is(rx->nwqid, 1, "and not found");
	big[Maxname] = 'n';
	iserror(twalkv(r, 0, 4, 2, names), Elength, "a name of 65535 bytes");
	free(big);
	iserror(tclunk(r, 4), Enofid, "no fid after those");

	iserror(twalk(r, 99, 4, "w"), Enofid, "walk from an unknown fid");
	iserror(twalk(r, 0, 1, "w"), Efid, "walk to a newfid in use");
	isr(topen(r, 1, OREAD), Ropen, "open w/sub");
	iserror(twalk(r, 1, 4, ".."), Einuse, "walk from an open fid");
	isr(tclunk(r, 1), Rclunk, "clunk");
	isr(twalk(r, 0, 1, "w"), Rwalk, "fid 1 can be reused");
	rx = twalk(r, 1, 1, "sub");
	if(isr(rx, Rwalk, "walk fid 1 onto itself")){
		d = statof(r, 1);
		ok(d != nil && strcmp(d->name, "sub") == 0, "fid 1 moved to sub (%s)", d ? d->name : "?");
		free(d);
	}
	rx = twalk(r, 1, 5, "");
	if(isr(rx, Rwalk, "clone"))
		is(rx->nwqid, 0, "no qids");
	d = statof(r, 5);
	ok(d != nil && strcmp(d->name, "sub") == 0, "the clone is at sub");
	free(d);
	for(i = 1; i <= 5; i++)
		tclunk(r, i);

	/* the dump */
	isr(tattach(r, 6, NOFID, user, "dump"), Rattach, "attach dump");
	rx = twalk(r, 6, 7, "main/w/sub");
	if(isr(rx, Rwalk, "walk dump/main/w/sub"))
		is(rx->nwqid, 3, "three qids");
	rx = twalk(r, 6, 8, "main/..");
	if(isr(rx, Rwalk, "walk dump/main/.."))
		ok(rx->nwqid == 2 && rx->wqid[1].path == Qdump, ".. at a snapshot's root is the dump");
	rx = twalk(r, 6, 9, "..");
	if(isr(rx, Rwalk, "walk .. at the dump root"))
		ok(rx->nwqid == 1 && rx->wqid[0].path == Qdump, "is the dump root");
	iserror(twalk(r, 6, 10, "nosuchlabel"), Enosnap, "walk to an unknown label");
	for(i = 6; i <= 9; i++)
		tclunk(r, i);
	rawclose(r);
}

static void
testopen(void)
{
	Fcall *rx;
	Raw *r;
	Dir *d;
	u32int vers;
	char buf[16];

	diag("Topen");
	r = rawsession(addr, 32768+24, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "o", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "o", "f", 0664, OWRITE);
	twrite(r, 1, 0, "0123456789", 10);
	tclunk(r, 1);

	iserror(topen(r, 99, OREAD), Enofid, "open an unknown fid");
	twalk(r, 0, 1, "o");
	iserror(topen(r, 1, OWRITE), Eperm, "open a directory for writing");
	iserror(topen(r, 1, ORDWR), Eperm, "open a directory for reading and writing");
	iserror(topen(r, 1, OREAD|OTRUNC), Eperm, "truncate a directory");
	iserror(twrite(r, 1, 0, "x", 1), Eopen, "write to an unopened directory");
	tclunk(r, 1);

	twalk(r, 0, 1, "o/f");
	iserror(topen(r, 1, 0x80), Emode, "open mode 0x80");
	iserror(topen(r, 1, 0x04), Emode, "open mode 4");
	iserror(tread(r, 1, 0, 10), Eopen, "read an unopened fid");
	iserror(twrite(r, 1, 0, "x", 1), Eopen, "write an unopened fid");
	rx = topen(r, 1, OREAD);
	if(isr(rx, Ropen, "open for reading"))
		is(rx->iounit, r->msize - IOHDRSZ, "iounit is msize - IOHDRSZ");
	iserror(topen(r, 1, OREAD), Einuse, "open twice");
	iserror(twrite(r, 1, 0, "x", 1), Einuse, "write to a fid open for reading");
	tclunk(r, 1);
	twalk(r, 0, 1, "o/f");
	isr(topen(r, 1, OWRITE), Ropen, "open for writing");
	iserror(tread(r, 1, 0, 10), Einuse, "read from a fid open for writing");
	tclunk(r, 1);

	twalk(r, 0, 1, "o/f");
	d = statof(r, 1);
	vers = d != nil ? d->qid.vers : 0;
	free(d);
	isr(topen(r, 1, OWRITE|OTRUNC), Ropen, "open with OTRUNC");
	d = statof(r, 1);
	ok(d != nil && d->length == 0 && d->qid.vers > vers, "truncated: length %llu, version %u > %u",
		d ? (unsigned long long)d->length : 0ULL, d ? d->qid.vers : 0, vers);
	free(d);
	tclunk(r, 1);
	twalk(r, 0, 1, "o/f");
	isr(topen(r, 1, ORDWR), Ropen, "open it again");
	isr(twrite(r, 1, 2*Blksz, "z", 1), Rwrite, "write past the old data");
	rx = tread(r, 1, 0, 16);
	ok(rx != nil && rx->type == Rread && rx->count == 16 && rx->data[0] == 0 && rx->data[9] == 0,
		"the truncated data is gone: zeros");
	tclunk(r, 1);

	/* DMAPPEND: every write at the end; OTRUNC ignored */
	mk(r, 1, "o", "app", DMAPPEND|0664, OWRITE);
	twrite(r, 1, 0, "ab", 2);
	twrite(r, 1, 0, "cd", 2);
	tclunk(r, 1);
	twalk(r, 0, 1, "o/app");
	isr(topen(r, 1, ORDWR|OTRUNC), Ropen, "open an append-only file with OTRUNC");
	rx = tread(r, 1, 0, sizeof buf);
	ok(rx != nil && rx->type == Rread && rx->count == 4 && memcmp(rx->data, "abcd", 4) == 0,
		"writes appended, OTRUNC ignored");
	d = statof(r, 1);
	ok(d != nil && (d->qid.type & QTAPPEND), "qid type has QTAPPEND");
	free(d);
	tclunk(r, 1);

	/* DMEXCL: one open at a time */
	mk(r, 1, "o", "excl", DMEXCL|0664, OWRITE);
	twalk(r, 0, 2, "o/excl");
	iserror(topen(r, 2, OREAD), Elocked, "a second open of an exclusive file");
	iserror(tremove(r, 2), Elocked, "remove an exclusive file someone has open");
	twalk(r, 0, 2, "o/excl");
	d = statof(r, 2);
	ok(d != nil && (d->qid.type & QTEXCL), "qid type has QTEXCL");
	free(d);
	tclunk(r, 1);
	isr(topen(r, 2, OREAD), Ropen, "open once the other is clunked");
	tclunk(r, 2);

	/* DMTMP */
	mk(r, 1, "o", "tmp", DMTMP|0664, OWRITE);
	d = statof(r, 1);
	ok(d != nil && (d->qid.type & QTTMP) && (d->mode & DMTMP), "DMTMP gives QTTMP");
	free(d);
	tclunk(r, 1);

	/* ORCLOSE */
	mk(r, 1, "o", "rc", 0664, OWRITE|ORCLOSE);
	isr(tclunk(r, 1), Rclunk, "clunk a remove-on-close file");
	rx = twalk(r, 0, 1, "o/rc");
	ok(rx != nil && rx->type == Rwalk && rx->nwqid == 1, "it is gone at Rclunk");
	mk(r, 1, "o", "rc", 0664, OWRITE|ORCLOSE);
	isr(tremove(r, 1), Rremove, "remove a remove-on-close fid");
	rx = twalk(r, 0, 1, "o/rc");
	ok(rx != nil && rx->type == Rwalk && rx->nwqid == 1, "it is gone");
	mk(r, 1, "o", "rcdir", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "o/rcdir", "x", 0664, OREAD);
	tclunk(r, 1);
	twalk(r, 0, 1, "o/rcdir");
	iserror(topen(r, 1, OREAD|ORCLOSE), Enempty, "remove-on-close of a directory with files");
	tclunk(r, 1);
	rawclose(r);

	/* ORCLOSE needs write permission in the directory */
	r = rawsession(addr, 8192, user, "");
	mk(r, 1, "o", "ro", DMDIR|0755, OREAD);
	tclunk(r, 1);
	mk(r, 1, "o/ro", "g", 0644, OREAD);
	tclunk(r, 1);
	isr(tattach(r, 2, NOFID, "none", ""), Rattach, "attach as none");
	isr(twalk(r, 2, 3, "o/ro/g"), Rwalk, "none walks to o/ro/g");
	iserror(topen(r, 3, OREAD|ORCLOSE), Eperm, "none may not remove-on-close in a directory it cannot write");
	isr(topen(r, 3, OREAD), Ropen, "but may read it");
	rawclose(r);

	/* hang-up runs remove-on-close */
	r = rawsession(addr, 8192, user, "");
	mk(r, 1, "o", "hup", 0664, OWRITE|ORCLOSE);
	rawclose(r);
	r = rawsession(addr, 8192, user, "");
	rx = nil;
	/* the server clunks the hung-up fids on its own time: a minute at most */
	for(vers = 0; vers < 1200; vers++){
		rx = twalk(r, 0, 1, "o/hup");
		if(rx == nil || rx->type != Rwalk || rx->nwqid < 2)
			break;
		tclunk(r, 1);
		usleep(50*1000);
	}
	if(!ok(rx != nil && rx->type == Rwalk && rx->nwqid == 1, "a hang-up removes remove-on-close files"))
		diag("after %u tries: %s %s nwqid %d", vers, rx ? fcallname(rx->type) : "no reply",
			rx && rx->type == Rerror ? rx->ename : "", rx ? rx->nwqid : -1);
	rawclose(r);
}

static void
testcreate(void)
{
	Fcall *rx;
	Raw *r;
	Dir *d;
	char name[Maxname+2];
	u64int q;

	diag("Tcreate");
	r = rawsession(addr, 8192, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "c", DMDIR|0755, OREAD);
	d = statof(r, 1);
	ok(d != nil && d->mode == (DMDIR|0755) && strcmp(d->uid, user) == 0,
		"new directory: mode %o owner %s", d ? d->mode : 0, d ? d->uid : "?");
	free(d);
	tclunk(r, 1);
	mk(r, 1, "c", "f", 0666, ORDWR);
	d = statof(r, 1);
	ok(d != nil && d->mode == 0644, "0666 in a 0755 directory is 0644 (%o)", d ? d->mode : 0);
	q = d != nil ? d->qid.path : 0;
	free(d);
	isr(twrite(r, 1, 0, "hello", 5), Rwrite, "a created file is open");
	iserror(tcreate(r, 1, "g", 0664, OREAD), Einuse, "create on an open fid");
	tclunk(r, 1);
	mk(r, 1, "c", "d", DMDIR|0777, OREAD);
	d = statof(r, 1);
	ok(d != nil && d->mode == (DMDIR|0755), "0777 directory in a 0755 one is 0755 (%o)", d ? d->mode : 0);
	ok(d != nil && d->qid.path > q, "qid paths grow");
	free(d);
	tclunk(r, 1);

	twalk(r, 0, 1, "c/f");
	iserror(tcreate(r, 1, "x", 0664, OREAD), Ecdir, "create in a file");
	tclunk(r, 1);
	twalk(r, 0, 1, "c");
	iserror(tcreate(r, 1, "f", 0664, OREAD), Eexist, "create an existing name");
	iserror(tcreate(r, 1, "", 0664, OREAD), Ename, "create \"\"");
	iserror(tcreate(r, 1, ".", 0664, OREAD), Ename, "create .");
	iserror(tcreate(r, 1, "..", 0664, OREAD), Ename, "create ..");
	iserror(tcreate(r, 1, "a/b", 0664, OREAD), Ename, "create a/b");
	iserror(tcreate(r, 1, "a\001b", 0664, OREAD), Ename, "create a name with a control byte");
	memset(name, 'x', sizeof name);
	name[Maxname+1] = 0;
	iserror(tcreate(r, 1, name, 0664, OREAD), Elength, "create a name of %d bytes", Maxname+1);
	iserror(tcreate(r, 1, "m", DMMOUNT|0664, OREAD), Ebotch, "create with DMMOUNT");
	iserror(tcreate(r, 1, "m", DMAUTH|0664, OREAD), Ebotch, "create with DMAUTH");
	iserror(tcreate(r, 1, "m", 0x00100000|0664, OREAD), Ewstatb, "create with an unknown mode bit");
	iserror(tcreate(r, 1, "m", DMDIR|0775, OWRITE), Eperm, "create a directory open for writing");
	iserror(tcreate(r, 1, "m", 0664, 0x80), Emode, "create with open mode 0x80");
	name[Maxname] = 0;
	isr(tcreate(r, 1, name, 0664, OREAD), Rcreate, "create a name of %d bytes", Maxname);
	tclunk(r, 1);

	/* a directory removed under a fid */
	mk(r, 1, "c", "gone", DMDIR|0775, OREAD);
	tclunk(r, 1);
	twalk(r, 0, 1, "c/gone");
	twalk(r, 0, 2, "c/gone");
	isr(tremove(r, 2), Rremove, "remove c/gone");
	iserror(tcreate(r, 1, "x", 0664, OREAD), Ephase, "create in a removed directory");
	iserror(tstat(r, 1), Ephase, "stat of a removed directory");
	tclunk(r, 1);

	/* permission to write the directory */
	isr(tattach(r, 3, NOFID, "none", ""), Rattach, "attach as none");
	twalk(r, 3, 4, "c");
	iserror(tcreate(r, 4, "x", 0664, OREAD), Eperm, "none creates in a 0755 directory of glenda");
	tclunk(r, 4);
	rx = twalk(r, 3, 4, "c/x");
	ok(rx != nil && rx->type == Rwalk && rx->nwqid == 1, "nothing was made");
	tclunk(r, 4);
	rawclose(r);
}

static void
testreadwrite(void)
{
	Fcall *rx;
	Raw *r;
	uchar *buf, *got;
	long n, i, tot;
	Dir *d;

	diag("Tread, Twrite");
	r = rawsession(addr, 32768+24, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "rw", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "rw", "data", 0664, ORDWR);
	n = 3*Blksz + 5;
	buf = emalloc(n);
	for(i = 0; i < n; i++)
		buf[i] = i*7 + i/251;
	tot = 0;
	for(i = 0; i < n; i += 32768){
		rx = twrite(r, 1, 100 + i, buf + i, MIN(32768, n - i));
		if(rx == nil || rx->type != Rwrite)
			break;
		tot += rx->count;
	}
	is(tot, n, "wrote %ld bytes across block boundaries", n);
	got = emalloc(n + 100);
	tot = 0;
	for(;;){
		rx = tread(r, 1, tot, 1<<30);
		if(rx == nil || rx->type != Rread || rx->count == 0)
			break;
		if(rx->count > r->msize - IOHDRSZ)
			break;
		memcpy(got + tot, rx->data, rx->count);
		tot += rx->count;
	}
	is(tot, n + 100, "read back %ld bytes, in counts clamped to the iounit", n + 100);
	ok(memcmp(got+100, buf, n) == 0, "contents equal");
	for(i = 0; i < 100 && got[i] == 0; i++)
		;
	is(i, 100, "the hole before offset 100 reads as zeros");
	rx = tread(r, 1, n + 100, 100);
	ok(rx != nil && rx->type == Rread && rx->count == 0, "read at the end gives 0 bytes");
	rx = tread(r, 1, 1ULL<<40, 100);
	ok(rx != nil && rx->type == Rread && rx->count == 0, "read far past the end gives 0 bytes");
	iserror(tread(r, 1, 1ULL<<63, 10), Eoffset, "read at 2^63");
	iserror(twrite(r, 1, 1ULL<<63, "x", 1), Ewstatl, "write at 2^63");
	iserror(twrite(r, 1, (1ULL<<63) - 1, "xx", 2), Ewstatl, "write ending past 2^63");
	isr(twrite(r, 1, 10*Blksz + 3, "tail", 4), Rwrite, "write past the end");
	rx = tread(r, 1, 5*Blksz, 100);
	ok(rx != nil && rx->type == Rread && rx->count == 100 && rx->data[0] == 0 && rx->data[99] == 0,
		"the hole reads as zeros");
	d = statof(r, 1);
	ok(d != nil && d->length == 10*Blksz + 7, "length %llu", d ? (unsigned long long)d->length : 0ULL);
	ok(d != nil && strcmp(d->muid, user) == 0, "muid is the writer");
	free(d);
	tclunk(r, 1);
	free(buf);
	free(got);

	/* directories */
	for(i = 0; i < 20; i++){
		char nm[32];

		snprintf(nm, sizeof nm, "entry%02ld", i);
		mk(r, 1, "rw", nm, 0664, OREAD);
		tclunk(r, 1);
	}
	twalk(r, 0, 1, "rw");
	topen(r, 1, OREAD);
	iserror(tread(r, 1, 0, 20), Ebotch, "a directory read too small for one entry");
	tot = 0;
	n = 0;
	for(;;){
		rx = tread(r, 1, tot, 200);
		if(rx == nil || rx->type != Rread || rx->count == 0)
			break;
		n += dirunpackall(rx->data, rx->count, &d);
		free(d);
		tot += rx->count;
	}
	is(n, 21, "the directory lists 21 entries, whole records per read");
	iserror(tread(r, 1, 7, 200), Edscan, "a directory read at an offset it did not give");
	rx = tread(r, 1, 0, 8192);
	if(isr(rx, Rread, "read the directory again from 0")){
		n = dirunpackall(rx->data, rx->count, &d);
		is(n, 21, "21 entries again");
		free(d);
	}
	tclunk(r, 1);
	twalk(r, 0, 1, "rw");
	iserror(tread(r, 1, 0, 200), Eopen, "read an unopened directory");
	tclunk(r, 1);

	/* the dump lists labels */
	isr(tattach(r, 2, NOFID, user, "dump"), Rattach, "attach dump");
	isr(topen(r, 2, OREAD), Ropen, "open the dump");
	rx = tread(r, 2, 0, 8192);
	if(isr(rx, Rread, "read the dump")){
		int main, adm, empty;

		n = dirunpackall(rx->data, rx->count, &d);
		main = adm = empty = 0;
		for(i = 0; i < n; i++){
			main |= strcmp(d[i].name, "main") == 0 && (d[i].mode & DMDIR);
			adm |= strcmp(d[i].name, "adm") == 0;
			empty |= strcmp(d[i].name, "empty") == 0;
		}
		ok(main && adm && empty, "it lists main, adm and empty (%ld entries)", n);
		free(d);
	}
	iserror(topen(r, 0, OWRITE), Eperm, "open main's root for writing");
	rawclose(r);
}

static void
testwstat(void)
{
	Fcall *rx;
	Raw *r;
	Dir d, *s;
	char name[Maxname+2];

	diag("Twstat");
	r = rawsession(addr, 8192, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "ws", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "ws", "a", 0664, OWRITE);
	twrite(r, 1, 0, "0123456789abcdef", 16);
	tclunk(r, 1);
	mk(r, 1, "ws", "b", 0664, OWRITE);
	twrite(r, 1, 0, "bbbb", 4);
	tclunk(r, 1);

	twalk(r, 0, 1, "ws/a");
	nulldir(&d);
	isr(twstat(r, 1, &d), Rwstat, "a null wstat (a sync)");

	nulldir(&d);
	d.name = "b";
	iserror(twstat(r, 1, &d), Eexist, "rename onto an existing name");
	nulldir(&d);
	d.name = "c";
	d.mode = DMDIR|0664;
	iserror(twstat(r, 1, &d), Ewstatd, "rename and make a directory");
	s = statof(r, 1);
	ok(s != nil && strcmp(s->name, "a") == 0 && s->mode == 0664, "a failed wstat changes nothing");
	free(s);
	nulldir(&d);
	d.name = "c";
	d.mode = 0x00100000|0664;
	iserror(twstat(r, 1, &d), Ewstatb, "unknown mode bits");
	nulldir(&d);
	d.length = 1ULL<<63;
	iserror(twstat(r, 1, &d), Ewstatl, "negative length");
	nulldir(&d);
	d.qid.path = 12345;
	iserror(twstat(r, 1, &d), Ewstatq, "change the qid path");
	nulldir(&d);
	d.type = 0;
	iserror(twstat(r, 1, &d), Ewstatq, "change the type");
	nulldir(&d);
	d.uid = "adm";
	iserror(twstat(r, 1, &d), Ewstatu, "give the file away");
	nulldir(&d);
	d.uid = "nosuchuser";
	iserror(twstat(r, 1, &d), Enouser, "an unknown owner");
	nulldir(&d);
	d.gid = "nosuchgroup";
	iserror(twstat(r, 1, &d), Enogrp, "an unknown group");
	nulldir(&d);
	memset(name, 'y', sizeof name);
	name[Maxname+1] = 0;
	d.name = name;
	iserror(twstat(r, 1, &d), Elength, "rename to %d bytes", Maxname+1);
	nulldir(&d);
	d.name = "x/y";
	iserror(twstat(r, 1, &d), Ename, "rename to x/y");
	s = statof(r, 1);
	ok(s != nil && strcmp(s->name, "a") == 0 && s->length == 16 && s->mode == 0664,
		"after all that, nothing changed");
	free(s);

	nulldir(&d);
	d.name = "c";
	d.mode = 0640;
	d.mtime = 1000000;
	d.gid = "adm";
	isr(twstat(r, 1, &d), Rwstat, "rename, chmod, set mtime and group");
	s = statof(r, 1);
	ok(s != nil && strcmp(s->name, "c") == 0 && s->mode == 0640 && s->mtime == 1000000
		&& strcmp(s->gid, "adm") == 0, "all four changed");
	free(s);
	rx = twalk(r, 0, 2, "ws/a");
	ok(rx != nil && rx->type == Rwalk && rx->nwqid == 1, "the old name is gone");
	isr(twalk(r, 0, 2, "ws/c"), Rwalk, "the new name is there");
	tclunk(r, 2);

	nulldir(&d);
	d.mode = DMAPPEND|0640;
	isr(twstat(r, 1, &d), Rwstat, "make it append-only");
	s = statof(r, 1);
	ok(s != nil && (s->qid.type & QTAPPEND), "the qid type follows the mode");
	free(s);
	nulldir(&d);
	d.mode = 0640;
	twstat(r, 1, &d);

	/* truncation, then growth: the cut tail must read as zeros */
	nulldir(&d);
	d.length = 5;
	isr(twstat(r, 1, &d), Rwstat, "truncate to 5 bytes");
	nulldir(&d);
	d.length = 3*Blksz;
	isr(twstat(r, 1, &d), Rwstat, "grow to 3 blocks");
	isr(topen(r, 1, OREAD), Ropen, "open");
	rx = tread(r, 1, 0, 16);
	ok(rx != nil && rx->type == Rread && rx->count == 16 && memcmp(rx->data, "01234", 5) == 0
		&& rx->data[5] == 0 && rx->data[15] == 0, "5 bytes of data, then zeros");
	rx = tread(r, 1, 3*Blksz - 10, 100);
	ok(rx != nil && rx->type == Rread && rx->count == 10 && rx->data[9] == 0, "zeros to the new end");
	tclunk(r, 1);

	twalk(r, 0, 1, "ws");
	nulldir(&d);
	d.mode = 0775;
	iserror(twstat(r, 1, &d), Ewstatd, "make a directory a file");
	nulldir(&d);
	d.length = 10;
	iserror(twstat(r, 1, &d), Ewstatd, "set a directory's length");
	tclunk(r, 1);
	nulldir(&d);
	d.name = "x";
	iserror(twstat(r, 0, &d), Eperm, "rename the root");

	/* not the owner */
	isr(tattach(r, 3, NOFID, "none", ""), Rattach, "attach as none");
	twalk(r, 3, 4, "ws/b");
	nulldir(&d);
	d.mode = 0666;
	iserror(twstat(r, 4, &d), Ewstato, "chmod by someone else");
	nulldir(&d);
	d.length = 0;
	iserror(twstat(r, 4, &d), Eperm, "truncate without write permission");
	nulldir(&d);
	d.name = "bb";
	iserror(twstat(r, 4, &d), Eperm, "rename without write permission in the directory");
	tclunk(r, 4);

	/* the dump root */
	isr(tattach(r, 5, NOFID, user, "dump"), Rattach, "attach dump");
	nulldir(&d);
	d.mode = DMDIR|0777;
	iserror(twstat(r, 5, &d), Emode, "wstat the dump root");
	rawclose(r);
}

static void
testremove(void)
{
	Fcall *rx;
	Raw *r;

	diag("Tremove, Tclunk");
	r = rawsession(addr, 8192, user, "");
	if(!ok(r != nil, "session"))
		return;
	mk(r, 1, "", "rm", DMDIR|0775, OREAD);
	tclunk(r, 1);
	mk(r, 1, "rm", "f", 0664, OWRITE);
	twrite(r, 1, 0, "data", 4);
	tclunk(r, 1);

	twalk(r, 0, 1, "rm");
	iserror(tremove(r, 1), Enempty, "remove a directory with files");
	iserror(tclunk(r, 1), Enofid, "the fid is gone even so");
	iserror(tremove(r, 1), Enofid, "remove an unknown fid");
	twalk(r, 0, 1, "");
	iserror(tremove(r, 1), Eperm, "remove the root");

	twalk(r, 0, 1, "rm/f");
	twalk(r, 0, 2, "rm/f");
	isr(topen(r, 2, OREAD), Ropen, "open rm/f");
	isr(tremove(r, 1), Rremove, "remove rm/f");
	iserror(tread(r, 2, 0, 10), Ephase, "read after remove");
	iserror(tstat(r, 2), Ephase, "stat after remove");
	twalk(r, 0, 1, "rm");
	rx = tcreate(r, 1, "f", 0664, OWRITE);
	isr(rx, Rcreate, "create the name again");
	iserror(tread(r, 2, 0, 10), Ephase, "the old fid does not see the new file");
	tclunk(r, 2);
	tclunk(r, 1);

	/* permission to write the directory */
	isr(tattach(r, 3, NOFID, "none", ""), Rattach, "attach as none");
	twalk(r, 3, 4, "rm/f");
	iserror(tremove(r, 4), Eperm, "none removes glenda's file in a 0775 directory");
	isr(twalk(r, 0, 1, "rm/f"), Rwalk, "the file is still there");
	isr(tremove(r, 1), Rremove, "remove it");
	twalk(r, 0, 1, "rm");
	isr(tremove(r, 1), Rremove, "remove the empty directory");
	iserror(tclunk(r, 1), Enofid, "a removed fid is clunked");
	iserror(tclunk(r, 77), Enofid, "clunk an unknown fid");
	isr(twalk(r, 0, 1, ""), Rwalk, "clone");
	isr(tclunk(r, 1), Rclunk, "clunk");
	iserror(tclunk(r, 1), Enofid, "clunk twice");
	rawclose(r);
}

/* Collect replies until the Rflush for ftag: the flushed request's reply may come first. */
static void
flushcheck(Raw *r, u16int otag, u16int ftag, char *what)
{
	int gotold, oldafter, got;

	gotold = oldafter = got = 0;
	while(!got && rawrecv(r) == 1){
		if(r->rx.tag == otag){
			gotold = 1;
			continue;
		}
		if(r->rx.tag == ftag && r->rx.type == Rflush)
			got = 1;
	}
	ok(got, "%s: Rflush (the request %s)", what, gotold ? "answered first" : "cancelled");
	USED(oldafter);
}

/*
 * A sync (tag 200), a Tflush of it (201) and a Tflush of that (202):
 * whatever was cancelled, the replies that come are in order and 202's
 * comes.  With data to write, the sync is usually running by then.
 */
static void
flushflush(Raw *r, int n)
{
	Fcall tx;
	Dir d;
	uchar st[256];
	int seen200, seen201, seen202, order;

	nulldir(&d);
	memset(&tx, 0, sizeof tx);
	tx.type = Twstat;
	tx.tag = 200;
	tx.fid = 1;
	tx.nstat = dirpack(&d, st, sizeof st);
	tx.stat = st;
	rawsend(r, &tx);
	/* give the sync time to start on what the caller wrote */
	usleep(2000);
	memset(&tx, 0, sizeof tx);
	tx.type = Tflush;
	tx.tag = 201;
	tx.oldtag = 200;
	rawsend(r, &tx);
	memset(&tx, 0, sizeof tx);
	tx.type = Tflush;
	tx.tag = 202;
	tx.oldtag = 201;
	rawsend(r, &tx);
	seen200 = seen201 = seen202 = 0;
	order = 1;
	while(!seen202 && rawrecv(r) == 1){
		switch(r->rx.tag){
		case 200:
			if(seen201)
				order = 0;
			seen200 = 1;
			break;
		case 201:
			seen201 = 1;
			break;
		case 202:
			if(!seen201)
				order = 0;
			seen202 = 1;
			break;
		}
	}
	ok(seen201 && seen202 && order, "flush of a flush %d: replies in order (sync %s)",
		n, seen200 ? "answered" : "cancelled");
}

static void
testflush(void)
{
	Fcall tx, *rx;
	Raw *r;
	uchar *buf;
	int i;

	diag("Tflush");
	r = rawsession(addr, 1024*1024+24, user, "");
	if(!ok(r != nil, "session"))
		return;
	memset(&tx, 0, sizeof tx);
	tx.type = Tflush;
	tx.oldtag = 999;
	rx = rpc(r, &tx);
	isr(rx, Rflush, "flush a tag nobody uses");

	mk(r, 1, "", "fl", 0664, ORDWR);
	buf = emalloc(1024*1024);
	memset(buf, 'f', 1024*1024);

	/* a big write, flushed at once */
	memset(&tx, 0, sizeof tx);
	tx.type = Twrite;
	tx.tag = 100;
	tx.fid = 1;
	tx.data = buf;
	tx.count = 1024*1024;
	rawsend(r, &tx);
	memset(&tx, 0, sizeof tx);
	tx.type = Tflush;
	tx.tag = 101;
	tx.oldtag = 100;
	rawsend(r, &tx);
	flushcheck(r, 100, 101, "a write");

	/* a sync, flushed, and the flush flushed: ten times, to meet it running */
	for(i = 0; i < 10; i++){
		int j;

		for(j = 0; j < 8; j++)
			twrite(r, 1, (uvlong)j*1024*1024, buf, 1024*1024);
		flushflush(r, i);
	}

	/* many requests in flight, every one flushed */
	for(i = 0; i < 20; i++){
		memset(&tx, 0, sizeof tx);
		tx.type = Tread;
		tx.tag = 300+i;
		tx.fid = 1;
		tx.offset = 0;
		tx.count = 1024*1024;
		rawsend(r, &tx);
	}
	for(i = 0; i < 20; i++){
		memset(&tx, 0, sizeof tx);
		tx.type = Tflush;
		tx.tag = 400+i;
		tx.oldtag = 300+i;
		rawsend(r, &tx);
	}
	{
		int old[20], fl[20], bad, nfl;

		memset(old, 0, sizeof old);
		memset(fl, 0, sizeof fl);
		bad = nfl = 0;
		while(nfl < 20 && rawrecv(r) == 1){
			i = r->rx.tag;
			if(i >= 300 && i < 320){
				if(fl[i-300])
					bad++;
				old[i-300] = 1;
			}else if(i >= 400 && i < 420){
				fl[i-400] = 1;
				nfl++;
			}
		}
		ok(nfl == 20 && bad == 0, "20 flushes answered, no reply after its Rflush (%d bad)", bad);
	}
	rx = tstat(r, 1);
	isr(rx, Rstat, "the connection works after the flushes");
	free(buf);
	rawclose(r);
}

static void
testmsize(void)
{
	Fcall *rx, tx;
	Raw *r;
	char name[Maxname+1];
	u32int ms[] = {256, 8192+24, 32768+24, 1024*1024+24};
	uchar *buf;
	int i;

	diag("msize");
	for(i = 0; i < (int)nelem(ms); i++){
		r = rawsession(addr, ms[i], user, "");
		if(!ok(r != nil, "session at msize %u", ms[i]))
			continue;
		is(r->msize, ms[i], "granted %u", ms[i]);
		rx = twalk(r, 0, 1, "");
		rx = tcreate(r, 1, i == 0 ? "ms256" : i == 1 ? "ms8k" : i == 2 ? "ms32k" : "ms1m", 0664, ORDWR);
		if(isr(rx, Rcreate, "create at msize %u", ms[i]))
			is(rx->iounit, ms[i] - IOHDRSZ, "iounit %u", ms[i] - IOHDRSZ);
		buf = emalloc(ms[i]);
		memset(buf, 'm', ms[i]);
		rx = twrite(r, 1, 0, buf, ms[i] - IOHDRSZ);
		ok(rx != nil && rx->type == Rwrite && rx->count == ms[i] - IOHDRSZ, "write a full iounit");
		rx = tread(r, 1, 0, ms[i]);
		ok(rx != nil && rx->type == Rread && rx->count == ms[i] - IOHDRSZ, "a read asking for msize gets the iounit");
		tremove(r, 1);
		free(buf);
		if(i == 0){
			/* a stat too large for 256 bytes */
			/* Tcreate fits, Rstat (64 bytes and the name) does not */
			memset(name, 'L', 200);
			name[200] = 0;
			twalk(r, 0, 1, "");
			isr(tcreate(r, 1, name, 0664, OREAD), Rcreate, "create a long name at msize 256");
			iserror(tstat(r, 1), Ebotch, "its stat does not fit in 256 bytes");
			tremove(r, 1);
			/* a frame larger than msize ends the connection */
			memset(&tx, 0, sizeof tx);
			tx.type = Twrite;
			tx.fid = 0;
			buf = emalloc(300);
			tx.data = buf;
			tx.count = 300;
			rawsend(r, &tx);
			ok(rawhungup(r), "a frame larger than msize hangs up");
			free(buf);
		}
		rawclose(r);
	}
}

/*
 * A client may hold a fid on every file it has seen (9pfuse does): the
 * server's table grows, and every fid stays reachable through the
 * growth, the clunks between and a new version that empties it.
 */
static void
testmanyfids(void)
{
	enum { N = 20000 };
	Fcall *rx;
	Raw *r;
	u32int fid;
	int i, bad, gone;

	diag("many fids");
	r = session(8192);
	if(r == nil)
		return;
	bad = 0;
	for(i = 1; i <= N; i++){
		fid = (u32int)i * 2654435761U;	/* scattered, as a client's may be */
		rx = twalk(r, 0, fid, "");
		if(rx == nil || rx->type != Rwalk)
			bad++;
	}
	is(bad, 0, "%d fids walked from the root", N);
	iserror(twalk(r, 0, 7U * 2654435761U, ""), Efid, "a fid in use is refused among %d", N);
	bad = 0;
	for(i = 1; i <= N; i++){
		rx = tstat(r, (u32int)i * 2654435761U);
		if(rx == nil || rx->type != Rstat)
			bad++;
	}
	is(bad, 0, "each of the %d fids answers Tstat", N);
	bad = 0;
	for(i = 1; i <= N; i += 2){
		rx = tclunk(r, (u32int)i * 2654435761U);
		if(rx == nil || rx->type != Rclunk)
			bad++;
	}
	is(bad, 0, "every other fid clunked");
	bad = gone = 0;
	for(i = 1; i <= N; i++){
		rx = tstat(r, (u32int)i * 2654435761U);
		if(i % 2 == 1)
			gone += rx != nil && rx->type == Rerror && strcmp(rx->ename, Enofid) == 0;
		else
			bad += rx == nil || rx->type != Rstat;
	}
	is(gone, N/2, "the clunked ones are unknown");
	is(bad, 0, "the others still answer");
	isr(tversion(r, 8192, "9P2000"), Rversion, "a new version with %d fids held", N/2);
	iserror(tstat(r, 2U * 2654435761U), Enofid, "a held fid is gone after it");
	isr(tattach(r, 0, NOFID, user, ""), Rattach, "attach again");
	isr(twalk(r, 0, 2U * 2654435761U, ""), Rwalk, "and its number can be walked to again");
	rawclose(r);
}

static void
testmisc(void)
{
	Fcall tx, *rx;
	Raw *r;

	diag("other messages");
	r = rawsession(addr, 8192, user, "");
	if(!ok(r != nil, "session"))
		return;
	memset(&tx, 0, sizeof tx);
	tx.type = Rversion;
	tx.msize = 8192;
	tx.version = "9P2000";
	rx = rpc(r, &tx);
	iserror(rx, "unknown message", "a client sending Rversion");
	isr(tstat(r, 0), Rstat, "the connection works");
	rawclose(r);
}

int
main(int argc, char **argv)
{
	if(argc < 2){
		fprintf(stderr, "usage: conform address\n");
		return 2;
	}
	addr = argv[1];
	testversion();
	testattach();
	testwalk();
	testopen();
	testcreate();
	testreadwrite();
	testwstat();
	testremove();
	testflush();
	testmsize();
	testmanyfids();
	testmisc();
	return done();
}
