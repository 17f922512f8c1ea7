/*
 * cons.c: administration (runtime §5, §6, §12; format §17.8).
 *
 * The console: a Unix socket NAME.cmd beside the 9P socket (srv.c
 * accepts on it), one thread per client.  Each client gets the prompt
 * "gefs# ", sends one command per line and reads its output, then the
 * next prompt, so that a script can send a line and read up to the next
 * prompt.  Commands are checked before they act: a bad one prints a
 * usage message and changes nothing.  A failure is printed as the
 * command's name, a colon and the error (runtime §5.2).
 *
 * /adm/ctl and /adm/status (format §17.8): fs.c hands every write to
 * ctl to ctlcmd() and builds status from statustext().  Both entries
 * are put into the adm tree of an older volume when it is served
 * writable (admmigrate).
 *
 * The retention clock: a thread calls retaintick() every Syncperiod
 * seconds with the wall clock, or with the time the console's testing
 * aid "debug clock" set.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"

static struct {
	QLock	lk;		/* everything up to the clock */
	Rendez	idle;		/* a command ended */
	Srvconf	*cf;
	Console	*conns;
	int	nconn;
	int	nrun;		/* commands running */
	int	quiet;		/* consquiesce ran: no more commands */

	QLock	clk;		/* the clock; held while a tick runs */
	Rendez	tickr;
	int	tickquit;
	int	ticking;
	pthread_t ticker;
	vlong	clock;		/* debug clock: Unix seconds, or -1 for the wall clock */
} cons;

static char	arrow[] = "\xe2\x86\x92";	/* → (U+2192) */
static char	snapusage[] = "usage: snap -[mdl] [old [new]]";
static char	snapargs[] = "usage: snap -[md] old [new]";

/* ------------------------------------------------------------ output */

static void
cwrite(Console *c, char *p, long n)
{
	long w;

	while(n > 0){
		w = write(c->fd, p, n);
		if(w < 0 && errno == EINTR)
			continue;
		if(w <= 0)
			return;	/* the client went away: its reads end the thread */
		p += w;
		n -= w;
	}
}

static void
cprint(Console *c, char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
cprint(Console *c, char *fmt, ...)
{
	char buf[1024], *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if(n < 0)
		return;
	if(n < (int)sizeof buf){
		cwrite(c, buf, n);
		return;
	}
	p = emalloc(n+1);
	va_start(ap, fmt);
	vsnprintf(p, n+1, fmt, ap);
	va_end(ap);
	cwrite(c, p, n);
	free(p);
}

/* A Linefn writing to the console. */
static void
consline(void *arg, char *line)
{
	cprint(arg, "%s\n", line);
}

/* A Linefn writing to the server's log, for /adm/ctl. */
static void
logline(void *arg, char *line)
{
	warn("%s", line);
}

/* -------------------------------------------------------- parsing */

static int
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Split s in place into at most nf fields, as rc does: blanks separate
 * them, '...' quotes blanks, '' in quotes is a quote.  The number of
 * fields, or -1 with errstr.
 */
static int
tokenize(char *s, char **f, int nf)
{
	char *w;
	int n, c;

	n = 0;
	for(;;){
		while(blank(*s))
			s++;
		if(*s == 0)
			return n;
		if(n == nf){
			werrstr("more than %d fields", nf);
			return -1;
		}
		f[n++] = w = s;
		while(*s != 0 && !blank(*s)){
			if(*s != '\''){
				*w++ = *s++;
				continue;
			}
			for(s++;; s++){
				if(*s == 0){
					werrstr("unmatched quote");
					return -1;
				}
				if(*s == '\''){
					if(s[1] != '\'')
						break;
					s++;
				}
				*w++ = *s;
			}
			s++;
		}
		c = *s;
		*w = 0;
		if(c == 0)
			return n;
		s++;
	}
}

/* A decimal number that fits an int, or -1. */
static int
decimal(char *s)
{
	long v;
	char *e;

	if(*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if(*e != 0 || errno != 0 || v > 0x7fffffff)
		return -1;
	return v;
}

static int
onoff(char *s)
{
	if(strcmp(s, "on") == 0)
		return 1;
	if(strcmp(s, "off") == 0)
		return 0;
	return -1;
}

/* --------------------------------------------------------- commands */

/*
 * The checker walks committed trees: commit first, or what the mounts
 * changed since the last sync would look like leaked blocks.
 */
static int
check(Linefn *out, void *arg)
{
	if(!isrdonly() && fssync() == -1)
		return -1;
	return checkvol(out, arg);
}

static void
cmdcheck(Console *c, int nf, char **f)
{
	if(check(consline, c) == -1 && !iserr(Echeck))
		cprint(c, "check: %s\n", errstr());
}

static double
pct(vlong a, vlong b)
{
	return b > 0 ? 100.0*a/b : 0;
}

/* v bytes with a binary unit, dividing by 1024 while at least 500 (runtime §5.3). */
static char*
scaled(vlong v, char *buf, int nbuf)
{
	static char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d;
	int i;

	d = v;
	for(i = 0; d >= 500 && i < (int)nelem(unit)-1; i++)
		d /= 1024;
	snprintf(buf, nbuf, "%.2f %s", d, unit[i]);
	return buf;
}

static void
cmddf(Console *c, int nf, char **f)
{
	vlong used, size, u, s;
	char b[32], why[Errmax];
	Arena *a;
	int i;

	used = size = 0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		u = a->used;
		s = a->size;
		qunlock(&a->lk);
		cprint(c, "arena %d: %llx/%llx (%.2f%%)\n", i, (unsigned long long)u, (unsigned long long)s, pct(u, s));
		used += u;
		size += s;
	}
	cprint(c, "fill:\t%.2f%%\n", pct(used, size));
	cprint(c, "used:\t%lld (%s)\n", (long long)used, scaled(used, b, sizeof b));
	cprint(c, "size:\t%lld (%s)\n", (long long)size, scaled(size, b, sizeof b));
	cprint(c, "free:\t%lld (%s)\n", (long long)(size-used), scaled(size-used, b, sizeof b));
	if(rdonlywhy(why, sizeof why) != nil)
		cprint(c, "%s: %s\n", Erdonly, why);
}

/*
 * The server stops as on SIGTERM (srv.c): no new work, a final sync,
 * then the console clients are hung up and the process exits.
 */
static void
cmdhalt(Console *c, int nf, char **f)
{
	cprint(c, "gefs: ending...\n");
	kill(getpid(), SIGTERM);
}

static void
cmdhelp(Console *c, int nf, char **f)
{
	cprint(c,
		"help -- show this help\n"
		"check -- check for consistency\n"
		"df -- show disk usage\n"
		"halt -- stop all writers, sync, and exit\n"
		"permit [on|off] -- switch to/from permissive mode\n"
		"reserve [on|off] -- enable block reserves\n"
		"snap -[mdl] [old [new]] -- manage snapshots\n"
		"set [snap] key value -- set a setting (key: retain)\n"
		"clear [snap] key -- clear a setting\n"
		"sync -- flush all pending writes to disk\n"
		"users -- reload user table from adm snapshot\n"
		"debug [level] -- set the debug level (no level: toggle)\n"
		"show -- debug dumps\n"
		"\ttree [name]\n"
		"\tusers\n"
		"\tfree\n");
}

static void
cmdpermit(Console *c, int nf, char **f)
{
	int on, old;

	if((on = onoff(f[1])) == -1){
		cprint(c, "usage: permit on|off\n");
		return;
	}
	old = asetl(&cons.cf->permissive, on);
	cprint(c, "permissive: %d %s %d\n", old != 0, arrow, on);
}

/* reserve on: allocation keeps each arena's reserve (the normal state). */
static void
cmdreserve(Console *c, int nf, char **f)
{
	int on, old;

	if(nf == 1){
		on = !agetl(&fs->usereserve);
		cprint(c, "reserve: %d %s %d\n", on, arrow, on);
		return;
	}
	if((on = onoff(f[1])) == -1){
		cprint(c, "usage: reserve [on|off]\n");
		return;
	}
	old = !asetl(&fs->usereserve, !on);
	cprint(c, "reserve: %d %s %d\n", old, arrow, on);
}

/* Why a snapshot operation on name failed, as the reference words it. */
static void
snaperr(Console *c, char *name)
{
	if(iserr(Enosnap))
		cprint(c, "snap: open '%s': does not exist\n", name);
	else if(iserr(Esnapu))
		cprint(c, "snap: snap is mounted: '%s'\n", name);
	else if(iserr(Esnapx))
		cprint(c, "snap: already exists '%s'\n", name);
	else if(iserr(Esnapr))
		cprint(c, "snap: reserved name '%s'\n", name);
	else if(iserr(Ename))
		cprint(c, "snap: bad name '%s'\n", name);
	else
		cprint(c, "snap: %s\n", errstr());
}

static void
snaplabels(Console *c)
{
	Label *l;
	int i, n;

	if((n = snaplist(&l)) == -1){
		cprint(c, "snap: %s\n", errstr());
		return;
	}
	for(i = 0; i < n; i++)
		cprint(c, "snap %s%s\n", l[i].name, (l[i].flag & Lmut) ? " [ mutable ]" : "");
	freelabels(l, n);
}

/*
 * snap -l; snap -d name; snap [-m] old new (runtime §5.5).  Everything
 * is checked first; the change is synced before the result is printed.
 */
static void
cmdsnap(Console *c, int nf, char **f)
{
	int i, list, del, mut;
	char *p, *new;

	list = del = mut = 0;
	for(i = 1; i < nf && f[i][0] == '-'; i++)
		for(p = f[i]+1; *p != 0; p++)
			switch(*p){
			case 'l':	list = 1; break;
			case 'd':	del = 1; break;
			case 'm':	mut = 1; break;
			default:
				cprint(c, "%s\n", snapusage);
				return;
			}
	nf -= i;
	f += i;
	if(list){
		if(del || mut || nf != 0)
			cprint(c, "%s\n", snapusage);
		else
			snaplabels(c);
		return;
	}
	if((del && (mut || nf != 1)) || (!del && nf != 2)){
		cprint(c, "%s\n", snapargs);
		return;
	}
	if(isrdonly()){
		cprint(c, "snap: %s\n", Erdonly);
		return;
	}
	if(del){
		if(snapdelete(f[0]) == -1){
			snaperr(c, f[0]);
			return;
		}
	}else if(snapcreate(f[0], f[1], mut) == -1){
		snaperr(c, iserr(Enosnap) || iserr(Esnapu) ? f[0] : f[1]);
		return;
	}
	if(fssync() == -1){
		cprint(c, "snap: sync: %s\n", errstr());
		return;
	}
	new = nf > 1 ? f[1] : nil;
	if(del)
		cprint(c, "deleted: %s\n", f[0]);
	else if(mut)
		cprint(c, "forked: %s from %s\n", new, f[0]);
	else
		cprint(c, "labeled: %s from %s\n", new, f[0]);
}

/* Printed once the commit is durable, unlike the reference (runtime §5.3). */
static void
cmdsync(Console *c, int nf, char **f)
{
	if(fssync() == -1)
		cprint(c, "sync: %s\n", errstr());
	else
		cprint(c, "synced\n");
}

static void
cmdusers(Console *c, int nf, char **f)
{
	if(fsreloadusers(consline, c) == -1)
		cprint(c, "load users: %s\n", errstr());
	else
		cprint(c, "refreshed users\n");
}

/* Why a setting of label could not change. */
static void
seterr(Console *c, char *cmd, char *label)
{
	if(iserr(Enosnap) && label != nil)
		cprint(c, "%s: open '%s': does not exist\n", cmd, label);
	else
		cprint(c, "%s: %s\n", cmd, errstr());
}

/* set [snap] key value; the value is stored as it is (format §17.1). */
static void
cmdset(Console *c, int nf, char **f)
{
	char *label;

	label = nf == 4 ? f[1] : nil;
	if(setconf(label, f[nf-2], f[nf-1]) == -1)
		seterr(c, "set", label);
}

static void
cmdclear(Console *c, int nf, char **f)
{
	char *label;

	label = nf == 3 ? f[1] : nil;
	if(clrconf(label, f[nf-1]) == -1)
		seterr(c, "clear", label);
}

static void
cmddebug(Console *c, int nf, char **f)
{
	int n;

	if(nf == 1)
		n = agetl(&debug) == 0;
	else if((n = decimal(f[1])) == -1){
		cprint(c, "usage: debug [level]\n");
		return;
	}
	asetl(&debug, n);
	cprint(c, "debug %s %d\n", arrow, n);
}

/*
 * debug clock SECONDS|now: a testing aid (gefs(8)).  From now on the
 * retention clock reads SECONDS (or the wall clock again), and a tick
 * runs at once: when the command returns, the automatic snapshots due
 * at that time are taken and the surplus ones deleted.
 */
static void
cmdclock(Console *c, int nf, char **f)
{
	vlong t;
	char *e;

	if(strcmp(f[2], "now") == 0)
		t = -1;
	else{
		errno = 0;
		t = strtoll(f[2], &e, 10);
		if(f[2][0] < '0' || f[2][0] > '9' || *e != 0 || errno != 0){
			cprint(c, "usage: debug clock seconds|now\n");
			return;
		}
	}
	qlock(&cons.clk);
	cons.clock = t;
	if(t == -1)
		t = wallns()/1000000000LL;
	retaintick(t);
	qunlock(&cons.clk);
	cprint(c, "clock %s %lld\n", arrow, (long long)t);
}

static void
cmdshowusers(Console *c, int nf, char **f)
{
	Users *u;
	char *s;

	u = getusers();
	s = userstext(u);
	putusers(u);
	cwrite(c, s, strlen(s));
	free(s);
}

/* Every arena's free ranges (runtime §5.3). */
static void
cmdshowfree(Console *c, int nf, char **f)
{
	Fnode *r;
	Arena *a;
	int i;

	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		qlock(&a->lk);
		cprint(c, "arena %d %llx+%llx{\n", i, (unsigned long long)a->base, (unsigned long long)a->size);
		for(r = rangefirst(a); r != nil; r = rangenext(a, r))
			cprint(c, "\t%llx..%llx (%llx)\n", (unsigned long long)r->off, (unsigned long long)(r->off+r->len), (unsigned long long)r->len);
		cprint(c, "}\n");
		qunlock(&a->lk);
	}
}

static void
cmdshowtree(Console *c, int nf, char **f)
{
	char *name;

	name = nf == 3 ? f[2] : "main";
	if(dumptree(name, consline, c) == -1){
		if(iserr(Enosnap))
			cprint(c, "show: open '%s': does not exist\n", name);
		else
			cprint(c, "show: %s\n", errstr());
	}
}

static Concmd cmds[] = {
	{"check",	nil,	0, 0,	"check",	cmdcheck},
	{"df",		nil,	0, 0,	"df",		cmddf},
	{"halt",	nil,	0, 0,	"halt",		cmdhalt},
	{"help",	nil,	0, 0,	"help",		cmdhelp},
	{"permit",	nil,	1, 1,	"permit on|off",	cmdpermit},
	{"reserve",	nil,	0, 1,	"reserve [on|off]",	cmdreserve},
	{"snap",	nil,	0, Maxfield, "snap -[mdl] [old [new]]", cmdsnap},
	{"sync",	nil,	0, 0,	"sync",		cmdsync},
	{"users",	nil,	0, 1,	"users",	cmdusers},
	{"set",		nil,	2, 3,	"set [snap] key value",	cmdset},
	{"clear",	nil,	1, 2,	"clear [snap] key",	cmdclear},
	{"debug",	"clock", 1, 1,	"debug clock seconds|now", cmdclock},
	{"debug",	nil,	0, 1,	"debug [level]",	cmddebug},
	{"show",	"tree",	0, 1,	"show tree [name]",	cmdshowtree},
	{"show",	"users", 0, 0,	"show users",	cmdshowusers},
	{"show",	"free",	0, 0,	"show free",	cmdshowfree},
	{nil},
};

/*
 * Find the command of f (runtime §5.2): by name, then by sub-command,
 * then by the number of fields.  A known command with the wrong fields
 * gets its usage, an unknown one "unknown command".
 */
static void
runcmd(Console *c, int nf, char **f)
{
	Concmd *t, *named;
	int i, n;

	named = nil;
	for(t = cmds; t->name != nil; t++){
		if(strcmp(t->name, f[0]) != 0)
			continue;
		if(named == nil)
			named = t;
		if(t->sub != nil){
			if(nf < 2 || strcmp(f[1], t->sub) != 0)
				continue;
			n = nf - 2;
		}else
			n = nf - 1;
		if(n < t->min || n > t->max){
			cprint(c, "usage: %s\n", t->usage);
			return;
		}
		t->fn(c, nf, f);
		return;
	}
	if(named != nil){
		for(t = named; t->name != nil && strcmp(t->name, f[0]) == 0; t++)
			cprint(c, "usage: %s\n", t->usage);
		return;
	}
	cprint(c, "unknown command '");
	for(i = 0; i < nf; i++)
		cprint(c, "%s%s", i > 0 ? " " : "", f[i]);
	cprint(c, "'\n");
}

/* ------------------------------------------------------ the clients */

/*
 * The next line from c into line (NUL-terminated): 1, 0 at the end, -1
 * if it was too long, -2 if it held a NUL byte.
 */
static int
nextline(Console *c, char *line)
{
	char *nl;
	long n;
	int skip;

	skip = 0;
	for(;;){
		if((nl = memchr(c->buf, '\n', c->nbuf)) != nil){
			n = nl - c->buf;
			memcpy(line, c->buf, n);
			line[n] = 0;
			c->nbuf -= n+1;
			memmove(c->buf, nl+1, c->nbuf);
			if(skip)
				return -1;
			return memchr(line, 0, n) != nil ? -2 : 1;
		}
		if(c->nbuf == Conslinemax){
			/* too long: drop it up to its newline */
			skip = 1;
			c->nbuf = 0;
		}
		n = read(c->fd, c->buf + c->nbuf, Conslinemax - c->nbuf);
		if(n < 0 && errno == EINTR)
			continue;
		if(n <= 0)
			return 0;
		c->nbuf += n;
	}
}

/* Count a command in, unless the server is stopping. */
static int
cmdbegin(void)
{
	int ok;

	qlock(&cons.lk);
	ok = !cons.quiet;
	if(ok)
		cons.nrun++;
	qunlock(&cons.lk);
	return ok;
}

static void
cmdend(void)
{
	qlock(&cons.lk);
	cons.nrun--;
	rwakeupall(&cons.idle);
	qunlock(&cons.lk);
}

static void
consproc(void *arg)
{
	char *line, *f[Maxfield];
	Console *c;
	int r, nf;

	c = arg;
	line = emalloc(Conslinemax+1);
	for(;;){
		if(cmdbegin()){
			cprint(c, "gefs# ");
			cmdend();
		}
		if((r = nextline(c, line)) == 0)
			break;
		if(!cmdbegin())
			continue;	/* stopping: wait for the hang-up */
		if(r == -1)
			cprint(c, "syntax error: line longer than %d bytes\n", Conslinemax-1);
		else if(r == -2)
			cprint(c, "syntax error: NUL byte in line\n");
		else if((nf = tokenize(line, f, Maxfield)) == -1)
			cprint(c, "syntax error: %s\n", errstr());
		else if(nf > 0)
			runcmd(c, nf, f);
		cmdend();
	}
	free(line);
	/* the client sees the end now; the descriptor is closed when the thread is joined */
	shutdown(c->fd, SHUT_RDWR);
	qlock(&cons.lk);
	c->done = 1;
	rwakeupall(&cons.idle);
	qunlock(&cons.lk);
}

/* Join the threads of clients that have gone; under cons.lk. */
static void
reap(void)
{
	Console **pp, *c;

	for(pp = &cons.conns; (c = *pp) != nil;){
		if(!c->done){
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		pthread_join(c->tid, nil);
		close(c->fd);
		free(c);
		cons.nconn--;
	}
}

/* Serve a console client on fd (srv.c has checked who it is). */
int
consconn(int fd)
{
	Console *c;

	qlock(&cons.lk);
	reap();
	if(cons.quiet){
		qunlock(&cons.lk);
		werrstr("the server is stopping");
		return -1;
	}
	if(cons.nconn >= Maxcons){
		qunlock(&cons.lk);
		werrstr("more than %d console clients", Maxcons);
		return -1;
	}
	c = emalloc(sizeof *c);
	c->fd = fd;
	if(launch(consproc, c, "cons", &c->tid) == -1){
		qunlock(&cons.lk);
		free(c);
		return -1;
	}
	c->next = cons.conns;
	cons.conns = c;
	cons.nconn++;
	qunlock(&cons.lk);
	return 0;
}

/* ------------------------------------------------------- /adm/ctl */

/* Store a retain setting as the ctl command gives it (format §17.1). */
static int
ctlretain(int nf, char **f)
{
	char *label, v[Ctlmax];
	Retain r;
	int i, n;

	label = strcmp(f[1], "-") == 0 ? nil : f[1];
	if(nf == 3 && strcmp(f[2], "default") == 0)
		return clrconf(label, "retain");
	n = 0;
	v[0] = 0;
	if(nf != 3 || strcmp(f[2], "none") != 0)
		for(i = 2; i < nf; i++){
			if(parseretain(f[i], strlen(f[i]), &r) == -1){
				werrstr("%s: retain item '%s'", Ebadctl, f[i]);
				return -1;
			}
			n += snprintf(v+n, sizeof v - n, "%s ", f[i]);
		}
	return setconf(label, "retain", v);
}

/* The file system must be writable for a command that changes it. */
static int
ctlwritable(void)
{
	if(isrdonly()){
		werrstr("%s", Erdonly);
		return -1;
	}
	return 0;
}

/*
 * One write to /adm/ctl (runtime §12, format §17.8): 0 or -1 with errstr.
 * fs.c has checked the offset and the size.  Anything but a known
 * command with the right arguments fails with Ebadctl, changing nothing.
 */
int
ctlcmd(char *buf, int n)
{
	char line[Ctlmax], *f[Maxfield];
	int nf, v, r;

	if(n >= Ctlmax){
		werrstr("%s", Elength);
		return -1;
	}
	memcpy(line, buf, n);
	line[n] = 0;
	while(n > 0 && line[n-1] == '\n')
		line[--n] = 0;
	if(memchr(line, 0, n) != nil || strchr(line, '\n') != nil || (nf = tokenize(line, f, Maxfield)) <= 0){
		werrstr("%s", Ebadctl);
		return -1;
	}
	if(nf == 1 && strcmp(f[0], "sync") == 0)
		return fssync();
	if(nf == 1 && strcmp(f[0], "halt") == 0){
		warn("halted through /adm/ctl");
		kill(getpid(), SIGTERM);
		return 0;
	}
	if(nf == 1 && strcmp(f[0], "check") == 0)
		return check(logline, nil);
	if(nf == 1 && strcmp(f[0], "users") == 0)
		return fsreloadusers(logline, nil);
	if(nf == 2 && strcmp(f[0], "delsnap") == 0){
		if(ctlwritable() == -1 || snapdelete(f[1]) == -1)
			return -1;
		return fssync();
	}
	if(nf == 3 && (strcmp(f[0], "snap") == 0 || strcmp(f[0], "fork") == 0)){
		if(ctlwritable() == -1 || snapcreate(f[1], f[2], f[0][0] == 'f') == -1)
			return -1;
		return fssync();
	}
	if(nf == 2 && strcmp(f[0], "usereserve") == 0 && (v = decimal(f[1])) >= 0 && v <= 1){
		asetl(&fs->usereserve, v);
		return 0;
	}
	if(nf == 2 && strcmp(f[0], "debug") == 0 && (v = decimal(f[1])) >= 0){
		asetl(&debug, v);
		return 0;
	}
	if(nf >= 3 && strcmp(f[0], "retain") == 0){
		if((r = ctlretain(nf, f)) == -1 && iserr(Esyntax))
			werrstr("%s: %s", Ebadctl, errstr());
		return r;
	}
	werrstr("%s", Ebadctl);
	return -1;
}

/* ---------------------------------------------------- /adm/status */

typedef struct Text	Text;
struct Text {
	char	*s;
	long	n;
	long	cap;
};

static void
tprint(Text *t, char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tprint(Text *t, char *fmt, ...)
{
	va_list ap;
	int n;

	for(;;){
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
		va_end(ap);
		if(n < 0)
			return;
		if(t->n + n < t->cap)
			break;
		t->cap = 2*(t->cap + n);
		t->s = erealloc(t->s, t->cap);
	}
	t->n += n;
}

/* s quoted as rc would need it (Plan 9's %q). */
static void
tquote(Text *t, char *s)
{
	char *p;

	if(*s != 0 && strpbrk(s, " \t\n'`^#;&|$=(){}<>") == nil){
		for(p = s; *p != 0 && (uchar)*p > ' ' && *p != 0x7f; p++)
			;
		if(*p == 0){
			tprint(t, "%s", s);
			return;
		}
	}
	tprint(t, "'");
	for(p = s; *p != 0; p++)
		tprint(t, *p == '\'' ? "''" : "%c", *p);
	tprint(t, "'");
}

static void
tconf(Text *t, char *label, char *val)
{
	tprint(t, "conf retain ");
	tquote(t, label);
	tprint(t, " ");
	tquote(t, val);
	tprint(t, "\n");
}

/*
 * The text of /adm/status (runtime §12): "gefs p9", the usage, the
 * retain settings (the global one, or the default, then those of
 * mutable labels that have their own), then every label.
 */
char*
statustext(long *np)
{
	char v[Inlmax+1], why[Errmax];
	vlong used, size;
	Label *l;
	Text t;
	int i, n;

	memset(&t, 0, sizeof t);
	t.cap = 1024;
	t.s = emalloc(t.cap);
	tprint(&t, "gefs p9\n");
	fsusage(&used, &size);
	tprint(&t, "usage %lld %lld %lld\n", size > 0 ? (long long)(100*used/size) : 0LL,
		(long long)used, (long long)size);
	if(rdonlywhy(why, sizeof why) != nil)
		tprint(&t, "readonly %s\n", why);
	if(getconf(nil, "retain", v, sizeof v) != 1)
		strcpy(v, "60@m 24@h @d");
	tconf(&t, "", v);
	if((n = snaplist(&l)) == -1){
		tprint(&t, "error %s\n", errstr());
		n = 0;
	}
	for(i = 0; i < n; i++)
		if((l[i].flag & Lmut) && getconf(l[i].name, "retain", v, sizeof v) == 1)
			tconf(&t, l[i].name, v);
	for(i = 0; i < n; i++)
		tprint(&t, "%s %s\n", (l[i].flag & Lmut) ? "fork" : "snap", l[i].name);
	if(n > 0)
		freelabels(l, n);
	*np = t.n;
	return t.s;
}

/* -------------------------------------------- migration, the clock */

/*
 * Put the ctl and status entries of format §17.8 into the adm root of
 * a volume made before they existed.  An entry of that name that is
 * there already, whatever it is, stays as it is.
 */
static int
admmigrate(void)
{
	static struct {
		char	*name;
		uvlong	qid;
	} ent[] = {
		{"ctl", Qctl},
		{"status", Qstatus},
	};
	char k[Keymax], v[Xdirsz], kb[Keymax+Inlmax];
	Mount *m;
	Xdir d;
	Key key;
	Kvp kv;
	Msg msg;
	int i, r, added;

	if((m = getmount("adm")) == nil)
		return -1;
	added = 0;
	r = 0;
	qlock(&fs->mutlk);
	for(i = 0; i < (int)nelem(ent) && r == 0 && (m->flag & Lmut); i++){
		key.k = k;
		key.nk = packdkey(k, sizeof k, Qadm, ent[i].name, strlen(ent[i].name));
		epochstart();
		r = btlookup(m->root, &key, &kv, kb, sizeof kb);
		epochend();
		if(r != 0){
			r = r == 1 ? 0 : -1;
			continue;
		}
		memset(&d, 0, sizeof d);
		d.qid.path = ent[i].qid;
		d.mode = 0664;
		d.uid = -1;
		d.gid = -1;
		packdir(v, &d);
		memset(&msg, 0, sizeof msg);
		msg.op = Oinsert;
		msg.kv.k = k;
		msg.kv.nk = key.nk;
		msg.kv.v = v;
		msg.kv.nv = Xdirsz;
		if((r = upsert(m->root, &msg, 1)) == 0){
			warn("adm: added /adm/%s", ent[i].name);
			added++;
		}
	}
	qunlock(&fs->mutlk);
	putmount(m);
	if(r == 0 && added > 0)
		r = fssync();
	epochclean();
	return r;
}

static void
tickproc(void *arg)
{
	vlong now;

	qlock(&cons.clk);
	while(!cons.tickquit){
		rsleepuntil(&cons.tickr, monons() + Syncperiod*1000000000LL);
		if(cons.tickquit)
			break;
		now = cons.clock != -1 ? cons.clock : wallns()/1000000000LL;
		retaintick(now);
	}
	qunlock(&cons.clk);
}

void
consstart(Srvconf *cf)
{
	qlockinit(&cons.lk);
	rendezinit(&cons.idle, &cons.lk);
	qlockinit(&cons.clk);
	rendezinit(&cons.tickr, &cons.clk);
	cons.cf = cf;
	cons.clock = -1;
	if(cf->rdonly || isrdonly())
		return;
	if(admmigrate() == -1)
		warn("adding /adm/ctl and /adm/status: %s", errstr());
	cons.tickquit = 0;
	if(launch(tickproc, nil, "retain", &cons.ticker) == -1)
		sysfatal("%s", errstr());
	cons.ticking = 1;
}

static void
hangup(void)
{
	Console *c;

	for(c = cons.conns; c != nil; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
}

/*
 * A command still running after a while may be stuck writing to a
 * client that does not read: hanging up makes its writes fail.
 */
void
consquiesce(void)
{
	vlong deadline;
	int hung;

	qlock(&cons.lk);
	cons.quiet = 1;
	deadline = monons() + Consgrace*1000000000LL;
	hung = 0;
	while(cons.nrun > 0){
		if(!hung && monons() >= deadline){
			hangup();
			hung = 1;
		}
		if(hung)
			rsleep(&cons.idle);
		else
			rsleepuntil(&cons.idle, deadline);
	}
	qunlock(&cons.lk);
	if(cons.ticking){
		qlock(&cons.clk);
		cons.tickquit = 1;
		rwakeup(&cons.tickr);
		qunlock(&cons.clk);
		pthread_join(cons.ticker, nil);
		cons.ticking = 0;
	}
}

void
consstop(void)
{
	Console *c;

	qlock(&cons.lk);
	hangup();
	for(;;){
		for(c = cons.conns; c != nil && c->done; c = c->next)
			;
		if(c == nil)
			break;
		rsleep(&cons.idle);
	}
	reap();
	qunlock(&cons.lk);
}
