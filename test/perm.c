/*
 * test/perm: users, groups and permissions of a running gefs (runtime
 * §3.2, §6): a users table written through the adm tree takes effect
 * when the file is closed; owner, group, other and none; group leaders;
 * nogroup; privileged (%) attaches.
 *
 *	perm ADDRESS		a freshly reamed volume (ream user glenda)
 *	perm -S ADDRESS		the same volume, served permissively (-S)
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

static char users[] =
	"-1:adm::glenda\n"
	"0:none::\n"
	"1:glenda:glenda:\n"
	"2:alice:alice:\n"
	"3:bob:bob:\n"
	"4:carol:carol:\n"
	"5:dave:dave:\n"
	"6:nobody::\n"
	"7:erin:erin:\n"
	"10:eng:alice:alice,carol\n"
	"11:ops::bob,carol\n"
	"9999:nogroup::dave\n";

/* fid of a new attach as uname on conn r, or -1 */
static u32int nextfid = 100;

static u32int
as(Raw *r, char *uname, char *aname)
{
	Fcall *rx;
	u32int fid;

	fid = nextfid++;
	rx = tattach(r, fid, NOFID, uname, aname);
	if(rx == nil || rx->type != Rattach){
		diag("attach %s as %s: %s", aname, uname, rx && rx->type == Rerror ? rx->ename : "?");
		return NOFID;
	}
	return fid;
}

/* Keep what a reply says: the next request overwrites the connection's. */
static Fcall*
result(Fcall *rx)
{
	static Fcall res;
	static char e[Errmax];

	if(rx == nil)
		return nil;
	memset(&res, 0, sizeof res);
	res.type = rx->type;
	if(rx->type == Rerror){
		snprintf(e, sizeof e, "%s", rx->ename);
		res.ename = e;
	}
	return &res;
}

/* A new fid at path from root, or NOFID if the walk does not get there. */
static u32int
at(Raw *r, u32int root, char *path)
{
	Fcall *rx;
	u32int fid;
	char *p;
	int n;

	n = 0;
	if(*path != 0)
		for(n = 1, p = path; (p = strchr(p, '/')) != nil; p++)
			n++;
	fid = nextfid++;
	rx = twalk(r, root, fid, path);
	if(rx == nil || rx->type != Rwalk || rx->nwqid != n)
		return NOFID;
	return fid;
}

/* Create dir/name as root's user; the Rcreate or Rerror. */
static Fcall*
mkas(Raw *r, u32int root, char *dir, char *name, u32int perm)
{
	u32int fid;
	Fcall *rx;

	if((fid = at(r, root, dir)) == NOFID)
		return nil;
	rx = result(tcreate(r, fid, name, perm, OREAD));
	tclunk(r, fid);
	return rx;
}

/* Open path as root's user; the Ropen or Rerror. */
static Fcall*
openas(Raw *r, u32int root, char *path, int mode)
{
	Fcall *rx;
	u32int fid;

	if((fid = at(r, root, path)) == NOFID)
		return nil;
	rx = result(topen(r, fid, mode));
	tclunk(r, fid);
	return rx;
}

static Fcall*
wstatas(Raw *r, u32int root, char *path, Dir *d)
{
	Fcall *rx;
	u32int fid;

	if((fid = at(r, root, path)) == NOFID)
		return nil;
	rx = result(twstat(r, fid, d));
	tclunk(r, fid);
	return rx;
}

static void
chmodas(Raw *r, u32int root, char *path, u32int mode, char *gid, char *want, char *what)
{
	Dir d;
	Fcall *rx;

	nulldir(&d);
	if(mode != ~0U)
		d.mode = mode;
	if(gid != nil)
		d.gid = gid;
	rx = wstatas(r, root, path, &d);
	if(want == nil)
		isr(rx, Rwstat, "%s", what);
	else
		iserror(rx, want, "%s", what);
}

static void
permissive(void)
{
	Raw *r;
	u32int bob, adm;
	Fcall *rx;

	diag("permissive (-S)");
	r = rawsession(addr, 8192, "glenda", "");
	if(!ok(r != nil, "session"))
		return;
	bob = as(r, "bob", "%main");
	ok(bob != NOFID, "bob may attach %%main");
	rx = openas(r, bob, "p/alice600", OREAD);
	isr(rx, Ropen, "and read alice's 0600 file");
	adm = as(r, "bob", "adm");
	ok(adm != NOFID, "bob attaches adm");
	rx = mkas(r, adm, "", "bobfile", 0664);
	isr(rx, Rcreate, "creates in adm's 0775 root: he is adm there");
	rawclose(r);
}

int
main(int argc, char **argv)
{
	Raw *r;
	Fcall *rx;
	Dir *d, dd;
	u32int adm, gl, al, bo, ca, da, no, pg, u;
	int pflag;

	pflag = argc == 3 && strcmp(argv[1], "-S") == 0;
	if(argc != 2 + pflag){
		fprintf(stderr, "usage: perm [-S] address\n");
		return 2;
	}
	addr = argv[1 + pflag];
	if(pflag){
		permissive();
		return done();
	}

	r = rawsession(addr, 8192, "glenda", "");
	if(!ok(r != nil, "session"))
		return done();
	iserror(tattach(r, 1, NOFID, "alice", ""), Enouser, "alice is not a user yet");

	/* a new table, through adm: it counts from the clunk */
	adm = as(r, "glenda", "adm");
	u = at(r, adm, "users");
	isr(topen(r, u, OWRITE|OTRUNC), Ropen, "open /adm/users for writing");
	rx = twrite(r, u, 0, users, strlen(users));
	ok(rx != nil && rx->type == Rwrite && rx->count == strlen(users), "write the new table");
	iserror(tattach(r, 1, NOFID, "alice", ""), Enouser, "not in effect before the clunk");
	isr(tclunk(r, u), Rclunk, "clunk it");
	isr(tattach(r, 1, NOFID, "alice", ""), Rattach, "now alice is a user");
	tclunk(r, 1);

	/* a table that does not parse is refused and the old one stays */
	u = at(r, adm, "users");
	topen(r, u, OWRITE);
	twrite(r, u, strlen(users), "oops\n", 5);
	isr(tclunk(r, u), Rclunk, "clunk a broken table");
	isr(tattach(r, 1, NOFID, "alice", ""), Rattach, "the old table stays");
	tclunk(r, 1);
	u = at(r, adm, "users");
	topen(r, u, OWRITE|OTRUNC);
	twrite(r, u, 0, users, strlen(users));
	tclunk(r, u);

	gl = as(r, "glenda", "");
	al = as(r, "alice", "");
	bo = as(r, "bob", "");
	ca = as(r, "carol", "");
	da = as(r, "dave", "");
	no = as(r, "none", "");
	ok(gl != NOFID && al != NOFID && bo != NOFID && ca != NOFID && da != NOFID && no != NOFID,
		"attach as glenda, alice, bob, carol, dave, none");

	/* a playground everybody may write */
	isr(mkas(r, gl, "", "p", DMDIR|0777), Rcreate, "glenda makes p");
	chmodas(r, gl, "p", DMDIR|0777, nil, nil, "and opens it to all");
	isr(mkas(r, al, "p", "a", 0640), Rcreate, "alice makes p/a 0640");
	pg = at(r, al, "p/a");
	d = nil;
	if(pg != NOFID){
		rx = tstat(r, pg);
		if(rx != nil && rx->type == Rstat)
			d = dirunpack(rx->stat, rx->nstat);
		tclunk(r, pg);
	}
	ok(d != nil && strcmp(d->uid, "alice") == 0 && strcmp(d->gid, "adm") == 0 && d->mode == 0640,
		"owner alice, group of the directory (%s), mode %o", d ? d->gid : "?", d ? d->mode : 0);
	free(d);
	chmodas(r, bo, "p/a", ~0U, "eng", Ewstatg, "bob may not give alice's file to eng");
	chmodas(r, al, "p/a", ~0U, "ops", Ewstatg, "alice may not give it to ops, which she is not in");
	chmodas(r, al, "p/a", ~0U, "eng", nil, "alice gives her file to eng, her group");

	/* owner, group, other */
	isr(openas(r, al, "p/a", ORDWR), Ropen, "alice reads and writes her file");
	isr(openas(r, ca, "p/a", OREAD), Ropen, "carol, in eng, reads it");
	iserror(openas(r, ca, "p/a", OWRITE), Eperm, "but may not write it");
	iserror(openas(r, bo, "p/a", OREAD), Eperm, "bob, not in eng, may not read it");
	iserror(openas(r, no, "p/a", OREAD), Eperm, "nor may none");
	chmodas(r, ca, "p/a", 0644, nil, Ewstato, "carol, not eng's leader, may not chmod it");
	chmodas(r, al, "p/a", 0644, nil, nil, "alice, owner and leader, chmods it 0644");
	isr(openas(r, bo, "p/a", OREAD), Ropen, "now bob reads it");
	isr(openas(r, no, "p/a", OREAD), Ropen, "and none too");
	iserror(openas(r, da, "p/a", OREAD), Eperm, "but not dave, who is in nogroup");
	iserror(openas(r, bo, "p/a", OWRITE), Eperm, "bob may not write it");
	iserror(openas(r, al, "p/a", OEXEC), Eperm, "alice may not execute a 0644 file");

	/* Plan 9, not Unix: a failing owner check falls through */
	isr(mkas(r, al, "p", "b", 0044), Rcreate, "alice makes p/b 0044");
	chmodas(r, al, "p/b", 0044, "eng", nil, "group eng");
	isr(openas(r, al, "p/b", OREAD), Ropen, "alice reads her 0044 file through the group bits");

	/* none gets only the other bits, even as owner */
	isr(mkas(r, gl, "p", "n", 0600), Rcreate, "glenda makes p/n 0600");
	u = as(r, "glenda", "%main");
	ok(u != NOFID, "glenda, in adm, attaches %%main");
	nulldir(&dd);
	dd.uid = "none";
	isr(wstatas(r, u, "p/n", &dd), Rwstat, "%%main gives p/n to none");
	iserror(openas(r, no, "p/n", OREAD), Eperm, "none may not read its own 0600 file");
	nulldir(&dd);
	dd.uid = "bob";
	iserror(wstatas(r, gl, "p/n", &dd), Ewstatu, "without %%, nobody gives files away");

	/* directories: search and write */
	iserror(mkas(r, al, "", "q", DMDIR|0700), Eperm, "alice may not create in adm's root");
	isr(mkas(r, al, "p", "q", DMDIR|0700), Rcreate, "alice makes p/q 0700");
	isr(mkas(r, al, "p/q", "x", 0644), Rcreate, "and p/q/x");
	u = at(r, al, "p/q/x");
	rx = tstat(r, u);
	d = rx != nil && rx->type == Rstat ? dirunpack(rx->stat, rx->nstat) : nil;
	ok(d != nil && d->mode == 0600, "0644 in a 0700 directory is 0600 (%o)", d ? d->mode : 0);
	free(d);
	tclunk(r, u);
	chmodas(r, al, "p/q/x", 0644, nil, nil, "alice makes it 0644");
	rx = twalk(r, bo, 999, "p/q/x");
	ok(rx != nil && rx->type == Rwalk && rx->nwqid == 2, "bob cannot search p/q: the walk stops there");
	iserror(tclunk(r, 999), Enofid, "and makes no fid");
	chmodas(r, al, "p/q", DMDIR|0711, nil, nil, "alice lets others search p/q");
	isr(openas(r, bo, "p/q/x", OREAD), Ropen, "bob reads p/q/x now");
	iserror(openas(r, bo, "p/q", OREAD), Eperm, "but may not list p/q");
	iserror(mkas(r, bo, "p/q", "y", 0644), Eperm, "nor create in it");
	chmodas(r, al, "p/q", DMDIR|0701, nil, nil, "p/q 0701");
	u = at(r, da, "p/q/x");
	ok(u != NOFID, "dave (nogroup) may search p/q");
	tclunk(r, u);
	iserror(openas(r, da, "p/q/x", OREAD), Eperm, "but reads nothing there");

	/* privilege */
	iserror(tattach(r, 998, NOFID, "bob", "%main"), Eperm, "bob may not attach %%main");
	u = as(r, "glenda", "%main");
	isr(mkas(r, al, "p", "alice600", 0600), Rcreate, "alice makes a 0600 file");
	isr(openas(r, u, "p/alice600", ORDWR), Ropen, "%%main opens anybody's file");
	iserror(openas(r, gl, "p/alice600", OREAD), Eperm, "plain glenda may not");

	/* ids the table no longer has are shown as numbers */
	u = as(r, "erin", "");
	isr(mkas(r, u, "p", "erinfile", 0644), Rcreate, "erin makes p/erinfile");
	{
		char *s2, *t;

		s2 = estrdup(users);
		t = strstr(s2, "7:erin:erin:\n");
		memmove(t, t + strlen("7:erin:erin:\n"), strlen(t + strlen("7:erin:erin:\n")) + 1);
		u = at(r, adm, "users");
		topen(r, u, OWRITE|OTRUNC);
		twrite(r, u, 0, s2, strlen(s2));
		isr(tclunk(r, u), Rclunk, "a table without erin");
		free(s2);
	}
	u = at(r, gl, "p/erinfile");
	rx = tstat(r, u);
	d = rx != nil && rx->type == Rstat ? dirunpack(rx->stat, rx->nstat) : nil;
	ok(d != nil && strcmp(d->uid, "7") == 0 && strcmp(d->muid, "7") == 0,
		"erin's file is owned by 7 (%s)", d ? d->uid : "?");
	free(d);
	tclunk(r, u);
	iserror(tattach(r, 997, NOFID, "erin", ""), Enouser, "erin is no user any more");
	rawclose(r);
	return done();
}
