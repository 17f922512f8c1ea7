/*
 * test/client.c: the 9P client library (cmd/client.c) without a server.
 *
 * Addresses, the service directory, path splitting and mode strings are
 * plain functions.  The connection machinery is tested against a scripted
 * peer on the other end of a socketpair: it is not a file server, only a
 * list of "expect this T-message, send that R-message" steps, enough to
 * show tag matching with many requests in flight, walks in steps of 16,
 * iounit-sized reads and writes, fid reuse, and what a hang-up or a bad
 * reply does to the callers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"
#include "test/tap.h"

/* ------------------------------------------------------------ addresses */

static int
nsis(char *want)
{
	char buf[256];

	if(nsdir(buf, sizeof buf) < 0)
		return 0;
	if(strcmp(buf, want) != 0)
		diag("nsdir gave %s", buf);
	return strcmp(buf, want) == 0;
}

static void
servicedir(void)
{
	struct passwd *pw;
	char small[8];

	setenv("NAMESPACE", "/tmp/some/ns", 1);
	ok(nsis("/tmp/some/ns"), "nsdir: $NAMESPACE first");
	unsetenv("NAMESPACE");
	setenv("USER", "alice", 1);
	setenv("DISPLAY", ":7", 1);
	ok(nsis("/tmp/ns.alice.:7"), "nsdir: /tmp/ns.$USER.$DISPLAY");
	unsetenv("DISPLAY");
	ok(nsis("/tmp/ns.alice.:0"), "nsdir: DISPLAY defaults to :0");
	setenv("DISPLAY", "", 1);
	setenv("NAMESPACE", "", 1);
	ok(nsis("/tmp/ns.alice.:0"), "nsdir: empty DISPLAY and NAMESPACE count as unset");
	ok(nsdir(small, sizeof small) < 0, "nsdir: too long for the buffer is an error");
	setenv("USER", "", 1);
	pw = getpwuid(getuid());
	ok(pw != nil && strcmp(cuser(), pw->pw_name) == 0, "cuser: the login name without $USER: %s", cuser());
	setenv("USER", "alice", 1);
	ok(strcmp(cuser(), "alice") == 0, "cuser: $USER");
	unsetenv("NAMESPACE");
}

static int
addris(char *addr, int net, char *a1, char *a2)
{
	Caddr a;

	if(parseaddr(addr, &a) < 0){
		diag("%s: %s", addr, errstr());
		return 0;
	}
	if(a.net != net)
		return 0;
	if(net == Nunix)
		return strcmp(a.path, a1) == 0;
	return strcmp(a.host, a1) == 0 && strcmp(a.port, a2) == 0;
}

static void
badaddr(char *addr, char *want)
{
	Caddr a;

	if(ok(parseaddr(addr, &a) < 0, "parseaddr refuses '%.40s'", addr))
		if(!ok(strstr(errstr(), want) != nil, "  saying %s", errstr()))
			diag("wanted %s", want);
}

static void
addresses(void)
{
	char big[300];

	ok(addris("unix!/tmp/x/sock", Nunix, "/tmp/x/sock", nil), "unix!PATH");
	ok(addris("tcp!localhost!564", Ntcp, "localhost", "564"), "tcp!HOST!PORT");
	ok(addris("tcp!::1!5640", Ntcp, "::1", "5640"), "tcp! with an IPv6 host");
	ok(addris("tcp!fs.example!9fs", Ntcp, "fs.example", "9fs"), "tcp! with a named port");
	ok(addris("tcp!fs.example", Ntcp, "fs.example", "564"), "tcp!HOST: port 564");
	setenv("NAMESPACE", "/tmp/nstest", 1);
	ok(addris("gefs", Nunix, "/tmp/nstest/gefs", nil), "a bare name is a service in $NAMESPACE");
	ok(addris("other", Nunix, "/tmp/nstest/other", nil), "any service name");
	unsetenv("NAMESPACE");
	setenv("USER", "bob", 1);
	ok(addris("gefs", Nunix, "/tmp/ns.bob.:0/gefs", nil), "a service in /tmp/ns.$USER.:0");
	ok(addris("./sock", Nunix, "./sock", nil), "a name with a slash is a socket path");
	ok(addris("/run/gefs/sock", Nunix, "/run/gefs/sock", nil), "an absolute socket path");

	badaddr("", "empty address");
	badaddr("udp!h!1", "unknown network 'udp'");
	badaddr("!x", "unknown network ''");
	badaddr("unix!", "no socket path");
	badaddr("tcp!", "no host");
	badaddr("tcp!!564", "no host");
	badaddr("tcp!h!", "bad port");
	badaddr("tcp!h!1!2", "bad port");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "unix!/", 6);
	badaddr(big, "socket path too long");
	setenv("NAMESPACE", big+5, 1);
	badaddr("gefs", "too long");
	unsetenv("NAMESPACE");
}

/* Addresses where nobody answers: clear errors, no hang. */
static void
deadends(void)
{
	char dir[] = "/tmp/client-test.XXXXXX", path[128], addr[160];
	struct sockaddr_un su;
	struct sockaddr_in si;
	socklen_t len;
	int fd;

	ok(dialaddr("unix!/nonexistent/gefs-test/sock") < 0 && strstr(errstr(), "No such file") != nil,
		"dial a missing socket: %s", errstr());
	if(mkdtemp(dir) == nil){
		diag("mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof path, "%s/file", dir);
	close(open(path, O_CREAT|O_WRONLY, 0600));
	snprintf(addr, sizeof addr, "unix!%s", path);
	ok(dialaddr(addr) < 0 && strstr(errstr(), "Connection refused") != nil,
		"dial a plain file: %s", errstr());
	unlink(path);

	/* a socket bound but not listening */
	snprintf(path, sizeof path, "%s/sock", dir);
	memset(&su, 0, sizeof su);
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if(bind(fd, (struct sockaddr*)&su, sizeof su) < 0)
		diag("bind %s: %s", path, strerror(errno));
	snprintf(addr, sizeof addr, "unix!%s", path);
	ok(dialaddr(addr) < 0 && strstr(errstr(), "Connection refused") != nil,
		"dial a socket nobody listens on: %s", errstr());
	ok(cfsdial(addr, Defmsize) == nil && strstr(errstr(), path) != nil,
		"cfsdial names the socket: %s", errstr());
	close(fd);
	unlink(path);
	rmdir(dir);

	memset(&si, 0, sizeof si);
	si.sin_family = AF_INET;
	si.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	len = sizeof si;
	if(bind(fd, (struct sockaddr*)&si, sizeof si) < 0 || getsockname(fd, (struct sockaddr*)&si, &len) < 0){
		diag("bind: %s", strerror(errno));
		close(fd);
		return;
	}
	snprintf(addr, sizeof addr, "tcp!127.0.0.1!%d", ntohs(si.sin_port));
	ok(dialaddr(addr) < 0 && strstr(errstr(), "Connection refused") != nil,
		"dial a TCP port nobody listens on: %s", errstr());
	close(fd);
}

/* ------------------------------------------------------------ paths */

static int
splitis(char *path, int n, ...)
{
	char *buf, *elem[8];
	va_list ap;
	int i, m, r;

	buf = strdup(path);
	m = pathsplit(buf, elem, nelem(elem));
	r = m == n;
	va_start(ap, n);
	for(i = 0; r && i < n; i++)
		r = strcmp(elem[i], va_arg(ap, char*)) == 0;
	va_end(ap);
	free(buf);
	return r;
}

static void
paths(void)
{
	char buf[64], *elem[2];

	ok(splitis("", 0), "pathsplit: \"\" has no elements");
	ok(splitis("/", 0), "pathsplit: / has none");
	ok(splitis("a", 1, "a"), "pathsplit: a");
	ok(splitis("/usr/glenda/lib", 3, "usr", "glenda", "lib"), "pathsplit: /usr/glenda/lib");
	ok(splitis("//a///b/", 2, "a", "b"), "pathsplit: repeated and trailing slashes");
	ok(splitis("./a/./b/.", 2, "a", "b"), "pathsplit: . elements go");
	ok(splitis("a/../b/..", 4, "a", "..", "b", ".."), "pathsplit: .. stays for the server");
	ok(splitis("a b/.c/..d", 3, "a b", ".c", "..d"), "pathsplit: names that only look like dots");
	strcpy(buf, "a/b/c/d");
	ok(pathsplit(buf, elem, 2) == 4 && strcmp(elem[0], "a") == 0 && strcmp(elem[1], "b") == 0,
		"pathsplit: counts past the array, fills what fits");
}

static void
modes(void)
{
	char buf[12];

	ok(strcmp(modestr(0664, buf), "--rw-rw-r--") == 0, "modestr 0664: %s", buf);
	ok(strcmp(modestr(DMDIR|0775, buf), "d-rwxrwxr-x") == 0, "modestr dir 0775: %s", buf);
	ok(strcmp(modestr(DMAPPEND|0600, buf), "a-rw-------") == 0, "modestr append: %s", buf);
	ok(strcmp(modestr(DMEXCL|0400, buf), "-lr--------") == 0, "modestr exclusive: %s", buf);
	ok(strcmp(modestr(DMTMP|0111, buf), "-t--x--x--x") == 0, "modestr temporary: %s", buf);
	ok(strcmp(modestr(DMAUTH|0, buf), "A----------") == 0, "modestr auth: %s", buf);
	ok(strcmp(modestr(DMDIR|DMEXCL|0777, buf), "dlrwxrwxrwx") == 0, "modestr dir exclusive 0777: %s", buf);
}

/* ------------------------------------------------------ the scripted peer */

typedef struct Peer Peer;
struct Peer {
	int		fd;
	pthread_t	tid;
	void		(*script)(Peer*);
	char		bad[Errmax];	/* the first surprise, "" if none */
	void		*arg;
};

static void
setbad(Peer *p, char *fmt, ...)
{
	va_list ap;

	if(p->bad[0] != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(p->bad, sizeof p->bad, fmt, ap);
	va_end(ap);
}

/*
 * The next message, which must be of type.  The poll only keeps a broken
 * client from hanging the test; it asserts nothing about time.
 */
static int
precv(Peer *p, int type, Fcall *f, uchar **frame)
{
	struct pollfd pfd;
	long n;

	*frame = nil;
	memset(f, 0, sizeof *f);
	if(p->bad[0] != 0)
		return -1;
	pfd.fd = p->fd;
	pfd.events = POLLIN;
	if(poll(&pfd, 1, 30000) != 1){
		setbad(p, "no %s from the client", fcallname(type));
		return -1;
	}
	n = readframealloc(p->fd, 1<<24, frame);
	if(n <= 0 || fcallunpack(*frame, n, f) < 0){
		setbad(p, "want %s: %s", fcallname(type), n == 0 ? "end of file" : errstr());
		free(*frame);
		*frame = nil;
		return -1;
	}
	if(f->type != type){
		setbad(p, "got %s, want %s", fcallname(f->type), fcallname(type));
		fcallclear(f);
		free(*frame);
		*frame = nil;
		return -1;
	}
	return 0;
}

static void
psend(Peer *p, Fcall *f)
{
	uchar *buf;
	long n;

	n = fcallsize(f);
	buf = malloc(n);
	fcallpack(f, buf, n);
	if(writeframe(p->fd, buf, n) < 0)
		setbad(p, "send %s: %s", fcallname(f->type), errstr());
	free(buf);
}

static void
pdone(Fcall *f, uchar *frame)
{
	fcallclear(f);
	free(frame);
}

/* Answer t with r, which has only its type and body filled in. */
static void
preply(Peer *p, Fcall *t, Fcall *r)
{
	r->tag = t->tag;
	psend(p, r);
}

static void
rerror(Peer *p, Fcall *t, char *ename)
{
	Fcall r;

	memset(&r, 0, sizeof r);
	r.type = Rerror;
	r.ename = ename;
	preply(p, t, &r);
}

/* Answer with the bare R-message for t. */
static void
rempty(Peer *p, Fcall *t)
{
	Fcall r;

	memset(&r, 0, sizeof r);
	r.type = t->type+1;
	preply(p, t, &r);
}

static void
rversion(int fd, u32int msize, char *version, int tag)
{
	Peer p;
	Fcall r;

	memset(&p, 0, sizeof p);
	p.fd = fd;
	memset(&r, 0, sizeof r);
	r.type = Rversion;
	r.tag = tag;
	r.msize = msize;
	r.version = version;
	psend(&p, &r);
}

static void
peerproc(void *v)
{
	Peer *p;

	p = v;
	p->script(p);
	shutdown(p->fd, SHUT_RDWR);
}

/*
 * A connection whose Rversion (msize) is already waiting in the socket,
 * and a peer thread running script on the other end.
 */
static Cfs*
mount(Peer *p, u32int msize, void (*script)(Peer*), void *arg)
{
	Fcall t;
	uchar *frame;
	int sv[2];
	Cfs *fs;

	memset(p, 0, sizeof *p);
	if(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		sysfatal("socketpair: %s", strerror(errno));
	p->fd = sv[1];
	p->script = script;
	p->arg = arg;
	rversion(p->fd, msize, "9P2000", NOTAG);
	fs = cfsmount(sv[0], Defmsize);
	if(fs == nil)
		sysfatal("cfsmount: %s", errstr());
	if(precv(p, Tversion, &t, &frame) == 0){
		if(t.tag != NOTAG || t.msize != Defmsize || strcmp(t.version, "9P2000") != 0)
			setbad(p, "Tversion tag %u msize %u version %s", t.tag, t.msize, t.version);
		pdone(&t, frame);
	}
	if(script != nil && launch(peerproc, p, "peer", &p->tid) < 0)
		sysfatal("launch: %s", errstr());
	return fs;
}

static void
unmount(Cfs *fs, Peer *p, char *what)
{
	cfsclose(fs);
	pthread_join(p->tid, nil);
	close(p->fd);
	if(!ok(p->bad[0] == 0, "%s: the peer saw what it expected", what))
		diag("peer: %s", p->bad);
}

/* ------------------------------------------------------------- version */

/* cfsmount against a canned Rversion (or none, with tag -1). */
static Cfs*
tryversion(u32int msize, char *version, int tag, int rerr)
{
	int sv[2];
	Peer p;
	Fcall r;
	Cfs *fs;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	memset(&p, 0, sizeof p);
	p.fd = sv[1];
	if(rerr){
		memset(&r, 0, sizeof r);
		r.type = Rerror;
		r.tag = NOTAG;
		r.ename = version;
		psend(&p, &r);
	}else if(tag >= 0)
		rversion(sv[1], msize, version, tag);
	shutdown(sv[1], SHUT_WR);
	fs = cfsmount(sv[0], 65536);
	if(fs != nil)
		cfsclose(fs);
	else
		close(sv[0]);
	close(sv[1]);
	return fs;
}

static void
versions(void)
{
	Peer p;
	Cfs *fs;

	fs = mount(&p, 8192, nil, nil);
	is(fs->msize, 8192, "the server's smaller msize is used");
	cfsclose(fs);
	close(p.fd);
	fs = mount(&p, Defmsize, nil, nil);
	is(fs->msize, Defmsize, "an msize granted in full");
	cfsclose(fs);
	close(p.fd);

	ok(tryversion(1<<21, "9P2000", NOTAG, 0) == nil && strstr(errstr(), "exceeds") != nil,
		"an msize above the one asked for: %s", errstr());
	ok(tryversion(100, "9P2000", NOTAG, 0) == nil && strstr(errstr(), "below") != nil,
		"an msize too small to use: %s", errstr());
	ok(tryversion(8192, "unknown", NOTAG, 0) == nil && strstr(errstr(), "not 9P2000") != nil,
		"version unknown: %s", errstr());
	ok(tryversion(8192, "9P2000.L", NOTAG, 0) == nil && strstr(errstr(), "9P2000.L") != nil,
		"a dialect we do not speak: %s", errstr());
	ok(tryversion(8192, "9P2000", 1, 0) == nil && strstr(errstr(), "tag 1") != nil,
		"an Rversion with a tag: %s", errstr());
	ok(tryversion(0, "go away", 0, 1) == nil && strcmp(errstr(), "version: go away") == 0,
		"an Rerror: %s", errstr());
	ok(tryversion(0, nil, -1, 0) == nil && strstr(errstr(), "hung up") != nil,
		"no answer at all: %s", errstr());
	ok(cfsmount(-1, 100) == nil && strstr(errstr(), "msize") != nil, "asking for a tiny msize: %s", errstr());
}

/* --------------------------------------------------- requests in flight */

enum {
	Nthr	= 8,
	Nround	= 25,
};

typedef struct Worker Worker;
struct Worker {
	Cfs		*fs;
	int		id;
	int		bad;
	pthread_t	tid;
	char		*why;	/* watcher: cfshungup's answer */
};

/*
 * Every worker has one request in flight; answer all, last first (or
 * first first if p->arg is set: the thread reading gets its own reply
 * while others wait, and must let one of them read next).
 */
static void
roundscript(Peer *p)
{
	Fcall t[Nthr], r;
	uchar *frame[Nthr];
	char data[32];
	int i, j, round;

	for(round = 0; round < Nround; round++){
		for(i = 0; i < Nthr; i++)
			if(precv(p, Tread, &t[i], &frame[i]) < 0)
				return;
		for(j = 0; j < Nthr; j++){
			i = p->arg != nil ? j : Nthr-1-j;
			if(t[i].fid % 2 == 0){
				memset(&r, 0, sizeof r);
				r.type = Rread;
				r.count = snprintf(data, sizeof data, "fid %u offset %llu", t[i].fid,
					(unsigned long long)t[i].offset);
				r.data = (uchar*)data;
				preply(p, &t[i], &r);
			}else{
				snprintf(data, sizeof data, "odd fid %u", t[i].fid);
				rerror(p, &t[i], data);
			}
			pdone(&t[i], frame[i]);
		}
	}
}

static void
worker(void *v)
{
	Worker *w;
	Fcall tx, rx;
	uchar *frame;
	char want[64];
	int i, r;

	w = v;
	for(i = 0; i < Nround; i++){
		memset(&tx, 0, sizeof tx);
		tx.type = Tread;
		tx.fid = w->id;
		tx.offset = i;
		tx.count = 64;
		r = cfsrpc(w->fs, &tx, &rx, &frame);
		if(w->id % 2 == 0){
			snprintf(want, sizeof want, "fid %d offset %d", w->id, i);
			if(r < 0 || rx.count != strlen(want) || memcmp(rx.data, want, rx.count) != 0)
				w->bad++;
			if(r == 0)
				pdone(&rx, frame);
		}else{
			snprintf(want, sizeof want, "odd fid %d", w->id);
			if(r == 0 || strcmp(errstr(), want) != 0)
				w->bad++;
		}
	}
}

static void
inflight(int inorder)
{
	Worker w[Nthr];
	Peer p;
	Cfs *fs;
	int i, bad;

	fs = mount(&p, 8192, roundscript, inorder ? &p : nil);
	for(i = 0; i < Nthr; i++){
		w[i].fs = fs;
		w[i].id = i;
		w[i].bad = 0;
		launch(worker, &w[i], "worker", &w[i].tid);
	}
	bad = 0;
	for(i = 0; i < Nthr; i++){
		pthread_join(w[i].tid, nil);
		bad += w[i].bad;
	}
	ok(bad == 0, "%d threads x %d rounds, answered %s first: each got its own reply",
		Nthr, Nround, inorder ? "first" : "last");
	unmount(fs, &p, "replies out of order");
}

/* Hold every tag; the extra callers must wait for one, then go on. */
enum {
	Nmany	= Ntag+16,
};

static void
tagscript(Peer *p)
{
	Fcall *t;
	uchar **frame;
	int i, seen[Ntag];

	t = calloc(Nmany, sizeof *t);
	frame = calloc(Nmany, sizeof *frame);
	memset(seen, 0, sizeof seen);
	for(i = 0; i < Ntag; i++){
		if(precv(p, Tclunk, &t[i], &frame[i]) < 0)
			goto out;
		if(t[i].tag >= Ntag || seen[t[i].tag]++)
			setbad(p, "tag %u given twice or out of range", t[i].tag);
	}
	for(i = 0; i < Ntag; i++)
		rempty(p, &t[i]);
	for(i = Ntag; i < Nmany; i++){
		if(precv(p, Tclunk, &t[i], &frame[i]) < 0)
			goto out;
		rempty(p, &t[i]);
	}
out:
	for(i = 0; i < Nmany; i++)
		pdone(&t[i], frame[i]);
	free(t);
	free(frame);
}

static void
clunker(void *v)
{
	Worker *w;
	Fcall tx, rx;
	uchar *frame;

	w = v;
	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	tx.fid = w->id;
	if(cfsrpc(w->fs, &tx, &rx, &frame) < 0)
		w->bad++;
	else
		pdone(&rx, frame);
}

static void
manytags(void)
{
	Worker *w;
	Peer p;
	Cfs *fs;
	int i, bad;

	w = calloc(Nmany, sizeof *w);
	fs = mount(&p, 8192, tagscript, nil);
	for(i = 0; i < Nmany; i++){
		w[i].fs = fs;
		w[i].id = i;
		launch(clunker, &w[i], "clunker", &w[i].tid);
	}
	bad = 0;
	for(i = 0; i < Nmany; i++){
		pthread_join(w[i].tid, nil);
		bad += w[i].bad;
	}
	ok(bad == 0, "%d callers for %d tags: all answered, tags distinct", Nmany, Ntag);
	unmount(fs, &p, "tags run out");
	free(w);
}

/* ------------------------------------------------------------- hang-up */

enum {
	Nhang	= 4,
};

static void
hangscript(Peer *p)
{
	Fcall t;
	uchar *frame;
	int i;

	for(i = 0; i < Nhang; i++)
		if(precv(p, Tstat, &t, &frame) == 0)
			pdone(&t, frame);
}

static void
stater(void *v)
{
	Worker *w;
	Fcall tx, rx;
	uchar *frame;

	w = v;
	memset(&tx, 0, sizeof tx);
	tx.type = Tstat;
	tx.fid = w->id;
	if(cfsrpc(w->fs, &tx, &rx, &frame) == 0 || strcmp(errstr(), "server hung up") != 0)
		w->bad++;
}

/* cfshungup: a thread that waits for the connection to die. */
static void
watcher(void *v)
{
	Worker *w;

	w = v;
	w->why = cfshungup(w->fs);
}

/* The server goes away with nothing in flight: cfshungup still returns. */
static void
idlescript(Peer *p)
{
	Fcall t;
	uchar *frame;

	if(precv(p, Tclunk, &t, &frame) == 0){
		rempty(p, &t);
		pdone(&t, frame);
	}
}

static void
idlehangup(void)
{
	Fcall tx, rx;
	uchar *frame;
	Peer p;
	Cfs *fs;

	fs = mount(&p, 8192, idlescript, nil);
	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	if(ok(cfsrpc(fs, &tx, &rx, &frame) == 0, "idle hang-up: a call is answered"))
		pdone(&rx, frame);
	pthread_join(p.tid, nil);
	ok(strcmp(cfshungup(fs), "server hung up") == 0,
		"idle hang-up: cfshungup returns with no call in flight");
	cfsclose(fs);
	close(p.fd);
}

static void
hangup(void)
{
	Worker w[Nhang], watch;
	Fcall tx, rx;
	uchar *frame;
	Peer p;
	Cfs *fs;
	int i, bad;

	fs = mount(&p, 8192, hangscript, nil);
	memset(&watch, 0, sizeof watch);
	watch.fs = fs;
	launch(watcher, &watch, "watcher", &watch.tid);
	for(i = 0; i < Nhang; i++){
		w[i].fs = fs;
		w[i].id = i;
		w[i].bad = 0;
		launch(stater, &w[i], "stater", &w[i].tid);
	}
	/* the peer hangs up once it has all the requests */
	pthread_join(p.tid, nil);
	bad = 0;
	for(i = 0; i < Nhang; i++){
		pthread_join(w[i].tid, nil);
		bad += w[i].bad;
	}
	ok(bad == 0, "hang-up: all %d waiting calls fail with 'server hung up'", Nhang);
	pthread_join(watch.tid, nil);
	ok(watch.why != nil && strcmp(watch.why, "server hung up") == 0,
		"hang-up: cfshungup returns, saying why");
	ok(strcmp(cfshungup(fs), "server hung up") == 0, "hang-up: cfshungup after it returns at once");
	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	ok(cfsrpc(fs, &tx, &rx, &frame) < 0 && strcmp(errstr(), "server hung up") == 0,
		"hang-up: a later call fails at once");
	cfsclose(fs);
	close(p.fd);
	ok(p.bad[0] == 0, "hang-up: the peer saw every request");
}

/* A reply nobody asked for: the connection is dropped, callers told why. */
static void
strangerscript(Peer *p)
{
	Fcall t, r;
	uchar *frame;

	if(precv(p, Tclunk, &t, &frame) < 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = Rclunk;
	r.tag = t.tag+1;
	psend(p, &r);
	pdone(&t, frame);
}

static void
garbagescript(Peer *p)
{
	static uchar junk[] = {3, 0, 0, 0};
	Fcall t;
	uchar *frame;

	if(precv(p, Tclunk, &t, &frame) < 0)
		return;
	if(write(p->fd, junk, sizeof junk) != sizeof junk)
		setbad(p, "write: %s", strerror(errno));
	pdone(&t, frame);
}

static void
badreply(void (*script)(Peer*), char *want, char *what)
{
	Fcall tx, rx;
	uchar *frame;
	Peer p;
	Cfs *fs;

	fs = mount(&p, 8192, script, nil);
	memset(&tx, 0, sizeof tx);
	tx.type = Tclunk;
	ok(cfsrpc(fs, &tx, &rx, &frame) < 0 && strstr(errstr(), want) != nil, "%s: %s", what, errstr());
	ok(cfsrpc(fs, &tx, &rx, &frame) < 0 && strstr(errstr(), want) != nil, "%s: and every call after", what);
	unmount(fs, &p, what);
}

/* ----------------------------------------------------------------- fids */

enum {
	Deep	= 40,		/* elements: walked as 16 + 16 + 8 */
	Part	= 20,		/* 16 + 4, of which the second step gets 2 */
};

static void
walkstep(Peer *p, u32int fid, u32int newfid, int n, int got, uvlong path0)
{
	Fcall t, r;
	uchar *frame;
	int i;

	if(precv(p, Twalk, &t, &frame) < 0)
		return;
	if(t.fid != fid || t.newfid != newfid || t.nwname != n)
		setbad(p, "Twalk fid %u newfid %u nwname %d; want %u %u %d",
			t.fid, t.newfid, t.nwname, fid, newfid, n);
	memset(&r, 0, sizeof r);
	r.type = Rwalk;
	r.nwqid = got;
	for(i = 0; i < got; i++){
		r.wqid[i].path = path0+i;
		r.wqid[i].type = QTDIR;
	}
	preply(p, &t, &r);
	pdone(&t, frame);
}

/* The fids the client will use: 0 root, then 1, reused after failures. */
static void
walkscript(Peer *p)
{
	Fcall t, r;
	uchar *frame;

	if(precv(p, Tattach, &t, &frame) < 0)
		return;
	if(t.fid != 0 || t.afid != NOFID || strcmp(t.uname, "glenda") != 0 || strcmp(t.aname, "main") != 0)
		setbad(p, "Tattach fid %u afid %u uname %s aname %s", t.fid, t.afid, t.uname, t.aname);
	memset(&r, 0, sizeof r);
	r.type = Rattach;
	r.qid.type = QTDIR;
	preply(p, &t, &r);
	pdone(&t, frame);

	walkstep(p, 0, 1, 16, 16, 1);
	walkstep(p, 1, 1, 16, 16, 17);
	walkstep(p, 1, 1, 8, 8, 33);

	walkstep(p, 0, 2, 16, 16, 1);
	walkstep(p, 2, 2, 4, 2, 17);
	if(precv(p, Tclunk, &t, &frame) < 0)
		return;
	if(t.fid != 2)
		setbad(p, "Tclunk of fid %u after a partial walk, want 2", t.fid);
	rempty(p, &t);
	pdone(&t, frame);

	if(precv(p, Twalk, &t, &frame) < 0)
		return;
	rerror(p, &t, Esrch);
	pdone(&t, frame);

	walkstep(p, 0, 2, 0, 0, 0);
	walkstep(p, 1, 3, 1, 1, 100);
}

static char*
deeppath(int n)
{
	char *s, *p;
	int i;

	s = malloc(n*4+1);
	p = s;
	for(i = 0; i < n; i++)
		p += sprintf(p, "/e%02d", i);
	return s;
}

static void
walks(void)
{
	Peer p;
	Cfs *fs;
	Cfid *root, *deep, *f, *g;
	char *path;

	fs = mount(&p, 8192, walkscript, nil);
	root = cfsattach(fs, "glenda", "main");
	ok(root != nil && root->fid == 0 && root->qid.type == QTDIR, "attach: fid 0, a directory");
	if(root == nil){
		diag("attach: %s", errstr());
		unmount(fs, &p, "walks");
		return;
	}
	path = deeppath(Deep);
	deep = cwalk(root, path);
	ok(deep != nil && deep->fid == 1 && deep->qid.path == Deep,
		"a walk of %d names goes 16 at a time, then keeps the last qid", Deep);
	free(path);
	path = deeppath(Part);
	ok(cwalk(root, path) == nil && iserr(Esrch), "a walk that stops in its second step: %s", errstr());
	free(path);
	ok(cwalk(root, "nope") == nil && strcmp(errstr(), Esrch) == 0, "the server's Rerror is the error");
	f = cwalk(root, "");
	ok(f != nil && f->fid == 2 && f->qid.type == QTDIR, "an empty path clones, reusing the freed fid 2");
	g = deep != nil ? cwalk(deep, "x") : nil;
	ok(g != nil && g->fid == 3 && g->qid.path == 100, "a walk from a walked fid");
	if(g != nil)
		free(g);
	if(f != nil)
		free(f);
	if(deep != nil)
		free(deep);
	free(root);
	unmount(fs, &p, "walks");
}

/* Reads and writes in iounit pieces; directory reads; stat and wstat. */
static void
ioscript(Peer *p)
{
	Fcall t, r;
	uchar *frame, buf[512], *sb;
	long i, n;
	Dir d, *dp;
	static long rd[][3] = {
		/* offset asked, count asked, count given */
		{1000, 100, 100}, {1100, 100, 100}, {1200, 50, 50},
		{0, 100, 30},
	};
	static long wr[][3] = {
		{5000, 100, 60}, {5060, 100, 100}, {5160, 90, 90},
	};

	if(precv(p, Tattach, &t, &frame) < 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = Rattach;
	r.qid.type = QTDIR;
	preply(p, &t, &r);
	pdone(&t, frame);
	walkstep(p, 0, 1, 1, 1, 7);

	if(precv(p, Topen, &t, &frame) < 0)
		return;
	if(t.mode != ORDWR)
		setbad(p, "Topen mode %d", t.mode);
	memset(&r, 0, sizeof r);
	r.type = Ropen;
	r.qid.path = 7;
	r.iounit = 100;
	preply(p, &t, &r);
	pdone(&t, frame);

	for(i = 0; i < (long)nelem(rd); i++){
		if(precv(p, Tread, &t, &frame) < 0)
			return;
		if(t.offset != (uvlong)rd[i][0] || t.count != rd[i][1])
			setbad(p, "Tread offset %llu count %u, want %ld %ld",
				(unsigned long long)t.offset, t.count, rd[i][0], rd[i][1]);
		for(n = 0; n < rd[i][2]; n++)
			buf[n] = t.offset+n;
		memset(&r, 0, sizeof r);
		r.type = Rread;
		r.count = rd[i][2];
		r.data = buf;
		preply(p, &t, &r);
		pdone(&t, frame);
	}
	for(i = 0; i < (long)nelem(wr); i++){
		if(precv(p, Twrite, &t, &frame) < 0)
			return;
		if(t.offset != (uvlong)wr[i][0] || t.count != wr[i][1] || t.data[0] != (uchar)(t.offset-5000))
			setbad(p, "Twrite offset %llu count %u, want %ld %ld",
				(unsigned long long)t.offset, t.count, wr[i][0], wr[i][1]);
		memset(&r, 0, sizeof r);
		r.type = Rwrite;
		r.count = wr[i][2];
		preply(p, &t, &r);
		pdone(&t, frame);
	}

	/* stat */
	if(precv(p, Tstat, &t, &frame) < 0)
		return;
	nulldir(&d);
	d.name = "file";
	d.uid = "glenda";
	d.mode = 0644;
	d.length = 12345;
	memset(&r, 0, sizeof r);
	r.type = Rstat;
	r.nstat = dirpack(&d, buf, sizeof buf);
	r.stat = buf;
	preply(p, &t, &r);
	pdone(&t, frame);

	/* wstat: a rename */
	if(precv(p, Twstat, &t, &frame) < 0)
		return;
	dp = dirunpack(t.stat, t.nstat);
	if(dp == nil || strcmp(dp->name, "new") != 0 || dp->mode != 0xFFFFFFFF || dp->length != ~0ULL
	|| dp->mtime != 0xFFFFFFFF || *dp->uid != 0)
		setbad(p, "Twstat is not a rename to 'new'");
	free(dp);
	rempty(p, &t);
	pdone(&t, frame);

	/* a directory read: two entries, then one, then the end */
	d.uid = "";
	for(i = 0; i < 3; i++){
		if(precv(p, Tread, &t, &frame) < 0)
			return;
		n = 0;
		sb = buf;
		if(i < 2){
			d.name = i == 0 ? "a" : "c";
			n += dirpack(&d, sb+n, sizeof buf - n);
		}
		if(i == 0){
			d.name = "b";
			n += dirpack(&d, sb+n, sizeof buf - n);
		}
		memset(&r, 0, sizeof r);
		r.type = Rread;
		r.count = n;
		r.data = buf;
		preply(p, &t, &r);
		pdone(&t, frame);
	}

	if(precv(p, Tremove, &t, &frame) < 0)
		return;
	rerror(p, &t, Eperm);
	pdone(&t, frame);

	/* the wrong kind of reply */
	if(precv(p, Tclunk, &t, &frame) < 0)
		return;
	memset(&r, 0, sizeof r);
	r.type = Rremove;
	preply(p, &t, &r);
	pdone(&t, frame);
}

static void
io(void)
{
	uchar buf[512];
	Peer p;
	Cfs *fs;
	Cfid *root, *f;
	Dir *d, nd;
	long i, n, bad;

	fs = mount(&p, 8192, ioscript, nil);
	root = cfsattach(fs, "glenda", "");
	f = root != nil ? cwalk(root, "file") : nil;
	if(f == nil){
		ok(0, "attach and walk: %s", errstr());
		unmount(fs, &p, "i/o");
		return;
	}
	ok(copen(f, ORDWR) == 0 && f->iounit == 100 && f->mode == ORDWR, "open: the server's iounit of 100");
	n = cpread(f, buf, 250, 1000);
	bad = 0;
	for(i = 0; i < n; i++)
		bad += buf[i] != (uchar)(1000+i);
	ok(n == 250 && bad == 0, "cpread of 250: Treads of 100, 100, 50");
	ok(cpread(f, buf, 250, 0) == 30, "cpread stops at a short read");
	for(i = 0; i < 250; i++)
		buf[i] = i;
	ok(cpwrite(f, buf, 250, 5000) == 250, "cpwrite of 250 goes on after a short write");
	d = cstat(f);
	ok(d != nil && strcmp(d->name, "file") == 0 && strcmp(d->uid, "glenda") == 0
		&& d->mode == 0644 && d->length == 12345, "cstat");
	free(d);
	nulldir(&nd);
	nd.name = "new";
	ok(cwstat(f, &nd) == 0, "cwstat");
	f->offset = 0;
	n = cdirreadall(f, &d);
	ok(n == 3 && strcmp(d[0].name, "a") == 0 && strcmp(d[1].name, "b") == 0
		&& strcmp(d[2].name, "c") == 0, "cdirreadall: entries from several reads");
	free(d);
	ok(cremove(f) < 0 && strcmp(errstr(), Eperm) == 0, "cremove: the server's error");
	ok(cclunk(root) < 0 && strcmp(errstr(), "Rremove in reply to Tclunk") == 0,
		"a reply of the wrong type: %s", errstr());
	unmount(fs, &p, "i/o");
}

int
main(void)
{
	setprogname("client");
	servicedir();
	addresses();
	deadends();
	paths();
	modes();
	versions();
	inflight(0);
	inflight(1);
	idlehangup();
	manytags();
	hangup();
	badreply(strangerscript, "unexpected tag", "a reply with a tag not in use");
	badreply(garbagescript, "too small", "a frame of size 3");
	walks();
	io();
	return done();
}
