/*
 * fcall.c: 9P2000 messages and stat records, to and from bytes
 * (runtime §3.1).  Shared by the server and the clients, so it uses libc
 * and error.c only.
 *
 * The decoder trusts nothing: every length and count is checked against
 * the bytes that are really there before anything is read, strings may not
 * contain NUL, and a frame must be used up exactly.  A frame that fails
 * any check is an error naming the problem; nothing is ever read outside
 * the frame.  Decoded strings are copied, NUL-terminated, into one
 * allocation the Fcall owns; data and stat bytes point into the frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

typedef struct Rd	Rd;
typedef struct Wr	Wr;
typedef struct Sref	Sref;
typedef struct Fmt	Fmt;

/* A string found in a frame, to be copied out once the frame checks out. */
struct Sref {
	char	**dst;
	uchar	*src;
	int	n;
};

/* Decoding state: the first problem found stops everything. */
struct Rd {
	uchar	*p;
	uchar	*e;
	char	*what;		/* message being decoded, for errors */
	int	bad;
	char	err[Errmax];
	int	nstr;
	Sref	str[Maxwelem];
	long	strbytes;
};

/* Encoding state: counts bytes, and stores them too when p is not nil. */
struct Wr {
	uchar	*p;
	long	n;
	char	*bad;		/* field that cannot be encoded */
};

struct Fmt {
	char	*p;
	char	*e;
};

static char *tnames[] = {
	"Tversion", "Rversion", "Tauth", "Rauth", "Tattach", "Rattach",
	"Terror", "Rerror", "Tflush", "Rflush", "Twalk", "Rwalk",
	"Topen", "Ropen", "Tcreate", "Rcreate", "Tread", "Rread",
	"Twrite", "Rwrite", "Tclunk", "Rclunk", "Tremove", "Rremove",
	"Tstat", "Rstat", "Twstat", "Rwstat",
};

/* The name of a message type, for errors and logs. */
char*
fcallname(int type)
{
	if(type < Tversion || type >= Tmax)
		return "unknown";
	return tnames[type-Tversion];
}

/* ------------------------------------------------------- little-endian */

static u16int
lget16(uchar *p)
{
	return p[0] | p[1]<<8;
}

static u32int
lget32(uchar *p)
{
	return p[0] | p[1]<<8 | p[2]<<16 | (u32int)p[3]<<24;
}

static uvlong
lget64(uchar *p)
{
	return lget32(p) | (uvlong)lget32(p+4)<<32;
}

static void
lput16(uchar *p, u16int v)
{
	p[0] = v;
	p[1] = v>>8;
}

static void
lput32(uchar *p, u32int v)
{
	p[0] = v;
	p[1] = v>>8;
	p[2] = v>>16;
	p[3] = v>>24;
}

static void
lput64(uchar *p, uvlong v)
{
	lput32(p, v);
	lput32(p+4, v>>32);
}

/* ------------------------------------------------------------- decoding */

static void
rdfail(Rd *r, char *fmt, ...)
{
	va_list ap;
	int n;

	if(r->bad)
		return;
	r->bad = 1;
	n = snprintf(r->err, sizeof r->err, "%s: ", r->what);
	if(n < 0 || n >= (int)sizeof r->err)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err+n, sizeof r->err - n, fmt, ap);
	va_end(ap);
}

/* Are there n more bytes for field what? */
static int
need(Rd *r, uvlong n, char *what)
{
	if(r->bad)
		return 0;
	if(n > (uvlong)(r->e - r->p)){
		rdfail(r, "%s past the end", what);
		return 0;
	}
	return 1;
}

static uchar
g8(Rd *r, char *what)
{
	if(!need(r, 1, what))
		return 0;
	return *r->p++;
}

static u16int
g16(Rd *r, char *what)
{
	u16int v;

	if(!need(r, 2, what))
		return 0;
	v = lget16(r->p);
	r->p += 2;
	return v;
}

static u32int
g32(Rd *r, char *what)
{
	u32int v;

	if(!need(r, 4, what))
		return 0;
	v = lget32(r->p);
	r->p += 4;
	return v;
}

static uvlong
g64(Rd *r, char *what)
{
	uvlong v;

	if(!need(r, 8, what))
		return 0;
	v = lget64(r->p);
	r->p += 8;
	return v;
}

static void
gqid(Rd *r, Qid *q, char *what)
{
	if(!need(r, Qidsz, what))
		return;
	q->type = r->p[0];
	q->vers = lget32(r->p+1);
	q->path = lget64(r->p+5);
	r->p += Qidsz;
}

/* n bytes in place; nil if they are not all there. */
static uchar*
gbytes(Rd *r, uvlong n, char *what)
{
	uchar *p;

	if(!need(r, n, what))
		return nil;
	p = r->p;
	r->p += n;
	return p;
}

/* A string: remembered now, copied out when the whole frame is good. */
static void
gstr(Rd *r, char **dst, char *what)
{
	uchar *p;
	u16int n;
	Sref *s;

	n = g16(r, what);
	p = gbytes(r, n, what);
	if(p == nil)
		return;
	if(memchr(p, 0, n) != nil){
		rdfail(r, "NUL byte in %s", what);
		return;
	}
	if(r->nstr == nelem(r->str)){
		rdfail(r, "too many strings");
		return;
	}
	s = &r->str[r->nstr++];
	s->dst = dst;
	s->src = p;
	s->n = n;
	r->strbytes += n+1;
}

static void
gwalk(Rd *r, Fcall *f)
{
	int i;

	f->fid = g32(r, "fid");
	f->newfid = g32(r, "newfid");
	f->nwname = g16(r, "nwname");
	if(f->nwname > Maxwelem){
		rdfail(r, "nwname %d > %d", f->nwname, Maxwelem);
		return;
	}
	for(i = 0; i < f->nwname; i++)
		gstr(r, &f->wname[i], "wname");
}

static void
grwalk(Rd *r, Fcall *f)
{
	int i;

	f->nwqid = g16(r, "nwqid");
	if(f->nwqid > Maxwelem){
		rdfail(r, "nwqid %d > %d", f->nwqid, Maxwelem);
		return;
	}
	for(i = 0; i < f->nwqid; i++)
		gqid(r, &f->wqid[i], "wqid");
}

/* The body after size[4] type[1] tag[2]; Rflush, Rclunk, Rremove, Rwstat have none. */
static void
gbody(Rd *r, Fcall *f)
{
	switch(f->type){
	case Tversion:
	case Rversion:
		f->msize = g32(r, "msize");
		gstr(r, &f->version, "version");
		break;
	case Tauth:
		f->afid = g32(r, "afid");
		gstr(r, &f->uname, "uname");
		gstr(r, &f->aname, "aname");
		break;
	case Rauth:
		gqid(r, &f->aqid, "aqid");
		break;
	case Tattach:
		f->fid = g32(r, "fid");
		f->afid = g32(r, "afid");
		gstr(r, &f->uname, "uname");
		gstr(r, &f->aname, "aname");
		break;
	case Rattach:
		gqid(r, &f->qid, "qid");
		break;
	case Rerror:
		gstr(r, &f->ename, "ename");
		break;
	case Tflush:
		f->oldtag = g16(r, "oldtag");
		break;
	case Twalk:
		gwalk(r, f);
		break;
	case Rwalk:
		grwalk(r, f);
		break;
	case Topen:
		f->fid = g32(r, "fid");
		f->mode = g8(r, "mode");
		break;
	case Tcreate:
		f->fid = g32(r, "fid");
		gstr(r, &f->name, "name");
		f->perm = g32(r, "perm");
		f->mode = g8(r, "mode");
		break;
	case Ropen:
	case Rcreate:
		gqid(r, &f->qid, "qid");
		f->iounit = g32(r, "iounit");
		break;
	case Tread:
		f->fid = g32(r, "fid");
		f->offset = g64(r, "offset");
		f->count = g32(r, "count");
		break;
	case Twrite:
		f->fid = g32(r, "fid");
		f->offset = g64(r, "offset");
		/* fall through */
	case Rread:
		f->count = g32(r, "count");
		f->data = gbytes(r, f->count, "data");
		break;
	case Rwrite:
		f->count = g32(r, "count");
		break;
	case Tclunk:
	case Tremove:
	case Tstat:
		f->fid = g32(r, "fid");
		break;
	case Twstat:
		f->fid = g32(r, "fid");
		/* fall through */
	case Rstat:
		f->nstat = g16(r, "nstat");
		f->stat = gbytes(r, f->nstat, "stat");
		break;
	}
}

/* Copy the strings out of the frame, each NUL-terminated. */
static int
copystrs(Rd *r, Fcall *f)
{
	char *s;
	int i;

	if(r->nstr == 0)
		return 0;
	s = malloc(r->strbytes);
	if(s == nil){
		werrstr("%s", Enomem);
		return -1;
	}
	f->strs = s;
	for(i = 0; i < r->nstr; i++){
		memcpy(s, r->str[i].src, r->str[i].n);
		s[r->str[i].n] = 0;
		*r->str[i].dst = s;
		s += r->str[i].n+1;
	}
	return 0;
}

/*
 * Decode the frame buf[0..n), which must be exactly one message, its size
 * field included.  On success f->data and f->stat point into buf.
 */
int
fcallunpack(uchar *buf, long n, Fcall *f)
{
	Rd r;

	memset(f, 0, sizeof *f);
	if(n < Fhdrsz){
		werrstr("frame of %ld bytes is shorter than %d", n, Fhdrsz);
		return -1;
	}
	if(lget32(buf) != (uvlong)n){
		werrstr("size field %u but a frame of %ld bytes", lget32(buf), n);
		return -1;
	}
	f->type = buf[4];
	f->tag = lget16(buf+5);
	if(f->type < Tversion || f->type >= Tmax || f->type == Terror){
		werrstr("unknown message type %d", f->type);
		memset(f, 0, sizeof *f);
		return -1;
	}
	memset(&r, 0, sizeof r);
	r.p = buf+Fhdrsz;
	r.e = buf+n;
	r.what = fcallname(f->type);
	gbody(&r, f);
	if(!r.bad && r.p != r.e)
		rdfail(&r, "garbage after the message: %ld bytes", (long)(r.e - r.p));
	if(r.bad){
		werrstr("%s", r.err);
		memset(f, 0, sizeof *f);
		return -1;
	}
	return copystrs(&r, f);
}

void
fcallclear(Fcall *f)
{
	free(f->strs);
	memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------------- encoding */

static void
p8(Wr *w, uchar v)
{
	if(w->p != nil)
		w->p[w->n] = v;
	w->n += 1;
}

static void
p16(Wr *w, u16int v)
{
	if(w->p != nil)
		lput16(w->p+w->n, v);
	w->n += 2;
}

static void
p32(Wr *w, u32int v)
{
	if(w->p != nil)
		lput32(w->p+w->n, v);
	w->n += 4;
}

static void
p64(Wr *w, uvlong v)
{
	if(w->p != nil)
		lput64(w->p+w->n, v);
	w->n += 8;
}

static void
pqid(Wr *w, Qid *q)
{
	p8(w, q->type);
	p32(w, q->vers);
	p64(w, q->path);
}

static void
pbytes(Wr *w, void *v, uvlong n, char *what)
{
	if(n > (uvlong)Maxframe - w->n){
		w->bad = what;
		return;
	}
	if(w->p != nil && n > 0)
		memcpy(w->p+w->n, v, n);
	w->n += n;
}

/* nil is sent as the empty string. */
static void
pstr(Wr *w, char *s, char *what)
{
	size_t n;

	if(s == nil)
		s = "";
	n = strlen(s);
	if(n > Maxstr){
		w->bad = what;
		return;
	}
	p16(w, n);
	pbytes(w, s, n, what);
}

static void
pwalk(Wr *w, Fcall *f)
{
	int i;

	p32(w, f->fid);
	p32(w, f->newfid);
	if(f->nwname > Maxwelem){
		w->bad = "nwname";
		return;
	}
	p16(w, f->nwname);
	for(i = 0; i < f->nwname; i++)
		pstr(w, f->wname[i], "wname");
}

static void
prwalk(Wr *w, Fcall *f)
{
	int i;

	if(f->nwqid > Maxwelem){
		w->bad = "nwqid";
		return;
	}
	p16(w, f->nwqid);
	for(i = 0; i < f->nwqid; i++)
		pqid(w, &f->wqid[i]);
}

static void
pbody(Wr *w, Fcall *f)
{
	switch(f->type){
	case Tversion:
	case Rversion:
		p32(w, f->msize);
		pstr(w, f->version, "version");
		break;
	case Tauth:
		p32(w, f->afid);
		pstr(w, f->uname, "uname");
		pstr(w, f->aname, "aname");
		break;
	case Rauth:
		pqid(w, &f->aqid);
		break;
	case Tattach:
		p32(w, f->fid);
		p32(w, f->afid);
		pstr(w, f->uname, "uname");
		pstr(w, f->aname, "aname");
		break;
	case Rattach:
		pqid(w, &f->qid);
		break;
	case Rerror:
		pstr(w, f->ename, "ename");
		break;
	case Tflush:
		p16(w, f->oldtag);
		break;
	case Twalk:
		pwalk(w, f);
		break;
	case Rwalk:
		prwalk(w, f);
		break;
	case Topen:
		p32(w, f->fid);
		p8(w, f->mode);
		break;
	case Tcreate:
		p32(w, f->fid);
		pstr(w, f->name, "name");
		p32(w, f->perm);
		p8(w, f->mode);
		break;
	case Ropen:
	case Rcreate:
		pqid(w, &f->qid);
		p32(w, f->iounit);
		break;
	case Tread:
		p32(w, f->fid);
		p64(w, f->offset);
		p32(w, f->count);
		break;
	case Twrite:
		p32(w, f->fid);
		p64(w, f->offset);
		/* fall through */
	case Rread:
		p32(w, f->count);
		pbytes(w, f->data, f->count, "data");
		break;
	case Rwrite:
		p32(w, f->count);
		break;
	case Tclunk:
	case Tremove:
	case Tstat:
		p32(w, f->fid);
		break;
	case Twstat:
		p32(w, f->fid);
		/* fall through */
	case Rstat:
		p16(w, f->nstat);
		pbytes(w, f->stat, f->nstat, "stat");
		break;
	}
}

/* Encode f at p, or only count its bytes when p is nil. */
static long
encode(Fcall *f, uchar *p)
{
	Wr w;

	if(f->type < Tversion || f->type >= Tmax || f->type == Terror){
		werrstr("cannot encode message type %d", f->type);
		return -1;
	}
	w.p = p;
	w.n = 0;
	w.bad = nil;
	p32(&w, 0);
	p8(&w, f->type);
	p16(&w, f->tag);
	pbody(&w, f);
	if(w.bad != nil){
		werrstr("%s: %s too large to encode", fcallname(f->type), w.bad);
		return -1;
	}
	if(p != nil)
		lput32(p, w.n);
	return w.n;
}

/* The bytes f takes on the wire, or -1 if it cannot be encoded. */
long
fcallsize(Fcall *f)
{
	return encode(f, nil);
}

/* Encode f into buf; its length, or -1 if it does not fit or is invalid. */
long
fcallpack(Fcall *f, uchar *buf, long nbuf)
{
	long n;

	n = encode(f, nil);
	if(n < 0)
		return -1;
	if(n > nbuf){
		werrstr("%s of %ld bytes does not fit in %ld", fcallname(f->type), n, nbuf);
		return -1;
	}
	return encode(f, buf);
}

/* --------------------------------------------------------------- frames */

/* Read up to n bytes, stopping early only at end of file. */
static long
readn(int fd, uchar *p, long n)
{
	long m, tot;

	for(tot = 0; tot < n; tot += m){
		m = read(fd, p+tot, n-tot);
		if(m < 0 && errno == EINTR){
			m = 0;
			continue;
		}
		if(m < 0)
			return -1;
		if(m == 0)
			break;
	}
	return tot;
}

/* The size field of the next frame: its value, 0 at end of file, or -1. */
static long
readsize(int fd, uchar *hdr, long max)
{
	long m;
	u32int size;

	m = readn(fd, hdr, 4);
	if(m < 0){
		werrstr("read: %s", strerror(errno));
		return -1;
	}
	if(m == 0)
		return 0;
	if(m < 4){
		werrstr("short read: end of file in the size of a message");
		return -1;
	}
	size = lget32(hdr);
	if(size < Fhdrsz){
		werrstr("message size %u too small", size);
		return -1;
	}
	if(size > (uvlong)max || size > Maxframe){
		werrstr("message size too large: %u > %ld", size, max);
		return -1;
	}
	return size;
}

static int
readrest(int fd, uchar *buf, long size)
{
	long m;

	m = readn(fd, buf+4, size-4);
	if(m < 0){
		werrstr("short read: %s", strerror(errno));
		return -1;
	}
	if(m < size-4){
		werrstr("short read: end of file after %ld of %ld bytes", m+4, size);
		return -1;
	}
	return 0;
}

/*
 * Read one frame into buf (max bytes): its length, 0 at end of file
 * before a frame began, or -1 (short read, size below 7 or above max).
 */
long
readframe(int fd, uchar *buf, long max)
{
	long size;
	uchar hdr[4];

	size = readsize(fd, hdr, max);
	if(size <= 0)
		return size;
	memcpy(buf, hdr, 4);
	if(readrest(fd, buf, size) < 0)
		return -1;
	return size;
}

/* As readframe, into a buffer of the frame's own size, *bufp, to be freed. */
long
readframealloc(int fd, long max, uchar **bufp)
{
	long size;
	uchar hdr[4], *buf;

	*bufp = nil;
	size = readsize(fd, hdr, max);
	if(size <= 0)
		return size;
	buf = malloc(size);
	if(buf == nil){
		werrstr("%s", Enomem);
		return -1;
	}
	memcpy(buf, hdr, 4);
	if(readrest(fd, buf, size) < 0){
		free(buf);
		return -1;
	}
	*bufp = buf;
	return size;
}

/*
 * Write all n bytes.  On a socket a peer that went away is an error, not
 * a SIGPIPE; on a pipe only the caller can ignore SIGPIPE.
 */
int
writeframe(int fd, uchar *buf, long n)
{
	long m, tot;
	int sock;

	sock = 1;
	for(tot = 0; tot < n; tot += m){
		if(sock){
			m = send(fd, buf+tot, n-tot, MSG_NOSIGNAL);
			if(m < 0 && errno == ENOTSOCK){
				sock = 0;
				m = 0;
				continue;
			}
		}else
			m = write(fd, buf+tot, n-tot);
		if(m < 0 && errno == EINTR){
			m = 0;
			continue;
		}
		if(m <= 0){
			werrstr("write: %s", m < 0 ? strerror(errno) : "no progress");
			return -1;
		}
	}
	return 0;
}

/* --------------------------------------------------------- stat records */

void
nulldir(Dir *d)
{
	d->type = 0xFFFF;
	d->dev = 0xFFFFFFFF;
	d->qid.type = 0xFF;
	d->qid.vers = 0xFFFFFFFF;
	d->qid.path = ~0ULL;
	d->mode = 0xFFFFFFFF;
	d->atime = 0xFFFFFFFF;
	d->mtime = 0xFFFFFFFF;
	d->length = ~0ULL;
	d->name = "";
	d->uid = "";
	d->gid = "";
	d->muid = "";
}

static void
pdir(Wr *w, Dir *d)
{
	long start;

	start = w->n;
	p16(w, 0);
	p16(w, d->type);
	p32(w, d->dev);
	pqid(w, &d->qid);
	p32(w, d->mode);
	p32(w, d->atime);
	p32(w, d->mtime);
	p64(w, d->length);
	pstr(w, d->name, "name");
	pstr(w, d->uid, "uid");
	pstr(w, d->gid, "gid");
	pstr(w, d->muid, "muid");
	/* the whole record must fit the 2-byte count of a Twstat or Rstat */
	if(w->n - start > Maxstr)
		w->bad = "stat";
	if(w->p != nil && w->bad == nil)
		lput16(w->p+start, w->n - start - 2);
}

static long
encdir(Dir *d, uchar *p)
{
	Wr w;

	w.p = p;
	w.n = 0;
	w.bad = nil;
	pdir(&w, d);
	if(w.bad != nil){
		werrstr("stat record: %s too large to encode", w.bad);
		return -1;
	}
	return w.n;
}

/* Bytes of d's stat record, its size field included; -1 if it is too big. */
long
dirsize(Dir *d)
{
	return encdir(d, nil);
}

long
dirpack(Dir *d, uchar *buf, long nbuf)
{
	long n;

	n = encdir(d, nil);
	if(n < 0)
		return -1;
	if(n > nbuf){
		werrstr("stat record of %ld bytes does not fit in %ld", n, nbuf);
		return -1;
	}
	return encdir(d, buf);
}

/*
 * Check the stat record at the start of buf[0..n) and return its length.
 * With d set, also fill d, copying its strings to *sp.
 */
static long
dirscan(uchar *buf, long n, Dir *d, char **sp, long *strbytes)
{
	Rd r;
	u16int size;
	Dir tmp;
	int i;

	memset(&r, 0, sizeof r);
	r.what = "stat record";
	r.p = buf;
	r.e = buf+n;
	size = g16(&r, "size");
	if(!r.bad && size > r.e - r.p)
		rdfail(&r, "size %u past the end of %ld bytes", size, n);
	if(!r.bad && size > Maxstr-2)
		rdfail(&r, "size %u does not fit a stat count", size);
	if(r.bad){
		werrstr("%s", r.err);
		return -1;
	}
	r.e = r.p+size;
	if(d == nil)
		d = &tmp;
	d->type = g16(&r, "type");
	d->dev = g32(&r, "dev");
	gqid(&r, &d->qid, "qid");
	d->mode = g32(&r, "mode");
	d->atime = g32(&r, "atime");
	d->mtime = g32(&r, "mtime");
	d->length = g64(&r, "length");
	gstr(&r, &d->name, "name");
	gstr(&r, &d->uid, "uid");
	gstr(&r, &d->gid, "gid");
	gstr(&r, &d->muid, "muid");
	if(!r.bad && r.p != r.e)
		rdfail(&r, "%ld bytes after muid", (long)(r.e - r.p));
	if(r.bad){
		werrstr("%s", r.err);
		return -1;
	}
	if(strbytes != nil)
		*strbytes += r.strbytes;
	if(sp != nil)
		for(i = 0; i < r.nstr; i++){
			memcpy(*sp, r.str[i].src, r.str[i].n);
			(*sp)[r.str[i].n] = 0;
			*r.str[i].dst = *sp;
			*sp += r.str[i].n+1;
		}
	return 2+size;
}

/* Decode buf[0..n), exactly one stat record; free the result with free. */
Dir*
dirunpack(uchar *buf, long n)
{
	long m, nstr;
	Dir *d;
	char *s;

	nstr = 0;
	m = dirscan(buf, n, nil, nil, &nstr);
	if(m < 0)
		return nil;
	if(m != n){
		werrstr("stat record: %ld bytes of garbage after it", n-m);
		return nil;
	}
	d = malloc(sizeof *d + nstr);
	if(d == nil){
		werrstr("%s", Enomem);
		return nil;
	}
	s = (char*)(d+1);
	dirscan(buf, n, d, &s, nil);
	return d;
}

/*
 * Decode the stat records that make up buf[0..n), as a directory read
 * returns them.  *dp is one allocation for free, nil when there are none.
 */
long
dirunpackall(uchar *buf, long n, Dir **dp)
{
	long off, m, nd, nstr, i;
	Dir *d;
	char *s;

	*dp = nil;
	nd = 0;
	nstr = 0;
	for(off = 0; off < n; off += m){
		m = dirscan(buf+off, n-off, nil, nil, &nstr);
		if(m < 0)
			return -1;
		nd++;
	}
	if(nd == 0)
		return 0;
	d = malloc(nd*sizeof *d + nstr);
	if(d == nil){
		werrstr("%s", Enomem);
		return -1;
	}
	s = (char*)(d+nd);
	for(off = 0, i = 0; i < nd; i++)
		off += dirscan(buf+off, n-off, &d[i], &s, nil);
	*dp = d;
	return nd;
}

/* ----------------------------------------------------------- formatting */

static void
fmtprint(Fmt *f, char *fmt, ...)
{
	va_list ap;
	int n;

	if(f->p >= f->e)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->p, f->e - f->p, fmt, ap);
	va_end(ap);
	if(n < 0)
		return;
	if(n >= f->e - f->p)
		f->p = f->e - 1;
	else
		f->p += n;
}

/* Quoted, with anything unprintable escaped: logs stay one clean line. */
static void
fmtquote(Fmt *f, uchar *s, long n, long max)
{
	long i;

	fmtprint(f, "'");
	for(i = 0; i < n && i < max; i++){
		if(s[i] == '\'' || s[i] == '\\')
			fmtprint(f, "\\%c", s[i]);
		else if(s[i] < 0x20 || s[i] >= 0x7f)
			fmtprint(f, "\\x%02x", s[i]);
		else
			fmtprint(f, "%c", s[i]);
	}
	fmtprint(f, "'%s", n > max ? "..." : "");
}

static void
fmtstr(Fmt *f, char *s)
{
	if(s == nil)
		s = "";
	fmtquote(f, (uchar*)s, strlen(s), Maxstr);
}

static void
fmtqid(Fmt *f, Qid *q)
{
	fmtprint(f, "(%016llx %u ", (unsigned long long)q->path, q->vers);
	if(q->type & QTDIR)
		fmtprint(f, "d");
	if(q->type & QTAPPEND)
		fmtprint(f, "a");
	if(q->type & QTEXCL)
		fmtprint(f, "l");
	if(q->type & QTAUTH)
		fmtprint(f, "A");
	if(q->type & QTTMP)
		fmtprint(f, "t");
	fmtprint(f, "%s)", q->type == 0 ? "-" : "");
}

static void
fmtdir(Fmt *f, Dir *d)
{
	fmtstr(f, d->name);
	fmtprint(f, " ");
	fmtstr(f, d->uid);
	fmtprint(f, " ");
	fmtstr(f, d->gid);
	fmtprint(f, " ");
	fmtstr(f, d->muid);
	fmtprint(f, " q ");
	fmtqid(f, &d->qid);
	fmtprint(f, " m %#o at %u mt %u l %llu t %u d %u", d->mode, d->atime,
		d->mtime, (unsigned long long)d->length, d->type, d->dev);
}

/* A stat inside a message; the caller's error string survives a bad one. */
static void
fmtstat(Fmt *f, uchar *stat, long n)
{
	char save[Errmax];
	Dir *d;

	snprintf(save, sizeof save, "%s", errstr());
	d = dirunpack(stat, n);
	if(d == nil)
		fmtprint(f, "<%s>", errstr());
	else
		fmtdir(f, d);
	free(d);
	werrstr("%s", save);
}

static void
fmtwalk(Fmt *f, Fcall *m)
{
	int i;

	if(m->type == Twalk){
		fmtprint(f, " fid %u newfid %u nwname %d", m->fid, m->newfid, m->nwname);
		for(i = 0; i < m->nwname && i < Maxwelem; i++){
			fmtprint(f, " %d:", i);
			fmtstr(f, m->wname[i]);
		}
	}else{
		fmtprint(f, " nwqid %d", m->nwqid);
		for(i = 0; i < m->nwqid && i < Maxwelem; i++){
			fmtprint(f, " %d:", i);
			fmtqid(f, &m->wqid[i]);
		}
	}
}

static void
fmtbody(Fmt *f, Fcall *m)
{
	switch(m->type){
	case Tversion:
	case Rversion:
		fmtprint(f, " msize %u version ", m->msize);
		fmtstr(f, m->version);
		break;
	case Tauth:
		fmtprint(f, " afid %u uname ", m->afid);
		fmtstr(f, m->uname);
		fmtprint(f, " aname ");
		fmtstr(f, m->aname);
		break;
	case Rauth:
		fmtprint(f, " aqid ");
		fmtqid(f, &m->aqid);
		break;
	case Tattach:
		fmtprint(f, " fid %u afid %d uname ", m->fid, (int)m->afid);
		fmtstr(f, m->uname);
		fmtprint(f, " aname ");
		fmtstr(f, m->aname);
		break;
	case Rattach:
		fmtprint(f, " qid ");
		fmtqid(f, &m->qid);
		break;
	case Rerror:
		fmtprint(f, " ename ");
		fmtstr(f, m->ename);
		break;
	case Tflush:
		fmtprint(f, " oldtag %u", m->oldtag);
		break;
	case Twalk:
	case Rwalk:
		fmtwalk(f, m);
		break;
	case Topen:
		fmtprint(f, " fid %u mode %#x", m->fid, m->mode);
		break;
	case Tcreate:
		fmtprint(f, " fid %u name ", m->fid);
		fmtstr(f, m->name);
		fmtprint(f, " perm %#o mode %#x", m->perm, m->mode);
		break;
	case Ropen:
	case Rcreate:
		fmtprint(f, " qid ");
		fmtqid(f, &m->qid);
		fmtprint(f, " iounit %u", m->iounit);
		break;
	case Tread:
		fmtprint(f, " fid %u offset %llu count %u", m->fid,
			(unsigned long long)m->offset, m->count);
		break;
	case Twrite:
		fmtprint(f, " fid %u offset %llu", m->fid, (unsigned long long)m->offset);
		/* fall through */
	case Rread:
		fmtprint(f, " count %u ", m->count);
		fmtquote(f, m->data, m->data != nil ? m->count : 0, 32);
		break;
	case Rwrite:
		fmtprint(f, " count %u", m->count);
		break;
	case Tclunk:
	case Tremove:
	case Tstat:
		fmtprint(f, " fid %u", m->fid);
		break;
	case Twstat:
		fmtprint(f, " fid %u", m->fid);
		/* fall through */
	case Rstat:
		fmtprint(f, " stat ");
		fmtstat(f, m->stat, m->stat != nil ? m->nstat : 0);
		break;
	}
}

/*
 * One line describing m, for debug logs, e.g.
 * "Twalk tag 3 fid 1 newfid 2 nwname 2 0:'usr' 1:'glenda'".
 * Like snprintf, truncated to fit; returns the length written.
 */
int
fcallfmt(char *buf, int nbuf, Fcall *m)
{
	Fmt f;

	if(nbuf <= 0)
		return 0;
	f.p = buf;
	f.e = buf+nbuf;
	*buf = 0;
	if(m->type < Tversion || m->type >= Tmax || m->type == Terror)
		fmtprint(&f, "unknown type %d tag %u", m->type, m->tag);
	else{
		fmtprint(&f, "%s tag %u", fcallname(m->type), m->tag);
		fmtbody(&f, m);
	}
	return f.p - buf;
}

/* One line describing a stat record, in the style of fcallfmt. */
int
dirfmt(char *buf, int nbuf, Dir *d)
{
	Fmt f;

	if(nbuf <= 0)
		return 0;
	f.p = buf;
	f.e = buf+nbuf;
	*buf = 0;
	fmtdir(&f, d);
	return f.p - buf;
}
