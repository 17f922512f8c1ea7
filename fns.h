/*
 * fns.h: every cross-file prototype.
 *
 * Errors, one way everywhere: a function that can fail returns -1 (or nil),
 * after setting the calling thread's error string with werrstr(); the
 * caller passes the failure up or reports errstr().  Error strings that
 * clients see are the constants of error.c (runtime §3.16, format §17.11).
 */

/* error.c */
extern char Efs[], Ecorrupt[], Efsvers[], Eimpl[], Ebotch[], Eio[], Enofid[];
extern char Efid[], Etype[], Edscan[], Esrch[], Eexist[], Emode[], Efull[];
extern char Estuffed[], Eauth[], Elength[], Eperm[], Einuse[], Ebadf[];
extern char Ename[], Enomem[], Eattach[], Enosnap[], Edir[], Esyntax[];
extern char Enouser[], Enogrp[], Efsize[], Ebadu[], Erdonly[], Elocked[];
extern char Eauthp[], Eauthd[], Eauthph[], Ephase[], Enone[], Enoauth[];
extern char Ewstatb[], Ewstatd[], Ewstatg[], Ewstatl[], Ewstatm[], Ewstato[];
extern char Ewstatq[], Ewstatu[], Enempty[], Ecdir[], Enoqid[], Ebadctl[];
extern char Esnapu[], Esnapx[], Esnapr[], Echeck[], Enoadm[], Enoval[];
extern char Eopen[], Eoffset[];
void	werrstr(char *fmt, ...) __attribute__((format(printf, 1, 2)));
char*	errstr(void);
int	iserr(char *e);

/*
 * log, in plat.c: one line per call on stderr, "prog: message", newline
 * added unless the message ends with one.  dprint prints when debug >= lvl;
 * once threads run, change debug with asetl (atomic.h).
 */
extern int debug;
void	warn(char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	dprint(int lvl, char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	sysfatal(char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void	setprogname(char *name);

/*
 * plat.c: threads, locks, rendezvous, channels, time.
 * launch: tid nil = detached, else joinable; -1 on failure.
 * rsleepuntil: deadline on monons(); 0 once it has passed, 1 if woken.
 * chsend: -1 once closed (or v nil); chrecv: nil once closed and drained.
 * emalloc (zeroed), erealloc, estrdup exit with a message when out of memory.
 */
int	launch(void (*fn)(void*), void *arg, char *name, pthread_t *tid);
void	lock(Lock*);
int	canlock(Lock*);
void	unlock(Lock*);
void	qlockinit(QLock*);
void	qlock(QLock*);
int	canqlock(QLock*);
void	qunlock(QLock*);
void	rwlockinit(RWLock*);
void	rlock(RWLock*);
void	runlock(RWLock*);
void	wlock(RWLock*);
void	wunlock(RWLock*);
void	rendezinit(Rendez*, QLock*);
void	rsleep(Rendez*);
int	rsleepuntil(Rendez*, vlong monons);
void	rwakeup(Rendez*);
void	rwakeupall(Rendez*);
Chan*	mkchan(int size);
void	freechan(Chan*);
int	chsend(Chan*, void*);
void*	chrecv(Chan*);
void	chclose(Chan*);
vlong	wallns(void);
vlong	monons(void);
void*	emalloc(size_t);
void*	erealloc(void*, size_t);
char*	estrdup(char*);

/* hash.c */
uvlong	metrohash(void *p, size_t n, uvlong seed);
uvlong	blkhash(void *p, size_t n);
u32int	ihash(uvlong);

/* pack.c: big-endian primitives */
u16int	get16(char*);
u32int	get32(char*);
uvlong	get64(char*);
void	put16(char*, u16int);
void	put32(char*, u32int);
void	put64(char*, uvlong);
char*	packbp(char*, Bptr*);
Bptr	unpackbp(char*);

/* pack.c: node entries (format §4.4, §4.5); b->data must point at the entry area */
void	getval(Blk*, int, Kvp*);
void	setval(Blk*, Kvp*);
void	getptr(Blk*, int, Key*, Bptr*, int*);
void	setptr(Blk*, Key*, Bptr, int);
void	getmsg(Blk*, int, Msg*);
void	setmsg(Blk*, Msg*);
int	blkfill(Blk*);
int	keycmp(Key*, Key*);

/*
 * The block layer (blk.c, cache.c): the contract the tree is written
 * against.  Blocks come back held; every holder drops its reference.
 *
 * getblk	read (or find cached) the block bp names, verifying its hash
 *		against bp.hash (log and deadlist blocks against their own
 *		header hash); decodes the header and sets b->data.
 * newblk	allocate a new block of the type for tree t (nil: no tree),
 *		born in t->memgen; header fields zero, Bdirty set, not yet
 *		visible to anyone else.  hint: qid path for data placement.
 * dupblk	newblk plus a copy of b's entries (copy-on-write).
 * finalize	pack the header fields into buf and compute b->bp.hash.
 * enqueue	finalize, enter the cache, queue the write for the syncer.
 * freeblk	t stops referencing b (or bp): free it now if it was born in
 * freebp	t's current generation (after an epoch), else hand it to the
 *		deadlists (format §8.8).
 */
Blk*	getblk(Bptr, int);
Blk*	newblk(Tree*, int, vlong);
Blk*	dupblk(Tree*, Blk*);
Blk*	holdblk(Blk*);
void	dropblk(Blk*);
void	finalize(Blk*);
void	enqueue(Blk*);
void	freeblk(Tree*, Blk*);
void	freebp(Tree*, Bptr);

/*
 * The volume layer beyond the contract (blk.c, cache.c, snap.c, load.c,
 * ream.c).  Everything works on the global fs.
 *
 * allocblk	newblk with the allocation class: seq takes the lowest
 *		free block (streaming data writes, format §9.3).
 * getblk flags	0 for tree nodes, GBraw for data, GBlog for Tlog/Tdlist.
 * fssync	one commit (format §9.5): on request, by the timer every
 *		Syncperiod seconds while dirty (starttimer), at halt
 *		(haltfs, which also commits the frees the sync released).
 *		In pass 0 it calls fs->updatesnaps (the server's: commit
 *		every mounted tree) under fs->mutlk, then dlsync.
 * epochs	epochstart/epochend around every tree walk; epochclean
 *		after each mutation (one cleaner runs, others return);
 *		retirefn frees memory once no walker can see it.
 * deferfree	a block no longer in the next commit's state: logged free
 *		at that commit, reusable once it is durable.
 * killblk	a block still in a committed snapshot: its deadlist.
 * broke	the file system goes read-only, with this message.
 * reserveenter/leave	the calling thread may allocate from the
 *		reserve meanwhile: sync, deletions, snapshot deletion.
 */
extern Bptr Zb;

/* blk.c: device, blocks, allocation, the allocation log, the syncer */
int	devread(vlong, char*);
int	devreadn(vlong, char*, int);
void	readblks(Bptr*, int);
void	adviseblks(Bptr*, int);
int	devwrite(vlong, char*, int);
int	devsync(void);
Blk*	allocblk(Tree*, int, vlong, int);
vlong	blkalloc(int, uvlong, int);
Arena*	getarena(vlong);
int	blkisfree(vlong);
int	rangefree(Arena*, vlong, vlong);
int	rangegrab(Arena*, vlong, vlong);
Fnode*	rangefirst(Arena*);
Fnode*	rangenext(Arena*, Fnode*);
Fnode*	pendfirst(Arena*);
Fnode*	pendnext(Arena*, Fnode*);
int	logappend(Arena*, int, vlong, vlong);
int	loadlog(Arena*, vlong, int);
int	logflush(Arena*);
void	arenaclear(Arena*);
void	qfree(vlong, int);
int	qfence(void);
vlong	qbarrier(void);
void	startsyncer(void);
void	stopsyncer(void);
int	fssync(void);
int	haltfs(void);
void	starttimer(void);
void	stoptimer(void);
void	markdirty(void);
void	broke(char*, ...) __attribute__((format(printf, 1, 2)));
void	reserveenter(void);
void	reserveleave(void);
int	isrdonly(void);
char*	rdonlywhy(char*, int);
char*	blktype(int);
void	bvadd(Bvec*, Bptr);
void	bvfree(Bvec*);

/* cache.c */
int	cacheinit(vlong);
void	cachefree(void);
Blk*	pluck(void);
Blk*	staticblk(void);
Blk*	cachelookup(vlong);
int	cacheins(Blk*);
void	cachedel(vlong);
long	getflag(Blk*);
void	setflag(Blk*, long);
void	clrflag(Blk*, long);
void	cachestat(long*, long*, long*);

/* snap.c: epochs (runtime §2), deferred frees, deadlists (format §11.5) */
void	epochstart(void);
void	epochend(void);
void	epochclean(void);
void	epochflush(void);
void	retireblk(Blk*);
void	retirebp(Bptr);
void	retirepend(Bptr);
void	retirelogged(Blk*, Bptr);
void	retirefn(void (*)(void*), void*);
void	deferfree(Bptr);
void	releasedeferred(Bvec*);
int	killblk(Tree*, Bptr);
int	dlsync(void);
void	dlclear(void);
int	getdlrec(vlong, vlong, Bptr*, Bptr*);
int	bsetadd(Bset*, vlong);
int	bsethas(Bset*, vlong);
void	bsetfree(Bset*);

/* load.c, ream.c */
vlong	parsecachesz(char*);
vlong	defcachesz(void);
int	openfs(char*, int, vlong);
int	loadfs(char*, int, vlong);
int	cachefits(int);
void	closefs(void);
void	loadsummary(void);
int	reamfs(char*, char*, vlong);
int	growfs(char*, vlong);

/* pack.c: keys, values and headers (format §4, §6, §17) */
char*	packdatkey(char*, uvlong, uvlong);
int	packdkey(char*, int, uvlong, char*, int);
int	unpackdkey(char*, int, uvlong*, char**, int*);
char*	packupkey(char*, uvlong);
char*	packdir(char*, Xdir*);
int	kv2dir(Kvp*, Xdir*);
int	packlabel(char*, int, char*);
char*	packlblval(char*, vlong, u32int);
int	unpacklblval(char*, int, vlong*, u32int*);
char*	packsnapkey(char*, vlong);
char*	packtree(char*, Tree*);
int	unpacktree(Tree*, char*, int);
char*	packdlkey(char*, vlong, vlong);
char*	packdlval(char*, Bptr*, Bptr*);
int	unpackdlval(char*, int, Bptr*, Bptr*);
int	packconfkey(char*, int, char*);
void	packsuper(char*, Super*);
int	unpacksuper(char*, Super*);
void	packarena(char*, Bptr*, vlong, vlong);
int	unpackarena(char*, Bptr*, vlong*, vlong*);

/*
 * user.c: the user table (runtime §6) and the permission check (§3.2).
 * A Users is immutable; getusers() hands out a reference to the current
 * table (the fallback table until the first load), which stays valid
 * until putusers() however often the table is reloaded meanwhile.
 * parseusers() and fallbackusers() return a new table with one reference;
 * setusers() takes that reference over.  Diagnostics go to diag one line
 * at a time ("/adm/users:LINE: MESSAGE"; diag nil: stderr).  reamusers()
 * and userstext() return text the caller frees.  Ids that are not in the
 * table have no name: uid2name() renders them in decimal into buf
 * (Unamesz bytes).  fsaccess() and name2uid() return 0 or -1 with errstr.
 */
Users*	parseusers(char *buf, int n, Linefn *diag, void *arg);
int	loadusers(char *buf, int n, Linefn *diag, void *arg);
void	setusers(Users*);
Users*	getusers(void);
void	putusers(Users*);
Users*	fallbackusers(void);
char*	reamusers(char *user);
char*	userstext(Users*);
User*	uid2user(Users*, s32int id);
User*	name2user(Users*, char *name);
int	name2uid(Users*, char *name, s32int *id);
char*	uid2name(Users*, s32int id, char *buf);
int	ingroup(Users*, s32int uid, s32int gid);
int	groupleader(Users*, s32int uid, s32int gid);
int	omodebits(int omode);
int	fsaccess(Users*, s32int uid, int permit, u32int mode, s32int fuid, s32int fgid, int bits);

/*
 * snap.c: labels and mounts, the contract between snapshots and the server.
 * getmount shares or opens a label's mount (nil with Enosnap if there is
 * no such label; "dump" gives the dump view, whose root is the snap
 * tree).  Writers take fs->mutlk and then load m->root (it changes at
 * every commit); readers load it with agetp inside an epoch.  A mount's
 * changes are committed by the next sync (updatemounts, in its pass 0),
 * even if the last reference was dropped before.  getmount, putmount and
 * the snapshot operations below take the locks they need: call them
 * without fs->mutlk.
 */
Mount*	getmount(char *label);
void	putmount(Mount*);
int	updatemounts(void);
void	mountclear(void);
int	snapcreate(char *old, char *new, int mut);
int	snapdelete(char *name);
int	snaplist(Label**);
void	freelabels(Label*, int);
void	fsusage(vlong *used, vlong *size);
int	parseretain(char*, int, Retain*);
int	setconf(char *label, char *key, char *val);
int	clrconf(char *label, char *key);
int	getconf(char *label, char *key, char *val, int nval);
void	retaintick(vlong now);

/*
 * tree.c: the Bε-tree (format §7, §8).  upsert runs under the single
 * mutator; lookups and scans run concurrently on the version they
 * entered, inside an epoch.  Scans: btnewscan once, then btenter, btnext
 * until 0, btexit; btenter again resumes after the last key (even in a
 * newer tree).  btnext's kv points into the Scan until the next call.
 */
int	upsert(Tree*, Msg*, int);
int	btlookup(Tree*, Key*, Kvp*, char*, int);
void	btnewscan(Scan*, char*, int);
int	btenter(Tree*, Scan*);
int	btnext(Scan*, Kvp*);
void	btexit(Scan*);
int	msgcheck(Msg*);
int	applymsg(Msg*, int*, char*, int*);
int	nodeent(Blk*, int, Kvp*);
int	nodemsg(Blk*, int, Msg*);
int	nodeok(Blk*);
char*	keyfmt(char*, int, char*, int);

/*
 * check.c: checktree reports, through out (nil: warn), every broken
 * invariant of t with its block address and key, and returns how many.
 */
int	checktree(Tree*, void (*out)(void*, char*), void*);
int	checkfs(void (*out)(void*, char*), void*, vlong *leaked);
/*
 * check.c: checkstat is checkfs that also says what it read and how long
 * it took (Chkstat); checkrate formats that as the line gefs -c prints.
 */
int	checkstat(Linefn*, void*, Chkstat*);
char*	checkrate(char*, int, Chkstat*);

/*
 * check.c: checkvol is the console's check and gefs -c: checkfs, every
 * problem on out, then one verdict line, "ok" or "broken: ...";
 * 0 if ok, else -1 with errstr Echeck and the counts.
 */
int	checkvol(Linefn *out, void *arg);
int	checkvolstat(Linefn *out, void *arg, Chkstat*);

/*
 * fuzz.c: fuzzrun runs the fuzzer on f->t, 0 if tree and model always
 * agreed; fuzzmain is gefs -z SEED[,STEPS[,READERS]] on dev (nil: a
 * scratch image), reporting on stderr.
 */
int	fuzzrun(Fuzz*);
int	fuzzmain(char*, char*, vlong);

/*
 * fs.c, srv.c: the 9P service (runtime §1, §3, §9).  main loads the file
 * system, calls srvsignals() before any thread starts, fsloadusers(),
 * then serve(), which returns the exit status after SIGTERM.
 * fsloadusers reads /adm/users from the adm label (permissive: a broken
 * table falls back to the built-in one).  newconn serves 9P on rfd/wfd
 * until they end; hangupall ends every connection but standard input's.
 */
void	srvsignals(void);
int	serve(Srvconf*);
int	fsloadusers(int permissive);
void	fsstart(Srvconf*);
void	fsstop(void);
int	newconn(int rfd, int wfd, int net, int trusted, char *peername, char *addr);
void	hangupall(void);
int	fsreloadusers(Linefn *diag, void *arg);

/*
 * shim.c: the disk shim (gefs(4)), off unless shiminit is given a spec
 * (gefs takes it from $GEFS_SHIM).  devwrite and devsync go through
 * shimpwrite and shimflush while shimon(); shimmark writes a text into
 * the log for the replay tool; shimcount says how many writes and
 * flushes went through.
 */
int	shiminit(char*);
int	shimon(void);
int	shimpwrite(int, char*, int, vlong);
int	shimflush(int);
void	shimmark(char*);
void	shimcount(long*, long*);

/*
 * cons.c: administration (runtime §5, §12; format §17.8).  serve()
 * calls consstart before it accepts clients (it puts missing /adm/ctl
 * and /adm/status entries into a writable volume and starts the
 * retention clock), consquiesce once it is told to stop (no command
 * starts after it, the running ones have finished, the clock is
 * stopped), and consstop at the very end, after the final sync (the
 * console clients are hung up then, so a halt's client sees its
 * connection end once everything is on disk).  consconn serves a
 * console client on fd.  ctlcmd runs one write to /adm/ctl; statustext
 * makes the text of /adm/status (the caller frees it).
 */
void	consstart(Srvconf*);
void	consquiesce(void);
void	consstop(void);
int	consconn(int fd);
int	ctlcmd(char *buf, int n);
char*	statustext(long *n);

/* dump.c: show tree NAME ("snap": the snap tree), one line at a time to out */
int	dumptree(char *name, Linefn *out, void *arg);
