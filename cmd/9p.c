/*
 * 9p: a 9P2000 client for scripts (man/9p.1).
 *
 *	9p [-a address] [-A aname] [-u user] [-m msize] command args...
 *
 * Usage errors exit 2 before anything is dialled; a failed command prints
 * "9p: command path: error" and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"

typedef struct Opt	Opt;
typedef struct Cmd	Cmd;

/* Plan 9 style options: grouped letters, values attached or next; "--". */
struct Opt {
	int	argc;
	char	**argv;
	char	*p;		/* rest of the current option word */
};

struct Cmd {
	char	*name;
	char	*flags;		/* option letters the command takes */
	int	min;		/* operands */
	int	max;		/* -1: any number */
	char	*args;		/* for the usage message */
	int	(*check)(char **argv);
	int	(*run)(Cfid *root, int argc, char **argv);
};

static char	*cmdname;
static int	flag[128];

static void
usage(void)
{
	fprintf(stderr,
		"usage: 9p [-a address] [-A aname] [-u user] [-m msize] command args...\n"
		"commands:\n"
		"	read path\n"
		"	write path\n"
		"	ls [-ld] [path...]\n"
		"	stat path\n"
		"	create path...\n"
		"	mkdir path...\n"
		"	rm path...\n"
		"	mv path newname\n"
		"	chmod mode path\n"
		"	sync\n");
	exit(2);
}

static int
optnext(Opt *o)
{
	if(o->p == nil || *o->p == 0){
		if(o->argc == 0 || o->argv[0][0] != '-' || o->argv[0][1] == 0)
			return 0;
		o->p = o->argv[0]+1;
		o->argc--;
		o->argv++;
		if(strcmp(o->p, "-") == 0){
			o->p = nil;
			return 0;
		}
	}
	return (uchar)*o->p++;
}

static char*
optval(Opt *o)
{
	char *v;

	if(*o->p != 0){
		v = o->p;
		o->p += strlen(o->p);
		return v;
	}
	if(o->argc == 0)
		usage();
	v = o->argv[0];
	o->argc--;
	o->argv++;
	return v;
}

/* Report a failure of the current command on path; returns -1. */
static int
fail(char *path)
{
	warn("%s %s: %s", cmdname, path, errstr());
	return -1;
}

/* Split path into its directory and last element, in a copy freed by the caller. */
static char*
splitlast(char *path, char **dir, char **base)
{
	char *s, *p;
	size_t n;

	s = estrdup(path);
	n = strlen(s);
	while(n > 1 && s[n-1] == '/')
		s[--n] = 0;
	p = strrchr(s, '/');
	if(p == nil){
		*dir = "";
		*base = s;
	}else{
		*p = 0;
		*dir = p == s ? "/" : s;
		*base = p+1;
	}
	return s;
}

static int
writeall(int fd, uchar *buf, long n)
{
	long m, tot;

	for(tot = 0; tot < n; tot += m){
		m = write(fd, buf+tot, n-tot);
		if(m < 0 && errno == EINTR){
			m = 0;
			continue;
		}
		if(m <= 0){
			werrstr("write to standard output: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
xread(Cfid *root, int argc, char **argv)
{
	Cfid *f;
	uchar *buf;
	long n;
	int r;

	f = cwalk(root, argv[0]);
	if(f == nil)
		return fail(argv[0]);
	if(copen(f, OREAD) < 0){
		fail(argv[0]);
		cclunk(f);
		return -1;
	}
	buf = emalloc(f->iounit);
	r = 0;
	while((n = cread(f, buf, f->iounit)) > 0)
		if(writeall(1, buf, n) < 0){
			r = -1;
			break;
		}
	if(n < 0)
		r = -1;
	if(r < 0)
		fail(argv[0]);
	free(buf);
	cclunk(f);
	return r;
}

/* Create name in dir with perm, opened with mode; the new fid, or nil. */
static Cfid*
createin(Cfid *root, char *path, u32int perm, int mode)
{
	char *s, *dir, *base;
	Cfid *f;

	s = splitlast(path, &dir, &base);
	f = nil;
	if(*base == 0)
		werrstr("no file name");
	else if((f = cwalk(root, dir)) != nil && ccreate(f, base, perm, mode) < 0){
		cclunk(f);
		f = nil;
	}
	free(s);
	return f;
}

/* An existing file is truncated; a missing one is created, mode 0664. */
static Cfid*
openwrite(Cfid *root, char *path)
{
	Cfid *f;

	f = cwalk(root, path);
	if(f == nil){
		if(!iserr(Esrch))
			return nil;
		return createin(root, path, 0664, OWRITE);
	}
	if(copen(f, OWRITE|OTRUNC) < 0){
		cclunk(f);
		return nil;
	}
	return f;
}

static int
xwrite(Cfid *root, int argc, char **argv)
{
	Cfid *f;
	uchar *buf;
	long n;
	int r;

	f = openwrite(root, argv[0]);
	if(f == nil)
		return fail(argv[0]);
	buf = emalloc(f->iounit);
	r = 0;
	for(;;){
		n = read(0, buf, f->iounit);
		if(n < 0 && errno == EINTR)
			continue;
		if(n < 0){
			werrstr("read standard input: %s", strerror(errno));
			r = -1;
			break;
		}
		if(n == 0)
			break;
		if(cwrite(f, buf, n) != n){
			r = -1;
			break;
		}
	}
	if(r < 0)
		fail(argv[0]);
	free(buf);
	cclunk(f);
	return r;
}

/* ---------------------------------------------------------------- ls */

static int
dircmp(const void *a, const void *b)
{
	return strcmp(((Dir*)a)->name, ((Dir*)b)->name);
}

static char*
datestr(u32int t, char *buf, int n)
{
	struct tm tm;
	time_t tt, now;

	tt = t;
	now = time(nil);
	localtime_r(&tt, &tm);
	/* Plan 9 ls: the time of day for the last six months, else the year */
	if(tt > now - 180*24*60*60 && tt <= now + 60*60)
		strftime(buf, n, "%b %e %H:%M", &tm);
	else
		strftime(buf, n, "%b %e  %Y", &tm);
	return buf;
}

static int
width(char *s, int w)
{
	return MAX((int)strlen(s), w);
}

static int
numwidth(uvlong v, int w)
{
	char buf[32];

	return MAX(snprintf(buf, sizeof buf, "%llu", (unsigned long long)v), w);
}

/* Print entries; with useprefix, names are shown under the directory pfx. */
static void
lsprint(Dir *d, long nd, char *pfx, int useprefix)
{
	char mode[12], date[32], *sep;
	int wu, wg, wl;
	long i;

	sep = *pfx != 0 && pfx[strlen(pfx)-1] != '/' ? "/" : "";
	wu = wg = wl = 0;
	for(i = 0; i < nd; i++){
		wu = width(d[i].uid, wu);
		wg = width(d[i].gid, wg);
		wl = numwidth(d[i].length, wl);
	}
	for(i = 0; i < nd; i++){
		if(flag['l'])
			printf("%s %-*s %-*s %*llu %s ", modestr(d[i].mode, mode),
				wu, d[i].uid, wg, d[i].gid, wl,
				(unsigned long long)d[i].length,
				datestr(d[i].mtime, date, sizeof date));
		if(useprefix)
			printf("%s%s%s\n", pfx, sep, d[i].name);
		else
			printf("%s\n", d[i].name);
	}
}

static int
lsdir(Cfid *root, char *path, int useprefix)
{
	Cfid *f;
	Dir *d;
	long nd;

	f = cwalk(root, path);
	if(f == nil)
		return fail(path);
	if(copen(f, OREAD) < 0 || (nd = cdirreadall(f, &d)) < 0){
		fail(path);
		cclunk(f);
		return -1;
	}
	cclunk(f);
	if(nd > 0)
		qsort(d, nd, sizeof d[0], dircmp);
	lsprint(d, nd, path, useprefix);
	free(d);
	return 0;
}

static Dir*
lsstat(Cfid *root, char *path)
{
	Cfid *f;
	Dir *d;

	f = cwalk(root, path);
	if(f == nil){
		fail(path);
		return nil;
	}
	d = cstat(f);
	if(d == nil)
		fail(path);
	cclunk(f);
	return d;
}

static int
listable(Dir *d)
{
	return d != nil && (d->qid.type & QTDIR) && !flag['d'];
}

/*
 * Files (and with -d directories) first, as one aligned list under the
 * names given, then the contents of each directory.  No paths: the root.
 */
static int
xls(Cfid *root, int argc, char **argv)
{
	static char *slash[] = {"/"};
	Dir **st, *files;
	long i, nf;
	int r;

	if(argc == 0){
		argc = 1;
		argv = slash;
	}
	st = emalloc(argc * sizeof st[0]);
	files = emalloc(argc * sizeof files[0]);
	r = 0;
	nf = 0;
	for(i = 0; i < argc; i++){
		st[i] = lsstat(root, argv[i]);
		if(st[i] == nil)
			r = -1;
		else if(!listable(st[i])){
			files[nf] = *st[i];
			files[nf++].name = argv[i];
		}
	}
	lsprint(files, nf, "", 0);
	for(i = 0; i < argc; i++)
		if(listable(st[i]) && lsdir(root, argv[i], argc > 1) < 0)
			r = -1;
	for(i = 0; i < argc; i++)
		free(st[i]);
	free(st);
	free(files);
	return r;
}

/* -------------------------------------------------------------- stat */

static int
xstat(Cfid *root, int argc, char **argv)
{
	Cfid *f;
	Dir *d;
	char mode[12];

	f = cwalk(root, argv[0]);
	if(f == nil)
		return fail(argv[0]);
	d = cstat(f);
	cclunk(f);
	if(d == nil)
		return fail(argv[0]);
	printf("name %s\n", d->name);
	printf("type %u\n", d->type);
	printf("dev %u\n", d->dev);
	printf("qid.path %llu\n", (unsigned long long)d->qid.path);
	printf("qid.vers %u\n", d->qid.vers);
	printf("qid.type 0x%02x\n", d->qid.type);
	printf("mode %#o %s\n", d->mode, modestr(d->mode, mode));
	printf("atime %u\n", d->atime);
	printf("mtime %u\n", d->mtime);
	printf("length %llu\n", (unsigned long long)d->length);
	printf("uid %s\n", d->uid);
	printf("gid %s\n", d->gid);
	printf("muid %s\n", d->muid);
	free(d);
	return 0;
}

/* ------------------------------------------------ create, mkdir, rm */

static int
mkeach(Cfid *root, int argc, char **argv, u32int perm)
{
	Cfid *f;
	int i, r;

	r = 0;
	for(i = 0; i < argc; i++){
		f = createin(root, argv[i], perm, OREAD);
		if(f == nil)
			r = fail(argv[i]);
		else
			cclunk(f);
	}
	return r;
}

static int
xcreate(Cfid *root, int argc, char **argv)
{
	return mkeach(root, argc, argv, 0664);
}

static int
xmkdir(Cfid *root, int argc, char **argv)
{
	return mkeach(root, argc, argv, DMDIR|0775);
}

static int
xrm(Cfid *root, int argc, char **argv)
{
	Cfid *f;
	int i, r;

	r = 0;
	for(i = 0; i < argc; i++){
		f = cwalk(root, argv[i]);
		if(f == nil || cremove(f) < 0)
			r = fail(argv[i]);
	}
	return r;
}

/* --------------------------------------------------------------- mv */

/* Do paths a and b name the same directory? */
static int
samedir(Cfid *root, char *a, char *b)
{
	Cfid *fa, *fb;
	int same;

	fa = cwalk(root, a);
	if(fa == nil)
		return -1;
	fb = cwalk(root, b);
	if(fb == nil){
		cclunk(fa);
		return -1;
	}
	same = fa->qid.path == fb->qid.path;
	cclunk(fa);
	cclunk(fb);
	return same;
}

static int
rename1(Cfid *root, char *path, char *newname)
{
	char *s, *t, *pdir, *pbase, *ndir, *nbase;
	Dir d;
	Cfid *f;
	int r, same;

	s = splitlast(path, &pdir, &pbase);
	t = splitlast(newname, &ndir, &nbase);
	r = -1;
	same = 1;
	if(*nbase == 0)
		werrstr("no new name");
	else if(strchr(newname, '/') != nil && (same = samedir(root, pdir, ndir)) == 0)
		werrstr("%s is in another directory: mv only renames within a directory", newname);
	else if(same > 0 && (f = cwalk(root, path)) != nil){
		nulldir(&d);
		d.name = nbase;
		r = cwstat(f, &d);
		cclunk(f);
	}
	free(s);
	free(t);
	return r;
}

static int
xmv(Cfid *root, int argc, char **argv)
{
	if(rename1(root, argv[0], argv[1]) < 0)
		return fail(argv[0]);
	return 0;
}

/* ------------------------------------------------------------ chmod */

static int
parsemode(char *s, u32int *mode)
{
	char *e;
	unsigned long long v;

	if(*s < '0' || *s > '7')
		return -1;
	errno = 0;
	v = strtoull(s, &e, 8);
	if(*e != 0 || errno != 0 || v > 0xFFFFFFFFULL)
		return -1;
	*mode = v;
	return 0;
}

static int
checkchmod(char **argv)
{
	u32int m;

	if(parsemode(argv[0], &m) < 0){
		fprintf(stderr, "9p: chmod: bad mode '%s': want octal\n", argv[0]);
		return -1;
	}
	return 0;
}

/* Permission bits alone keep the file's other mode bits. */
static int
xchmod(Cfid *root, int argc, char **argv)
{
	Cfid *f;
	Dir *old, d;
	u32int mode;
	int r;

	parsemode(argv[0], &mode);
	f = cwalk(root, argv[1]);
	if(f == nil)
		return fail(argv[1]);
	old = cstat(f);
	r = -1;
	if(old != nil){
		nulldir(&d);
		d.mode = mode;
		if((mode & ~0777) == 0)
			d.mode = (old->mode & ~0777) | mode;
		r = cwstat(f, &d);
		free(old);
	}
	if(r < 0)
		fail(argv[1]);
	cclunk(f);
	return r;
}

/* ------------------------------------------------------------- sync */

/* A wstat that changes nothing asks the server to sync. */
static int
xsync(Cfid *root, int argc, char **argv)
{
	Dir d;

	nulldir(&d);
	if(cwstat(root, &d) < 0)
		return fail("/");
	return 0;
}

static Cmd cmds[] = {
	{"read",	"",	1, 1,	"path",		nil,		xread},
	{"write",	"",	1, 1,	"path",		nil,		xwrite},
	{"ls",		"ld",	0, -1,	"[-ld] [path...]",	nil,		xls},
	{"stat",	"",	1, 1,	"path",		nil,		xstat},
	{"create",	"",	1, -1,	"path...",	nil,		xcreate},
	{"mkdir",	"",	1, -1,	"path...",	nil,		xmkdir},
	{"rm",		"",	1, -1,	"path...",	nil,		xrm},
	{"mv",		"",	2, 2,	"path newname",	nil,		xmv},
	{"chmod",	"",	2, 2,	"mode path",	checkchmod,	xchmod},
	{"sync",	"",	0, 0,	"",		nil,		xsync},
};

static Cmd*
lookcmd(char *name)
{
	int i;

	for(i = 0; i < (int)nelem(cmds); i++)
		if(strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	fprintf(stderr, "9p: unknown command '%s'\n", name);
	usage();
	return nil;
}

static void
cmdusage(Cmd *c)
{
	fprintf(stderr, "usage: 9p [options] %s%s%s\n", c->name, *c->args ? " " : "", c->args);
	exit(2);
}

/* The command's own options and operands, checked before dialling. */
static void
cmdargs(Cmd *c, int *argcp, char ***argvp)
{
	Opt o;
	int ch;

	memset(&o, 0, sizeof o);
	o.argc = *argcp;
	o.argv = *argvp;
	while((ch = optnext(&o)) != 0){
		if(ch >= (int)nelem(flag) || strchr(c->flags, ch) == nil)
			cmdusage(c);
		flag[ch] = 1;
	}
	if(o.argc < c->min || (c->max >= 0 && o.argc > c->max))
		cmdusage(c);
	if(c->check != nil && c->check(o.argv) < 0)
		exit(2);
	*argcp = o.argc;
	*argvp = o.argv;
}


int
main(int argc, char **argv)
{
	char *addr, *aname, *uname;
	u32int msize;
	Opt o;
	Cmd *c;
	Cfs *fs;
	Cfid *root;
	int ch, r;

	setprogname("9p");
	addr = "gefs";
	aname = "";
	uname = cuser();
	msize = Defmsize;
	memset(&o, 0, sizeof o);
	o.argc = argc-1;
	o.argv = argv+1;
	while((ch = optnext(&o)) != 0)
		switch(ch){
		case 'a':
			addr = optval(&o);
			break;
		case 'A':
			aname = optval(&o);
			break;
		case 'u':
			uname = optval(&o);
			break;
		case 'm':
			if(parsemsize(optval(&o), &msize) == -1){
				fprintf(stderr, "9p: %s\n", errstr());
				exit(2);
			}
			break;
		default:
			usage();
		}
	if(o.argc < 1)
		usage();
	c = lookcmd(o.argv[0]);
	cmdname = c->name;
	o.argc--;
	o.argv++;
	cmdargs(c, &o.argc, &o.argv);

	fs = cfsdial(addr, msize);
	if(fs == nil){
		warn("%s", errstr());
		return 1;
	}
	root = cfsattach(fs, uname, aname);
	if(root == nil){
		warn("attach '%s' as %s: %s", aname, uname, errstr());
		cfsclose(fs);
		return 1;
	}
	r = c->run(root, o.argc, o.argv);
	cclunk(root);
	cfsclose(fs);
	if(fflush(stdout) != 0){
		warn("%s: standard output: %s", cmdname, strerror(errno));
		r = -1;
	}
	return r < 0 ? 1 : 0;
}
