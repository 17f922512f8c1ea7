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
