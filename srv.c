/*
 * srv.c: where 9P connections come from (DESIGN.md §4, runtime §9.2):
 * the service directory and its socket, -a tcp!HOST!PORT and
 * -a unix!PATH listeners, -s on standard input and output; who the
 * peer of a Unix socket is; the server's life from start to SIGTERM.
 */
#define _GNU_SOURCE		/* struct ucred */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <pwd.h>
#include <poll.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "fcall.h"
#include "cmd/client.h"

static Listener	*listeners;
static int	wakefd[2] = {-1, -1};	/* closed to stop the listeners */

/*
 * The signals that end the server are taken by serve() with sigwait:
 * block them before any thread starts, so that every thread inherits
 * the mask.  A reply to a client that went away is an error, not a
 * SIGPIPE.
 */
void
srvsignals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, nil);
}

/* The login name of uid, or nil. */
static char*
uidname(uid_t uid)
{
	struct passwd pw, *r;
	char buf[4096];

	if(getpwuid_r(uid, &pw, buf, sizeof buf, &r) != 0 || r == nil)
		return nil;
	return estrdup(r->pw_name);
}

/* Who is at the other end of the Unix socket fd: -1 if unknown. */
static int
peeruid(int fd, uid_t *uid)
{
#ifdef SO_PEERCRED
	struct ucred uc;
	socklen_t n;

	n = sizeof uc;
	if(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &n) == -1)
		return -1;
	*uid = uc.uid;
	return 0;
#else
	gid_t gid;

	return getpeereid(fd, uid, &gid);
#endif
}

/*
 * Listeners do not block in accept (a connection may go between poll
 * and accept); connections block (on BSD they would inherit that).
 */
static void
setblocking(int fd, int block)
{
	int fl;

	if((fl = fcntl(fd, F_GETFL)) != -1)
		fcntl(fd, F_SETFL, block ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
}

/* A console client must be root or our owner (the socket is 0600 as well). */
static void
conslisten(Listener *l, int fd)
{
	uid_t uid;

	if(peeruid(fd, &uid) == -1 || (uid != 0 && uid != geteuid())){
		warn("%s: console refused to a stranger", l->addr);
		close(fd);
		return;
	}
	if(consconn(fd) == -1){
		warn("%s: refused: %s", l->addr, errstr());
		close(fd);
	}
}

static void
listenproc(void *arg)
{
	Listener *l;
	struct sockaddr_storage sa;
	socklen_t n;
	char addr[1200], host[NI_MAXHOST], port[NI_MAXSERV], *name;
	struct pollfd pfd[2];
	uid_t uid;
	int fd, trusted;

	l = arg;
	pfd[0].fd = l->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = wakefd[0];
	pfd[1].events = POLLIN;
	for(;;){
		/* poll, not accept alone: a closed listener wakes no accept everywhere */
		if(poll(pfd, 2, -1) == -1 && errno != EINTR){
			warn("poll %s: %s", l->addr, strerror(errno));
			break;
		}
		if(agetl(&l->stop) || (pfd[1].revents & (POLLIN|POLLHUP)))
			break;
		if(!(pfd[0].revents & (POLLIN|POLLERR|POLLHUP)))
			continue;
		n = sizeof sa;
		fd = accept(l->fd, (struct sockaddr*)&sa, &n);
		if(fd < 0){
			if(errno == EINTR || errno == ECONNABORTED || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			warn("accept %s: %s", l->addr, strerror(errno));
			if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM){
				/* let connections end before trying again */
				usleep(100*1000);
				continue;
			}
			break;
		}
		setblocking(fd, 1);
		if(l->net == Ccons){
			conslisten(l, fd);
			continue;
		}
		name = nil;
		trusted = 0;
		if(l->net == Cunix){
			if(peeruid(fd, &uid) == -1){
				warn("%s: no peer credentials: %s", l->addr, strerror(errno));
				close(fd);
				continue;
			}
			trusted = uid == 0 || uid == geteuid();
			name = uidname(uid);
			snprintf(addr, sizeof addr, "%s (uid %lu)", l->addr, (unsigned long)uid);
		}else{
			if(getnameinfo((struct sockaddr*)&sa, n, host, sizeof host, port, sizeof port,
			NI_NUMERICHOST|NI_NUMERICSERV) != 0)
				snprintf(addr, sizeof addr, "%s", l->addr);
			else
				snprintf(addr, sizeof addr, "tcp!%s!%s", host, port);
		}
		if(newconn(fd, fd, l->net, trusted, name, addr) == -1){
			warn("%s: refused: %s", addr, errstr());
			close(fd);
		}
		free(name);
	}
}

/*
 * A Unix socket at path.  A socket a live server answers on is not
 * ours to take; one nobody answers is a leftover and is replaced.  The
 * socket is made under a temporary name and renamed into place once it
 * listens, so a client never finds it refusing connections.
 */
static int
unixsock(char *path, int mode)
{
	struct sockaddr_un sa;
	struct stat st;
	char tmp[sizeof sa.sun_path];
	int fd, c;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if(snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid()) >= (int)sizeof tmp){
		werrstr("%s: socket path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if(lstat(path, &st) == 0){
		if(!S_ISSOCK(st.st_mode)){
			werrstr("%s exists and is not a socket", path);
			return -1;
		}
		if((c = socket(AF_UNIX, SOCK_STREAM, 0)) == -1){
			werrstr("socket: %s", strerror(errno));
			return -1;
		}
		if(connect(c, (struct sockaddr*)&sa, sizeof sa) == 0){
			close(c);
			werrstr("service %s already running", path);
			return -1;
		}
		close(c);
	}
	strcpy(sa.sun_path, tmp);
	unlink(tmp);
	if((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1){
		werrstr("socket: %s", strerror(errno));
		return -1;
	}
	if(bind(fd, (struct sockaddr*)&sa, sizeof sa) == -1){
		werrstr("bind %s: %s", tmp, strerror(errno));
		close(fd);
		return -1;
	}
	if(chmod(tmp, mode) == -1 || listen(fd, 64) == -1 || rename(tmp, path) == -1){
		werrstr("%s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	return fd;
}

/* A TCP listener; "*" is every address.  The address it got goes to *bound. */
static int
tcpsock(char *host, char *port, char *bound, int nbound)
{
	struct addrinfo hints, *ai, *r;
	struct sockaddr_storage sa;
	socklen_t n;
	char h[NI_MAXHOST], p[NI_MAXSERV];
	int fd, e, one;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if((e = getaddrinfo(strcmp(host, "*") == 0 ? nil : host, port, &hints, &ai)) != 0){
		werrstr("tcp!%s!%s: %s", host, port, gai_strerror(e));
		return -1;
	}
	fd = -1;
	e = 0;
	for(r = ai; r != nil; r = r->ai_next){
		if((fd = socket(r->ai_family, r->ai_socktype, r->ai_protocol)) == -1){
			e = errno;
			continue;
		}
		one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if(bind(fd, r->ai_addr, r->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if(fd == -1){
		werrstr("tcp!%s!%s: %s", host, port, strerror(e));
		return -1;
	}
	n = sizeof sa;
	if(getsockname(fd, (struct sockaddr*)&sa, &n) == 0
	&& getnameinfo((struct sockaddr*)&sa, n, h, sizeof h, p, sizeof p, NI_NUMERICHOST|NI_NUMERICSERV) == 0)
		snprintf(bound, nbound, "tcp!%s!%s", h, p);
	else
		snprintf(bound, nbound, "tcp!%s!%s", host, port);
	return fd;
}

static Listener*
mklistener(int fd, int net, char *addr, char *path)
{
	Listener *l;

	setblocking(fd, 0);

	l = emalloc(sizeof *l);
	l->fd = fd;
	l->net = net;
	l->addr = estrdup(addr);
	l->path = path != nil ? estrdup(path) : nil;
	l->next = listeners;
	listeners = l;
	return l;
}

/* The service directory, made if missing; it must be ours (DESIGN.md §4). */
static int
mksrvdir(char *dir, int ndir)
{
	struct stat st;

	if(nsdir(dir, ndir) == -1)
		return -1;
	if(mkdir(dir, 0700) == -1 && errno != EEXIST){
		werrstr("service directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if(stat(dir, &st) == -1){
		werrstr("service directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if(!S_ISDIR(st.st_mode)){
		werrstr("service directory %s is not a directory", dir);
		return -1;
	}
	if(st.st_uid != geteuid()){
		werrstr("service directory %s belongs to uid %lu, not to us", dir, (unsigned long)st.st_uid);
		return -1;
	}
	return 0;
}

/*
 * Every address first, before anything listens: a TCP listener without
 * -A is refused, since nothing proves who is attaching over TCP.
 */
static int
checkaddrs(Srvconf *cf)
{
	Caddr a;
	int i;

	if(cf->name != nil && (*cf->name == 0 || strchr(cf->name, '/') != nil)){
		werrstr("bad service name '%s'", cf->name);
		return -1;
	}
	for(i = 0; i < cf->naddr; i++){
		if(strncmp(cf->addr[i], "tcp!", 4) != 0 && strncmp(cf->addr[i], "unix!", 5) != 0){
			werrstr("%s: announce tcp!HOST!PORT or unix!PATH", cf->addr[i]);
			return -1;
		}
		if(parseaddr(cf->addr[i], &a) == -1)
			return -1;
		if(a.net == Ntcp && !cf->noauth){
			werrstr("tcp listener %s refused: 9P authentication is not implemented;"
				" use -A to serve without authentication", cf->addr[i]);
			return -1;
		}
	}
	return 0;
}

static int
announce(Srvconf *cf)
{
	char dir[256], path[512], bound[1200];
	Caddr a;
	int i, fd;

	if(mksrvdir(dir, sizeof dir) == -1)
		return -1;
	snprintf(path, sizeof path, "%s/%s", dir, cf->name != nil ? cf->name : "gefs");
	if((fd = unixsock(path, 0666)) == -1)
		return -1;
	mklistener(fd, Cunix, path, path);
	/* the console (runtime §5.1) */
	snprintf(path, sizeof path, "%s/%s.cmd", dir, cf->name != nil ? cf->name : "gefs");
	if((fd = unixsock(path, 0600)) == -1)
		return -1;
	mklistener(fd, Ccons, path, path);
	for(i = 0; i < cf->naddr; i++){
		parseaddr(cf->addr[i], &a);
		if(a.net == Nunix){
			if((fd = unixsock(a.path, 0666)) == -1)
				return -1;
			mklistener(fd, Cunix, cf->addr[i], a.path);
		}else{
			if((fd = tcpsock(a.host, a.port, bound, sizeof bound)) == -1)
				return -1;
			mklistener(fd, Ctcp, bound, nil);
			warn("announce %s", bound);
		}
	}
	return 0;
}

/* Stop accepting, and remove the sockets we made. */
static void
unannounce(void)
{
	Listener *l, *n;

	for(l = listeners; l != nil; l = l->next)
		asetl(&l->stop, 1);
	if(wakefd[1] != -1)
		close(wakefd[1]);
	for(l = listeners; l != nil; l = n){
		n = l->next;
		if(l->tid != 0)
			pthread_join(l->tid, nil);
		close(l->fd);
		if(l->path != nil)
			unlink(l->path);
		free(l->addr);
		free(l->path);
		free(l);
	}
	listeners = nil;
}

/* Did anything change since the last sync?  If not, stopping writes nothing. */
static int
dirty(void)
{
	int d;

	lock(&fs->dirtylk);
	d = fs->dirty;
	unlock(&fs->dirtylk);
	return d;
}

/*
 * Serve the loaded file system until SIGTERM, SIGINT or SIGHUP (or, with
 * -s, until standard input ends), then hang up every client, make a
 * final sync and return the exit status.  srvsignals() must have run
 * before any thread started.
 */
int
serve(Srvconf *cf)
{
	Listener *l;
	sigset_t set;
	int sig, st;

	if(checkaddrs(cf) == -1 || announce(cf) == -1){
		warn("%s", errstr());
		unannounce();
		return 1;
	}
	if(pipe(wakefd) == -1)
		sysfatal("pipe: %s", strerror(errno));
	fsstart(cf);
	consstart(cf);
	for(l = listeners; l != nil; l = l->next)
		if(launch(listenproc, l, "announce", &l->tid) == -1)
			sysfatal("%s", errstr());
	if(cf->stdio && newconn(0, 1, Cstdio, 1, nil, "stdio") == -1)
		sysfatal("stdio: %s", errstr());
	if(!cf->rdonly)
		starttimer();

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	while(sigwait(&set, &sig) != 0)
		;
	dprint(1, "signal %d: ending", sig);

	unannounce();
	consquiesce();
	hangupall();
	fsstop();
	if(!cf->rdonly)
		stoptimer();
	st = 0;
	if(!cf->rdonly && !isrdonly() && dirty() && haltfs() == -1){
		warn("final sync: %s", errstr());
		st = 1;
	}
	consstop();
	return st;
}
