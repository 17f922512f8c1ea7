/*
 * user.c: the user table of /adm/users (runtime §6) and the 9P permission
 * check (runtime §3.2).
 *
 * Sharing.  A table never changes once parseusers() has built it.  The
 * current table is a pointer guarded by userlk; getusers() takes a
 * reference under the lock and putusers() drops one, freeing the table with
 * the last.  A reload parses the new table outside the lock and only swaps
 * the pointer under it, so a reader gets the old table or the new one,
 * never a half-built one, and keeps what it got for as long as it needs it
 * (the three names of a stat, every check of one request) while reloads go
 * on.  We count references rather than hold an RWLock across lookups: a
 * name looked up under a read lock would die with the lock, and a busy
 * server holding read locks could starve the writer (pthread rwlocks may
 * prefer readers), so `users` would hang.  The count lives under a mutex,
 * not in atomic.h: between a reader loading the pointer and incrementing
 * an atomic count, a reload could swap the table and free it; the lock
 * makes the load and the increment one step, and costs no more than the
 * atomic would for a critical section of two instructions.
 *
 * Parsing.  Unlike the reference, every problem in the file is reported
 * with its line number, and any problem fails the whole parse: a table
 * that half loads would silently change who may do what.  For the same
 * reason duplicate ids and names are errors (the reference lets the first
 * one win).  A last line without its newline is read like any other: the
 * reference drops it silently, which loses the user an editor appended
 * last, and refusing it would stop a volume from 9front from loading.
 */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include "dat.h"
#include "fns.h"

static pthread_once_t userinit = PTHREAD_ONCE_INIT;
static QLock userlk;
static Users *curusers;

static char fallbacktext[] =
	"-1:adm::\n"
	"0:none::\n";

/* Render p[0:n] for a diagnostic: control bytes escaped, long fields cut. */
static char*
showfield(char *buf, char *p, int n)
{
	char *b;
	int i, c;

	b = buf;
	for(i = 0; i < n && i < Maxuname; i++){
		c = (uchar)p[i];
		if(c < 0x20 || c == 0x7f)
			b += sprintf(b, "\\x%02x", c);
		else
			*b++ = c;
	}
	if(n > Maxuname)
		b = stpcpy(b, "...");
	*b = 0;
	return buf;
}

static void
udiag(Uparse *ps, int line, char *fmt, ...)
{
	char msg[2*Errmax], buf[3*Errmax];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof buf, "/adm/users:%d: %s", line, msg);
	if(ps->nerr++ == 0){
		strncpy(ps->first, buf, sizeof ps->first - 1);
		ps->first[sizeof ps->first - 1] = 0;
	}
	if(ps->diag != nil)
		ps->diag(ps->arg, buf);
	else
		warn("%s", buf);
}

/* Signed decimal that fits an s32int; nothing else, not even spaces. */
static int
parseid(char *p, int n, s32int *id)
{
	vlong v;
	int i, neg;

	neg = n > 0 && p[0] == '-';
	if(n == neg)
		return -1;
	v = 0;
	for(i = neg; i < n; i++){
		if(p[i] < '0' || p[i] > '9')
			return -1;
		v = v*10 + (p[i] - '0');
		if(v > (vlong)INT32_MAX + 1)
			return -1;
	}
	if(neg)
		v = -v;
	if(v > INT32_MAX)
		return -1;
	*id = v;
	return 0;
}

/*
 * A name must be usable as a 9P user name and as an element of a member
 * list: not empty, at most Maxuname bytes, no blanks, control bytes or
 * commas (':' and newline cannot occur: they end the field).
 */
static int
badname(char *p, int n)
{
	int i, c;

	if(n == 0 || n > Maxuname)
		return 1;
	for(i = 0; i < n; i++){
		c = (uchar)p[i];
		if(c <= ' ' || c == 0x7f || c == ',')
			return 1;
	}
	return 0;
}

static int
checkname(Uparse *ps, int line, char *p, int n)
{
	char show[4*Maxuname+4];

	if(n == 0)
		udiag(ps, line, "empty name");
	else if(n > Maxuname)
		udiag(ps, line, "name too long: '%s' (%d bytes, at most %d)",
			showfield(show, p, n), n, Maxuname);
	else if(badname(p, n))
		udiag(ps, line, "bad character in name '%s'", showfield(show, p, n));
	else
		return 1;
	return 0;
}

/* The slot of u's id table holding id, or the empty slot it would take. */
static int*
idslot(Users *u, s32int id)
{
	u32int h;
	int *s;

	for(h = ihash((u32int)id) & u->mask;; h = (h+1) & u->mask){
		s = &u->byid[h];
		if(*s == -1 || u->user[*s].id == id)
			return s;
	}
}

static int*
nameslot(Users *u, char *name, int n)
{
	u32int h;
	int *s;
	char *un;

	for(h = metrohash(name, n, 0) & u->mask;; h = (h+1) & u->mask){
		s = &u->byname[h];
		if(*s == -1)
			return s;
		un = u->user[*s].name;
		if(n <= Maxuname && memcmp(un, name, n) == 0 && un[n] == 0)
			return s;
	}
}

/*
 * Pass 1 for one line: the id and the name, which go into the indices so
 * that pass 2 finds users defined later in the file.
 */
static void
parseline(Uparse *ps, int line, char *p, int n)
{
	char *c1, *c2, *c3, *c4, *e, show[4*Maxuname+4];
	Users *u;
	User *us;
	Uline *l;
	s32int id;
	int idok, nameok, *s;

	if(n == 0 || p[0] == '#')
		return;
	u = ps->u;
	e = p + n;
	c1 = memchr(p, ':', n);
	if(c1 == nil){
		udiag(ps, line, "missing ':' after id");
		return;
	}
	idok = parseid(p, c1 - p, &id) == 0;
	if(!idok)
		udiag(ps, line, "bad id '%s'", showfield(show, p, c1 - p));
	c2 = memchr(c1+1, ':', e - (c1+1));
	if(c2 == nil){
		udiag(ps, line, "missing ':' after name");
		return;
	}
	nameok = checkname(ps, line, c1+1, c2 - (c1+1));

	us = &u->user[u->nuser];
	l = &ps->ln[u->nuser];
	memset(us, 0, sizeof *us);
	memset(l, 0, sizeof *l);
	l->line = line;
	if(idok){
		us->id = id;
		s = idslot(u, id);
		if(*s != -1)
			udiag(ps, line, "duplicate id %d (also line %d)", id, ps->ln[*s].line);
		else{
			*s = u->nuser;
			l->hasid = 1;
		}
	}
	if(nameok){
		memcpy(us->name, c1+1, c2 - (c1+1));
		s = nameslot(u, us->name, c2 - (c1+1));
		if(*s != -1)
			udiag(ps, line, "duplicate name %s (also line %d)", us->name, ps->ln[*s].line);
		else{
			*s = u->nuser;
			l->hasname = 1;
		}
	}
	u->nuser++;

	c3 = memchr(c2+1, ':', e - (c2+1));
	if(c3 == nil){
		udiag(ps, line, "missing ':' after leader");
		return;
	}
	l->lead = c2+1;
	l->nlead = c3 - l->lead;
	l->memb = c3+1;
	l->nmemb = e - l->memb;
	c4 = memchr(l->memb, ':', l->nmemb);
	if(c4 != nil){
		udiag(ps, line, "extra ':' after members");
		l->nmemb = c4 - l->memb;
	}
}

static int
idcmp(const void *a, const void *b)
{
	s32int x, y;

	x = *(s32int*)a;
	y = *(s32int*)b;
	return (x > y) - (x < y);
}

/* Pass 2 for user i: its leader and members, which must all exist. */
static void
resolve(Uparse *ps, int i, s32int *memb)
{
	char *p, *q, *e, show[4*Maxuname+4];
	Users *u;
	User *us;
	Uline *l;
	int s, j, k;

	u = ps->u;
	us = &u->user[i];
	l = &ps->ln[i];
	us->memb = memb;
	if(l->lead == nil)
		return;
	if(l->nlead > 0){
		s = *nameslot(u, l->lead, l->nlead);
		if(s == -1)
			udiag(ps, l->line, "leader %s does not exist", showfield(show, l->lead, l->nlead));
		else{
			us->haslead = 1;
			us->lead = u->user[s].id;
		}
	}
	e = l->memb + l->nmemb;
	for(p = l->memb; p < e; p = q+1){
		q = memchr(p, ',', e - p);
		if(q == nil)
			q = e;
		if(q == p)
			continue;
		s = *nameslot(u, p, q - p);
		if(s == -1)
			udiag(ps, l->line, "user %s does not exist", showfield(show, p, q - p));
		else
			us->memb[us->nmemb++] = u->user[s].id;
	}
	if(us->nmemb == 0)
		return;
	qsort(us->memb, us->nmemb, sizeof us->memb[0], idcmp);
	k = 1;
	for(j = 1; j < us->nmemb; j++)
		if(us->memb[j] != us->memb[k-1])
			us->memb[k++] = us->memb[j];
	us->nmemb = k;
}

static void
freeusers(Users *u)
{
	free(u->user);
	free(u->byid);
	free(u->byname);
	free(u->pool);
	free(u);
}

static s32int
specialid(Users *u, char *name, s32int dflt)
{
	User *us;

	us = name2user(u, name);
	return us != nil ? us->id : dflt;
}

/*
 * Parse the text of /adm/users (runtime §6.1) into a new table holding
 * one reference.  Every problem goes to diag (nil: stderr) as
 * "/adm/users:LINE: MESSAGE"; if there was any, the result is nil and
 * errstr is "syntax error: " and the first of them.
 */
Users*
parseusers(char *buf, int n, Linefn *diag, void *arg)
{
	Uparse ps;
	Users *u;
	char *p, *e, *nl;
	int i, line, max, hs;
	s32int *memb;
	size_t nmemb;

	if(n < 0 || n >= Usersmax){
		werrstr("%s: /adm/users: %d bytes", Efsize, n);
		return nil;
	}
	e = buf + n;
	max = 0;
	for(p = buf; p < e; p = nl+1){
		max++;
		if((nl = memchr(p, '\n', e - p)) == nil)
			break;
	}
	for(hs = 16; hs < 2*max; hs <<= 1)
		;

	memset(&ps, 0, sizeof ps);
	ps.diag = diag;
	ps.arg = arg;
	u = emalloc(sizeof *u);
	memset(u, 0, sizeof *u);
	u->user = emalloc((max+1) * sizeof u->user[0]);
	u->mask = hs - 1;
	u->byid = emalloc(hs * sizeof u->byid[0]);
	u->byname = emalloc(hs * sizeof u->byname[0]);
	memset(u->byid, 0xff, hs * sizeof u->byid[0]);
	memset(u->byname, 0xff, hs * sizeof u->byname[0]);
	ps.u = u;
	ps.ln = emalloc((max+1) * sizeof ps.ln[0]);

	line = 0;
	for(p = buf; p < e; p = nl+1){
		line++;
		nl = memchr(p, '\n', e - p);
		if(nl == nil)
			nl = e;
		parseline(&ps, line, p, nl - p);
	}

	/* A member list of k commas names at most k+1 users. */
	nmemb = 0;
	for(i = 0; i < u->nuser; i++)
		if(ps.ln[i].memb != nil){
			nmemb++;
			for(p = ps.ln[i].memb; p < ps.ln[i].memb + ps.ln[i].nmemb; p++)
				nmemb += *p == ',';
		}
	u->pool = emalloc((nmemb+1) * sizeof u->pool[0]);
	memb = u->pool;
	for(i = 0; i < u->nuser; i++){
		resolve(&ps, i, memb);
		memb += u->user[i].nmemb;
	}
	free(ps.ln);

	if(ps.nerr > 0){
		freeusers(u);
		if(ps.nerr == 1)
			werrstr("%s: %s", Esyntax, ps.first);
		else
			werrstr("%s: %s (%d errors)", Esyntax, ps.first, ps.nerr);
		return nil;
	}
	u->none = specialid(u, "none", Noneid);
	u->adm = specialid(u, "adm", Admid);
	u->nogroup = specialid(u, "nogroup", Nogroupid);
	u->ref = 1;
	return u;
}

static void
initusers(void)
{
	qlockinit(&userlk);
	curusers = fallbackusers();
}

/*
 * The current table, with a reference the caller drops with putusers().
 * Until the first setusers() or loadusers() it is the fallback table.
 */
Users*
getusers(void)
{
	Users *u;

	pthread_once(&userinit, initusers);
	qlock(&userlk);
	u = curusers;
	u->ref++;
	qunlock(&userlk);
	return u;
}

void
putusers(Users *u)
{
	long r;

	if(u == nil)
		return;
	pthread_once(&userinit, initusers);
	qlock(&userlk);
	r = --u->ref;
	qunlock(&userlk);
	if(r == 0)
		freeusers(u);
}

/* Make u the current table; takes over the caller's reference. */
void
setusers(Users *u)
{
	Users *old;

	pthread_once(&userinit, initusers);
	qlock(&userlk);
	old = curusers;
	curusers = u;
	qunlock(&userlk);
	putusers(old);
}

/* Parse and, only if the whole file is good, install (runtime §6.1). */
int
loadusers(char *buf, int n, Linefn *diag, void *arg)
{
	Users *u;

	u = parseusers(buf, n, diag, arg);
	if(u == nil)
		return -1;
	setusers(u);
	return 0;
}

/* The table used when /adm/users is broken and we are permissive. */
Users*
fallbackusers(void)
{
	Users *u;

	u = parseusers(fallbacktext, strlen(fallbacktext), nil, nil);
	if(u == nil)
		sysfatal("fallback user table: %s", errstr());
	return u;
}

/* The text of /adm/users on a freshly reamed volume (runtime §6.2). */
char*
reamusers(char *user)
{
	char *s, show[4*Maxuname+4];
	int n;

	n = strlen(user);
	if(n > Maxuname){
		werrstr("%s: ream user '%s'", Elength, showfield(show, user, n));
		return nil;
	}
	if(badname(user, n)){
		werrstr("bad ream user name '%s'", showfield(show, user, n));
		return nil;
	}
	if(strcmp(user, "none") == 0){
		werrstr("the ream user may not be none");
		return nil;
	}
	/* adm owns the volume already; a second adm would be a duplicate name */
	if(strcmp(user, "adm") == 0)
		return estrdup(fallbacktext);
	s = emalloc(3*n + 64);
	sprintf(s, "-1:adm::%s\n0:none::\n1:%s:%s:\n", user, user, user);
	return s;
}

/*
 * The table in the format of /adm/users, one line per user in file
 * order, members by ascending id: `show users` prints it, and parsing it
 * gives the same table back.
 */
char*
userstext(Users *u)
{
	char *s, *p;
	size_t sz;
	User *us;
	int i, j;

	sz = 1;
	for(i = 0; i < u->nuser; i++)
		sz += 16 + 2*Unamesz + u->user[i].nmemb*Unamesz;
	s = emalloc(sz);
	p = s;
	for(i = 0; i < u->nuser; i++){
		us = &u->user[i];
		p += sprintf(p, "%d:%s:%s:", us->id, us->name,
			us->haslead ? uid2user(u, us->lead)->name : "");
		for(j = 0; j < us->nmemb; j++)
			p += sprintf(p, "%s%s", j > 0 ? "," : "", uid2user(u, us->memb[j])->name);
		*p++ = '\n';
	}
	*p = 0;
	return s;
}

User*
uid2user(Users *u, s32int id)
{
	int s;

	s = *idslot(u, id);
	return s == -1 ? nil : &u->user[s];
}

User*
name2user(Users *u, char *name)
{
	int s;

	s = *nameslot(u, name, strlen(name));
	return s == -1 ? nil : &u->user[s];
}

int
name2uid(Users *u, char *name, s32int *id)
{
	User *us;

	us = name2user(u, name);
	if(us == nil){
		werrstr("%s", Enouser);
		return -1;
	}
	*id = us->id;
	return 0;
}

/*
 * The name of id, copied to buf (Unamesz bytes).  Stat needs a name for
 * every uid, gid and muid, and files may carry ids the table no longer
 * has: those are shown as their decimal value, like ls(1) does, rather
 * than as none (the reference), which would put files of a deleted user
 * under none's name and make a wstat back to that name succeed.
 */
char*
uid2name(Users *u, s32int id, char *buf)
{
	User *us;

	us = uid2user(u, id);
	if(us != nil)
		memcpy(buf, us->name, Unamesz);
	else
		snprintf(buf, Unamesz, "%d", id);
	return buf;
}

static int
hasmember(User *g, s32int id)
{
	int lo, hi, mid;

	lo = 0;
	hi = g->nmemb;
	while(lo < hi){
		mid = lo + (hi - lo)/2;
		if(g->memb[mid] == id)
			return 1;
		if(g->memb[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Is uid in group gid: both exist, and uid is gid or one of its members. */
int
ingroup(Users *u, s32int uid, s32int gid)
{
	User *g;

	g = uid2user(u, gid);
	if(g == nil || uid2user(u, uid) == nil)
		return 0;
	return uid == gid || hasmember(g, uid);
}

/* May uid act as leader of gid: its leader if it has one, else any member. */
int
groupleader(Users *u, s32int uid, s32int gid)
{
	User *g;

	g = uid2user(u, gid);
	if(g == nil || uid2user(u, uid) == nil)
		return 0;
	if(g->haslead)
		return uid == g->lead;
	return ingroup(u, uid, gid);
}

/*
 * The permission bits an open mode needs (runtime §3.2).  A low nibble
 * other than OREAD, OWRITE, ORDWR, OEXEC is refused: the reference lets it
 * open with no permission needed at all.
 */
int
omodebits(int omode)
{
	int bits;

	switch(omode & 0xf){
	case OREAD:
		bits = DMREAD;
		break;
	case OWRITE:
		bits = DMWRITE;
		break;
	case ORDWR:
		bits = DMREAD|DMWRITE;
		break;
	case OEXEC:
		bits = DMREAD|DMEXEC;
		break;
	default:
		werrstr("%s", Emode);
		return -1;
	}
	if(omode & OTRUNC)
		bits |= DMWRITE;
	return bits;
}

/*
 * May uid have the access bits (DMREAD|DMWRITE|DMEXEC) to a file of the
 * given mode, owner and group?  Plan 9 rules, not Unix ones: failing the
 * owner bits falls through to the group bits and then to the other bits.
 * none only ever gets the other bits; members of nogroup get none of the
 * other bits except search of a directory; permit (a privileged attach)
 * skips every check.  Returns 0, or -1 with errstr Eperm.
 */
int
fsaccess(Users *u, s32int uid, int permit, u32int mode, s32int fuid, s32int fgid, int bits)
{
	if(permit)
		return 0;
	if(uid != u->none){
		if(uid == fuid && ((mode>>6) & bits) == (u32int)bits)
			return 0;
		if(ingroup(u, uid, fgid) && ((mode>>3) & bits) == (u32int)bits)
			return 0;
	}
	if((mode & bits) == (u32int)bits){
		if((mode & DMDIR) != 0 && bits == DMEXEC)
			return 0;
		if(!ingroup(u, uid, u->nogroup))
			return 0;
	}
	werrstr("%s", Eperm);
	return -1;
}
