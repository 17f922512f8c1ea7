/*
 * cmd/client.c: a 9P2000 client connection (see client.h).
 *
 * Concurrency: every call takes a free tag and sends its T-message under
 * the write lock.  Then, if no thread is reading the connection, it reads
 * replies itself, filling the slot named by each reply's tag and waking
 * its owner, until its own comes; else it sleeps on its tag's slot until
 * its reply is there or the reading is free.  A thread that stops reading
 * wakes one that waits, to read next.  So replies may come back in any
 * order, any number of threads may have requests in flight (up to Ntag),
 * and a thread alone on the connection reads its own reply with no
 * thread hand-off on our side.  A reader thread per connection waits for
 * the server's end of the connection (POLLRDHUP) so that a hang-up is
 * noticed with nothing in flight, then reads what is left.  Whoever sees
 * the end of the connection, or anything that is not a well-formed reply
 * to an outstanding tag, records why and wakes every sleeper: all pending
 * and later calls fail with that reason.
 */
#define _GNU_SOURCE		/* POLLRDHUP */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <pwd.h>
#include <poll.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"

/* ------------------------------------------------------------ addresses */

/* The Unix user: $USER, else the password file's name for our uid. */
char*
cuser(void)
{
	struct passwd *pw;
	char *u;

	u = getenv("USER");
	if(u != nil && *u != 0)
		return u;
	pw = getpwuid(getuid());
	if(pw != nil)
		return pw->pw_name;
	return "none";
}

/* The service directory: $NAMESPACE, else /tmp/ns.$USER.$DISPLAY. */
int
nsdir(char *buf, int nbuf)
{
	char *ns, *disp;
	int n;

	ns = getenv("NAMESPACE");
	if(ns != nil && *ns != 0)
		n = snprintf(buf, nbuf, "%s", ns);
	else{
		disp = getenv("DISPLAY");
		if(disp == nil || *disp == 0)
			disp = ":0";
		n = snprintf(buf, nbuf, "/tmp/ns.%s.%s", cuser(), disp);
	}
	if(n < 0 || n >= nbuf){
		werrstr("service directory name too long");
		return -1;
	}
	return 0;
}

static int
setpath(Caddr *a, char *path, char *addr)
{
	struct sockaddr_un sa;
	size_t n;

	n = strlen(path);
	if(n == 0){
		werrstr("%s: no socket path", addr);
		return -1;
	}
	if(n >= sizeof sa.sun_path || n >= sizeof a->path){
		werrstr("socket path too long: %zu bytes", n);
		return -1;
	}
	memcpy(a->path, path, n+1);
	a->net = Nunix;
	return 0;
}

/* A bare name is a service in the service directory, unless it is a path. */
static int
parsesrv(char *name, Caddr *a)
{
	char dir[256], path[512];

	if(*name == 0){
		werrstr("empty address");
		return -1;
	}
	if(strchr(name, '/') != nil)
		return setpath(a, name, name);
	if(nsdir(dir, sizeof dir) < 0)
		return -1;
	if(snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path){
		werrstr("socket path too long: %zu bytes", strlen(dir)+1+strlen(name));
		return -1;
	}
	return setpath(a, path, name);
}

/* HOST!PORT or HOST; the port defaults to 9fs, 564. */
static int
parsetcp(char *rest, Caddr *a, char *addr)
{
	char *port;
	size_t nh;

	port = strchr(rest, '!');
	nh = port != nil ? (size_t)(port - rest) : strlen(rest);
	port = port != nil ? port+1 : "564";
	if(nh == 0){
		werrstr("%s: no host", addr);
		return -1;
	}
	if(*port == 0 || strchr(port, '!') != nil){
		werrstr("%s: bad port", addr);
		return -1;
	}
	if(nh >= sizeof a->host || strlen(port) >= sizeof a->port){
		werrstr("%s: address too long", addr);
		return -1;
	}
	memcpy(a->host, rest, nh);
	a->host[nh] = 0;
	strcpy(a->port, port);
	a->net = Ntcp;
	return 0;
}

/* A decimal msize the protocol allows: 0, or -1 with the reason. */
int
parsemsize(char *s, u32int *msize)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if(*s < '0' || *s > '9' || *e != 0 || errno != 0 || v < Minmsize || v > Maxframe){
		werrstr("bad msize '%s': want %d to %d", s, Minmsize, Maxframe);
		return -1;
	}
	*msize = v;
	return 0;
}

/* unix!PATH, tcp!HOST!PORT, tcp!HOST, a service NAME, or a PATH with a '/'. */
int
parseaddr(char *addr, Caddr *a)
{
	char *p;
	size_t n;

	memset(a, 0, sizeof *a);
	p = strchr(addr, '!');
	if(p == nil)
		return parsesrv(addr, a);
	n = p - addr;
	if(n == 4 && strncmp(addr, "unix", 4) == 0)
		return setpath(a, p+1, addr);
	if(n == 3 && strncmp(addr, "tcp", 3) == 0)
		return parsetcp(p+1, a, addr);
	werrstr("%s: unknown network '%.*s'", addr, (int)n, addr);
	return -1;
}

static int
dialunix(char *path)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path)+1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if(fd < 0){
		werrstr("dial %s: socket: %s", path, strerror(errno));
		return -1;
	}
	if(connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0){
		e = errno;
		close(fd);
		werrstr("dial %s: %s", path, strerror(e));
		return -1;
	}
	return fd;
}

static int
dialtcp(char *host, char *port)
{
	struct addrinfo hints, *ai, *r;
	int fd, e, one;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	e = getaddrinfo(host, port, &hints, &ai);
	if(e != 0){
		werrstr("dial tcp!%s!%s: %s", host, port, gai_strerror(e));
		return -1;
	}
	fd = -1;
	e = 0;
	for(r = ai; r != nil; r = r->ai_next){
		fd = socket(r->ai_family, r->ai_socktype, r->ai_protocol);
		if(fd < 0){
			e = errno;
			continue;
		}
		if(connect(fd, r->ai_addr, r->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if(fd < 0){
		werrstr("dial tcp!%s!%s: %s", host, port, strerror(e));
		return -1;
	}
	/* small requests wait on each reply: do not hold them back */
	one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* A connected socket for addr (see parseaddr), or -1. */
int
dialaddr(char *addr)
{
	Caddr a;

	if(parseaddr(addr, &a) < 0)
		return -1;
	if(a.net == Nunix)
		return dialunix(a.path);
	return dialtcp(a.host, a.port);
}

/* ---------------------------------------------------------- connection */

static void
sethangup(Cfs *fs, char *fmt, ...)
{
	char buf[Errmax];
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	qlock(&fs->lk);
	if(fs->hangup == nil){
		fs->hangup = estrdup(buf);
		for(i = 0; i < Ntag; i++)
			if(fs->tag[i].busy)
				rwakeup(&fs->tag[i].r);
		rwakeupall(&fs->tagwait);
		rwakeupall(&fs->dead);
		rwakeupall(&fs->rdfree);
	}
	qunlock(&fs->lk);
	/* let the server and our reader know at once */
	shutdown(fs->fd, SHUT_RDWR);
}

/* Encode tx and send it as one frame; -1 without sending if it is bad. */
static int
sendfcall(Cfs *fs, Fcall *tx)
{
	uchar *buf;
	long n;
	int r;

	n = fcallsize(tx);
	if(n < 0)
		return -1;
	if(n > fs->msize){
		werrstr("%s of %ld bytes exceeds msize %u", fcallname(tx->type), n, fs->msize);
		return -1;
	}
	buf = emalloc(n);
	fcallpack(tx, buf, n);
	qlock(&fs->wlk);
	r = writeframe(fs->fd, buf, n);
	qunlock(&fs->wlk);
	free(buf);
	if(r < 0){
		sethangup(fs, "connection lost: %s", errstr());
		werrstr("%s", fs->hangup);
	}
	return r;
}

static void	tagput(Cfs*, int);
static void	fidputlocked(Cfs*, u32int);

/*
 * Hand a reply to the thread waiting on its tag; the reply to a clunk
 * nobody waits for (cdrop) ends it here.
 */
static int
deliver(Cfs *fs, Fcall *f, uchar *frame)
{
	Ctag *c;
	int t;

	qlock(&fs->lk);
	if(f->tag >= Ntag || !fs->tag[f->tag].busy || fs->tag[f->tag].done){
		qunlock(&fs->lk);
		sethangup(fs, "connection lost: %s with unexpected tag %u",
			fcallname(f->type), f->tag);
		return -1;
	}
	t = f->tag;
	c = &fs->tag[t];
	if(c->gone != nil){
		/* the fid number is free once the server has let go of it */
		fcallclear(f);
		free(frame);
		fidputlocked(fs, c->gone->fid);
		pthread_mutex_destroy(&c->gone->lk.m);
		free(c->gone);
		c->gone = nil;
		fs->ngone--;
		tagput(fs, t);
		qunlock(&fs->lk);
		return 0;
	}
	c->rx = *f;
	c->frame = frame;
	c->done = 1;
	if(c->asleep)
		rwakeup(&c->r);
	qunlock(&fs->lk);
	return 0;
}

/*
 * Read one reply and hand it to its tag's slot; -1 if the connection is
 * dead.  Called by the thread that set fs->reading.
 */
static int
readreply(Cfs *fs)
{
	Fcall f;
	uchar *frame;
	long n;

	n = readframealloc(fs->fd, fs->msize, &frame);
	if(n == 0){
		sethangup(fs, "server hung up");
		return -1;
	}
	if(n < 0){
		sethangup(fs, "connection lost: %s", errstr());
		return -1;
	}
	if(fcallunpack(frame, n, &f) < 0){
		free(frame);
		sethangup(fs, "connection lost: invalid message: %s", errstr());
		return -1;
	}
	if(deliver(fs, &f, frame) < 0){
		fcallclear(&f);
		free(frame);
		return -1;
	}
	return 0;
}

/*
 * Called with fs->lk held by a thread that stops reading: let one that
 * waits for a reply read next.
 */
static void
passreading(Cfs *fs)
{
	int i;

	fs->reading = 0;
	/* one woken for its reply already would not read */
	for(i = 0; i < Ntag; i++)
		if(fs->tag[i].asleep && !fs->tag[i].done){
			rwakeup(&fs->tag[i].r);
			break;
		}
	rwakeup(&fs->rdfree);
}

/*
 * Until the connection is dead: wait for the server's end of it, then
 * read what it sent before, until the end.  Where poll cannot tell the
 * end from data, read all the time (every reply is then handed over).
 */
static void
readproc(void *v)
{
	Cfs *fs;
	int r;

	fs = v;
#ifdef POLLRDHUP
	{
		struct pollfd p;

		p.fd = fs->fd;
		p.events = POLLRDHUP;
		while(poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
#endif
	qlock(&fs->lk);
	while(fs->reading && fs->hangup == nil)
		rsleep(&fs->rdfree);
	if(fs->hangup == nil){
		fs->reading = 1;
		do{
			qunlock(&fs->lk);
			r = readreply(fs);
			qlock(&fs->lk);
		}while(r == 0);
		passreading(fs);
	}
	qunlock(&fs->lk);
}

static int
checkversion(Fcall *rx, u32int msize)
{
	if(rx->type == Rerror){
		werrstr("version: %s", rx->ename);
		return -1;
	}
	if(rx->type != Rversion || rx->tag != NOTAG){
		werrstr("version: %s with tag %u in reply", fcallname(rx->type), rx->tag);
		return -1;
	}
	if(strcmp(rx->version, "9P2000") != 0){
		werrstr("version: server speaks '%s', not 9P2000", rx->version);
		return -1;
	}
	if(rx->msize > msize){
		werrstr("version: server msize %u exceeds the %u asked for", rx->msize, msize);
		return -1;
	}
	if(rx->msize < Minmsize){
		werrstr("version: server msize %u below %d", rx->msize, Minmsize);
		return -1;
	}
	return 0;
}

/* Tversion, before the reader runs: the reply settles fs->msize. */
static int
version(Cfs *fs, u32int msize)
{
	Fcall tx, rx;
	uchar *frame;
	long n;
	int r;

	memset(&tx, 0, sizeof tx);
	tx.type = Tversion;
	tx.tag = NOTAG;
	tx.msize = msize;
	tx.version = "9P2000";
	fs->msize = msize;
	if(sendfcall(fs, &tx) < 0)
		return -1;
	n = readframealloc(fs->fd, msize, &frame);
	if(n == 0)
		werrstr("version: server hung up");
	if(n <= 0)
		return -1;
	if(fcallunpack(frame, n, &rx) < 0){
		werrstr("version: invalid message: %s", errstr());
		free(frame);
		return -1;
	}
	r = checkversion(&rx, msize);
	if(r == 0)
		fs->msize = rx.msize;
	fcallclear(&rx);
	free(frame);
	return r;
}

static void
freecfs(Cfs *fs)
{
	int i;

	for(i = 0; i < Ntag; i++)
		pthread_cond_destroy(&fs->tag[i].r.c);
	pthread_cond_destroy(&fs->tagwait.c);
	pthread_cond_destroy(&fs->dead.c);
	pthread_cond_destroy(&fs->rdfree.c);
	pthread_mutex_destroy(&fs->lk.m);
	pthread_mutex_destroy(&fs->wlk.m);
	for(i = 0; i < Ntag; i++)
		if(fs->tag[i].gone != nil){
			pthread_mutex_destroy(&fs->tag[i].gone->lk.m);
			free(fs->tag[i].gone);
		}
	free(fs->hangup);
	free(fs->freefid);
	free(fs);
}

/*
 * Speak 9P2000 on fd, asking for msize, and start the reader.  fd is the
 * connection's from then on (on failure it is still the caller's).  It
 * should be a socket: cfsclose shuts a socket down, but must wait for the
 * peer to close anything else.
 */
Cfs*
cfsmount(int fd, u32int msize)
{
	Cfs *fs;
	int i;

	if(msize < Minmsize || msize > Maxframe){
		werrstr("msize %u out of range", msize);
		return nil;
	}
	fs = emalloc(sizeof *fs);
	fs->fd = fd;
	qlockinit(&fs->lk);
	qlockinit(&fs->wlk);
	rendezinit(&fs->tagwait, &fs->lk);
	rendezinit(&fs->dead, &fs->lk);
	rendezinit(&fs->rdfree, &fs->lk);
	for(i = 0; i < Ntag; i++){
		rendezinit(&fs->tag[i].r, &fs->lk);
		fs->freetag[i] = Ntag-1-i;
	}
	fs->nfreetag = Ntag;
	if(version(fs, msize) < 0 || launch(readproc, fs, "9pclient", &fs->reader) < 0){
		freecfs(fs);
		return nil;
	}
	return fs;
}

/* Dial addr and mount it; errors name the address. */
Cfs*
cfsdial(char *addr, u32int msize)
{
	Cfs *fs;
	int fd;

	fd = dialaddr(addr);
	if(fd < 0)
		return nil;
	fs = cfsmount(fd, msize);
	if(fs == nil){
		werrstr("%s: %s", addr, errstr());
		close(fd);
	}
	return fs;
}

/*
 * Hang up and free fs.  No call may be in flight, nor a cfshungup
 * waiting (shut fs->fd down and let it return first); fids left unclunked
 * are the server's to clunk, and their Cfids may only be cclunk'ed.
 */
void
cfsclose(Cfs *fs)
{
	shutdown(fs->fd, SHUT_RDWR);
	pthread_join(fs->reader, nil);
	close(fs->fd);
	freecfs(fs);
}

/*
 * Wait until the connection is dead and say why: for a program that
 * must act when the server goes away rather than at its next call.
 * The string lives as long as fs.
 */
char*
cfshungup(Cfs *fs)
{
	char *why;

	qlock(&fs->lk);
	while(fs->hangup == nil)
		rsleep(&fs->dead);
	why = fs->hangup;
	qunlock(&fs->lk);
	return why;
}

static int
tagget(Cfs *fs)
{
	int t;

	qlock(&fs->lk);
	while(fs->nfreetag == 0 && fs->hangup == nil)
		rsleep(&fs->tagwait);
	if(fs->hangup != nil){
		werrstr("%s", fs->hangup);
		qunlock(&fs->lk);
		return -1;
	}
	t = fs->freetag[--fs->nfreetag];
	fs->tag[t].busy = 1;
	fs->tag[t].done = 0;
	qunlock(&fs->lk);
	return t;
}

/* Called with fs->lk held. */
static void
tagput(Cfs *fs, int t)
{
	Ctag *c;

	c = &fs->tag[t];
	c->busy = 0;
	c->done = 0;
	c->frame = nil;
	memset(&c->rx, 0, sizeof c->rx);
	fs->freetag[fs->nfreetag++] = t;
	rwakeup(&fs->tagwait);
}

/* The reply must answer tx; an Rerror becomes the error string. */
static int
checkreply(Fcall *tx, Fcall *rx, uchar **framep)
{
	if(rx->type == tx->type+1)
		return 0;
	if(rx->type == Rerror)
		werrstr("%s", rx->ename);
	else
		werrstr("%s in reply to %s", fcallname(rx->type), fcallname(tx->type));
	fcallclear(rx);
	free(*framep);
	*framep = nil;
	return -1;
}

/*
 * Send tx (its tag is ours to choose) and wait for the answer.  On
 * success rx is the reply, its data and stat in *framep: the caller
 * calls fcallclear(rx) and free(*framep) when done with them.
 */
int
cfsrpc(Cfs *fs, Fcall *tx, Fcall *rx, uchar **framep)
{
	Ctag *c;
	int t, got, r;

	*framep = nil;
	memset(rx, 0, sizeof *rx);
	t = tagget(fs);
	if(t < 0)
		return -1;
	tx->tag = t;
	c = &fs->tag[t];
	if(sendfcall(fs, tx) < 0){
		qlock(&fs->lk);
		tagput(fs, t);
		qunlock(&fs->lk);
		return -1;
	}
	qlock(&fs->lk);
	while(!c->done && fs->hangup == nil){
		if(!fs->reading){
			fs->reading = 1;
			do{
				qunlock(&fs->lk);
				r = readreply(fs);
				qlock(&fs->lk);
			}while(r == 0 && !c->done);
			passreading(fs);
			continue;
		}
		c->asleep = 1;
		rsleep(&c->r);
		c->asleep = 0;
	}
	got = c->done;
	if(got){
		*rx = c->rx;
		*framep = c->frame;
	}else
		werrstr("%s", fs->hangup);
	tagput(fs, t);
	qunlock(&fs->lk);
	if(!got)
		return -1;
	return checkreply(tx, rx, framep);
}

static void
rpcdone(Fcall *rx, uchar *frame)
{
	fcallclear(rx);
	free(frame);
}

/* ----------------------------------------------------------------- fids */

/* No connection holds 2^32-1 fids at once, so nextfid never reaches NOFID. */
static u32int
fidget(Cfs *fs)
{
	u32int fid;

	qlock(&fs->lk);
	if(fs->nfreefid > 0)
		fid = fs->freefid[--fs->nfreefid];
	else
		fid = fs->nextfid++;
	qunlock(&fs->lk);
	return fid;
}

/* Called with fs->lk held. */
static void
fidputlocked(Cfs *fs, u32int fid)
{
	if(fs->nfreefid == fs->afreefid){
		fs->afreefid = fs->afreefid*2 + 16;
		fs->freefid = erealloc(fs->freefid, fs->afreefid * sizeof fs->freefid[0]);
	}
	fs->freefid[fs->nfreefid++] = fid;
}

static void
fidput(Cfs *fs, u32int fid)
{
	qlock(&fs->lk);
	fidputlocked(fs, fid);
	qunlock(&fs->lk);
}

/* Bytes per Tread or Twrite: the server's iounit, within the msize. */
static u32int
chunk(Cfs *fs, u32int iounit)
{
	u32int max;

	max = fs->msize - IOHDRSZ;
	if(iounit == 0 || iounit > max)
		return max;
	return iounit;
}

static Cfid*
newcfid(Cfs *fs, u32int fid, Qid *qid)
{
	Cfid *f;

	f = emalloc(sizeof *f);
	f->fs = fs;
	f->fid = fid;
	f->qid = *qid;
	f->mode = -1;
	f->iounit = chunk(fs, 0);
	qlockinit(&f->lk);
	return f;
}

static void
freecfid(Cfid *f)
{
	fidput(f->fs, f->fid);
	pthread_mutex_destroy(&f->lk.m);
	free(f);
}

/* Attach as uname to the tree aname ("" for the server's default). */
Cfid*
cfsattach(Cfs *fs, char *uname, char *aname)
{
	Fcall tx, rx;
	uchar *frame;
	u32int fid;
	Cfid *f;

	fid = fidget(fs);
	memset(&tx, 0, sizeof tx);
	tx.type = Tattach;
	tx.fid = fid;
	tx.afid = NOFID;
	tx.uname = uname;
	tx.aname = aname;
	if(cfsrpc(fs, &tx, &rx, &frame) < 0){
		fidput(fs, fid);
		return nil;
	}
	f = newcfid(fs, fid, &rx.qid);
	rpcdone(&rx, frame);
	return f;
}

/*
 * Split path in place at '/' into its elements, dropping empty ones and
 * ".".  Stores at most nelem of them; returns how many there are.
 */
int
pathsplit(char *path, char **elem, int nelem)
{
	char *p, *s;
	int n;

	n = 0;
	p = path;
	for(;;){
		while(*p == '/')
			*p++ = 0;
		if(*p == 0)
			break;
		s = p;
		while(*p != 0 && *p != '/')
			p++;
		if(*p == '/')
			*p++ = 0;
		if(strcmp(s, ".") == 0)
			continue;
		if(n < nelem)
			elem[n] = s;
		n++;
	}
	return n;
}

static void
clunkfid(Cfs *fs, u32int fid)
{
	Fcall tx, rx;
	uchar *frame;

	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	tx.fid = fid;
	if(cfsrpc(fs, &tx, &rx, &frame) == 0)
		rpcdone(&rx, frame);
}

/* One Twalk of at most Maxwelem names; a partial walk is an error. */
static int
walk1(Cfs *fs, u32int fid, u32int newfid, char **elem, int n, Qid *qid)
{
	Fcall tx, rx;
	uchar *frame;
	int r;

	memset(&tx, 0, sizeof tx);
	tx.type = Twalk;
	tx.fid = fid;
	tx.newfid = newfid;
	tx.nwname = n;
	memcpy(tx.wname, elem, n * sizeof elem[0]);
	if(cfsrpc(fs, &tx, &rx, &frame) < 0)
		return -1;
	r = 0;
	if(rx.nwqid > n){
		werrstr("Rwalk with %d qids for %d names", rx.nwqid, n);
		r = -1;
	}else if(rx.nwqid < n){
		werrstr("%s", Esrch);
		r = -1;
	}else if(n > 0)
		*qid = rx.wqid[n-1];
	rpcdone(&rx, frame);
	return r;
}

/*
 * A new fid for path, relative to f ("" clones f).  Paths of more than
 * Maxwelem elements are walked Maxwelem at a time on the new fid.
 */
Cfid*
cwalk(Cfid *f, char *path)
{
	Cfs *fs;
	char *buf, **elem;
	int n, i, m, max;
	u32int fid;
	Qid qid;

	fs = f->fs;
	buf = estrdup(path);
	max = strlen(path)/2 + 1;
	elem = emalloc(max * sizeof elem[0]);
	n = pathsplit(buf, elem, max);
	fid = fidget(fs);
	qid = f->qid;
	for(i = 0;; i += m){
		m = MIN(n-i, Maxwelem);
		if(walk1(fs, i == 0 ? f->fid : fid, fid, elem+i, m, &qid) < 0){
			/* after the first step the new fid exists, where it was */
			if(i > 0)
				clunkfid(fs, fid);
			fidput(fs, fid);
			free(elem);
			free(buf);
			return nil;
		}
		if(i+m >= n)
			break;
	}
	free(elem);
	free(buf);
	return newcfid(fs, fid, &qid);
}

static int
opened(Cfid *f, Fcall *rx, uchar *frame, int mode)
{
	f->qid = rx->qid;
	f->iounit = chunk(f->fs, rx->iounit);
	f->mode = mode;
	f->offset = 0;
	rpcdone(rx, frame);
	return 0;
}

int
copen(Cfid *f, int mode)
{
	Fcall tx, rx;
	uchar *frame;

	memset(&tx, 0, sizeof tx);
	tx.type = Topen;
	tx.fid = f->fid;
	tx.mode = mode;
	if(cfsrpc(f->fs, &tx, &rx, &frame) < 0)
		return -1;
	return opened(f, &rx, frame, mode);
}

/* Create name in the directory f; f becomes the new file, open. */
int
ccreate(Cfid *f, char *name, u32int perm, int mode)
{
	Fcall tx, rx;
	uchar *frame;

	memset(&tx, 0, sizeof tx);
	tx.type = Tcreate;
	tx.fid = f->fid;
	tx.name = name;
	tx.perm = perm;
	tx.mode = mode;
	if(cfsrpc(f->fs, &tx, &rx, &frame) < 0)
		return -1;
	return opened(f, &rx, frame, mode);
}

static long
read1(Cfid *f, uchar *buf, long n, uvlong off)
{
	Fcall tx, rx;
	uchar *frame;
	long m;

	memset(&tx, 0, sizeof tx);
	tx.type = Tread;
	tx.fid = f->fid;
	tx.offset = off;
	tx.count = n;
	if(cfsrpc(f->fs, &tx, &rx, &frame) < 0)
		return -1;
	m = rx.count;
	if(m > n){
		werrstr("Rread of %ld bytes for %ld asked", m, n);
		m = -1;
	}else
		memcpy(buf, rx.data, m);
	rpcdone(&rx, frame);
	return m;
}

static long
write1(Cfid *f, uchar *buf, long n, uvlong off)
{
	Fcall tx, rx;
	uchar *frame;
	long m;

	memset(&tx, 0, sizeof tx);
	tx.type = Twrite;
	tx.fid = f->fid;
	tx.offset = off;
	tx.count = n;
	tx.data = buf;
	if(cfsrpc(f->fs, &tx, &rx, &frame) < 0)
		return -1;
	m = rx.count;
	if(m > n){
		werrstr("Rwrite of %ld bytes for %ld sent", m, n);
		m = -1;
	}
	rpcdone(&rx, frame);
	return m;
}

/*
 * Read up to n bytes at off, an iounit per Tread, stopping after the
 * first short one (the end of the file).
 */
long
cpread(Cfid *f, void *buf, long n, uvlong off)
{
	long tot, m, want;

	for(tot = 0; tot < n; tot += m){
		want = MIN(n-tot, (long)f->iounit);
		m = read1(f, (uchar*)buf+tot, want, off+tot);
		if(m < 0)
			return -1;
		if(m < want){
			tot += m;
			break;
		}
	}
	return tot;
}

/* Write all n bytes at off, an iounit per Twrite. */
long
cpwrite(Cfid *f, void *buf, long n, uvlong off)
{
	long tot, m, want;

	for(tot = 0; tot < n; tot += m){
		want = MIN(n-tot, (long)f->iounit);
		m = write1(f, (uchar*)buf+tot, want, off+tot);
		if(m < 0)
			return -1;
		if(m == 0){
			werrstr("write made no progress at offset %llu",
				(unsigned long long)(off+tot));
			return -1;
		}
	}
	return tot;
}

/* As cpread, at the fid's offset, which advances. */
long
cread(Cfid *f, void *buf, long n)
{
	long m;

	qlock(&f->lk);
	m = cpread(f, buf, n, f->offset);
	if(m > 0)
		f->offset += m;
	qunlock(&f->lk);
	return m;
}

long
cwrite(Cfid *f, void *buf, long n)
{
	long m;

	qlock(&f->lk);
	m = cpwrite(f, buf, n, f->offset);
	if(m > 0)
		f->offset += m;
	qunlock(&f->lk);
	return m;
}

static long
dirs(uchar *buf, long n, Dir **dp)
{
	long nd;

	nd = dirunpackall(buf, n, dp);
	if(nd < 0)
		werrstr("bad directory entry from the server: %s", errstr());
	return nd;
}

/*
 * The entries of one Tread of the open directory f: how many, 0 at the
 * end.  *dp is one allocation, for free.
 */
long
cdirread(Cfid *f, Dir **dp)
{
	uchar *buf;
	long n, nd;

	*dp = nil;
	buf = emalloc(f->iounit);
	qlock(&f->lk);
	n = read1(f, buf, f->iounit, f->offset);
	nd = n;
	if(n > 0){
		nd = dirs(buf, n, dp);
		if(nd > 0)
			f->offset += n;
	}
	qunlock(&f->lk);
	free(buf);
	return nd;
}

/* All the remaining entries of the open directory f, as cdirread. */
long
cdirreadall(Cfid *f, Dir **dp)
{
	uchar *buf;
	long n, a, m;

	*dp = nil;
	buf = nil;
	n = 0;
	a = 0;
	qlock(&f->lk);
	for(;;){
		if(a-n < (long)f->iounit){
			a = a*2 + f->iounit;
			buf = erealloc(buf, a);
		}
		m = read1(f, buf+n, f->iounit, f->offset);
		if(m <= 0)
			break;
		n += m;
		f->offset += m;
	}
	qunlock(&f->lk);
	if(m == 0)
		m = dirs(buf, n, dp);
	free(buf);
	return m;
}

/* The file's stat record; one allocation, for free. */
Dir*
cstat(Cfid *f)
{
	Fcall tx, rx;
	uchar *frame;
	Dir *d;

	memset(&tx, 0, sizeof tx);
	tx.type = Tstat;
	tx.fid = f->fid;
	if(cfsrpc(f->fs, &tx, &rx, &frame) < 0)
		return nil;
	d = dirunpack(rx.stat, rx.nstat);
	if(d == nil)
		werrstr("bad stat from the server: %s", errstr());
	rpcdone(&rx, frame);
	return d;
}

/* Change what d does not leave untouched (see nulldir). */
int
cwstat(Cfid *f, Dir *d)
{
	Fcall tx, rx;
	uchar *frame, *buf;
	long n;
	int r;

	n = dirsize(d);
	if(n < 0)
		return -1;
	buf = emalloc(n);
	dirpack(d, buf, n);
	memset(&tx, 0, sizeof tx);
	tx.type = Twstat;
	tx.fid = f->fid;
	tx.nstat = n;
	tx.stat = buf;
	r = cfsrpc(f->fs, &tx, &rx, &frame);
	if(r == 0)
		rpcdone(&rx, frame);
	free(buf);
	return r;
}

static int
fidrpc(Cfid *f, int type)
{
	Fcall tx, rx;
	uchar *frame;
	int r;

	memset(&tx, 0, sizeof tx);
	tx.type = type;
	tx.fid = f->fid;
	r = cfsrpc(f->fs, &tx, &rx, &frame);
	if(r == 0)
		rpcdone(&rx, frame);
	freecfid(f);
	return r;
}

/* Remove the file; f is gone whether or not that worked, as in 9P. */
int
cremove(Cfid *f)
{
	return fidrpc(f, Tremove);
}

/* Clunk f, which is gone afterwards in any case. */
int
cclunk(Cfid *f)
{
	return fidrpc(f, Tclunk);
}

/*
 * Clunk f without waiting for the reply, which whoever reads next
 * takes and drops (deliver); f is gone.  Only for a fid whose clunk
 * changes nothing another request could see: one never opened, or
 * opened only to read.  A clunk that would leave fewer than half the
 * tags free waits, so that requests that wait always find a tag.
 */
void
cdrop(Cfid *f)
{
	Cfs *fs;
	Fcall tx;
	int t;

	fs = f->fs;
	if(f->mode != -1 && (f->mode & (3|OTRUNC|ORCLOSE)) != OREAD){
		cclunk(f);
		return;
	}
	qlock(&fs->lk);
	if(fs->ngone >= Ntag/2 || fs->nfreetag == 0 || fs->hangup != nil){
		qunlock(&fs->lk);
		cclunk(f);
		return;
	}
	t = fs->freetag[--fs->nfreetag];
	fs->tag[t].busy = 1;
	fs->tag[t].done = 0;
	fs->tag[t].gone = f;
	fs->ngone++;
	qunlock(&fs->lk);
	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	tx.tag = t;
	tx.fid = f->fid;
	/* on failure the connection is dead: f goes with it (cfsclose) */
	sendfcall(fs, &tx);
}

/* ---------------------------------------------------------- presentation */

/*
 * The mode as ls -l shows it, in buf (12 bytes): the type ('d' directory,
 * 'a' append-only, 'A' auth, else '-'), 'l' exclusive or 't' temporary or
 * '-', then rwx for owner, group and others.
 */
char*
modestr(u32int mode, char *buf)
{
	static char rwx[] = "rwx";
	int i;

	if(mode & DMDIR)
		buf[0] = 'd';
	else if(mode & DMAPPEND)
		buf[0] = 'a';
	else if(mode & DMAUTH)
		buf[0] = 'A';
	else
		buf[0] = '-';
	if(mode & DMEXCL)
		buf[1] = 'l';
	else if(mode & DMTMP)
		buf[1] = 't';
	else
		buf[1] = '-';
	for(i = 0; i < 9; i++)
		buf[2+i] = mode & (1<<(8-i)) ? rwx[i%3] : '-';
	buf[11] = 0;
	return buf;
}
