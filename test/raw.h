/*
 * test/raw.h: raw 9P2000 for the server tests.  Every request is built
 * by hand and every reply checked as it comes, through fcall.c, so the
 * tests can send what no well-behaved client would.  Include after
 * dat.h, fns.h, fcall.h, cmd/client.h and test/tap.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>

/* Not every test uses every helper. */
#define Helper	static __attribute__((unused))

typedef struct Raw	Raw;

struct Raw {
	int	fd;
	u32int	msize;
	u16int	tag;
	uchar	*frame;		/* the last reply's bytes */
	Fcall	rx;		/* the last reply */
};

enum {
	Rawtimeout	= 60,	/* seconds a reply may take before the test fails */
};

Helper Raw*
rawdial(char *addr)
{
	struct timeval tv;
	Raw *r;
	int fd;

	if((fd = dialaddr(addr)) < 0){
		diag("dial %s: %s", addr, errstr());
		return nil;
	}
	tv.tv_sec = Rawtimeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	r = emalloc(sizeof *r);
	r->fd = fd;
	r->msize = 8192;
	r->tag = 1;
	return r;
}

Helper void
rawclear(Raw *r)
{
	fcallclear(&r->rx);
	memset(&r->rx, 0, sizeof r->rx);
	free(r->frame);
	r->frame = nil;
}

Helper void
rawclose(Raw *r)
{
	if(r == nil)
		return;
	rawclear(r);
	close(r->fd);
	free(r);
}

Helper int
rawsendbytes(Raw *r, void *buf, long n)
{
	return writeframe(r->fd, buf, n);
}

/* Send tx, with the next tag unless it has one (or is a Tversion). */
Helper int
rawsend(Raw *r, Fcall *tx)
{
	uchar *buf;
	long n;
	int ret;

	if(tx->type == Tversion)
		tx->tag = NOTAG;
	else if(tx->tag == 0){
		tx->tag = r->tag++;
		if(r->tag == NOTAG)
			r->tag = 1;
	}
	if((n = fcallsize(tx)) < 0){
		diag("cannot encode %s: %s", fcallname(tx->type), errstr());
		return -1;
	}
	buf = emalloc(n);
	fcallpack(tx, buf, n);
	ret = rawsendbytes(r, buf, n);
	free(buf);
	return ret;
}

/* The next reply into r->rx: 1, 0 at end of file, -1 on error. */
Helper int
rawrecv(Raw *r)
{
	long n;

	rawclear(r);
	n = readframealloc(r->fd, Maxmsg + 64, &r->frame);
	if(n <= 0)
		return n;
	if(fcallunpack(r->frame, n, &r->rx) < 0){
		diag("bad reply: %s", errstr());
		return -1;
	}
	return 1;
}

/* Send tx and return its reply (nil if there is none). */
Helper Fcall*
rpc(Raw *r, Fcall *tx)
{
	if(rawsend(r, tx) < 0 || rawrecv(r) != 1)
		return nil;
	if(r->rx.tag != tx->tag){
		diag("reply tag %d to request tag %d", r->rx.tag, tx->tag);
		return nil;
	}
	return &r->rx;
}

/* Did the server close the connection (after whatever it still sent)? */
Helper int
rawhungup(Raw *r)
{
	int x;

	while((x = rawrecv(r)) == 1)
		;
	return x == 0 || (x == -1 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* ------------------------------------------------------------ requests */

Helper Fcall*
tversion(Raw *r, u32int msize, char *v)
{
	Fcall tx;
	Fcall *rx;

	memset(&tx, 0, sizeof tx);
	tx.type = Tversion;
	tx.msize = msize;
	tx.version = v;
	rx = rpc(r, &tx);
	if(rx != nil && rx->type == Rversion && strcmp(rx->version, "9P2000") == 0)
		r->msize = rx->msize;
	return rx;
}

Helper Fcall*
tauth(Raw *r, u32int afid, char *uname, char *aname)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Tauth;
	tx.afid = afid;
	tx.uname = uname;
	tx.aname = aname;
	return rpc(r, &tx);
}

Helper Fcall*
tattach(Raw *r, u32int fid, u32int afid, char *uname, char *aname)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Tattach;
	tx.fid = fid;
	tx.afid = afid;
	tx.uname = uname;
	tx.aname = aname;
	return rpc(r, &tx);
}

/* Walk the '/'-separated path (empty: a clone). */
Helper Fcall*
twalk(Raw *r, u32int fid, u32int newfid, char *path)
{
	Fcall tx;
	char *p, *s;
	Fcall *rx;

	memset(&tx, 0, sizeof tx);
	tx.type = Twalk;
	tx.fid = fid;
	tx.newfid = newfid;
	s = estrdup(path);
	for(p = s; *p != 0 && tx.nwname < Maxwelem; ){
		tx.wname[tx.nwname++] = p;
		if((p = strchr(p, '/')) == nil)
			break;
		*p++ = 0;
	}
	rx = rpc(r, &tx);
	free(s);
	return rx;
}

/* A walk with the names as they are: '/' in a name stays there. */
Helper Fcall*
twalkv(Raw *r, u32int fid, u32int newfid, int n, char **names)
{
	Fcall tx;
	int i;

	memset(&tx, 0, sizeof tx);
	tx.type = Twalk;
	tx.fid = fid;
	tx.newfid = newfid;
	tx.nwname = n;
	for(i = 0; i < n; i++)
		tx.wname[i] = names[i];
	return rpc(r, &tx);
}

Helper Fcall*
topen(Raw *r, u32int fid, int mode)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Topen;
	tx.fid = fid;
	tx.mode = mode;
	return rpc(r, &tx);
}

Helper Fcall*
tcreate(Raw *r, u32int fid, char *name, u32int perm, int mode)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Tcreate;
	tx.fid = fid;
	tx.name = name;
	tx.perm = perm;
	tx.mode = mode;
	return rpc(r, &tx);
}

Helper Fcall*
tread(Raw *r, u32int fid, uvlong off, u32int count)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Tread;
	tx.fid = fid;
	tx.offset = off;
	tx.count = count;
	return rpc(r, &tx);
}

Helper Fcall*
twrite(Raw *r, u32int fid, uvlong off, void *data, u32int count)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = Twrite;
	tx.fid = fid;
	tx.offset = off;
	tx.data = data;
	tx.count = count;
	return rpc(r, &tx);
}

Helper Fcall*
tfid(Raw *r, int type, u32int fid)
{
	Fcall tx;

	memset(&tx, 0, sizeof tx);
	tx.type = type;
	tx.fid = fid;
	return rpc(r, &tx);
}

#define tclunk(r, fid)	tfid(r, Tclunk, fid)
#define tremove(r, fid)	tfid(r, Tremove, fid)
#define tstat(r, fid)	tfid(r, Tstat, fid)

Helper Fcall*
twstat(Raw *r, u32int fid, Dir *d)
{
	uchar buf[Statfixsz + 4*Maxstr];
	Fcall tx;
	long n;

	if((n = dirpack(d, buf, sizeof buf)) < 0)
		return nil;
	memset(&tx, 0, sizeof tx);
	tx.type = Twstat;
	tx.fid = fid;
	tx.stat = buf;
	tx.nstat = n;
	return rpc(r, &tx);
}

/* ------------------------------------------------------------- checks */

/* rx is a reply of type want. */
Helper int
isr(Fcall *rx, int want, char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if(rx == nil)
		return ok(0, "%s: no reply", what);
	if(rx->type == Rerror)
		return ok(0, "%s: error '%s'", what, rx->ename);
	return ok(rx->type == want, "%s (%s)", what, fcallname(rx->type));
}

/* rx is an Rerror whose string is e (or begins with e and ": "). */
Helper int
iserror(Fcall *rx, char *e, char *fmt, ...)
{
	char what[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);

	if(rx == nil)
		return ok(0, "%s: no reply", what);
	if(rx->type != Rerror)
		return ok(0, "%s: %s, not an error '%s'", what, fcallname(rx->type), e);
	n = strlen(e);
	if(strncmp(rx->ename, e, n) == 0 && (rx->ename[n] == 0 || rx->ename[n] == ':'))
		return ok(1, "%s: %s", what, rx->ename);
	return ok(0, "%s: error '%s', want '%s'", what, rx->ename, e);
}

/* A connection, versioned with msize and attached as uname to aname at fid 0. */
Helper Raw*
rawsession(char *addr, u32int msize, char *uname, char *aname)
{
	Fcall *rx;
	Raw *r;

	if((r = rawdial(addr)) == nil)
		return nil;
	rx = tversion(r, msize, "9P2000");
	if(rx == nil || rx->type != Rversion){
		diag("version: %s", rx == nil ? "no reply" : rx->type == Rerror ? rx->ename : "?");
		rawclose(r);
		return nil;
	}
	rx = tattach(r, 0, NOFID, uname, aname);
	if(rx == nil || rx->type != Rattach){
		diag("attach %s as %s: %s", aname, uname,
			rx == nil ? "no reply" : rx->type == Rerror ? rx->ename : "?");
		rawclose(r);
		return nil;
	}
	return r;
}
