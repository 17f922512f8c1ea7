/*
 * fcall.h: 9P2000 messages, shared by the server and the clients
 * (runtime §3.1).  Include after dat.h and fns.h.
 *
 * 9P is little-endian, unlike the disk.  Every field has the width the
 * protocol gives it; a "don't touch" 32-bit field in a wstat is 0xFFFFFFFF.
 * The open modes (OREAD...) and the QT and DM bits are in dat.h.
 */

typedef struct Fcall	Fcall;
typedef struct Dir	Dir;

/* Message types; Terror is not a message and is never accepted. */
enum {
	Tversion	= 100,
	Rversion,
	Tauth,
	Rauth,
	Tattach,
	Rattach,
	Terror,
	Rerror,
	Tflush,
	Rflush,
	Twalk,
	Rwalk,
	Topen,
	Ropen,
	Tcreate,
	Rcreate,
	Tread,
	Rread,
	Twrite,
	Rwrite,
	Tclunk,
	Rclunk,
	Tremove,
	Rremove,
	Tstat,
	Rstat,
	Twstat,
	Rwstat,
	Tmax,
};

enum {
	IOHDRSZ		= 24,		/* size type tag fid offset count, with slack */
	Maxwelem	= 16,		/* names in a Twalk, qids in an Rwalk */
	NOTAG		= 0xFFFF,
	Fhdrsz		= 7,		/* size[4] type[1] tag[2]: the smallest frame */
	Qidsz		= 13,		/* type[1] vers[4] path[8] */
	Statfixsz	= 49,		/* a stat record with four empty strings */
	Maxstr		= 0xFFFF,	/* strings carry a 2-byte length */
	Maxframe	= 0x7FFFFFFF,	/* what a long holds everywhere */
};
#define NOFID		0xFFFFFFFFU

/*
 * One message of either direction.  Only the fields of f->type mean
 * anything.  After fcallunpack, data and stat point into the frame and
 * the strings into strs, which fcallclear frees.
 */
struct Fcall {
	uchar	type;
	u16int	tag;
	u32int	fid;
	u32int	msize;			/* Tversion, Rversion */
	char	*version;		/* Tversion, Rversion */
	u16int	oldtag;			/* Tflush */
	char	*ename;			/* Rerror */
	Qid	qid;			/* Rattach, Ropen, Rcreate */
	u32int	iounit;			/* Ropen, Rcreate */
	Qid	aqid;			/* Rauth */
	u32int	afid;			/* Tauth, Tattach */
	char	*uname;			/* Tauth, Tattach */
	char	*aname;			/* Tauth, Tattach */
	u32int	perm;			/* Tcreate */
	char	*name;			/* Tcreate */
	uchar	mode;			/* Topen, Tcreate */
	u32int	newfid;			/* Twalk */
	u16int	nwname;			/* Twalk */
	char	*wname[Maxwelem];	/* Twalk */
	u16int	nwqid;			/* Rwalk */
	Qid	wqid[Maxwelem];		/* Rwalk */
	uvlong	offset;			/* Tread, Twrite */
	u32int	count;			/* Tread, Twrite, Rread, Rwrite */
	uchar	*data;			/* Twrite, Rread */
	u16int	nstat;			/* Rstat, Twstat */
	uchar	*stat;			/* Rstat, Twstat: one packed stat record */
	char	*strs;			/* owns the decoded strings */
};

/*
 * A stat record.  nulldir fills in the "don't touch" values: all ones in
 * every integer, empty strings.
 */
struct Dir {
	u16int	type;
	u32int	dev;
	Qid	qid;
	u32int	mode;
	u32int	atime;
	u32int	mtime;
	uvlong	length;
	char	*name;
	char	*uid;
	char	*gid;
	char	*muid;
};

/* fcall.c: messages */
long	fcallsize(Fcall*);
long	fcallpack(Fcall*, uchar *buf, long nbuf);
int	fcallunpack(uchar *buf, long n, Fcall*);
void	fcallclear(Fcall*);
int	fcallfmt(char *buf, int nbuf, Fcall*);
char*	fcallname(int type);

/* fcall.c: frames on a file descriptor */
long	readframe(int fd, uchar *buf, long max);
long	readframealloc(int fd, long max, uchar **bufp);
int	writeframe(int fd, uchar *buf, long n);

/* fcall.c: stat records */
void	nulldir(Dir*);
long	dirsize(Dir*);
long	dirpack(Dir*, uchar *buf, long nbuf);
Dir*	dirunpack(uchar *buf, long n);
long	dirunpackall(uchar *buf, long n, Dir **dp);
int	dirfmt(char *buf, int nbuf, Dir*);
