/*
 * 9pfuse: a 9P2000 file server mounted through FUSE (man/9pfuse.4).
 *
 *	9pfuse [-a aname] [-u user] [-m msize] [-o fuseopts] [-f] address mountpoint
 *
 * The low-level libfuse API, because its inodes fit 9P's fids: every
 * inode the kernel knows is a Inode holding a fid walked to the file and
 * never opened, from the lookup that made it known (or the first
 * request that needs it, for a node readdirplus or create made) until
 * the kernel forgets it.  So each request starts from its inode's own fid: getattr
 * is a Tstat, setattr a Twstat, lookup a Twalk of one name, open clones
 * the fid and opens the clone.  What a request costs is 9P round trips,
 * so a lookup that finds the version whose attributes it last gave the
 * kernel sends no Tstat, the fid it walked is kept as the node's spare
 * for the next open (or create in it) instead of walking a clone then,
 * and clunks that change nothing are not waited for (cdrop).  A fid follows its file through renames
 * (the server keeps its key), so nothing is ever re-walked by name.
 * Nodes are found by qid.path, so one file is one inode however it was
 * reached.  The FUSE node id is the Inode's address (the root's is
 * FUSE_ROOT_ID); st_ino is qid.path+1, which is never 0.
 *
 * Reads and writes go straight to the server (no write-back cache),
 * each FUSE request of up to msize-24 bytes one Tread or Twrite, so
 * what a write returned is what another client reads.  The kernel keeps
 * attributes and names for attr_timeout and entry_timeout (a second by
 * default, -o); at each open the file's qid.vers says whether it may
 * keep the data it cached and the attributes it holds (close-to-open).
 *
 * A file unlinked while open here is renamed to .9pfuse.QIDPATH and
 * removed at its last close, as NFS clients do, so the open file keeps
 * working.
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE		/* RENAME_NOREPLACE, getpwnam_r */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <limits.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/mount.h>
#endif
#include <fuse_lowlevel.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "fcall.h"
#include "cmd/client.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1<<0)
#endif

typedef struct Inode	Inode;
typedef struct Handle	Handle;
typedef struct Id	Id;

enum {
	Nhash		= 4096,		/* node table buckets */
	Maxfuseio	= 1024*1024,	/* the most the kernel sends in one request */
	Hashbase	= 0x1000000,	/* ids of names with no local account */
	Hashspan	= 0x40000000,
	Fsblk		= 16384,	/* gefs's block, for statfs */
	Namemax		= 244,		/* gefs's longest name */
	Maxtimeout	= 1000000,
	Deftimeout	= 1,		/* seconds */	/* seconds, for attr_timeout and entry_timeout */
};

/*
 * The fields after path are under fuse.lk.  A node made by readdirplus
 * has no fid until a request needs one (nodefid): until then it names
 * its directory, which it pins, and its name there.
 */
struct Inode {
	Inode	*next;		/* hash chain by path */
	uvlong	path;		/* qid.path */
	Cfid	*fid;		/* walked here, never opened; or nil */
	Cfid	*spare;		/* another such, for the next open to take; or nil */
	Inode	*parent;	/* while fid is nil */
	char	*name;
	uvlong	nlookup;	/* the kernel's references */
	int	nopen;		/* handles */
	int	npin;		/* fid-less nodes naming this one as their parent */
	int	hidden;		/* unlinked while open: remove at the last release */
	u32int	avers;		/* qid.vers of the attributes the kernel holds, */
	int	aok;		/* if nothing changed them through us since: */
	struct stat st;		/* those attributes */
	u32int	dvers;		/* qid.vers at the last open, */
	int	dok;		/* if nothing was written through us since */
};

/* An open file or directory: fi->fh. */
struct Handle {
	Inode	*n;
	Cfid	*fid;		/* open; nil for a directory */
	QLock	lk;		/* a directory's entries */
	Dir	*d;
	long	nd;
	int	served;		/* readdir has returned entries */
};

/* A user or group name and the numeric id it shows as. */
struct Id {
	Id	*next;
	char	*name;
	u32int	id;
	int	group;
};

static struct {
	Cfs	*fs;
	char	*addr;
	char	*uname;
	char	*mnt;		/* absolute */
	u32int	iosize;		/* bytes per FUSE read or write */
	u32int	blksize;	/* st_blksize: iosize rounded down to a power of 2 */
	double	attrtime;	/* seconds the kernel keeps attributes */
	double	entrytime;	/* seconds the kernel keeps names */
	struct fuse_session *se;

	QLock	lk;		/* nodes and ids */
	Inode	root;
	Inode	*hash[Nhash];
	Id	*ids;

	s32int	ending;		/* atomic: we are closing the connection ourselves */
	s32int	gone;		/* atomic: the server went away */
	s32int	detached;	/* atomic: we unmounted on our own */
	pthread_t watcher;
} fuse;

/* ------------------------------------------------------------ errors */

/* The errno a 9P error string stands for: gefs's strings, then common ones. */
static struct {
	char	*e;
	int	no;
} errmap[] = {
	{Esrch, ENOENT},
	{Ephase, ENOENT},
	{Eexist, EEXIST},
	{Eperm, EACCES},
	{Ewstato, EPERM},
	{Ewstatu, EPERM},
	{Ewstatg, EPERM},
	{Enouser, EPERM},
	{Enogrp, EPERM},
	{Enempty, ENOTEMPTY},
	{Efull, ENOSPC},
	{Erdonly, EROFS},
	{Elength, ENAMETOOLONG},
	{Ename, EINVAL},
	{Einuse, EBUSY},
	{Elocked, EBUSY},
	{Enomem, ENOMEM},
	{Ecdir, ENOTDIR},
	{Ewstatd, EINVAL},
	{Ewstatl, EINVAL},
	{Ewstatb, EINVAL},
	{Eoffset, EINVAL},
	{Efsize, EFBIG},
};

/* A fid-less node whose name now leads elsewhere (nodefid). */
static char Estalefid[] = "stale file handle";

static struct {
	char	*s;
	int	no;
} errwords[] = {
	{Estalefid, ESTALE},
	{"does not exist", ENOENT},
	{"not found", ENOENT},
	{"exists", EEXIST},
	{"permission", EACCES},
	{"not empty", ENOTEMPTY},
	{"read only", EROFS},
	{"read-only", EROFS},
	{"full", ENOSPC},
	{"too long", ENAMETOOLONG},
	{"not a directory", ENOTDIR},
	{"is a directory", EISDIR},
};

static int
hungup(void)
{
	char *why;

	qlock(&fuse.fs->lk);
	why = fuse.fs->hangup;
	qunlock(&fuse.fs->lk);
	return why != nil;
}

/* The errno for the current error string. */
static int
errnum(void)
{
	char *e;
	uint i;

	if(hungup())
		return EIO;
	for(i = 0; i < nelem(errmap); i++)
		if(iserr(errmap[i].e))
			return errmap[i].no;
	e = errstr();
	for(i = 0; i < nelem(errwords); i++)
		if(strstr(e, errwords[i].s) != nil)
			return errwords[i].no;
	dprint(1, "9pfuse: '%s' taken as EIO", e);
	return EIO;
}

static void
replyerr(fuse_req_t req)
{
	fuse_reply_err(req, errnum());
}

/* ------------------------------------------------------------- ids */

/* FNV-1a: any fixed hash would do, this one is short. */
static u32int
namehash(char *s)
{
	u32int h;

	h = 2166136261U;
	for(; *s != 0; s++){
		h ^= (uchar)*s;
		h *= 16777619U;
	}
	return h;
}

/* Called with fuse.lk held. */
static Id*
addid(char *name, u32int id, int group)
{
	Id *p;

	p = emalloc(sizeof *p);
	p->name = estrdup(name);
	p->id = id;
	p->group = group;
	p->next = fuse.ids;
	fuse.ids = p;
	return p;
}

/*
 * The id a name shows as (man/9pfuse.4): the mounting user's own uid
 * and gid for the attach user, else the local account or group of
 * that name, else a hash of the name above Hashbase.
 */
static u32int
nameid(char *name, int group)
{
	struct passwd pw, *pr;
	struct group gr, *gp;
	char buf[4096];
	u32int id;
	Id *p;

	qlock(&fuse.lk);
	for(p = fuse.ids; p != nil; p = p->next)
		if(p->group == group && strcmp(p->name, name) == 0){
			id = p->id;
			qunlock(&fuse.lk);
			return id;
		}
	if(strcmp(name, fuse.uname) == 0)
		id = group ? getgid() : getuid();
	else if(group && getgrnam_r(name, &gr, buf, sizeof buf, &gp) == 0 && gp != nil)
		id = gp->gr_gid;
	else if(!group && getpwnam_r(name, &pw, buf, sizeof buf, &pr) == 0 && pr != nil)
		id = pr->pw_uid;
	else
		id = Hashbase + namehash(name) % Hashspan;
	addid(name, id, group);
	qunlock(&fuse.lk);
	return id;
}

/* The name an id stands for, the inverse of nameid; nil if none. */
static char*
idname(u32int id, int group, char *buf, int nbuf)
{
	struct passwd pw, *pr;
	struct group gr, *gp;
	char *name;
	Id *p;

	if(id == (group ? getgid() : getuid()))
		return fuse.uname;
	name = nil;
	qlock(&fuse.lk);
	for(p = fuse.ids; p != nil; p = p->next)
		if(p->group == group && p->id == id){
			snprintf(buf, nbuf, "%s", p->name);
			name = buf;
			break;
		}
	qunlock(&fuse.lk);
	if(name != nil)
		return name;
	if(group && getgrgid_r(id, &gr, buf, nbuf, &gp) == 0 && gp != nil)
		return gp->gr_name;
	if(!group && getpwuid_r(id, &pw, buf, nbuf, &pr) == 0 && pr != nil)
		return pr->pw_name;
	return nil;
}

/* ------------------------------------------------------------- nodes */

static Inode*
nodeof(fuse_ino_t ino)
{
	if(ino == FUSE_ROOT_ID)
		return &fuse.root;
	return (Inode*)(uintptr_t)ino;
}

static fuse_ino_t
inoof(Inode *n)
{
	if(n == &fuse.root)
		return FUSE_ROOT_ID;
	return (fuse_ino_t)(uintptr_t)n;
}

/* Called with fuse.lk held. */
static Inode*
findnode(uvlong path)
{
	Inode *n;

	for(n = fuse.hash[path % Nhash]; n != nil; n = n->next)
		if(n->path == path)
			return n;
	return nil;
}

/* Called with fuse.lk held. */
static void
hashnode(Inode *n)
{
	n->next = fuse.hash[n->path % Nhash];
	fuse.hash[n->path % Nhash] = n;
}

/* Called with fuse.lk held. */
static void
unhashnode(Inode *n)
{
	Inode **l;

	for(l = &fuse.hash[n->path % Nhash]; *l != nil; l = &(*l)->next)
		if(*l == n){
			*l = n->next;
			return;
		}
}

/* Called with fuse.lk held: nothing refers to n any more. */
static int
unused(Inode *n)
{
	return n->nlookup == 0 && n->nopen == 0 && n->npin == 0 && n != &fuse.root;
}

static void unpin(Inode*);

/* Free an unhashed node, letting go of its fids or its parent. */
static void
freenode(Inode *n)
{
	if(n->spare != nil)
		cdrop(n->spare);
	if(n->fid != nil)
		cdrop(n->fid);
	else{
		unpin(n->parent);
		free(n->name);
	}
	free(n);
}

/* Called with fuse.lk held, which it releases: free n if nothing holds it. */
static void
dropnode(Inode *n)
{
	if(!unused(n)){
		qunlock(&fuse.lk);
		return;
	}
	unhashnode(n);
	qunlock(&fuse.lk);
	freenode(n);
}

static void
unpin(Inode *n)
{
	qlock(&fuse.lk);
	n->npin--;
	dropnode(n);
}

/*
 * Called with fuse.lk held: give the fid-less n the fid f.  Returns
 * the parent it no longer pins and its name, for the caller to let go
 * of once the lock is released.
 */
static Inode*
adopt(Inode *n, Cfid *f, char **name)
{
	Inode *p;

	n->fid = f;
	p = n->parent;
	*name = n->name;
	n->parent = nil;
	n->name = nil;
	return p;
}

/*
 * The kernel is given st, the attributes of n at version vers.  Called
 * with fuse.lk held.  Every change at the server advances qid.vers, so
 * while a walk finds the same version and nothing changed n through us,
 * st is still n's.
 */
static void
setattr(Inode *n, u32int vers, struct stat *st)
{
	n->avers = vers;
	n->aok = 1;
	n->st = *st;
}

static void
gaveattr(Inode *n, u32int vers, struct stat *st)
{
	qlock(&fuse.lk);
	setattr(n, vers, st);
	qunlock(&fuse.lk);
}

/*
 * Called with fuse.lk held: n takes f, a fid just walked to it.  It
 * becomes n's spare, for the next open (a fid-less node stays so: its
 * spare becomes its fid when a request needs one), or else the fid of
 * a fid-less n.  Returns f if n needs it not, to be dropped, else nil
 * and in *p the parent n no longer pins (or nil), whose name *name the
 * caller frees once the lock is released.
 */
static Cfid*
takewalked(Inode *n, Cfid *f, Inode **p, char **name)
{
	*p = nil;
	*name = nil;
	if(n->spare == nil){
		n->spare = f;
		return nil;
	}
	if(n->fid == nil){
		*p = adopt(n, f, name);
		return nil;
	}
	return f;
}

/* The end of takewalked, with fuse.lk released. */
static void
tookwalked(Cfid *f, Inode *p, char *name)
{
	free(name);
	if(p != nil)
		unpin(p);
	if(f != nil)
		cdrop(f);
}

/*
 * The node for the file f was walked to, with one more lookup: an
 * existing node keeps its own fid and f is clunked, unless it had none.
 */
static Inode*
getnode(Cfid *f)
{
	Inode *n, *p;
	char *name;

	qlock(&fuse.lk);
	n = findnode(f->qid.path);
	if(n != nil){
		n->nlookup++;
		f = takewalked(n, f, &p, &name);
		qunlock(&fuse.lk);
		tookwalked(f, p, name);
		return n;
	}
	n = emalloc(sizeof *n);
	n->path = f->qid.path;
	n->fid = f;
	n->nlookup = 1;
	hashnode(n);
	qunlock(&fuse.lk);
	return n;
}

/*
 * The node for entry d of directory dir, with one more lookup, and no
 * request to the server: a new node is fid-less.  The kernel is given
 * st, d's attributes, or nil if it is given none that are d's.
 */
static Inode*
listnode(Inode *dir, Dir *d, struct stat *st)
{
	Inode *n;

	qlock(&fuse.lk);
	n = findnode(d->qid.path);
	if(n == nil){
		n = emalloc(sizeof *n);
		n->path = d->qid.path;
		n->parent = dir;
		n->name = estrdup(d->name);
		dir->npin++;
		hashnode(n);
	}
	n->nlookup++;
	if(st != nil)
		setattr(n, d->qid.vers, st);
	qunlock(&fuse.lk);
	return n;
}

/* Drop k lookups; the last reference frees the node. */
static void
putnode(Inode *n, uvlong k)
{
	qlock(&fuse.lk);
	n->nlookup -= MIN(k, n->nlookup);
	dropnode(n);
}

/*
 * n's fid, walked from its parent by name if it has none yet.  The
 * file found there must be n's: another client may have renamed or
 * replaced it meanwhile, which is a stale handle.
 */
static Cfid*
nodefid(Inode *n)
{
	Inode *dir, *p;
	Cfid *f, *df;
	char *name;

	qlock(&fuse.lk);
	f = n->fid;
	if(f == nil && n->spare != nil){
		/* walked to n by name already */
		f = n->spare;
		n->spare = nil;
		p = adopt(n, f, &name);
		qunlock(&fuse.lk);
		free(name);
		unpin(p);
		return f;
	}
	dir = n->parent;
	name = f == nil ? estrdup(n->name) : nil;
	qunlock(&fuse.lk);
	if(f != nil)
		return f;
	/* dir is pinned by n, which the caller's request holds */
	if((df = nodefid(dir)) == nil || (f = cwalk(df, name)) == nil){
		free(name);
		return nil;
	}
	free(name);
	if(f->qid.path != n->path){
		cdrop(f);
		werrstr("%s", Estalefid);
		return nil;
	}
	qlock(&fuse.lk);
	if(n->fid != nil){
		/* another request walked it first */
		qunlock(&fuse.lk);
		cdrop(f);
		return n->fid;
	}
	p = adopt(n, f, &name);
	qunlock(&fuse.lk);
	free(name);
	unpin(p);
	return f;
}

/* ------------------------------------------------------------ attributes */

static void
dir2stat(Dir *d, int hidden, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = d->qid.path + 1;
	st->st_mode = (d->mode & DMDIR ? S_IFDIR : S_IFREG) | (d->mode & 0777);
	st->st_nlink = hidden ? 0 : 1;
	st->st_uid = nameid(d->uid, 0);
	st->st_gid = nameid(d->gid, 1);
	if(!(d->mode & DMDIR))
		st->st_size = d->length;
	st->st_blksize = fuse.blksize;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim.tv_sec = d->atime;
	st->st_mtim.tv_sec = d->mtime;
	st->st_ctim.tv_sec = d->mtime;
}

static int
ishidden(Inode *n)
{
	int h;

	qlock(&fuse.lk);
	h = n->hidden;
	qunlock(&fuse.lk);
	return h;
}

static void
fillentry(struct fuse_entry_param *e, Inode *n, Dir *d)
{
	memset(e, 0, sizeof *e);
	e->ino = inoof(n);
	e->attr_timeout = fuse.attrtime;
	e->entry_timeout = fuse.entrytime;
	dir2stat(d, 0, &e->attr);
}

/*
 * Reply with the entry for the file f was walked to (f is consumed).
 * A reply the kernel did not take (the caller was interrupted) leaves
 * no reference behind.
 */
static void
replyentry(fuse_req_t req, Cfid *f, Dir *d)
{
	struct fuse_entry_param e;
	Inode *n;

	n = getnode(f);
	fillentry(&e, n, d);
	gaveattr(n, d->qid.vers, &e.attr);
	if(fuse_reply_entry(req, &e) != 0)
		putnode(n, 1);
}

/*
 * If f was walked to a node whose attributes the kernel was given at
 * the version f found, and nothing changed them through us since:
 * that node, with one more lookup, its attributes in e and f kept or
 * dropped, with no request to the server.
 */
static Inode*
knownentry(Cfid *f, struct fuse_entry_param *e)
{
	Inode *n, *p;
	char *name;

	qlock(&fuse.lk);
	n = findnode(f->qid.path);
	if(n == nil || !n->aok || n->avers != f->qid.vers){
		qunlock(&fuse.lk);
		return nil;
	}
	n->nlookup++;
	memset(e, 0, sizeof *e);
	e->ino = inoof(n);
	e->attr_timeout = fuse.attrtime;
	e->entry_timeout = fuse.entrytime;
	e->attr = n->st;
	e->attr.st_nlink = n->hidden ? 0 : 1;
	f = takewalked(n, f, &p, &name);
	qunlock(&fuse.lk);
	tookwalked(f, p, name);
	return n;
}

/* Walk from dir to name and reply with that entry. */
static void
walkentry(fuse_req_t req, Inode *dir, const char *name)
{
	struct fuse_entry_param e;
	Cfid *f, *df;
	Inode *n;
	Dir *d;

	if((df = nodefid(dir)) == nil || (f = cwalk(df, (char*)name)) == nil){
		replyerr(req);
		return;
	}
	if((n = knownentry(f, &e)) != nil){
		if(fuse_reply_entry(req, &e) != 0)
			putnode(n, 1);
		return;
	}
	if((d = cstat(f)) == nil){
		replyerr(req);
		cdrop(f);
		return;
	}
	replyentry(req, f, d);
	free(d);
}

/* The 9P open mode for open(2) flags. */
static int
omode(int flags)
{
	int m;

	switch(flags & O_ACCMODE){
	case O_WRONLY:
		m = OWRITE;
		break;
	case O_RDWR:
		m = ORDWR;
		break;
	default:
		m = OREAD;
		break;
	}
	if(flags & O_TRUNC)
		m |= OTRUNC;
	return m;
}

/* A name the kernel hands us must be one 9P name. */
static int
badname(fuse_req_t req, const char *name)
{
	if(strchr(name, '/') != nil || strcmp(name, ".") == 0 || strcmp(name, "..") == 0){
		fuse_reply_err(req, EINVAL);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ requests */

static void
opinit(void *v, struct fuse_conn_info *conn)
{
	conn->max_write = fuse.iosize;
	conn->max_read = fuse.iosize;
	conn->max_readahead = fuse.iosize;
	if(conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/*
	 * With attributes cached, reads refresh them once they expire,
	 * and drop cached data if the file changed.  Without, listing
	 * attributes would only cost the kernel inodes it forgets at once.
	 */
	if(fuse.attrtime > 0 || fuse.entrytime > 0){
		conn->want |= (FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_READDIRPLUS) & conn->capable;
		conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	}else
		conn->want &= ~(FUSE_CAP_AUTO_INVAL_DATA | FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	conn->time_gran = 1000000000;	/* 9P times are seconds */
}

static void
oplookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if(strcmp(name, ".") == 0 || strcmp(name, "..") == 0){
		/* only NFS export asks, and we offer none */
		fuse_reply_err(req, ENOENT);
		return;
	}
	walkentry(req, nodeof(parent), name);
}

static void
opforget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	putnode(nodeof(ino), nlookup);
	fuse_reply_none(req);
}

static void
opforgetmulti(fuse_req_t req, size_t count, struct fuse_forget_data *fd)
{
	size_t i;

	for(i = 0; i < count; i++)
		putnode(nodeof(fd[i].ino), fd[i].nlookup);
	fuse_reply_none(req);
}

static void
opgetattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	Inode *n;
	Cfid *f;
	Dir *d;

	n = nodeof(ino);
	if((f = nodefid(n)) == nil || (d = cstat(f)) == nil){
		replyerr(req);
		return;
	}
	dir2stat(d, ishidden(n), &st);
	gaveattr(n, d->qid.vers, &st);
	free(d);
	fuse_reply_attr(req, &st, fuse.attrtime);
}

static int
untouched(Dir *d)
{
	return d->mode == ~0U && d->length == ~0ULL && d->mtime == ~0U
		&& d->atime == ~0U && *d->uid == 0 && *d->gid == 0;
}

/* Fill in the uid or gid field of a wstat for a chown; -1 if it names nobody. */
static int
chownfield(u32int id, int group, char *cur, char **field, char *buf, int nbuf)
{
	char *name;

	if((name = idname(id, group, buf, nbuf)) == nil)
		return -1;
	if(strcmp(name, cur) != 0)
		*field = name;
	return 0;
}

static void
opsetattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int set, struct fuse_file_info *fi)
{
	char ubuf[1024], gbuf[1024];
	struct stat st;
	Dir d, *cur;
	Inode *n;
	Cfid *f;
	u32int mode;
	int err;

	n = nodeof(ino);
	if((f = nodefid(n)) == nil){
		replyerr(req);
		return;
	}
	nulldir(&d);
	cur = nil;
	err = 0;
	if(set & (FUSE_SET_ATTR_MODE|FUSE_SET_ATTR_UID|FUSE_SET_ATTR_GID)){
		if((cur = cstat(f)) == nil){
			replyerr(req);
			return;
		}
		/* 9P has no set-id or sticky bits: they are dropped */
		mode = (cur->mode & ~0777) | (attr->st_mode & 0777);
		if((set & FUSE_SET_ATTR_MODE) && mode != cur->mode)
			d.mode = mode;
		if((set & FUSE_SET_ATTR_UID)
		&& chownfield(attr->st_uid, 0, cur->uid, &d.uid, ubuf, sizeof ubuf) == -1)
			err = EPERM;
		if((set & FUSE_SET_ATTR_GID)
		&& chownfield(attr->st_gid, 1, cur->gid, &d.gid, gbuf, sizeof gbuf) == -1)
			err = EPERM;
	}
	if(set & FUSE_SET_ATTR_SIZE)
		d.length = attr->st_size;
	if(set & FUSE_SET_ATTR_MTIME_NOW)
		d.mtime = time(nil);
	else if(set & FUSE_SET_ATTR_MTIME)
		d.mtime = attr->st_mtime;
	if(set & FUSE_SET_ATTR_ATIME_NOW)
		d.atime = time(nil);
	else if(set & FUSE_SET_ATTR_ATIME)
		d.atime = attr->st_atime;
	if(err != 0){
		free(cur);
		fuse_reply_err(req, err);
		return;
	}
	/* a wstat that changes nothing would be a sync */
	if(!untouched(&d) && cwstat(f, &d) == -1){
		free(cur);
		replyerr(req);
		return;
	}
	free(cur);
	if((cur = cstat(f)) == nil){
		replyerr(req);
		return;
	}
	qlock(&fuse.lk);
	if(set & FUSE_SET_ATTR_SIZE)
		n->dok = 0;
	qunlock(&fuse.lk);
	dir2stat(cur, ishidden(n), &st);
	gaveattr(n, cur->qid.vers, &st);
	free(cur);
	fuse_reply_attr(req, &st, fuse.attrtime);
}

static Handle*
newhandle(Inode *n, Cfid *f)
{
	Handle *h;

	h = emalloc(sizeof *h);
	h->n = n;
	h->fid = f;
	qlockinit(&h->lk);
	qlock(&fuse.lk);
	n->nopen++;
	qunlock(&fuse.lk);
	return h;
}

/* Remove a file that was unlinked while open: nobody else knows it. */
static void
removehidden(Inode *n)
{
	Cfid *f;

	if((f = nodefid(n)) == nil || (f = cwalk(f, "")) == nil || cremove(f) == -1)
		dprint(1, "9pfuse: remove hidden .9pfuse.%llx: %s",
			(unsigned long long)n->path, errstr());
}

/* The end of a handle: the last one of a hidden file removes it. */
static void
puthandle(Handle *h)
{
	Inode *n;
	int last;

	n = h->n;
	if(h->fid != nil)
		cdrop(h->fid);
	free(h->d);
	pthread_mutex_destroy(&h->lk.m);
	free(h);
	qlock(&fuse.lk);
	last = --n->nopen == 0 && n->hidden;
	qunlock(&fuse.lk);
	if(last)
		removehidden(n);
	putnode(n, 0);
}

/*
 * n was opened at version vers: whether the kernel may keep the data
 * it cached (nothing changed since the last open), and so that a
 * change made elsewhere shows at the next open, whether the attributes
 * it holds are those of vers; if not, they are dropped.
 */
static int
cachedata(fuse_ino_t ino, Inode *n, u32int vers)
{
	int keep, stale;

	qlock(&fuse.lk);
	keep = n->dok && n->dvers == vers;
	stale = !(n->aok && n->avers == vers);
	n->dvers = vers;
	n->dok = 1;
	if(stale)
		n->aok = 0;
	qunlock(&fuse.lk);
	if(stale && fuse.attrtime > 0)
		fuse_lowlevel_notify_inval_inode(fuse.se, ino, -1, 0);
	return keep;
}

/* Something was written to n through us: its version is unknown. */
static void
changed(Inode *n)
{
	qlock(&fuse.lk);
	n->aok = 0;
	n->dok = 0;
	qunlock(&fuse.lk);
}

static void
replyopen(fuse_req_t req, struct fuse_file_info *fi, Handle *h, int keep)
{
	fi->fh = (uintptr_t)h;
	fi->keep_cache = keep;
	if(fuse_reply_open(req, fi) != 0)
		puthandle(h);
}

/* A clone of n's fid to open or create in: its spare, if it has one. */
static Cfid*
clonefid(Inode *n)
{
	Cfid *f;

	qlock(&fuse.lk);
	f = n->spare;
	n->spare = nil;
	qunlock(&fuse.lk);
	if(f == nil && (f = nodefid(n)) != nil)
		f = cwalk(f, "");
	return f;
}

/* An open clone of n's fid, or nil. */
static Cfid*
openfid(Inode *n, int mode)
{
	Cfid *f;

	if((f = clonefid(n)) == nil)
		return nil;
	if(copen(f, mode) == -1){
		cdrop(f);
		return nil;
	}
	return f;
}

static void
opopen(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Inode *n;
	Cfid *f;

	n = nodeof(ino);
	if((f = openfid(n, omode(fi->flags))) == nil){
		replyerr(req);
		return;
	}
	replyopen(req, fi, newhandle(n, f), cachedata(ino, n, f->qid.vers));
}

static Handle*
handleof(struct fuse_file_info *fi)
{
	return (Handle*)(uintptr_t)fi->fh;
}

static void
opread(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	char *buf;
	long n;

	if(off < 0){
		fuse_reply_err(req, EINVAL);
		return;
	}
	size = MIN(size, (size_t)Maxfuseio);
	buf = emalloc(size);
	n = cpread(handleof(fi)->fid, buf, size, off);
	if(n < 0)
		replyerr(req);
	else
		fuse_reply_buf(req, buf, n);
	free(buf);
}

static void
opwrite(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	long n;

	if(off < 0 || size > (size_t)Maxfuseio){
		fuse_reply_err(req, EINVAL);
		return;
	}
	n = cpwrite(handleof(fi)->fid, (char*)buf, size, off);
	changed(handleof(fi)->n);
	if(n < 0)
		replyerr(req);
	else
		fuse_reply_write(req, n);
}

/* Writes are already at the server when they return: close has nothing to do. */
static void
opflush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void
oprelease(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	puthandle(handleof(fi));
	fuse_reply_err(req, 0);
}

/* fsync(2): a wstat that changes nothing, which the server takes as a sync. */
static void
opfsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	Cfid *f;
	Dir d;

	nulldir(&d);
	if((f = nodefid(nodeof(ino))) == nil || cwstat(f, &d) == -1)
		replyerr(req);
	else
		fuse_reply_err(req, 0);
}

/* The whole directory, read at open: readdir offsets are indices into it. */
static int
loaddir(Handle *h)
{
	Cfid *f;
	Dir *d;
	long nd;

	if((f = openfid(h->n, OREAD)) == nil)
		return -1;
	nd = cdirreadall(f, &d);
	cdrop(f);
	if(nd < 0)
		return -1;
	free(h->d);
	h->d = d;
	h->nd = nd;
	return 0;
}

static void
opopendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h;

	h = newhandle(nodeof(ino), nil);
	if(loaddir(h) == -1){
		replyerr(req);
		puthandle(h);
		return;
	}
	replyopen(req, fi, h, 0);
}

static void
opreaddir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct stat st;
	Handle *h;
	char *buf;
	size_t used, m;
	long i;

	h = handleof(fi);
	qlock(&h->lk);
	/* rewinddir(3) must show changes made since opendir */
	if(off == 0 && h->served && loaddir(h) == -1){
		qunlock(&h->lk);
		replyerr(req);
		return;
	}
	buf = emalloc(size);
	used = 0;
	for(i = off; i >= 0 && i < h->nd; i++){
		memset(&st, 0, sizeof st);
		st.st_ino = h->d[i].qid.path + 1;
		st.st_mode = h->d[i].mode & DMDIR ? S_IFDIR : S_IFREG;
		m = fuse_add_direntry(req, buf+used, size-used, h->d[i].name, &st, i+1);
		if(m > size-used)
			break;
		used += m;
	}
	h->served = 1;
	qunlock(&h->lk);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/*
 * readdir with each entry's attributes, which the directory read
 * brought: the kernel need not look the names up.  Each entry is a
 * lookup of its node, which a new node answers without a fid.
 */
static void
opreaddirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	Handle *h;
	Inode **nodes;
	char *buf;
	size_t used, m;
	long i, nn;

	h = handleof(fi);
	qlock(&h->lk);
	if(off == 0 && h->served && loaddir(h) == -1){
		qunlock(&h->lk);
		replyerr(req);
		return;
	}
	buf = emalloc(size);
	nodes = emalloc((h->nd + 1) * sizeof nodes[0]);
	used = 0;
	nn = 0;
	for(i = off; i >= 0 && i < h->nd; i++){
		dir2stat(&h->d[i], 0, &e.attr);
		nodes[nn] = listnode(h->n, &h->d[i], &e.attr);
		fillentry(&e, nodes[nn], &h->d[i]);
		e.attr.st_nlink = ishidden(nodes[nn]) ? 0 : 1;
		m = fuse_add_direntry_plus(req, buf+used, size-used, h->d[i].name, &e, i+1);
		if(m > size-used){
			putnode(nodes[nn], 1);
			break;
		}
		nn++;
		used += m;
	}
	h->served = 1;
	qunlock(&h->lk);
	if(fuse_reply_buf(req, buf, used) != 0)
		for(i = 0; i < nn; i++)
			putnode(nodes[i], 1);
	free(nodes);
	free(buf);
}

static void
opreleasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	puthandle(handleof(fi));
	fuse_reply_err(req, 0);
}

/*
 * An open(O_CREAT) that lost a race with another client's create.  The
 * kernel does not know the node yet, so its attributes are those given.
 */
static void
openexisting(fuse_req_t req, Inode *dir, const char *name, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	Cfid *f, *o;
	Inode *n;
	Dir *d;

	if((f = nodefid(dir)) == nil || (f = cwalk(f, (char*)name)) == nil){
		replyerr(req);
		return;
	}
	if((d = cstat(f)) == nil){
		replyerr(req);
		cdrop(f);
		return;
	}
	n = getnode(f);
	if((o = openfid(n, omode(fi->flags))) == nil){
		replyerr(req);
		putnode(n, 1);
		free(d);
		return;
	}
	fillentry(&e, n, d);
	gaveattr(n, d->qid.vers, &e.attr);
	free(d);
	fi->fh = (uintptr_t)newhandle(n, o);
	fi->keep_cache = cachedata(inoof(n), n, o->qid.vers);
	if(fuse_reply_create(req, &e, fi) != 0){
		puthandle(handleof(fi));
		putnode(n, 1);
	}
}

static void
opcreate(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	Cfid *f;
	Inode *dir, *n;
	Dir d;

	if(badname(req, name))
		return;
	dir = nodeof(parent);
	if((f = clonefid(dir)) == nil){
		replyerr(req);
		return;
	}
	if(ccreate(f, (char*)name, mode & 0777, omode(fi->flags) & ~OTRUNC) == -1){
		cdrop(f);
		if(iserr(Eexist) && !(fi->flags & O_EXCL))
			openexisting(req, dir, name, fi);
		else
			replyerr(req);
		return;
	}
	/*
	 * The node gets a fid of its own only if it needs one.  Its
	 * attributes are the server's to set (owner, group, the mode
	 * masked by the directory's): the kernel is given an empty file of
	 * the mode asked for, timed out at once, so that it asks for them
	 * when it needs them, and a create that is written and closed
	 * costs no Tstat.
	 */
	nulldir(&d);
	d.qid = f->qid;
	d.name = (char*)name;
	d.mode = mode & 0777;
	d.length = 0;
	d.uid = d.gid = d.muid = fuse.uname;
	d.atime = d.mtime = time(nil);
	n = listnode(dir, &d, nil);
	fillentry(&e, n, &d);
	e.attr_timeout = 0;
	qlock(&fuse.lk);
	n->dvers = f->qid.vers;
	n->dok = 1;
	qunlock(&fuse.lk);
	fi->fh = (uintptr_t)newhandle(n, f);
	fi->keep_cache = 0;
	if(fuse_reply_create(req, &e, fi) != 0){
		puthandle(handleof(fi));
		putnode(n, 1);
	}
}

/* Create name in dir, closed again, and reply with its entry. */
static void
makeentry(fuse_req_t req, fuse_ino_t parent, const char *name, u32int perm)
{
	Inode *dir;
	Cfid *f;

	if(badname(req, name))
		return;
	dir = nodeof(parent);
	if((f = clonefid(dir)) == nil){
		replyerr(req);
		return;
	}
	if(ccreate(f, (char*)name, perm, OREAD) == -1){
		replyerr(req);
		cdrop(f);
		return;
	}
	cdrop(f);
	walkentry(req, dir, name);
}

static void
opmkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	makeentry(req, parent, name, DMDIR | (mode & 0777));
}

/* 9P files are plain files and directories: mknod makes only the former. */
static void
opmknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	if(!S_ISREG(mode)){
		fuse_reply_err(req, EPERM);
		return;
	}
	makeentry(req, parent, name, mode & 0777);
}

/*
 * Take the file f was walked to out of its directory (f is consumed):
 * remove it, or if it is open here rename it out of the way until its
 * last close.  Returns 0 or an errno.
 */
static int
unlinkfid(Cfid *f)
{
	char name[64], *old;
	Inode *n, *p;
	Dir d;
	int hide;

	qlock(&fuse.lk);
	n = findnode(f->qid.path);
	hide = n != nil && n->nopen > 0 && !(f->qid.type & QTDIR);
	p = nil;
	old = nil;
	if(hide){
		n->hidden = 1;
		/*
		 * a fid-less node takes f now: from the rename on, its
		 * last close (removehidden) cannot find it by name
		 */
		if(n->fid == nil)
			p = adopt(n, f, &old);
	}
	qunlock(&fuse.lk);
	if(!hide)
		return cremove(f) == -1 ? errnum() : 0;
	if(p != nil){
		free(old);
		unpin(p);
	}
	snprintf(name, sizeof name, ".9pfuse.%llx", (unsigned long long)f->qid.path);
	nulldir(&d);
	d.name = name;
	if(cwstat(f, &d) == -1){
		qlock(&fuse.lk);
		n->hidden = 0;
		qunlock(&fuse.lk);
		if(p == nil)
			cdrop(f);
		return errnum();
	}
	if(p == nil)
		cdrop(f);
	return 0;
}

static void
opunlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Cfid *f;

	if((f = nodefid(nodeof(parent))) == nil || (f = cwalk(f, (char*)name)) == nil){
		replyerr(req);
		return;
	}
	if(f->qid.type & QTDIR){
		cdrop(f);
		fuse_reply_err(req, EISDIR);
		return;
	}
	fuse_reply_err(req, unlinkfid(f));
}

static void
oprmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Cfid *f;

	if((f = nodefid(nodeof(parent))) == nil || (f = cwalk(f, (char*)name)) == nil){
		replyerr(req);
		return;
	}
	if(!(f->qid.type & QTDIR)){
		cdrop(f);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fuse_reply_err(req, unlinkfid(f));
}

/* A fid-less node follows its file's rename by us (within its directory). */
static void
renamed(uvlong path, const char *newname)
{
	char *old;
	Inode *n;

	old = nil;
	qlock(&fuse.lk);
	n = findnode(path);
	if(n != nil && n->fid == nil){
		old = n->name;
		n->name = estrdup((char*)newname);
	}
	qunlock(&fuse.lk);
	free(old);
}

/*
 * Twstat renames within a directory only, and refuses to replace:
 * another directory is EXDEV (mv copies), an existing target is removed
 * first (unless RENAME_NOREPLACE).
 */
static void
oprename(fuse_req_t req, fuse_ino_t parent, const char *name,
	fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	Cfid *f, *t, *df;
	Inode *dir;
	Dir d;
	int err;

	if(flags & ~RENAME_NOREPLACE){
		fuse_reply_err(req, EINVAL);
		return;
	}
	if(parent != newparent){
		fuse_reply_err(req, EXDEV);
		return;
	}
	if(badname(req, newname))
		return;
	dir = nodeof(parent);
	if((df = nodefid(dir)) == nil || (f = cwalk(df, (char*)name)) == nil){
		replyerr(req);
		return;
	}
	if(strcmp(name, newname) == 0){
		cdrop(f);
		fuse_reply_err(req, flags & RENAME_NOREPLACE ? EEXIST : 0);
		return;
	}
	if((t = cwalk(df, (char*)newname)) != nil){
		err = 0;
		if(flags & RENAME_NOREPLACE)
			err = EEXIST;
		else if((f->qid.type & QTDIR) && !(t->qid.type & QTDIR))
			err = ENOTDIR;
		else if(!(f->qid.type & QTDIR) && (t->qid.type & QTDIR))
			err = EISDIR;
		else if(t->qid.path == f->qid.path)
			err = -1;
		if(err != 0){
			cdrop(t);
			cdrop(f);
			fuse_reply_err(req, err == -1 ? 0 : err);
			return;
		}
		if((err = unlinkfid(t)) != 0){
			cdrop(f);
			fuse_reply_err(req, err);
			return;
		}
	}else if(hungup()){
		cdrop(f);
		fuse_reply_err(req, EIO);
		return;
	}
	nulldir(&d);
	d.name = (char*)newname;
	err = cwstat(f, &d) == -1 ? errnum() : 0;
	if(err == 0)
		renamed(f->qid.path, newname);
	cdrop(f);
	fuse_reply_err(req, err);
}

/*
 * 9P2000 has no statfs.  Sizes are reported unknown (0); the block
 * size and name length are gefs's.
 */
static void
opstatfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;

	memset(&st, 0, sizeof st);
	st.f_bsize = Fsblk;
	st.f_frsize = Fsblk;
	st.f_namemax = Namemax;
	fuse_reply_statfs(req, &st);
}

/*
 * What 9P2000 cannot express.  ENOSYS for the extended attributes
 * tells the kernel not to ask again (it reports EOPNOTSUPP): otherwise
 * every write asks for security.capability first.
 */
static void
opsymlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, EPERM);
}

static void
oplink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	fuse_reply_err(req, EPERM);
}

static void
opreadlink(fuse_req_t req, fuse_ino_t ino)
{
	fuse_reply_err(req, EINVAL);
}

static void
opsetxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags)
{
	fuse_reply_err(req, ENOSYS);
}

static void
opgetxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void
oplistxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	fuse_reply_err(req, ENOSYS);
}

static void
opremovexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	fuse_reply_err(req, ENOSYS);
}

static void
opfallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
	fuse_reply_err(req, EOPNOTSUPP);
}

static struct fuse_lowlevel_ops ops = {
	.init		= opinit,
	.lookup		= oplookup,
	.forget		= opforget,
	.forget_multi	= opforgetmulti,
	.getattr	= opgetattr,
	.setattr	= opsetattr,
	.readlink	= opreadlink,
	.mknod		= opmknod,
	.mkdir		= opmkdir,
	.unlink		= opunlink,
	.rmdir		= oprmdir,
	.symlink	= opsymlink,
	.rename		= oprename,
	.link		= oplink,
	.open		= opopen,
	.read		= opread,
	.write		= opwrite,
	.flush		= opflush,
	.release	= oprelease,
	.fsync		= opfsync,
	.opendir	= opopendir,
	.readdir	= opreaddir,
	.readdirplus	= opreaddirplus,
	.releasedir	= opreleasedir,
	.fsyncdir	= opfsync,
	.statfs		= opstatfs,
	.setxattr	= opsetxattr,
	.getxattr	= opgetxattr,
	.listxattr	= oplistxattr,
	.removexattr	= opremovexattr,
	.create		= opcreate,
	.fallocate	= opfallocate,
};

/* ------------------------------------------------------------ life */

/*
 * Unmount without closing /dev/fuse: the mount leaves the namespace at
 * once, and whoever still has a file or directory open in it gets EIO
 * from us until the last one lets go; then the kernel ends the session.
 */
static void
detach(void)
{
	pid_t pid;
	int st;

	asetl(&fuse.detached, 1);
#ifdef MNT_DETACH
	if(geteuid() == 0){
		if(umount2(fuse.mnt, MNT_DETACH) == -1)
			warn("unmount %s: %s", fuse.mnt, strerror(errno));
		return;
	}
#endif
	pid = fork();
	if(pid == 0){
		execlp("fusermount3", "fusermount3", "-u", "-z", "-q", fuse.mnt, (char*)nil);
		_exit(127);
	}
	if(pid == -1 || waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		warn("fusermount3 -u -z %s failed", fuse.mnt);
}

/* When the server goes away, every request fails with EIO: unmount. */
static void
watch(void *v)
{
	char *why;

	why = cfshungup(fuse.fs);
	if(agetl(&fuse.ending))
		return;
	asetl(&fuse.gone, 1);
	warn("%s: %s: unmounting %s", fuse.addr, why, fuse.mnt);
	detach();
}

static void
usage(void)
{
	fprintf(stderr, "usage: 9pfuse [-a aname] [-u user] [-m msize] [-o fuseopts] [-f] address mountpoint\n");
	exit(2);
}


/*
 * Take 9pfuse's own options (attr_timeout=S, entry_timeout=S) out of
 * the -o list; what is left is libfuse's, in buf.  A bad value exits.
 */
static void
ownopts(char *opts, char *buf, int nbuf)
{
	char *o, *e, *next;
	double *v;
	int n;

	n = 0;
	buf[0] = 0;
	for(o = opts; o != nil; o = next){
		/* options are separated by commas that no backslash escapes */
		for(next = o; *next != 0 && *next != ','; next++)
			if(*next == '\\' && next[1] != 0)
				next++;
		if(*next == ',')
			*next++ = 0;
		else
			next = nil;
		v = nil;
		if(strncmp(o, "attr_timeout=", 13) == 0)
			v = &fuse.attrtime;
		else if(strncmp(o, "entry_timeout=", 14) == 0)
			v = &fuse.entrytime;
		if(v == nil){
			if(*o != 0)
				n += snprintf(buf+n, nbuf-n, "%s%s", n > 0 ? "," : "", o);
			if(n >= nbuf){
				fprintf(stderr, "9pfuse: options too long\n");
				exit(2);
			}
			continue;
		}
		o = strchr(o, '=')+1;
		errno = 0;
		*v = strtod(o, &e);
		if(*o == 0 || *e != 0 || errno != 0 || !(*v >= 0 && *v <= Maxtimeout)){
			fprintf(stderr, "9pfuse: bad timeout '%s': want 0 to %d seconds\n", o, Maxtimeout);
			exit(2);
		}
	}
}

/* An option value for libfuse: its separators escaped. */
static void
optquote(char *buf, int nbuf, char *s)
{
	int n;

	for(n = 0; *s != 0 && n < nbuf-2; s++){
		if(*s == ',' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = 0;
}

/*
 * Without -f we fork before any thread exists; the parent waits for
 * the child to say the mount is ready (a byte on the pipe) or to fail
 * (the pipe closes), so the exit status tells which.
 */
static int
background(void)
{
	int p[2];
	char c;
	pid_t pid;

	if(pipe(p) == -1)
		sysfatal("pipe: %s", strerror(errno));
	pid = fork();
	if(pid == -1)
		sysfatal("fork: %s", strerror(errno));
	if(pid > 0){
		close(p[1]);
		if(read(p[0], &c, 1) == 1)
			exit(0);
		waitpid(pid, nil, 0);
		exit(1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void
ready(int fd)
{
	int null;

	if(fd < 0)
		return;
	null = open("/dev/null", O_RDWR);
	if(null >= 0){
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if(null > 2)
			close(null);
	}
	if(write(fd, "", 1) != 1)
		exit(1);
	close(fd);
}

static void
blocksignals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(how, &set, nil);
}

int
main(int argc, char **argv)
{
	char *aname, *opts, *fargv[8], fsopt[1024], addrq[512], mnt[PATH_MAX], lopts[4096];
	struct fuse_args args;
	struct fuse_loop_config *cfg;
	int c, fg, fd, nf, r;
	u32int msize;
	Cfid *root;

	setprogname("9pfuse");
	aname = "";
	opts = nil;
	fg = 0;
	msize = Defmsize;
	fuse.uname = cuser();
	fuse.attrtime = Deftimeout;
	fuse.entrytime = Deftimeout;
	while((c = getopt(argc, argv, "a:u:m:o:fd")) != -1)
		switch(c){
		case 'a':
			aname = optarg;
			break;
		case 'u':
			fuse.uname = optarg;
			break;
		case 'm':
			if(parsemsize(optarg, &msize) == -1){
				fprintf(stderr, "9pfuse: %s\n", errstr());
				exit(2);
			}
			break;
		case 'o':
			opts = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'd':
			debug++;
			break;
		default:
			usage();
		}
	if(argc - optind != 2)
		usage();
	lopts[0] = 0;
	if(opts != nil)
		ownopts(opts, lopts, sizeof lopts);
	fuse.addr = argv[optind];
	if(realpath(argv[optind+1], mnt) == nil){
		warn("mount point %s: %s", argv[optind+1], strerror(errno));
		return 1;
	}
	fuse.mnt = mnt;

	fd = fg ? -1 : background();
	/* the connection's threads leave SIGTERM to the FUSE loop */
	blocksignals(SIG_BLOCK);
	signal(SIGPIPE, SIG_IGN);
	if((fuse.fs = cfsdial(fuse.addr, msize)) == nil){
		warn("%s", errstr());
		return 1;
	}
	if((root = cfsattach(fuse.fs, fuse.uname, aname)) == nil){
		warn("attach '%s' as %s: %s", aname, fuse.uname, errstr());
		return 1;
	}
	if(!(root->qid.type & QTDIR)){
		warn("attach '%s': the root is not a directory", aname);
		return 1;
	}
	fuse.iosize = MIN(fuse.fs->msize - IOHDRSZ, (u32int)Maxfuseio);
	for(fuse.blksize = 1; fuse.blksize*2 <= fuse.iosize; fuse.blksize *= 2)
		;
	qlockinit(&fuse.lk);
	fuse.root.fid = root;
	fuse.root.path = root->qid.path;
	fuse.root.nlookup = 1;
	hashnode(&fuse.root);

	optquote(addrq, sizeof addrq, fuse.addr);
	snprintf(fsopt, sizeof fsopt, "fsname=%s,subtype=9pfuse,max_read=%u", addrq, fuse.iosize);
	nf = 0;
	fargv[nf++] = "9pfuse";
	fargv[nf++] = "-o";
	fargv[nf++] = fsopt;
	if(lopts[0] != 0){
		fargv[nf++] = "-o";
		fargv[nf++] = lopts;
	}
	fargv[nf] = nil;
	args.argc = nf;
	args.argv = fargv;
	args.allocated = 0;
	fuse.se = fuse_session_new(&args, &ops, sizeof ops, nil);
	fuse_opt_free_args(&args);
	if(fuse.se == nil){
		warn("bad FUSE options");
		return 1;
	}
	if(fuse_set_signal_handlers(fuse.se) == -1){
		warn("cannot set signal handlers");
		return 1;
	}
	if(fuse_session_mount(fuse.se, fuse.mnt) == -1){
		warn("cannot mount on %s", fuse.mnt);
		return 1;
	}
	if(launch(watch, nil, "watch", &fuse.watcher) == -1)
		sysfatal("%s", errstr());
	ready(fd);

	blocksignals(SIG_UNBLOCK);
	cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, 16);
	r = fuse_session_loop_mt(fuse.se, cfg);
	fuse_loop_cfg_destroy(cfg);
	blocksignals(SIG_BLOCK);

	/* from here on a hang-up is ours */
	asetl(&fuse.ending, 1);
	if(!agetl(&fuse.detached))
		fuse_session_unmount(fuse.se);
	fuse_remove_signal_handlers(fuse.se);
	fuse_session_destroy(fuse.se);
	shutdown(fuse.fs->fd, SHUT_RDWR);
	pthread_join(fuse.watcher, nil);
	cfsclose(fuse.fs);
	if(agetl(&fuse.gone))
		return 1;
	return r < 0 ? 1 : 0;
}
