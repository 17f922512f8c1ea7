/*
 * dat.h: every type and constant of gefs for Unix.
 *
 * Sections follow the subsystems of DESIGN.md §5.  Constants and layouts are
 * those of spec/format.md; comments say why, not what.
 */
#include <stdint.h>
#include <stddef.h>
#include <pthread.h>

/* Plan 9 names for fixed-width types: every on-disk and 9P field uses these. */
typedef unsigned char	uchar;
typedef unsigned short	ushort;
typedef unsigned int	uint;
typedef int8_t		s8int;
typedef uint8_t		u8int;
typedef uint16_t	u16int;
typedef int32_t		s32int;
typedef uint32_t	u32int;
typedef int64_t		vlong;
typedef uint64_t	uvlong;
typedef uint64_t	u64int;

#define nil		((void*)0)
#define nelem(x)	(sizeof(x)/sizeof((x)[0]))
#define USED(x)		((void)(x))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

/* ---------------------------------------------------------------- platform */

typedef struct Lock	Lock;
typedef struct QLock	QLock;
typedef struct RWLock	RWLock;
typedef struct Rendez	Rendez;
typedef struct Chan	Chan;

enum {
	Errmax	= 256,		/* longest error string kept per thread */
};

/* Spin lock: for short critical sections that never sleep. */
struct Lock {
	s32int	key;	/* atomic.h's 32-bit "long": 0 free, 1 held */
};

/* Sleeping mutex. */
struct QLock {
	pthread_mutex_t	m;
};

/* Readers/writer lock; may be released by the thread that took it only. */
struct RWLock {
	pthread_rwlock_t	rw;
};

/* Condition variable tied to the QLock its sleepers hold. */
struct Rendez {
	QLock		*l;
	pthread_cond_t	c;
};

/* Bounded multi-producer multi-consumer queue of pointers (runtime §1.4). */
struct Chan {
	QLock	lk;
	Rendez	full;		/* senders wait here */
	Rendez	empty;		/* receivers wait here */
	int	closed;
	int	size;
	int	count;
	int	rd;
	int	wr;
	void	**ring;
};

/* ------------------------------------------------------ on-disk constants */

enum {
	Lgblk		= 14,
	Blksz		= 1<<Lgblk,	/* 16384 */
	Maxent		= 256,		/* directory-entry key, NUL included */
	Maxname		= 244,		/* longest name that fits a Kent key (format §13.19) */
	Maxuname	= 64,
	Keymax		= 256,
	Inlmax		= 512,
	Ptrsz		= 24,		/* packed Bptr */
	Pptrsz		= 26,		/* Bptr + u16 fill, in pivots */
	Fillsz		= 2,
	Offksz		= 17,		/* Kdat key */
	Snapsz		= 9,		/* Ksnap key */
	Dpfxsz		= 9,		/* Kent key prefix: type + parent qid */
	Upksz		= 9,		/* Kup key */
	Dlksz		= 17,		/* Kdlist key */
	Dlvsz		= 48,		/* Kdlist value */
	Dlkvpsz		= Dlksz+Dlvsz,
	Treesz		= 72,		/* packed tree record */
	Xdirsz		= 61,		/* packed directory entry value */
	Kvmax		= Keymax+Inlmax,
	Kpmax		= Keymax+Ptrsz,
	Msgmax		= 1+(Kvmax > Kpmax ? Kvmax : Kpmax),
	Pivent		= 2+4+Keymax+Pptrsz,	/* worst-case pivot child entry with its slot: 288 */
	Arenasz		= 32,
	Pivhdsz		= 10,
	Leafhdsz	= 6,
	Loghdsz		= 2+2+8+Ptrsz,	/* 36 */
	Bufspc		= (Blksz-Pivhdsz)/2,	/* 8187 */
	Pivspc		= Blksz-Pivhdsz-Bufspc,	/* 8187 */
	Leafspc		= Blksz-Leafhdsz,	/* 16378 */
	Logspc		= Blksz-Loghdsz,	/* 16348 */
	Logslop		= 16+16+8,
	Sbhdsz		= 104,		/* superblock bytes before the arena pointers */
	Maxarena	= 255,		/* the reference refuses to load more (format §18.6) */
	Minream		= 128*1024*1024 + Blksz,
	Hashseed	= 0x6765,
};

#define Magicvers	"gefs9.00"

/* Block types: the u16 at offset 0 of every metadata block. */
enum {
	Tdat,
	Tpivot,
	Tleaf,
	Tlog,
	Tdlist,
	Tarena,
	Tsuper = 0x6765,
};

/* Key types: the first byte of every key (format §6.2, §17.1). */
enum {
	Kdat,
	Kent,
	Kup,
	Klabel,
	Ksnap,
	Kdlist,
	Kconf,
};

/* Message ops (format §7.1, §17.7). */
enum {
	Onop,
	Oinsert,
	Odelete,
	Oclearb,
	Oclobber,
	Owstat,
	Orelink,
	Oreprev,
	Oincref,
	Nmsgtype,
};

/* Owstat field flags, in payload order. */
enum {
	Owsize	= 1<<0,
	Owmode	= 1<<1,
	Owmtime	= 1<<2,
	Owatime	= 1<<3,
	Owuid	= 1<<4,
	Owgid	= 1<<5,
	Owmuid	= 1<<6,
	Owmask	= 0x7f,
};

/* Allocation-log ops: the low byte of the first word of an entry. */
enum {
	LogNop,
	LogAlloc1,
	LogFree1,
	LogSync,
	LogAlloc,
	LogFree,
};

/* Label flags (format §17.6): only Lmut is written or read. */
enum {
	Lmut	= 1<<0,
	Lauto	= 1<<1,		/* retired: tolerated on read */
	Ltsnap	= 1<<2,		/* retired: tolerated on read */
};

/* 9P mode and qid bits stored in directory entries. */
enum {
	QTDIR		= 0x80,
	QTAPPEND	= 0x40,
	QTEXCL		= 0x20,
	QTAUTH		= 0x08,
	QTTMP		= 0x04,
	QTFILE		= 0x00,
};
#define DMDIR		0x80000000U
#define DMAPPEND	0x40000000U
#define DMEXCL		0x20000000U
#define DMMOUNT		0x10000000U
#define DMAUTH		0x08000000U
#define DMTMP		0x04000000U

/* Reserved qid paths (format §6.4, §17.8). */
#define Qmain		0ULL
#define Qadm		1ULL
#define Qusers		2ULL
#define Qdump		(1ULL<<63)
#define Qctl		((1ULL<<63)|1)
#define Qstatus		((1ULL<<63)|2)
#define Qmagic		(1ULL<<63)

/* ------------------------------------------------------------ core values */

typedef struct Bptr	Bptr;
typedef struct Key	Key;
typedef struct Kvp	Kvp;
typedef struct Msg	Msg;
typedef struct Xdir	Xdir;
typedef struct Qid	Qid;
typedef struct Arange	Arange;

/* Block pointer (format §3): addr = -1 is the null pointer Zb. */
struct Bptr {
	vlong	addr;
	uvlong	hash;
	vlong	gen;
};

/* Keys and values point into someone else's buffer; they own nothing. */
struct Key {
	char	*k;
	int	nk;
};

struct Kvp {
	char	*k;
	int	nk;
	char	*v;
	int	nv;
};

/* A message is a key, a payload and an op (format §7). */
struct Msg {
	int	op;
	Kvp	kv;
};

struct Qid {
	uvlong	path;
	u32int	vers;
	uchar	type;
};

/* Decoded directory entry (Kent value, format §6.3). */
struct Xdir {
	uvlong	flag;
	Qid	qid;
	u32int	mode;
	vlong	atime;
	vlong	mtime;
	uvlong	length;
	s32int	uid;
	s32int	gid;
	s32int	muid;
	char	*name;		/* points into the key it was decoded with */
	int	nname;
};

/* A free range of an arena. */
struct Arange {
	vlong	off;
	vlong	len;
};

/* ------------------------------------------------------ blocks and trees */

typedef struct Blk	Blk;
typedef struct Tree	Tree;
typedef struct Arena	Arena;
typedef struct Gefs	Gefs;

/* Block flags (format §12.4). */
enum {
	Bdirty	= 1<<0,
	Bfinal	= 1<<1,
	Bfreed	= 1<<2,
	Bcached	= 1<<3,
	Bqueued	= 1<<4,
	Blimbo	= 1<<5,
	Bstatic	= 1<<6,
};

/* getblk flags: how the block named by a pointer is read and verified. */
enum {
	GBraw	= 1<<0,		/* file data: no header; hash over the whole block */
	GBlog	= 1<<1,		/* Tlog/Tdlist: verified by its own logh, not by bp.hash */
};

/*
 * One cached 16 KiB block.  The decoded header fields are the truth while
 * the block is being built; finalize() packs them into buf.  Only a block
 * nobody else can see yet (new, or a static log buffer) is ever modified.
 */
struct Blk {
	/* cache bookkeeping: cache.c; ref and flag change under the cache lock */
	Blk	*lnext;		/* LRU, when ref == 0 */
	Blk	*lprev;
	Blk	*hnext;		/* address hash chain */
	long	ref;
	long	flag;

	Bptr	bp;		/* where it lives; hash only meaningful once final */
	int	type;

	/* Tleaf, Tpivot */
	int	nval;
	int	valsz;
	int	nbuf;		/* Tpivot only */
	int	bufsz;
	char	*data;		/* leaf: buf+Leafhdsz; pivot: buf+Pivhdsz; log: buf+Loghdsz */

	/* Tlog, Tdlist */
	int	logsz;
	uvlong	logh;
	Bptr	logp;		/* chain pointer */

	char	buf[Blksz];
};

/*
 * An in-memory tree: a committed snapshot record plus the generation its
 * new blocks are born in.  Readers copy root and height under lk.
 */
struct Tree {
	Lock	lk;
	int	ht;		/* height; 1 = the root is a leaf */
	Bptr	bp;		/* root */
	vlong	gen;		/* the record this tree was loaded from */
	vlong	memgen;		/* birth generation of blocks allocated now */
	vlong	pred;
	vlong	succ;
	vlong	base;
	int	nref;
	int	nlbl;
	int	flag;
	int	dirty;
};

/* ------------------------------------------------------------------ users */

/*
 * 9P open modes (the mode byte of Topen and Tcreate) and the permission
 * bits an access check asks for (runtime §3.2).  The permission check
 * needs them, and so does the wire code: fcall.h must use these, not
 * define its own.
 */
#define OREAD		0
#define OWRITE		1
#define ORDWR		2
#define OEXEC		3
#define OTRUNC		0x10
#define OCEXEC		0x20
#define ORCLOSE		0x40

#define DMREAD		0x4
#define DMWRITE		0x2
#define DMEXEC		0x1

typedef struct User	User;
typedef struct Users	Users;
typedef struct Uline	Uline;
typedef struct Uparse	Uparse;

/* Receives one line of text, without its newline: diagnostics, listings. */
typedef void Linefn(void *arg, char *line);

enum {
	Usersmax	= 1<<20,	/* /adm/users must be shorter (runtime §6.1) */
	Unamesz		= Maxuname+1,	/* a user name and its NUL */
	Noneid		= 0,		/* special ids when the table lacks the name */
	Admid		= -1,
	Nogroupid	= 9999,
};

struct User {
	s32int	id;
	int	haslead;	/* the leader field was not empty */
	s32int	lead;		/* the leader's id, if haslead */
	int	nmemb;
	s32int	*memb;		/* member ids: sorted, distinct */
	char	name[Unamesz];
};

/*
 * A user table: immutable once parsed, shared by reference count (user.c
 * explains why).  Ids and names are unique; every leader and member is a
 * user of the table.
 */
struct Users {
	long	ref;		/* guarded by the current-table lock of user.c */
	int	nuser;
	User	*user;		/* in file order */
	int	mask;		/* hash table size - 1 */
	int	*byid;		/* open addressing: index into user, or -1 */
	int	*byname;
	s32int	*pool;		/* storage of every memb array */
	s32int	none;		/* the special ids: by name, else the defaults */
	s32int	adm;
	s32int	nogroup;
};

/* Parse time only: what pass 2 resolves for a user of /adm/users. */
struct Uline {
	int	line;
	int	hasid;		/* in Users.byid */
	int	hasname;	/* in Users.byname */
	char	*lead;		/* the leader field, nil if the line is broken */
	int	nlead;
	char	*memb;		/* the members field */
	int	nmemb;
};

struct Uparse {
	Users	*u;
	Uline	*ln;
	Linefn	*diag;
	void	*arg;
	int	nerr;
	char	first[Errmax];	/* the first diagnostic, for errstr */
};

/* ------------------------------------------------------------ mounts */

typedef struct Mount	Mount;
typedef struct Retain	Retain;

/* Retention units (format §17.1): minute, hour, day. */
enum {
	Rmin,
	Rhour,
	Rday,
	Nunit,
};

/* A parsed retain schedule (format §17.1, late-2025 rules). */
struct Retain {
	int	ok;		/* the text parsed; else nothing is taken or deleted */
	int	count[Nunit];	/* labels kept; -1 keeps all, 0 takes none and deletes */
	int	ival[Nunit];	/* a snapshot every ival units */
};

/*
 * A mounted label (snap.c): every attach of the same name shares one.
 * root is the tree the label names now; the commit (updatesnap) swaps it
 * for the committed tree, and readers load it with agetp inside an epoch.
 * Of root, only bp, ht, gen, memgen and base are kept current; the
 * counters live in the snap tree and are read from there.
 */
struct Mount {
	Mount	*next;		/* the mount list, under fs->mountlk */
	long	ref;		/* under fs->mountlk */
	char	*name;
	int	flag;		/* label flags: Lmut = writable */
	Tree	*root;

	/* automatic snapshots (snap.c), under fs->mutlk */
	Retain	ret;
	vlong	last[Nunit];	/* Unix seconds of the newest one; -1: none yet */
	int	trimmed;	/* surplus labels deleted since the mount was made */
};

/* One label as snaplist reports it. */
typedef struct Label	Label;
struct Label {
	char	*name;
	vlong	gen;		/* the snapshot it names */
	int	flag;
};

/* A set of block addresses (snap.c), for sweeps and the checker. */
typedef struct Bset	Bset;
struct Bset {
	vlong	*a;		/* open addressing; -1 empty */
	long	n;
	long	cap;
};

/* ------------------------------------------------------------------- tree.c */

typedef struct Scan	Scan;
typedef struct Scanp	Scanp;
typedef struct Node	Node;
typedef struct Upd	Upd;
typedef struct Pchunk	Pchunk;
typedef struct Weight	Weight;

enum {
	Maxht		= 16,		/* deepest tree we build or walk (fan-out >= 2) */
	Pivlimit	= Pivspc - 2*Pivent,	/* pivot child area we fill: room for a split below (format §8.4, §17.10) */
	/*
	 * Most children per pivot.  A flush moves one child's run of the
	 * buffer down; with ~100 children an 8 KB buffer gives runs of a few
	 * messages and nearly every message costs a block per level.  Fewer
	 * children make longer runs (the Bε trade-off: fan-out about the
	 * square root of the buffer's message count) at one more level.
	 */
	Maxfan		= 16,
	Tpsz		= 10,		/* Orelink/Oreprev/Oincref payload: i64 link, i8 dlbl, i8 dref */
	Nweight		= 4096,		/* subtree bounds remembered by drainable (a power of 2) */
};

/* One level of a scan: the node and the cursors into it. */
struct Scanp {
	Blk	*b;
	int	vi;		/* leaf: next value; pivot: the child we are in */
	int	bi;		/* pivot: next buffered message */
};

/*
 * A prefix scan (format §7.5).  It survives btexit: last keeps the last
 * key it looked at, so btenter can resume strictly after it in a newer
 * version of the tree.
 */
struct Scan {
	char	pfx[Keymax];
	int	npfx;
	char	last[Keymax];	/* last key looked at (returned or found absent) */
	int	nlast;
	int	started;	/* last is valid */
	int	done;
	int	entered;	/* path holds blocks */
	int	ht;
	Scanp	path[Maxht];	/* path[0] is the root */
	char	val[Inlmax];	/* the value btnext returned */
};

/*
 * Node contents in memory while an upsert rebuilds them.  Keys and values
 * point into held blocks or into the upsert's scratch pool.
 */
struct Node {
	int	type;		/* Tleaf or Tpivot */
	Kvp	*ent;		/* leaf values, or pivot children (v: packed Bptr and fill) */
	int	nent;
	int	entsz;		/* bytes the entries take in a block, slots included */
	Msg	*msg;		/* pivot buffer: key order, arrival order within a key */
	int	nmsg;
	int	msgsz;
};

struct Pchunk {
	Pchunk	*next;
	size_t	size;
	size_t	used;
	char	*data;
};

/* One upsert in progress: what it read, made and must free. */
struct Upd {
	Tree	*t;
	Pchunk	*pool;
	Blk	**held;		/* read blocks: dropped at the end */
	int	nheld;
	int	maxheld;
	Blk	**old;		/* replaced blocks: freed once the new root is in */
	int	nold;
	int	maxold;
	Blk	**made;		/* new blocks: freed if the upsert fails */
	int	nmade;
	int	maxmade;
	Bptr	*dead;		/* data blocks released by applied messages (format §7.2) */
	int	ndead;
	int	maxdead;
	int	deletes;	/* delete-type messages in the batch */
};

/* The bound on the leaf bytes left under a pivot, once weighed (tree.c drainable). */
struct Weight {
	vlong	addr;		/* the pivot's Bptr; addr 0 is never a pivot */
	uvlong	hash;
	vlong	lb;
};

/* ------------------------------------------------------------------ check.c */

typedef struct Chk	Chk;

/* One tree check in progress. */
struct Chk {
	Tree	*t;
	void	(*out)(void*, char*);	/* where problems go; nil: warn() */
	void	*arg;
	int	nbad;
};

/*
 * What a volume check found and read (checkstat): gefs -c prints it,
 * and bench/snapvol reads it.  Metadata is the distinct tree nodes,
 * deadlist blocks and allocation log blocks read and verified.
 */
typedef struct Chkstat	Chkstat;
struct Chkstat {
	int	nbad;
	vlong	leaked;
	vlong	nodes;
	vlong	dlists;
	vlong	logs;
	vlong	data;		/* data blocks read and verified */
	vlong	ns;		/* wall time of the whole check */
	vlong	datans;		/* of it, waiting for data blocks to be read and verified (hashers run beside the walk) */
};

/* ------------------------------------------------------------------- fuzz.c */

typedef struct Fuzz	Fuzz;
typedef struct Mkey	Mkey;
typedef struct Mver	Mver;

/* One version of a model key's value. */
struct Mver {
	uvlong	ver;
	int	present;
	char	*val;
	int	nval;
};

/* A key of the fuzzer's model with its recent history. */
struct Mkey {
	char	*k;
	int	nk;
	Mver	*hist;		/* ascending versions */
	int	nhist;
	int	maxhist;
};

/*
 * The model-based tree fuzzer: a plain sorted map mirrored against the
 * tree, with reader threads checking lookups and scans of published
 * versions against it.
 */
struct Fuzz {
	Tree	*t;
	uvlong	seed;
	int	steps;		/* random batches to run before deleting everything */
	int	nrd;		/* reader threads */
	int	chkevery;	/* full invariant check every so many steps */
	int	datablks;	/* also write Kdat keys naming real data blocks */
	void	(*enter)(void);	/* epoch enter and leave for readers, nil if none */
	void	(*leave)(void);
	void	(*clean)(void);	/* reclaim after each batch, nil if none */

	RWLock	mlk;		/* the model */
	Mkey	**keys;		/* sorted */
	int	nkeys;
	int	maxkeys;
	int	npresent;

	QLock	plk;		/* the published version and reader slots */
	Bptr	pubbp;
	int	pubht;
	uvlong	pubver;
	uvlong	*rdver;		/* per reader: version it may use, or ~0 */

	int	stop;		/* under plk: readers stop */
	long	nlook;		/* under plk: reader statistics */
	long	nscan;
	QLock	flk;		/* the first failure */
	int	failed;
	char	fail[512];
	int	step;
};

/* ------------------------------------------------------- the volume layer */

typedef struct Fnode	Fnode;
typedef struct Qent	Qent;
typedef struct Wqueue	Wqueue;
typedef struct Fence	Fence;
typedef struct Cache	Cache;
typedef struct Limbo	Limbo;
typedef struct Dlist	Dlist;
typedef struct Super	Super;
typedef struct Bvec	Bvec;

#define Arenamax	(4LL<<40)	/* ream: one arena per 4 TiB (format §10.1) */

enum {
	Nstripe		= 32,		/* striped locks serialising cache-miss reads */
	Rdbatch		= 64,		/* readblks: blocks read with one call, at most (1 MiB) */
	Reamminarena	= 8,
	Reammaxarena	= 32,
	Growarenas	= 4,		/* grow appends this many arenas */
	Growmin		= 64*1024*1024,	/* ... into at least this much new space */
	Rrperiod	= 2048,		/* allocations before the preferred arena moves */
	Minreserve	= 512*1024,
	Maxreserve	= 8*1024*1024,
	Cachemin	= 64,		/* working blocks besides the static log buffers */
	Syncperiod	= 5,		/* seconds between periodic syncs */
	Dlcmin		= 4,		/* open deadlist blocks kept: cmax/10 in [Dlcmin, Dlcmax] */
	Dlcmax		= 512,
	Wrbatch		= 64,		/* the syncer writes this many consecutive blocks with one call, at most */
	Wqbatch		= 64,		/* the syncer wakes for this many writes and frees (at most cap/8), or for a fence */
	Maxslot		= 512,		/* epoch slots: threads that enter epochs, connection threads (Maxconn) among them */
};

/* A node of an arena's free map: an AVL tree of disjoint ranges by offset. */
struct Fnode {
	vlong	off;
	vlong	len;
	Fnode	*l;
	Fnode	*r;
	int	ht;
};

/* A growable vector of block pointers. */
struct Bvec {
	Bptr	*p;
	int	n;
	int	cap;
};

/*
 * An arena (format §5, §9.1).  Everything but base is protected by lk.
 *
 * The tail log block lives in one of two static buffers and is rewritten
 * in place.  To survive a torn write (format §13 item 13c) its on-disk
 * header must always describe bytes that are already on disk: new payload
 * bytes are written and made durable first, then the 36-byte header (one
 * sector) that covers them.  dsz is what the header on disk covers, keep
 * the prefix of the buffer known to equal the disk, dur the durable part.
 */
struct Arena {
	QLock	lk;
	vlong	base;		/* h0; h1 is at base+Blksz */
	vlong	size;		/* header size field: span less the two headers */
	vlong	used;
	vlong	reserve;
	Fnode	*free;
	int	nfree;		/* ranges in free */
	Fnode	*pend;		/* logged as free, not reusable until the commit is durable */
	int	npend;

	Bptr	loghd;
	Blk	*logtl;		/* the open tail: logbuf[0] or logbuf[1] */
	Blk	*logbuf[2];
	int	dsz;
	int	keep;
	int	dur;
	int	nlog;		/* log blocks chained since the last compression */
	int	lastlogsz;	/* full blocks the last compression wrote */
	Bvec	logblks;	/* the chain, head first: freed after a compression commits */

	/* the header as the last sync packed it */
	Bptr	hdloghd;
	vlong	hdused;
	uvlong	hdhash;
};

/* Write-queue entries, ordered by (qgen, kind, address): format §12.5. */
enum {
	Qfence	= 1,
	Qwrite,
	Qfree,
	Qquit,
};

struct Fence {
	QLock	lk;
	Rendez	r;
	int	done;
	int	err;
};

struct Qent {
	vlong	qgen;
	int	kind;
	vlong	addr;
	Blk	*b;		/* Qwrite: the queue holds a reference */
	Fence	*f;		/* Qfence */
	int	quiet;		/* Qfree: already logged, leaves the pending set */
};

struct Wqueue {
	QLock	lk;
	Rendez	nonempty;
	Rendez	nonfull;
	Qent	*heap;
	int	n;
	int	cap;
	int	nfree;		/* Qfree entries in the heap */
	int	batch;		/* writes and frees that wait before the syncer is woken */
};

/* The block cache (format §12). */
struct Cache {
	QLock	lk;		/* hash, LRU, ref and flag of every buffer */
	Rendez	free;		/* the LRU became non-empty */
	Blk	*blks;		/* cmax buffers */
	long	cmax;
	long	nfresh;		/* blks[nfresh..cmax) were never used */
	Blk	**hash;		/* cmax buckets, by address; holds no reference */
	Blk	lru;		/* sentinel: lnext is the MRU end */
	long	nlru;
	QLock	stripe[Nstripe];
};

/* An epoch limbo entry (runtime §2). */
enum {
	Lblk,		/* a resident block: queue its free, drop the limbo ref */
	Lbptr,		/* a bare pointer: the same, without a buffer */
	Lpend,		/* a bare pointer whose free is already logged */
	Lblkpend,	/* a resident block whose free is already logged */
	Lfn,		/* memory: call fn(arg) */
};

struct Limbo {
	Limbo	*next;
	int	kind;
	Blk	*b;
	Bptr	bp;
	void	(*fn)(void*);
	void	*arg;
};

/*
 * An in-memory deadlist (format §11.5): blocks born in bgen and killed
 * while gen was the tree's memgen.  ins is the open head, not yet
 * visible to anybody; hd and tl are the committed chain.
 */
struct Dlist {
	Dlist	*next;
	vlong	gen;
	vlong	bgen;
	Bptr	hd;
	Bptr	tl;
	Blk	*ins;
	int	dirty;		/* hd/tl changed since the Kdlist record was written */
};

/* A decoded superblock (format §4.1). */
struct Super {
	int	narena;
	int	ht;
	Bptr	root;
	uvlong	flags;
	vlong	nextqid;
	vlong	nextgen;
	vlong	qgen;
	Bptr	*arenas;	/* addr, hash; gen -1 */
};

/*
 * The one file system of this process.  Lock order: synclk, mutlk,
 * arena lk, cache lk; the write queue lock is never held with any other.
 */
struct Gefs {
	/* the device */
	int	fd;
	char	*dev;
	vlong	size;		/* bytes, rounded down to Blksz */
	int	rdonly;		/* -R: nothing is ever written */
	Lock	brklk;
	int	broken;		/* errors that made the file system read-only */
	char	whybroken[Errmax];	/* the first of them, for df and status */

	/* allocation */
	Arena	*arenas;
	int	narena;
	Lock	rrlk;
	uvlong	rrctr;		/* allocation attempts (format §9.2) */
	s32int	usereserve;	/* atomic: the console's reserve changes it */

	/* the committed state and the counters the next commit writes */
	Tree	snap;
	vlong	nextqid;	/* the last qid handed out (format §18.1) */
	vlong	nextgen;	/* the last generation handed out */
	vlong	qgen;		/* write-queue generation; the last commit's barrier */

	/*
	 * Concurrency: one mutator changes trees under mutlk; readers walk
	 * immutable copies under epochs; sync makes a commit durable.
	 */
	QLock	mutlk;
	QLock	synclk;
	Lock	dirtylk;
	int	dirty;		/* changed since the last commit */

	/* the mounted labels (snap.c); lock order: mutlk, mountlk */
	QLock	mountlk;
	Mount	*mounts;
	Mount	*dump;		/* the dump view, while anybody holds it */

	/* frees that must wait until the next commit is durable */
	Lock	deferlk;
	Bvec	deferred;	/* the snap tree's deadlist, replaced log chains */

	/* deadlists being built (format §11.5), under mutlk */
	Dlist	*dlists;	/* most recently used first */
	int	ndlist;		/* open heads */
	int	dlcmax;		/* most open heads */

	Cache	cache;
	vlong	cachesz;
	Wqueue	wq;
	pthread_t syncer;	/* drains wq */
	int	running;	/* syncer started */
	QLock	timerlk;
	Rendez	timerr;
	int	timerquit;
	pthread_t timer;
	int	timing;
};

extern Gefs *fs;

/* ------------------------------------------------------- snapshots (snap.c) */

/* A batch of snap-tree messages being built (snap.c). */
typedef struct Mbuf	Mbuf;
enum {
	Mbmax	= 32,
};
struct Mbuf {
	int	n;
	Msg	m[Mbmax];
	char	kv[Mbmax][Keymax+Treesz];
};

/*
 * Reclamation left for after the snap tree is updated (snap.c): deadlist
 * chains whose blocks nobody can reach, and trees of deleted chain tips
 * whose blocks born after keep are theirs alone.
 */
typedef struct Rtree	Rtree;
typedef struct Rwork	Rwork;
struct Rtree {
	Bptr	bp;
	int	ht;
	vlong	keep;
};
struct Rwork {
	Bvec	chains;		/* head, tail, head, tail... */
	Rtree	*trees;
	int	ntrees;
};

/* --------------------------------------------- fs.c, srv.c: the 9P service */

typedef struct Srvconf	Srvconf;
typedef struct Conn	Conn;
typedef struct Fid	Fid;
typedef struct Dent	Dent;
typedef struct Req	Req;
typedef struct Rmsg	Rmsg;
typedef struct Ent	Ent;
typedef struct Mlist	Mlist;
typedef struct Listener	Listener;
typedef struct Fcall	Fcall;	/* fcall.h */

enum {
	/*
	 * Message sizes we negotiate (runtime §3.1): 256 bytes up to 1 MiB
	 * of data plus the 24-byte I/O header.  Every request in flight may
	 * hold a frame and a reply of this size, so it bounds memory per
	 * connection at Maxinflight of each.
	 */
	Minmsg		= 256,
	Maxmsg		= 1024*1024 + 24,
	Maxinflight	= 32,		/* requests read but not answered, or answered but not sent, per connection */
	Maxconn		= 256,		/* connections beyond are refused */
	Maxannounce	= 16,		/* -a addresses */
	Maxreaders	= 4,		/* reader pool: NPROC/2, NPROC in [2, 8] */
	Nfidhash	= 64,		/* per connection, at first: it grows with the fids */
	Maxfidhash	= 1<<20,
	Ntaghash	= 64,		/* per connection */
	Ndenthash	= 1<<16,	/* 512 KiB: a client may hold a fid on every file it has seen */
	Ndentlk		= 64,		/* dent buckets share these locks */
	Clearbatch	= 65536,	/* data records cleared per upsert: 1 GiB of file, ~4 MiB of messages */
};

/* Transports a connection came from: what proves who is attaching. */
enum {
	Cunix	= 1,	/* peer credentials */
	Ctcp,		/* nothing: only with -A */
	Cstdio,		/* whoever started us: trusted like the owner */
	Ccons,		/* the console socket NAME.cmd: not 9P (cons.c) */
};

/* What main hands the server: the flags of runtime §9.1 and §12. */
struct Srvconf {
	char	*name;			/* -n: service name */
	char	*addr[Maxannounce];	/* -a */
	int	naddr;
	int	stdio;			/* -s */
	int	noauth;			/* -A */
	s32int	permissive;		/* -S; atomic: the console's permit changes it */
	int	rdonly;			/* -R */
};

/* A reply the socket did not take at once, waiting for the connection's writer. */
struct Rmsg {
	Rmsg	*next;
	long	n;
	long	off;		/* bytes already sent */
	uchar	*buf;
};

/*
 * One 9P connection: a reader thread that decodes requests, runs those
 * that only read itself when nothing else of the connection is in
 * flight, and hands the others out.  Whoever finishes a request sends
 * its reply, without waiting: what the socket does not take at once
 * goes to the connection's writer thread, which sends the queue in
 * order, so no worker ever blocks on a slow client.
 */
struct Conn {
	Conn	*next;		/* the server's list, under its lock */
	Conn	*prev;
	int	rfd;
	int	wfd;
	int	net;		/* Cunix, Ctcp, Cstdio */
	int	trusted;	/* peer is root or our owner, or -s: any uname */
	char	*peername;	/* Cunix: the peer's login name, if it has one */
	char	*addr;		/* for messages */
	s32int	msize;		/* atomic: negotiated; Maxmsg before Tversion */
	int	versioned;	/* reader thread only */
	s32int	hungup;		/* atomic: replies are dropped */

	QLock	lk;		/* tags, ninflight, the reply queue, sending on wfd */
	Rendez	idle;		/* ninflight went down */
	Rendez	outr;		/* a reply was queued, or quit */
	Req	*tags[Ntaghash];
	int	ninflight;
	Rmsg	*outq;
	Rmsg	*outtl;
	int	nout;		/* replies in outq: they count against Maxinflight */
	int	writing;	/* the writer is sending, outside lk */
	int	queueonly;	/* wfd is no socket: only the writer sends, blocking */
	int	quit;
	pthread_t writer;

	Lock	fidlk;
	Fid	**fids;		/* nfidhash buckets, a power of two */
	u32int	nfidhash;
	long	nfid;
};

/*
 * The in-memory handle on a file of a mount, shared by every fid of that
 * mount that reaches it.  The tree holds the file's record; the dent
 * holds what the tree cannot: where the record is (its key, changed by
 * rename), that the file was removed, and how many fids have it open.
 */
struct Dent {
	Dent	*next;		/* hash chain, under the bucket lock */
	Mount	*mnt;
	uvlong	qpath;
	int	ref;		/* under the bucket lock */
	RWLock	lk;		/* everything below */
	int	gone;
	int	nopen;
	int	nkey;
	char	*key;		/* nkey bytes: a dent lives as long as a fid has the file, so no slack */
};

/*
 * A fid.  Requests on one fid may run in several threads at once (a read
 * in the pool, a write in the mutator); lk serialises them.
 */
struct Fid {
	Fid	*next;		/* hash chain, under Conn.fidlk */
	u32int	num;
	s32int	ref;		/* atomic */
	QLock	lk;		/* everything below */
	Mount	*mnt;		/* nil at the dump root */
	Dent	*dent;		/* nil at the dump root */
	Qid	qid;
	int	fromdump;	/* reached through dump: ".." at the root goes back there */
	int	mode;		/* -1: not open; else DMREAD|DMWRITE|DMEXEC */
	s32int	rclose;		/* atomic: remove at clunk */
	s32int	wrusers;	/* atomic: wrote /adm/users: reload at clunk */
	s32int	uid;
	int	permit;		/* % attach: no permission checks */
	Scan	*scan;		/* directory reads */
	uvlong	dirnext;	/* the offset the next directory read must ask for */
	uchar	*pend;		/* a stat record that did not fit the last read */
	int	npend;
	char	*text;		/* /adm/status: what the read at offset 0 made */
	long	ntext;
};

/* Request states, for Tflush. */
enum {
	Rqueued,	/* not yet started: a flush cancels it */
	Rrunning,	/* a flush waits for its reply */
	Rflushed,	/* cancelled before it started: no reply */
};

#define Dfilemode	(DMDIR|DMAPPEND|DMEXCL|DMTMP|0777)	/* the mode bits a file may have */
#define Omodemask	(0x3|OTRUNC|OCEXEC|ORCLOSE)		/* the open mode bits we know */

/* One request, from its decoding until its reply is queued. */
struct Req {
	Req	*next;		/* tag chain, under Conn.lk */
	Conn	*c;
	Fcall	*t;		/* decoded; strings owned, data points into frame */
	uchar	*frame;
	int	state;
	int	tagged;		/* in the tag table */
	int	counted;	/* in Conn.ninflight */
	Req	*flush;		/* Tflushes answered right after this reply */
	Req	*flink;		/* next in that list */
	Fid	*fid;		/* Tclunk sent to the mutator: the fid, already unlinked */
	int	internal;	/* a clunk at hang-up: no reply */
};

/* A directory entry read from a tree: the record, its key and its parent. */
struct Ent {
	Xdir	d;		/* d.name points into buf */
	uvlong	up;		/* parent qid path; -1 for a root */
	int	nkey;
	char	buf[Keymax+Inlmax];	/* the key, then the value */
};

/*
 * Messages for one upsert.  Keys and values are copied into pool; the
 * messages record offsets until the batch is applied, since the pool
 * moves as it grows.
 */
struct Mlist {
	Msg	*msg;
	int	*koff;
	int	*voff;
	int	nmsg;
	int	amsg;
	char	*pool;
	int	npool;
	int	apool;
	Tree	*t;		/* the tree the new blocks are for */
	Blk	**blk;		/* new data blocks the messages point at, held */
	int	nblk;
	int	ablk;
};

/* Where a walk is: a mount and an entry, or the dump root (m nil). */
typedef struct Wpos	Wpos;
struct Wpos {
	Mount	*m;
	int	ownm;		/* the walk holds a reference to m */
	int	fromdump;
	Tree	t;		/* m's tree as the walk reads it */
	Ent	e;
};

/* A request handler: it answers itself (1), fills the reply (0) or fails (-1). */
typedef int Fsfn(Req*, Fcall*);

/* A socket we accept connections on. */
struct Listener {
	Listener *next;
	int	fd;
	int	net;		/* Cunix or Ctcp */
	char	*addr;		/* as announced, for messages */
	char	*path;		/* Cunix: the socket file, removed at exit */
	s32int	stop;		/* atomic */
	pthread_t tid;
};

/* ------------------------------------------------------- the disk shim */

typedef struct Shim	Shim;

#define Shimmagic	"gefs shim log 1\n"

/* Failures the shim injects (shim.c, gefs(4)). */
enum {
	Seio	= 1,
	Senospc,
	Sshort,
	Storn,
	Sflush,
	Nshimfail,
};

struct Shim {
	int	on;
	QLock	lk;		/* counts, the log, and the order of device writes */
	int	logfd;		/* 0: no log */
	long	nwrite;
	long	nflush;
	long	failat;		/* the write (or flush) that fails; 0: none */
	int	fail;
};

/* ------------------------------------------ cons.c: administration */

typedef struct Console	Console;
typedef struct Concmd	Concmd;

enum {
	Conslinemax	= 1024,		/* a console command line */
	Ctlmax		= 256,		/* an /adm/ctl write is shorter (format §17.11) */
	Maxcons		= 16,		/* console clients at once */
	Maxfield	= 16,		/* fields of a command */
	Consgrace	= 10,		/* seconds a stopping server waits for commands */
};

/* A client of the console socket, served by its own thread. */
struct Console {
	Console	*next;		/* under the console lock */
	int	fd;
	int	done;		/* its thread has finished: join it */
	pthread_t tid;
	char	buf[Conslinemax];	/* input not yet taken as a command */
	int	nbuf;
};

/*
 * A console command (runtime §5.2): name, then sub (if not nil) as the
 * second field, then between min and max more fields.
 */
struct Concmd {
	char	*name;
	char	*sub;
	int	min;
	int	max;
	char	*usage;
	void	(*fn)(Console*, int, char**);
};
