/*
 * test/concur: 50 clients at once, each on its own connection (msize
 * 8 KiB, 32 KiB or 1 MiB), writing and reading its own file, writing its
 * own slice of one shared file, and creating, renaming and removing
 * entries of one shared directory.  Afterwards every file and the
 * directory listing must be exactly what the clients did.
 *
 *	concur [-c] ADDRESS
 *
 * -c only checks what an earlier run left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"
#include "test/tap.h"

enum {
	Nclient	= 50,
	Nent	= 10,		/* entries each client makes in shared/ */
	Slice	= 4096,		/* each client's part of shared/log */
};

static char *addr;
static u32int msizes[] = {8192+IOHDRSZ, 32768+IOHDRSZ, 1024*1024+IOHDRSZ};

typedef struct Client	Client;
struct Client {
	int	id;
	char	err[256];
};

static long
ownsize(int id)
{
	return 3*Blksz + 1000*id + 17;
}

static uchar
pattern(int id, long off)
{
	return (id*131 + off*7 + off/4093) & 0xFF;
}

static int
fail(Client *c, char *what)
{
	snprintf(c->err, sizeof c->err, "client %d: %s: %s", c->id, what, errstr());
	return -1;
}

static int
mkfile(Cfid *root, char *dir, char *name, void *data, long n)
{
	Cfid *f;
	int r;

	if((f = cwalk(root, dir)) == nil)
		return -1;
	if(ccreate(f, name, 0664, OWRITE) < 0){
		cclunk(f);
		return -1;
	}
	r = n > 0 && cpwrite(f, data, n, 0) != n ? -1 : 0;
	cclunk(f);
	return r;
}

static int
work(Client *c)
{
	Cfs *fs;
	Cfid *root, *f;
	uchar *buf, *got;
	char name[64], path[128];
	long n, i, off;
	Dir d;
	int k, r;

	if((fs = cfsdial(addr, msizes[c->id % nelem(msizes)])) == nil)
		return fail(c, "dial");
	r = -1;
	buf = got = nil;
	if((root = cfsattach(fs, "glenda", "")) == nil){
		fail(c, "attach");
		goto out;
	}

	/* its own file, written in pieces, some twice */
	n = ownsize(c->id);
	buf = emalloc(n);
	got = emalloc(n);
	for(i = 0; i < n; i++)
		buf[i] = pattern(c->id, i);
	snprintf(name, sizeof name, "c%d", c->id);
	if(mkfile(root, "own", name, nil, 0) < 0){
		fail(c, "create own file");
		goto out;
	}
	snprintf(path, sizeof path, "own/%s", name);
	if((f = cwalk(root, path)) == nil || copen(f, ORDWR) < 0){
		fail(c, "open own file");
		goto out;
	}
	for(off = 0; off < n; off += 5000)
		if(cpwrite(f, "garbage garbage", MIN(15, n-off), off) < 0)
			break;
	for(off = n; off > 0; off -= MIN(off, 7919))
		if(cpwrite(f, buf + off - MIN(off, 7919), MIN(off, 7919), off - MIN(off, 7919)) < 0)
			break;
	if(off > 0){
		fail(c, "write own file");
		cclunk(f);
		goto out;
	}
	if(cpread(f, got, n, 0) != n || memcmp(got, buf, n) != 0){
		snprintf(c->err, sizeof c->err, "client %d: own file reads back different", c->id);
		cclunk(f);
		goto out;
	}
	cclunk(f);

	/* its slice of the shared file */
	if((f = cwalk(root, "shared/log")) == nil || copen(f, OWRITE) < 0){
		fail(c, "open shared/log");
		goto out;
	}
	if(cpwrite(f, buf, Slice, (uvlong)c->id*Slice) != Slice){
		fail(c, "write shared/log");
		cclunk(f);
		goto out;
	}
	cclunk(f);

	/* entries in the shared directory */
	for(k = 0; k < Nent; k++){
		snprintf(name, sizeof name, "c%d.%d", c->id, k);
		if(mkfile(root, "shared", name, name, strlen(name)) < 0){
			fail(c, name);
			goto out;
		}
	}
	for(k = 1; k < Nent; k += 2){
		snprintf(path, sizeof path, "shared/c%d.%d", c->id, k);
		if((f = cwalk(root, path)) == nil || cremove(f) < 0){
			fail(c, path);
			goto out;
		}
	}
	snprintf(path, sizeof path, "shared/c%d.0", c->id);
	snprintf(name, sizeof name, "r%d.0", c->id);
	if((f = cwalk(root, path)) == nil){
		fail(c, path);
		goto out;
	}
	nulldir(&d);
	d.name = name;
	if(cwstat(f, &d) < 0){
		fail(c, "rename");
		cclunk(f);
		goto out;
	}
	cclunk(f);
	r = 0;
out:
	free(buf);
	free(got);
	if(root != nil)
		cclunk(root);
	cfsclose(fs);
	return r;
}

static void
clientproc(void *v)
{
	Client *c;

	c = v;
	work(c);
}

/* The contents of file path are exactly data[0..n). */
static int
same(Cfid *root, char *path, void *data, long n)
{
	Cfid *f;
	uchar *got;
	long m;

	if((f = cwalk(root, path)) == nil || copen(f, OREAD) < 0)
		return 0;
	got = emalloc(n + 1);
	m = cpread(f, got, n + 1, 0);
	cclunk(f);
	m = m == n && memcmp(got, data, n) == 0;
	free(got);
	return m;
}

static int
cmpname(const void *a, const void *b)
{
	return strcmp(((Dir*)a)->name, ((Dir*)b)->name);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char**)a, *(char**)b);
}

int
main(int argc, char **argv)
{
	Client c[Nclient];
	pthread_t tid[Nclient];
	Cfs *fs;
	Cfid *root, *f;
	Dir *d;
	uchar *buf;
	char name[64], path[128], **want;
	long n, i, nwant, bad;
	int k, check;

	check = argc == 3 && strcmp(argv[1], "-c") == 0;
	if(argc != 2 + check){
		fprintf(stderr, "usage: concur [-c] address\n");
		return 2;
	}
	addr = argv[1 + check];
	fs = cfsdial(addr, 32768+IOHDRSZ);
	root = fs != nil ? cfsattach(fs, "glenda", "") : nil;
	if(!ok(root != nil, "attach: %s", root == nil ? errstr() : "ok"))
		return done();
	if(check)
		goto verify;
	f = cwalk(root, "");
	ok(f != nil && ccreate(f, "shared", DMDIR|0775, OREAD) == 0, "mkdir shared");
	cclunk(f);
	f = cwalk(root, "");
	ok(f != nil && ccreate(f, "own", DMDIR|0775, OREAD) == 0, "mkdir own");
	cclunk(f);
	ok(mkfile(root, "shared", "log", nil, 0) == 0, "create shared/log");

	for(i = 0; i < Nclient; i++){
		c[i].id = i;
		c[i].err[0] = 0;
		if(launch(clientproc, &c[i], "client", &tid[i]) < 0)
			sysfatal("launch: %s", errstr());
	}
	bad = 0;
	for(i = 0; i < Nclient; i++){
		pthread_join(tid[i], nil);
		if(c[i].err[0] != 0){
			diag("%s", c[i].err);
			bad++;
		}
	}
	is(bad, 0, "%d clients ran without an error", Nclient);

verify:
	/* every own file */
	bad = 0;
	for(i = 0; i < Nclient; i++){
		n = ownsize(i);
		buf = emalloc(n);
		for(k = 0; k < n; k++)
			buf[k] = pattern(i, k);
		snprintf(path, sizeof path, "own/c%ld", i);
		bad += !same(root, path, buf, n);
		free(buf);
	}
	is(bad, 0, "every client's own file is exact");

	/* the shared file: every slice where it belongs */
	buf = emalloc(Nclient*Slice);
	for(i = 0; i < Nclient; i++)
		for(k = 0; k < Slice; k++)
			buf[i*Slice + k] = pattern(i, k);
	ok(same(root, "shared/log", buf, Nclient*Slice), "shared/log holds every slice");
	free(buf);

	/* the shared directory: exactly what was made, renamed and not removed */
	want = emalloc((Nclient*Nent + 1) * sizeof want[0]);
	nwant = 0;
	want[nwant++] = estrdup("log");
	for(i = 0; i < Nclient; i++)
		for(k = 0; k < Nent; k += 2){
			if(k == 0)
				snprintf(name, sizeof name, "r%ld.0", i);
			else
				snprintf(name, sizeof name, "c%ld.%d", i, k);
			want[nwant++] = estrdup(name);
		}
	qsort(want, nwant, sizeof want[0], cmpstr);
	f = cwalk(root, "shared");
	n = -1;
	d = nil;
	if(f != nil && copen(f, OREAD) == 0)
		n = cdirreadall(f, &d);
	cclunk(f);
	is(n, nwant, "shared/ has %ld entries", nwant);
	bad = 0;
	if(n == nwant){
		qsort(d, n, sizeof d[0], cmpname);
		for(i = 0; i < n; i++)
			if(strcmp(d[i].name, want[i]) != 0){
				if(bad++ < 5)
					diag("entry %ld: %s, want %s", i, d[i].name, want[i]);
			}
	}
	is(bad, 0, "the listing is exactly the expected names");
	bad = 0;
	for(i = 0; i < Nclient; i++)
		for(k = 2; k < Nent; k += 2){
			snprintf(name, sizeof name, "c%ld.%d", i, k);
			snprintf(path, sizeof path, "shared/%s", name);
			bad += !same(root, path, name, strlen(name));
		}
	is(bad, 0, "every shared entry has its contents");
	free(d);
	for(i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	cclunk(root);
	cfsclose(fs);
	return done();
}
