/*
 * test/fcall.c: 9P2000 encoding and decoding (fcall.c).
 *
 * Every message type goes there and back with typical and boundary
 * values; a few are checked against bytes written out by hand from the
 * protocol; then hostile frames, each in a heap block of exactly its own
 * size so that ASan catches any read past the end.
 *
 * With -s DIR it also writes every valid frame it built to DIR, as the
 * seed corpus of test/fuzz-fcall.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "test/tap.h"

static char	*seeddir;
static int	nseed;

/* A heap copy of exactly n bytes. */
static uchar*
hcopy(void *p, long n)
{
	uchar *b;

	b = malloc(n > 0 ? n : 1);
	if(n > 0)
		memcpy(b, p, n);
	return b;
}

static void
seed(uchar *buf, long n)
{
	char path[512];
	FILE *f;

	if(seeddir == nil || n > 4096)
		return;
	snprintf(path, sizeof path, "%s/seed%03d", seeddir, nseed++);
	f = fopen(path, "w");
	if(f == nil || fwrite(buf, 1, n, f) != (size_t)n)
		diag("cannot write %s", path);
	if(f != nil)
		fclose(f);
}

static int
streq(char *a, char *b)
{
	return strcmp(a != nil ? a : "", b != nil ? b : "") == 0;
}

static int
qideq(Qid *a, Qid *b)
{
	return a->path == b->path && a->vers == b->vers && a->type == b->type;
}

/* Every field, as both sides start zeroed. */
static int
fcalleq(Fcall *a, Fcall *b)
{
	int i;

	if(a->type != b->type || a->tag != b->tag || a->fid != b->fid
	|| a->msize != b->msize || a->oldtag != b->oldtag || a->iounit != b->iounit
	|| a->afid != b->afid || a->perm != b->perm || a->mode != b->mode
	|| a->newfid != b->newfid || a->nwname != b->nwname || a->nwqid != b->nwqid
	|| a->offset != b->offset || a->count != b->count || a->nstat != b->nstat)
		return 0;
	if(!qideq(&a->qid, &b->qid) || !qideq(&a->aqid, &b->aqid))
		return 0;
	if(!streq(a->version, b->version) || !streq(a->ename, b->ename)
	|| !streq(a->uname, b->uname) || !streq(a->aname, b->aname)
	|| !streq(a->name, b->name))
		return 0;
	for(i = 0; i < a->nwname; i++)
		if(!streq(a->wname[i], b->wname[i]))
			return 0;
	for(i = 0; i < a->nwqid; i++)
		if(!qideq(&a->wqid[i], &b->wqid[i]))
			return 0;
	if(a->type == Rread || a->type == Twrite)
		if(a->count > 0 && memcmp(a->data, b->data, a->count) != 0)
			return 0;
	if(a->type == Rstat || a->type == Twstat)
		if(a->nstat > 0 && memcmp(a->stat, b->stat, a->nstat) != 0)
			return 0;
	return 1;
}

static int
rejects(uchar *buf, long n)
{
	Fcall f;
	uchar *b;
	int r;

	b = hcopy(buf, n);
	r = fcallunpack(b, n, &f);
	if(r == 0)
		fcallclear(&f);
	free(b);
	return r < 0;
}

/*
 * Every proper prefix of a frame must be refused, both with its size
 * field as it was and rewritten to claim the shorter length.
 */
static int
truncations(uchar *buf, long n, long step)
{
	uchar *b;
	long k;
	int bad;

	bad = 0;
	for(k = 0; k < n; k += k < 16 ? 1 : step){
		if(!rejects(buf, k))
			bad++;
		if(k >= 4){
			b = hcopy(buf, k);
			b[0] = k;
			b[1] = k>>8;
			b[2] = k>>16;
			b[3] = k>>24;
			if(!rejects(b, k))
				bad++;
			free(b);
		}
	}
	return bad == 0;
}

/* Trailing bytes, counted in the size field, must be refused. */
static int
garbage(uchar *buf, long n)
{
	uchar *b;
	long m;
	int r;

	m = n+3;
	b = malloc(m);
	memcpy(b, buf, n);
	memset(b+n, 0, 3);
	b[0] = m;
	b[1] = m>>8;
	b[2] = m>>16;
	b[3] = m>>24;
	r = rejects(b, m) && strstr(errstr(), "garbage") != nil;
	free(b);
	return r;
}

/* Pack f, decode it again, compare, pack the copy; then abuse the bytes. */
static void
roundtrip(Fcall *f, char *what, long step)
{
	uchar *buf, *exact, *again;
	long n, m;
	Fcall g;

	n = fcallsize(f);
	if(!ok(n > 0, "%s: size %ld", what, n)){
		diag("%s", errstr());
		return;
	}
	buf = malloc(n);
	m = fcallpack(f, buf, n);
	is(m, n, "%s: packs to its size", what);
	exact = hcopy(buf, n);
	if(!ok(fcallunpack(exact, n, &g) == 0, "%s: unpacks", what)){
		diag("%s", errstr());
		goto out;
	}
	ok(fcalleq(f, &g), "%s: same fields", what);
	again = malloc(n);
	ok(fcallpack(&g, again, n) == n && memcmp(buf, again, n) == 0, "%s: same bytes again", what);
	free(again);
	fcallclear(&g);
	ok(fcallpack(f, buf, n-1) < 0, "%s: does not pack into one byte less", what);
	fcallpack(f, buf, n);
	ok(truncations(buf, n, step), "%s: every truncation refused", what);
	ok(garbage(buf, n), "%s: garbage after it refused", what);
	seed(buf, n);
out:
	free(exact);
	free(buf);
}

static void
mk(Fcall *f, int type, int tag)
{
	memset(f, 0, sizeof *f);
	f->type = type;
	f->tag = tag;
}

static Qid
qid(uvlong path, u32int vers, uchar type)
{
	Qid q;

	q.path = path;
	q.vers = vers;
	q.type = type;
	return q;
}

static char*
bigstr(int n, int c)
{
	char *s;

	s = malloc(n+1);
	memset(s, c, n);
	s[n] = 0;
	return s;
}

static void
typical(void)
{
	static char *names[] = {"usr", "glenda", "lib", "..", "a b", "\xce\xbb"};
	uchar data[] = "hello, 9P";
	uchar stat[64];
	Dir d;
	Fcall f;
	int i;

	mk(&f, Tversion, NOTAG); f.msize = 8192; f.version = "9P2000"; roundtrip(&f, "Tversion", 1);
	mk(&f, Rversion, NOTAG); f.msize = 32792; f.version = "9P2000"; roundtrip(&f, "Rversion", 1);
	mk(&f, Tauth, 1); f.afid = 7; f.uname = "glenda"; f.aname = "main"; roundtrip(&f, "Tauth", 1);
	mk(&f, Rauth, 1); f.aqid = qid(9, 0, QTAUTH); roundtrip(&f, "Rauth", 1);
	mk(&f, Tattach, 2); f.fid = 0; f.afid = NOFID; f.uname = "glenda"; f.aname = ""; roundtrip(&f, "Tattach", 1);
	mk(&f, Rattach, 2); f.qid = qid(0, 3, QTDIR); roundtrip(&f, "Rattach", 1);
	mk(&f, Rerror, 3); f.ename = "permission denied"; roundtrip(&f, "Rerror", 1);
	mk(&f, Tflush, 4); f.oldtag = 3; roundtrip(&f, "Tflush", 1);
	mk(&f, Rflush, 4); roundtrip(&f, "Rflush", 1);
	mk(&f, Twalk, 5); f.fid = 0; f.newfid = 1; f.nwname = nelem(names);
	for(i = 0; i < (int)nelem(names); i++)
		f.wname[i] = names[i];
	roundtrip(&f, "Twalk", 1);
	mk(&f, Twalk, 5); f.fid = 0; f.newfid = 1; roundtrip(&f, "Twalk clone", 1);
	mk(&f, Rwalk, 5); f.nwqid = 3;
	for(i = 0; i < 3; i++)
		f.wqid[i] = qid(100+i, i, i == 2 ? 0 : QTDIR);
	roundtrip(&f, "Rwalk", 1);
	mk(&f, Rwalk, 5); roundtrip(&f, "Rwalk empty", 1);
	mk(&f, Topen, 6); f.fid = 1; f.mode = OREAD|OTRUNC; roundtrip(&f, "Topen", 1);
	mk(&f, Ropen, 6); f.qid = qid(4, 1, 0); f.iounit = 8168; roundtrip(&f, "Ropen", 1);
	mk(&f, Tcreate, 7); f.fid = 1; f.name = "new"; f.perm = DMDIR|0775; f.mode = ORDWR; roundtrip(&f, "Tcreate", 1);
	mk(&f, Rcreate, 7); f.qid = qid(5, 0, QTDIR); f.iounit = 0; roundtrip(&f, "Rcreate", 1);
	mk(&f, Tread, 8); f.fid = 1; f.offset = 1<<20; f.count = 8168; roundtrip(&f, "Tread", 1);
	mk(&f, Rread, 8); f.count = sizeof data; f.data = data; roundtrip(&f, "Rread", 1);
	mk(&f, Twrite, 9); f.fid = 1; f.offset = 12; f.count = sizeof data; f.data = data; roundtrip(&f, "Twrite", 1);
	mk(&f, Rwrite, 9); f.count = sizeof data; roundtrip(&f, "Rwrite", 1);
	mk(&f, Tclunk, 10); f.fid = 1; roundtrip(&f, "Tclunk", 1);
	mk(&f, Rclunk, 10); roundtrip(&f, "Rclunk", 1);
	mk(&f, Tremove, 11); f.fid = 2; roundtrip(&f, "Tremove", 1);
	mk(&f, Rremove, 11); roundtrip(&f, "Rremove", 1);
	mk(&f, Tstat, 12); f.fid = 3; roundtrip(&f, "Tstat", 1);
	nulldir(&d);
	d.name = "file";
	d.uid = "glenda";
	mk(&f, Rstat, 12); f.nstat = dirpack(&d, stat, sizeof stat); f.stat = stat; roundtrip(&f, "Rstat", 1);
	mk(&f, Twstat, 13); f.fid = 3; f.nstat = dirpack(&d, stat, sizeof stat); f.stat = stat; roundtrip(&f, "Twstat", 1);
	mk(&f, Rwstat, 13); roundtrip(&f, "Rwstat", 1);
}

static void
boundary(void)
{
	char *max, *names[Maxwelem];
	uchar *data;
	Fcall f;
	int i;

	max = bigstr(Maxstr, 'x');
	mk(&f, Tversion, 0); f.msize = 0xFFFFFFFF; f.version = max;
	roundtrip(&f, "Tversion with a 65535-byte version", 997);
	mk(&f, Rerror, 0xFFFE); f.ename = max; roundtrip(&f, "Rerror with a 65535-byte ename", 997);
	mk(&f, Tcreate, 1); f.fid = NOFID; f.name = max; f.perm = 0xFFFFFFFF; f.mode = 0xFF;
	roundtrip(&f, "Tcreate with a 65535-byte name, all-ones fields", 997);
	mk(&f, Twalk, 2); f.fid = 1; f.newfid = 2; f.nwname = Maxwelem;
	for(i = 0; i < Maxwelem; i++)
		f.wname[i] = names[i] = bigstr(i == 7 ? Maxstr : i+1, 'a'+i);
	roundtrip(&f, "Twalk with 16 names", 4999);
	for(i = 0; i < Maxwelem; i++)
		free(names[i]);
	mk(&f, Rwalk, 2); f.nwqid = Maxwelem;
	for(i = 0; i < Maxwelem; i++)
		f.wqid[i] = qid(~0ULL-i, 0xFFFFFFFF, 0xFF);
	roundtrip(&f, "Rwalk with 16 qids", 1);
	mk(&f, Tread, 3); f.offset = ~0ULL; f.count = 0xFFFFFFFF; roundtrip(&f, "Tread of the largest count", 1);
	mk(&f, Rread, 3); roundtrip(&f, "Rread of no data", 1);
	mk(&f, Twrite, 4); roundtrip(&f, "Twrite of no data", 1);
	data = malloc(1<<20);
	for(i = 0; i < 1<<20; i++)
		data[i] = i*7;
	mk(&f, Twrite, 4); f.count = 1<<20; f.data = data; roundtrip(&f, "Twrite of 1 MiB", 65521);
	mk(&f, Rread, 4); f.count = 1<<20; f.data = data; roundtrip(&f, "Rread of 1 MiB", 65521);
	free(data);
	free(max);

	mk(&f, Twalk, 1); f.nwname = Maxwelem+1;
	ok(fcallsize(&f) < 0, "Twalk of 17 names does not encode");
	mk(&f, Rwalk, 1); f.nwqid = Maxwelem+1;
	ok(fcallsize(&f) < 0, "Rwalk of 17 qids does not encode");
	max = bigstr(Maxstr+1, 'y');
	mk(&f, Rerror, 1); f.ename = max;
	ok(fcallsize(&f) < 0 && strstr(errstr(), "ename") != nil, "a 65536-byte string does not encode: %s", errstr());
	free(max);
	mk(&f, Terror, 1);
	ok(fcallsize(&f) < 0, "Terror does not encode");
	mk(&f, 99, 1);
	ok(fcallsize(&f) < 0, "type 99 does not encode");
}

/* Frames written out by hand from the protocol: size[4] type[1] tag[2] ... */
static void
wire(void)
{
	static uchar tversion[] = {
		19,0,0,0, 100, 0xff,0xff, 0x00,0x20,0,0, 6,0, '9','P','2','0','0','0',
	};
	static uchar twalk[] = {
		30,0,0,0, 110, 3,0, 1,0,0,0, 2,0,0,0, 2,0,
		3,0, 'u','s','r', 6,0, 'g','l','e','n','d','a',
	};
	static uchar ropen[] = {
		24,0,0,0, 113, 0x34,0x12, 0x80, 0x0d,0x0c,0x0b,0x0a,
		0x08,0x07,0x06,0x05,0x04,0x03,0x02,0x01, 0xe8,0x1f,0,0,
	};
	static uchar twrite[] = {
		26,0,0,0, 118, 5,0, 9,0,0,0, 0x10,0,0,0,0,0,0,0x80, 3,0,0,0, 'a','b','c',
	};
	static uchar rerror[] = {11,0,0,0, 107, 1,0, 2,0, 'n','o'};
	uchar buf[64], *b;
	char *wn[2] = {"usr", "glenda"};
	Fcall f, g;

	mk(&f, Tversion, NOTAG); f.msize = 8192; f.version = "9P2000";
	ok(fcallpack(&f, buf, sizeof buf) == sizeof tversion && memcmp(buf, tversion, sizeof tversion) == 0,
		"Tversion bytes as the protocol spells them");
	mk(&f, Twalk, 3); f.fid = 1; f.newfid = 2; f.nwname = 2; f.wname[0] = wn[0]; f.wname[1] = wn[1];
	ok(fcallpack(&f, buf, sizeof buf) == sizeof twalk && memcmp(buf, twalk, sizeof twalk) == 0,
		"Twalk bytes as the protocol spells them");
	mk(&f, Ropen, 0x1234); f.qid = qid(0x0102030405060708ULL, 0x0a0b0c0d, QTDIR); f.iounit = 8168;
	ok(fcallpack(&f, buf, sizeof buf) == sizeof ropen && memcmp(buf, ropen, sizeof ropen) == 0,
		"Ropen bytes: little-endian qid and iounit");
	mk(&f, Twrite, 5); f.fid = 9; f.offset = 0x8000000000000010ULL; f.count = 3; f.data = (uchar*)"abc";
	ok(fcallpack(&f, buf, sizeof buf) == sizeof twrite && memcmp(buf, twrite, sizeof twrite) == 0,
		"Twrite bytes: a 64-bit offset with its top bit set");
	mk(&f, Rerror, 1); f.ename = "no";
	ok(fcallpack(&f, buf, sizeof buf) == sizeof rerror && memcmp(buf, rerror, sizeof rerror) == 0,
		"Rerror bytes");

	b = hcopy(twalk, sizeof twalk);
	ok(fcallunpack(b, sizeof twalk, &g) == 0 && g.type == Twalk && g.tag == 3 && g.fid == 1
		&& g.newfid == 2 && g.nwname == 2 && strcmp(g.wname[0], "usr") == 0
		&& strcmp(g.wname[1], "glenda") == 0, "hand-written Twalk decodes");
	fcallclear(&g);
	free(b);
	b = hcopy(ropen, sizeof ropen);
	ok(fcallunpack(b, sizeof ropen, &g) == 0 && g.qid.path == 0x0102030405060708ULL
		&& g.qid.vers == 0x0a0b0c0d && g.qid.type == QTDIR && g.iounit == 8168,
		"hand-written Ropen decodes");
	fcallclear(&g);
	free(b);
	b = hcopy(twrite, sizeof twrite);
	ok(fcallunpack(b, sizeof twrite, &g) == 0 && g.offset == 0x8000000000000010ULL
		&& g.count == 3 && g.data == b+23, "hand-written Twrite decodes, data in place");
	fcallclear(&g);
	free(b);
}

/* A hostile frame must be refused with an error that mentions want. */
static void
hostile(uchar *buf, long n, char *want, char *what)
{
	if(ok(rejects(buf, n), "refused: %s", what) && want != nil)
		if(!ok(strstr(errstr(), want) != nil, "  error names it: %s", errstr()))
			diag("wanted '%s'", want);
}

static void
hostiles(void)
{
	static uchar size0[] = {0,0,0,0, 120, 0,0, 1,0,0,0};
	static uchar size6[] = {6,0,0,0, 121, 0};
	static uchar size7t[] = {7,0,0,0, 120, 0,0};
	static uchar size7r[] = {7,0,0,0, 121, 0,0};
	static uchar sizemax[] = {0xff,0xff,0xff,0xff, 120, 0,0, 1,0,0,0};
	static uchar sizebig[] = {12,0,0,0, 120, 0,0, 1,0,0,0};
	static uchar rread[] = {14,0,0,0, 117, 0,0, 100,0,0,0, 'a','b','c'};
	static uchar twrite[] = {26,0,0,0, 118, 0,0, 1,0,0,0, 0,0,0,0,0,0,0,0, 0xff,0xff,0xff,0xff, 'a','b','c'};
	static uchar tcreate[] = {19,0,0,0, 114, 0,0, 1,0,0,0, 0xe8,0x03, 'a','b', 0,0,0,0};
	static uchar tattach[] = {22,0,0,0, 104, 0,0, 1,0,0,0, 0xff,0xff,0xff,0xff, 3,0, 'a',0,'b', 0,0};
	static uchar rstat[] = {12,0,0,0, 125, 0,0, 0x40,0, 1,2,3};
	static uchar tclunk[] = {12,0,0,0, 120, 0,0, 1,0,0,0, 0};
	static uchar types[] = {0, 1, 99, 106, 128, 255};
	uchar buf[512], *p;
	long n;
	int i;

	hostile(size0, sizeof size0, "size field 0", "size field 0");
	hostile(size6, sizeof size6, "shorter than 7", "a frame of 6 bytes");
	hostile(size7t, sizeof size7t, "fid past the end", "size 7: a Tclunk without its fid");
	ok(!rejects(size7r, sizeof size7r), "size 7: an Rclunk is a whole message");
	hostile(sizemax, sizeof sizemax, "size field 4294967295", "size field 2^32-1");
	hostile(sizebig, sizeof sizebig - 1, "size field 12", "size field past the end of the frame");
	hostile(rread, sizeof rread, "data past the end", "Rread count past the frame");
	hostile(twrite, sizeof twrite, "data past the end", "Twrite count 2^32-1");
	hostile(tcreate, sizeof tcreate, "name past the end", "Tcreate name past the end");
	hostile(tattach, sizeof tattach, "NUL byte in uname", "NUL inside a string");
	hostile(rstat, sizeof rstat, "stat past the end", "Rstat count past the frame");
	hostile(tclunk, sizeof tclunk, "garbage", "a byte after Tclunk");

	/* Twalk of 17 names, all present */
	p = buf+7;
	memcpy(p, "\1\0\0\0\2\0\0\0", 8), p += 8;
	*p++ = 17, *p++ = 0;
	for(i = 0; i < 17; i++)
		*p++ = 1, *p++ = 0, *p++ = 'a'+i;
	n = p-buf;
	buf[0] = n, buf[1] = 0, buf[2] = 0, buf[3] = 0, buf[4] = Twalk, buf[5] = 0, buf[6] = 0;
	hostile(buf, n, "nwname 17 > 16", "Twalk of 17 names");

	/* Rwalk of 17 qids, all present */
	p = buf+7;
	*p++ = 17, *p++ = 0;
	memset(p, 0, 17*Qidsz), p += 17*Qidsz;
	n = p-buf;
	buf[0] = n, buf[1] = n>>8, buf[2] = 0, buf[3] = 0, buf[4] = Rwalk;
	hostile(buf, n, "nwqid 17 > 16", "Rwalk of 17 qids");

	for(i = 0; i < (int)nelem(types); i++){
		memcpy(buf, tclunk, 11);
		buf[0] = 11;
		buf[4] = types[i];
		hostile(buf, 11, "unknown message type", "an unknown type byte");
	}
}

static void
dirs(void)
{
	static uchar nullbytes[Statfixsz] = {47, 0};
	uchar buf[1024], *b, *two;
	long n, n1, k, bad;
	char *max, line[256];
	Dir d, *dp, *all;

	nulldir(&d);
	memset(nullbytes+2, 0xff, Statfixsz-2-8);
	n = dirpack(&d, buf, sizeof buf);
	ok(n == Statfixsz && memcmp(buf, nullbytes, n) == 0, "nulldir: 47, 39 bytes of ones, 4 empty strings");

	d.type = 0xFFFF;
	d.dev = 7;
	d.qid = qid(42, 3, QTDIR|QTTMP);
	d.mode = DMDIR|DMTMP|0755;
	d.atime = 1700000000;
	d.mtime = 1700000001;
	d.length = 1ULL<<40;
	d.name = "dir";
	d.uid = "glenda";
	d.gid = "sys";
	d.muid = "";
	n = dirpack(&d, buf, sizeof buf);
	is(n, dirsize(&d), "dirpack: dirsize bytes");
	is(n, Statfixsz+3+6+3, "dirpack: 49 + the strings");
	b = hcopy(buf, n);
	dp = dirunpack(b, n);
	ok(dp != nil && dp->qid.path == 42 && dp->qid.type == (QTDIR|QTTMP) && dp->mode == d.mode
		&& dp->length == d.length && dp->atime == d.atime && dp->mtime == d.mtime
		&& dp->dev == 7 && strcmp(dp->name, "dir") == 0 && strcmp(dp->uid, "glenda") == 0
		&& strcmp(dp->gid, "sys") == 0 && strcmp(dp->muid, "") == 0, "dirunpack gives it back");
	ok(dp != nil && dirfmt(line, sizeof line, dp) > 0
		&& strcmp(line, "'dir' 'glenda' 'sys' '' q (000000000000002a 3 dt) m 020400000755 at 1700000000 mt 1700000001 l 1099511627776 t 65535 d 7") == 0,
		"dirfmt: %s", line);
	free(dp);

	bad = 0;
	for(k = 0; k < n; k++){
		free(b);
		b = hcopy(buf, k);
		if((dp = dirunpack(b, k)) != nil){
			free(dp);
			bad++;
		}
	}
	ok(bad == 0, "every truncation of a stat record refused");
	free(b);

	/* the size field says more than there is, and less */
	b = hcopy(buf, n);
	b[0] = n-1;
	ok(dirunpack(b, n) == nil && strstr(errstr(), "past the end") != nil, "stat size past the end: %s", errstr());
	b[0] = n-3;
	ok(dirunpack(b, n) == nil && strstr(errstr(), "muid past the end") != nil, "stat size short of muid: %s", errstr());
	/* name: length at 41, bytes at 43 */
	b[0] = n-2;
	b[44] = 0;
	ok(dirunpack(b, n) == nil && strstr(errstr(), "NUL byte in name") != nil, "NUL in a name: %s", errstr());
	b[44] = 'i';
	b[41] = 200;
	ok(dirunpack(b, n) == nil && strstr(errstr(), "past the end") != nil, "name length past the record: %s", errstr());
	free(b);

	/* room left after muid inside the record */
	b = malloc(n+2);
	memcpy(b, buf, n);
	b[n] = b[n+1] = 0;
	b[0] = n;
	ok(dirunpack(b, n+2) == nil && strstr(errstr(), "after muid") != nil, "bytes after muid: %s", errstr());
	free(b);

	/* directory reads: several records back to back */
	two = malloc(3*n);
	memcpy(two, buf, n);
	d.name = "second";
	n1 = dirpack(&d, two+n, 2*n);
	ok(dirunpackall(two, n+n1, &all) == 2 && strcmp(all[0].name, "dir") == 0
		&& strcmp(all[1].name, "second") == 0 && strcmp(all[1].uid, "glenda") == 0,
		"dirunpackall: two records");
	free(all);
	seed(two, n+n1);
	ok(dirunpackall(two, 0, &all) == 0 && all == nil, "dirunpackall: none");
	ok(dirunpackall(two, n+n1-1, &all) < 0 && all == nil, "dirunpackall: a cut-off second record");
	ok(dirunpack(two, n+n1) == nil && strstr(errstr(), "garbage") != nil, "dirunpack: two records are one too many");
	free(two);

	max = bigstr(Maxstr, 'n');
	nulldir(&d);
	d.name = max;
	ok(dirsize(&d) < 0, "a stat record longer than a 2-byte count refuses to pack");
	d.name = max+Statfixsz;
	ok(dirsize(&d) == Maxstr, "the longest stat record that fits: %ld", dirsize(&d));
	free(max);
}

/* The read end of a pipe holding n bytes of p, its write end closed. */
static int
piped(void *p, long n)
{
	int fd[2];

	if(pipe(fd) < 0 || write(fd[1], p, n) != n){
		diag("pipe: cannot set up");
		exit(1);
	}
	close(fd[1]);
	return fd[0];
}

/* Frames from a pipe: sizes, short reads, the end. */
static void
frames(void)
{
	static uchar two[] = {7,0,0,0, 121, 1,0, 7,0,0,0, 121, 1,0};
	static uchar size0[] = {0,0,0,0};
	static uchar size6[] = {6,0,0,0, 1,2};
	static uchar sizemax[] = {0xff,0xff,0xff,0xff, 1,2,3};
	static uchar cut[] = {20,0,0,0, 120, 0,0, 1,0};
	uchar buf[64], *b;
	int fd, p[2];
	long n;

	fd = piped(two, sizeof two);
	is(readframe(fd, buf, sizeof buf), 7, "readframe: a frame of 7");
	n = readframealloc(fd, 64, &b);
	ok(n == 7 && memcmp(b, two, 7) == 0, "readframealloc: the next one");
	free(b);
	is(readframe(fd, buf, sizeof buf), 0, "readframe: 0 at the end");
	close(fd);

	fd = piped(size0, sizeof size0);
	ok(readframe(fd, buf, sizeof buf) < 0 && strstr(errstr(), "too small") != nil, "size field 0: %s", errstr());
	close(fd);
	fd = piped(size6, sizeof size6);
	ok(readframe(fd, buf, sizeof buf) < 0 && strstr(errstr(), "too small") != nil, "size field 6: %s", errstr());
	close(fd);
	fd = piped(sizemax, sizeof sizemax);
	ok(readframealloc(fd, 1<<20, &b) < 0 && b == nil && strstr(errstr(), "too large") != nil,
		"size field 2^32-1: %s", errstr());
	close(fd);
	fd = piped(two, 7);
	ok(readframe(fd, buf, 6) < 0 && strstr(errstr(), "too large") != nil, "a frame above the maximum: %s", errstr());
	close(fd);
	fd = piped(cut, sizeof cut);
	ok(readframealloc(fd, 64, &b) < 0 && b == nil && strstr(errstr(), "short read") != nil, "a cut-off frame: %s", errstr());
	close(fd);
	fd = piped(cut, 2);
	ok(readframe(fd, buf, sizeof buf) < 0 && strstr(errstr(), "short read") != nil, "a cut-off size field: %s", errstr());
	close(fd);

	/* no SIGPIPE from a socket whose peer is gone: an error instead */
	if(socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0)
		exit(1);
	close(p[0]);
	ok(writeframe(p[1], two, 7) < 0 && strstr(errstr(), "write") != nil,
		"writeframe to a closed socket fails: %s", errstr());
	close(p[1]);
}

static void
formats(void)
{
	char line[256], small[12];
	char *wn[2] = {"usr", "glenda"};
	uchar stat[3] = {1, 0, 0};
	Fcall f;

	mk(&f, Twalk, 3); f.fid = 1; f.newfid = 2; f.nwname = 2; f.wname[0] = wn[0]; f.wname[1] = wn[1];
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "Twalk tag 3 fid 1 newfid 2 nwname 2 0:'usr' 1:'glenda'") == 0, "fcallfmt: %s", line);
	mk(&f, Tversion, NOTAG); f.msize = 8192; f.version = "9P2000";
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "Tversion tag 65535 msize 8192 version '9P2000'") == 0, "fcallfmt: %s", line);
	mk(&f, Rerror, 1); f.ename = "bad\n'x'";
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "Rerror tag 1 ename 'bad\\x0a\\'x\\''") == 0, "fcallfmt escapes: %s", line);
	mk(&f, Rread, 2); f.count = 3; f.data = (uchar*)"a\0b";
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "Rread tag 2 count 3 'a\\x00b'") == 0, "fcallfmt data: %s", line);
	mk(&f, Ropen, 4); f.qid = qid(4, 1, 0); f.iounit = 8168;
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "Ropen tag 4 qid (0000000000000004 1 -) iounit 8168") == 0, "fcallfmt qid: %s", line);
	werrstr("before");
	mk(&f, Rstat, 5); f.nstat = sizeof stat; f.stat = stat;
	fcallfmt(line, sizeof line, &f);
	ok(strstr(line, "Rstat tag 5 stat <stat record:") == line, "fcallfmt bad stat: %s", line);
	ok(strcmp(errstr(), "before") == 0, "fcallfmt keeps the error string");
	mk(&f, Twalk, 3); f.fid = 1; f.newfid = 2; f.nwname = 2; f.wname[0] = wn[0]; f.wname[1] = wn[1];
	is(fcallfmt(small, sizeof small, &f), sizeof small - 1, "fcallfmt truncates");
	ok(strcmp(small, "Twalk tag 3") == 0, "  to '%s'", small);
	mk(&f, 42, 7);
	fcallfmt(line, sizeof line, &f);
	ok(strcmp(line, "unknown type 42 tag 7") == 0, "fcallfmt of an unknown type: %s", line);
}

int
main(int argc, char **argv)
{
	if(argc == 3 && strcmp(argv[1], "-s") == 0)
		seeddir = argv[2];
	typical();
	boundary();
	wire();
	hostiles();
	dirs();
	frames();
	formats();
	return done();
}
