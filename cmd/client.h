/*
 * cmd/client.h: a 9P2000 client, for 9p, 9pfuse and the tests.
 * Include after dat.h, fns.h and fcall.h.
 *
 * A connection (Cfs) may be used by any number of threads at once: each
 * request gets a tag, and one of the threads waiting for a reply reads
 * the replies and hands each to the thread waiting on its tag, so many
 * requests can be in flight and a lone request costs no hand-off.  When
 * the server hangs up, every waiting and every later call fails with the
 * reason; none blocks.
 *
 * Errors: a call that fails returns -1 (or nil) with the error string set;
 * for an Rerror that string is the server's.
 */

typedef struct Caddr	Caddr;
typedef struct Ctag	Ctag;
typedef struct Cfs	Cfs;
typedef struct Cfid	Cfid;

enum {
	Ntag		= 256,			/* requests in flight per connection */
	Defmsize	= 1024*1024+IOHDRSZ,	/* asked for; servers negotiate down */
	Minmsize	= 512,			/* a directory read holds the largest gefs stat */
};

/* Networks an address may name. */
enum {
	Nunix	= 1,
	Ntcp,
};

/* A parsed address: unix!PATH, tcp!HOST!PORT, or a service name. */
struct Caddr {
	int	net;
	char	path[256];	/* Nunix: the socket */
	char	host[256];	/* Ntcp */
	char	port[64];	/* Ntcp */
};

/* A tag's slot: the thread that owns the tag waits on r for rx. */
struct Ctag {
	Rendez	r;
	int	busy;
	int	done;
	int	asleep;		/* the owner sleeps on r */
	Fcall	rx;
	uchar	*frame;		/* rx's bytes */
	Cfid	*gone;		/* a clunk nobody waits for: freed at its reply */
};

struct Cfs {
	int		fd;
	u32int		msize;		/* negotiated */
	pthread_t	reader;		/* watches for the end; reads then */
	QLock		wlk;		/* one frame at a time on fd */
	QLock		lk;		/* everything below */
	Rendez		tagwait;	/* for a free tag */
	Rendez		dead;		/* for the hang-up (cfshungup) */
	Rendez		rdfree;		/* for the reading to be free (reader) */
	int		reading;	/* a thread is reading a reply */
	Ctag		tag[Ntag];
	u16int		freetag[Ntag];
	int		nfreetag;
	u32int		*freefid;	/* fid numbers to reuse */
	int		nfreefid;
	int		afreefid;
	u32int		nextfid;
	int		ngone;		/* tags of clunks nobody waits for */
	char		*hangup;	/* why the connection is dead, or nil */
};

/* A fid.  offset is used by cread, cwrite and cdirread only. */
struct Cfid {
	Cfs	*fs;
	u32int	fid;
	Qid	qid;
	int	mode;		/* open mode, or -1 */
	u32int	iounit;		/* bytes per Tread or Twrite */
	QLock	lk;		/* offset */
	uvlong	offset;
};

/* addresses and the service directory (DESIGN.md §4) */
char*	cuser(void);
int	nsdir(char *buf, int nbuf);
int	parseaddr(char *addr, Caddr*);
int	parsemsize(char *s, u32int *msize);
int	dialaddr(char *addr);

/* connections */
Cfs*	cfsmount(int fd, u32int msize);
Cfs*	cfsdial(char *addr, u32int msize);
void	cfsclose(Cfs*);
int	cfsrpc(Cfs*, Fcall *tx, Fcall *rx, uchar **framep);
Cfid*	cfsattach(Cfs*, char *uname, char *aname);
char*	cfshungup(Cfs*);

/* fids */
int	pathsplit(char *path, char **elem, int nelem);
Cfid*	cwalk(Cfid*, char *path);
int	copen(Cfid*, int mode);
int	ccreate(Cfid*, char *name, u32int perm, int mode);
long	cpread(Cfid*, void *buf, long n, uvlong off);
long	cpwrite(Cfid*, void *buf, long n, uvlong off);
long	cread(Cfid*, void *buf, long n);
long	cwrite(Cfid*, void *buf, long n);
long	cdirread(Cfid*, Dir **dp);
long	cdirreadall(Cfid*, Dir **dp);
Dir*	cstat(Cfid*);
int	cwstat(Cfid*, Dir*);
int	cremove(Cfid*);
int	cclunk(Cfid*);
void	cdrop(Cfid*);

/* presentation */
char*	modestr(u32int mode, char *buf);
