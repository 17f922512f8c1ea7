/*
 * test/wire: replies on the wire, whoever sends them.  Clients on their
 * own connections pipeline batches of reads, stats, writes and flushes
 * and check every reply as it comes: each frame whole and decodable,
 * each tag one that waits, each reply the right type with the right
 * bytes, every request answered once, a flushed one never after its
 * Rflush.  Then a client that stops reading its replies must not stall
 * another connection (a worker never waits for a slow client), and
 * gets every reply, intact, once it reads again.
 *
 *	wire ADDRESS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "fcall.h"
#include "cmd/client.h"
#include "test/tap.h"
#include "test/raw.h"

enum {
	Nclient	= 6,
	Nround	= 30,
	Nbatch	= 24,		/* requests in flight per client: below Maxinflight */
	Big	= 4*1024*1024,	/* the shared file's size */
	Slot	= 1000,		/* each write's length */
	Nslot	= 64,
	Nslow	= 16,		/* 1 MiB reads the slow client does not read at first */
};

static char *addr;
static u32int msizes[] = {1024*1024+IOHDRSZ, 8192+IOHDRSZ, 32768+IOHDRSZ};

static uchar
pattern(uvlong off)
{
	return (off*7 + off/4093) & 0xFF;
}

typedef struct Client	Client;
typedef struct Sent	Sent;

struct Sent {
	int	type;
	uvlong	off;
	u32int	count;
	u16int	oldtag;		/* Tflush */
	int	answered;
	int	flushed;	/* its Rflush came */
};

struct Client {
	int	id;
	Raw	*r;
	uchar	model[Nslot*Slot];
	long	len;		/* of its file */
	long	nreq;
	long	nflushed;
	char	err[256];
};

static int
bad(Client *c, char *fmt, ...)
{
	va_list ap;

	if(c->err[0] != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Is rx the right reply to s (tag t) on a connection of iounit io? */
static int
checkreply(Client *c, Sent *s, Fcall *rx, u16int t, u32int io)
{
	uvlong want, i;

	if(rx->type == Rerror)
		return bad(c, "client %d: tag %d (%s): error %s", c->id, t, fcallname(s->type), rx->ename);
	if(rx->type != s->type+1)
		return bad(c, "client %d: tag %d: %s to a %s", c->id, t, fcallname(rx->type), fcallname(s->type));
	switch(s->type){
	case Tread:
		want = s->off >= Big ? 0 : MIN((uvlong)MIN(s->count, io), Big - s->off);
		if(rx->count != want)
			return bad(c, "client %d: read at %llu: %u bytes, want %llu", c->id,
				(unsigned long long)s->off, rx->count, (unsigned long long)want);
		for(i = 0; i < want; i++)
			if(rx->data[i] != pattern(s->off + i))
				return bad(c, "client %d: read at %llu: byte %llu differs", c->id,
					(unsigned long long)s->off, (unsigned long long)i);
		break;
	case Twrite:
		if(rx->count != s->count)
			return bad(c, "client %d: wrote %u of %u", c->id, rx->count, s->count);
		break;
	case Tstat:
		if(rx->nstat < Statfixsz)
			return bad(c, "client %d: stat of %d bytes", c->id, rx->nstat);
		break;
	}
	return 0;
}

/*
 * Collect the replies to the n requests of sent[1..n]: each whole, for
 * a waiting tag, of the right type; a flushed request's reply only
 * before its Rflush.
 */
static int
collect(Client *c, Sent *sent, int n, u32int io)
{
	Fcall *rx;
	Sent *s;
	int left, i;

	left = n;
	while(left > 0){
		if(rawrecv(c->r) != 1)
			return bad(c, "client %d: reply %d of %d: %s", c->id, n-left+1, n, errstr());
		rx = &c->r->rx;
		if(rx->tag < 1 || rx->tag > n)
			return bad(c, "client %d: reply for tag %d, never sent", c->id, rx->tag);
		s = &sent[rx->tag];
		if(s->answered)
			return bad(c, "client %d: tag %d answered twice", c->id, rx->tag);
		if(s->flushed)
			return bad(c, "client %d: tag %d answered after its Rflush", c->id, rx->tag);
		if(checkreply(c, s, rx, rx->tag, io) == -1)
			return -1;
		s->answered = 1;
		left--;
		if(s->type == Tflush && !sent[s->oldtag].flushed){
			sent[s->oldtag].flushed = 1;
			if(!sent[s->oldtag].answered){
				c->nflushed++;
				left--;		/* cancelled: it gets no reply */
			}
		}
	}
	for(i = 1; i <= n; i++)
		if(!sent[i].answered && !sent[i].flushed)
			return bad(c, "client %d: tag %d never answered", c->id, i);
	return 0;
}

static int
sendreq(Client *c, Sent *s, Fcall *tx, u16int tag)
{
	tx->tag = tag;
	s->type = tx->type;
	s->off = tx->offset;
	s->count = tx->count;
	s->oldtag = tx->oldtag;
	c->nreq++;
	if(rawsend(c->r, tx) == -1)
		return bad(c, "client %d: send: %s", c->id, errstr());
	return 0;
}

/* One batch: reads, stats and writes, some reads and stats flushed. */
static int
batch(Client *c, int round, uvlong *rng)
{
	Sent sent[2*Nbatch+1];
	uchar data[Slot];
	Fcall tx;
	int n, j, slot, k;
	uvlong x;

	memset(sent, 0, sizeof sent);
	n = 0;
	for(j = 0; j < Nbatch; j++){
		x = *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
		x >>= 33;
		memset(&tx, 0, sizeof tx);
		switch(x % 5){
		case 0:
		case 1:
			tx.type = Tread;
			tx.fid = 1;
			tx.offset = (x >> 3) % (Big + Big/16);
			tx.count = 1 + (x >> 7) % c->r->msize;
			break;
		case 2:
			tx.type = Tstat;
			tx.fid = 1;
			break;
		default:
			slot = (round*Nbatch + j) % Nslot;
			for(k = 0; k < Slot; k++)
				data[k] = c->model[slot*Slot + k] = (c->id*31 + round*7 + j + k) & 0xFF;
			c->len = MAX(c->len, (slot+1)*Slot);
			tx.type = Twrite;
			tx.fid = 2;
			tx.offset = slot*Slot;
			tx.data = data;
			tx.count = Slot;
			break;
		}
		n++;
		if(sendreq(c, &sent[n], &tx, n) == -1)
			return -1;
		/* flush now and then what was just sent, or an earlier read */
		if(tx.type != Twrite && x % 3 == 0){
			k = n - (x >> 11) % 3;
			if(k < 1 || sent[k].type == Twrite || sent[k].type == Tflush)
				k = n;
			memset(&tx, 0, sizeof tx);
			tx.type = Tflush;
			tx.oldtag = k;
			n++;
			if(sendreq(c, &sent[n], &tx, n) == -1)
				return -1;
		}
	}
	return collect(c, sent, n, c->r->msize - IOHDRSZ);
}

/* fid 1: the shared file, open to read; fid 2: the client's own, to write. */
static int
setup(Client *c)
{
	char name[32];
	Fcall *rx;

	if((c->r = rawsession(addr, msizes[c->id % nelem(msizes)], "glenda", "")) == nil)
		return bad(c, "client %d: no session", c->id);
	rx = twalk(c->r, 0, 1, "wire");
	if(rx == nil || rx->type != Rwalk || (rx = topen(c->r, 1, OREAD)) == nil || rx->type != Ropen)
		return bad(c, "client %d: open wire", c->id);
	snprintf(name, sizeof name, "w%d", c->id);
	rx = twalk(c->r, 0, 2, "");
	if(rx == nil || rx->type != Rwalk || (rx = tcreate(c->r, 2, name, 0664, ORDWR)) == nil || rx->type != Rcreate)
		return bad(c, "client %d: create %s", c->id, name);
	return 0;
}

/* What the client wrote is what its file holds. */
static int
verify(Client *c)
{
	Fcall *rx;
	Dir *d;
	long off, n;
	int same;

	rx = tstat(c->r, 2);
	d = rx != nil && rx->type == Rstat ? dirunpack(rx->stat, rx->nstat) : nil;
	same = d != nil && d->length == (uvlong)c->len;
	free(d);
	if(!same)
		return bad(c, "client %d: own file's length is not %ld", c->id, c->len);
	for(off = 0; off < c->len; off += n){
		rx = tread(c->r, 2, off, c->len - off);
		if(rx == nil || rx->type != Rread || rx->count == 0)
			return bad(c, "client %d: read back at %ld", c->id, off);
		n = rx->count;
		if(memcmp(rx->data, c->model + off, n) != 0)
			return bad(c, "client %d: own file differs near %ld", c->id, off);
	}
	return 0;
}

static void
clientproc(void *v)
{
	Client *c;
	uvlong rng;
	int i;

	c = v;
	rng = 0x9e3779b97f4a7c15ULL * (c->id + 1);
	if(setup(c) == -1)
		return;
	for(i = 0; i < Nround; i++)
		if(batch(c, i, &rng) == -1)
			return;
	verify(c);
}

/* A file of Big bytes of pattern(), written through r. */
static int
mkbig(Raw *r)
{
	uchar *buf;
	Fcall *rx;
	long off, i, n;

	rx = twalk(r, 0, 1, "");
	if(rx == nil || rx->type != Rwalk || (rx = tcreate(r, 1, "wire", 0664, OWRITE)) == nil || rx->type != Rcreate)
		return -1;
	n = r->msize - IOHDRSZ;
	buf = emalloc(n);
	for(off = 0; off < Big; off += n){
		for(i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		rx = twrite(r, 1, off, buf, MIN(n, Big - off));
		if(rx == nil || rx->type != Rwrite)
			break;
	}
	free(buf);
	tclunk(r, 1);
	return off >= Big ? 0 : -1;
}

/*
 * A client sends reads that fill its socket and writes after them, and
 * reads nothing: the mutator must not wait for it, as another
 * connection's writes must meanwhile be served.  Then the first reads
 * every reply.
 */
static void
slowclient(void)
{
	Client slow, other;
	Sent sent[2*Nslow+1];
	Fcall tx, *rx;
	uchar data[Slot], st[Statfixsz];
	Dir d;
	int n, i, served;

	memset(&slow, 0, sizeof slow);
	memset(&other, 0, sizeof other);
	slow.id = 99;	/* msize 1 MiB */
	other.id = 101;
	if(!ok(setup(&slow) == 0 && setup(&other) == 0, "slow client: sessions %s%s", slow.err, other.err))
		return;
	memset(sent, 0, sizeof sent);
	memset(data, 'x', sizeof data);
	/* a sync first: while it runs, the reads go to the reader pool */
	n = 1;
	memset(&tx, 0, sizeof tx);
	tx.type = Twstat;
	tx.fid = 2;
	nulldir(&d);
	tx.nstat = dirpack(&d, st, sizeof st);
	tx.stat = st;
	sendreq(&slow, &sent[n], &tx, n);
	for(i = 1; i < Nslow; i++){
		memset(&tx, 0, sizeof tx);
		tx.type = Tread;
		tx.fid = 1;
		tx.offset = (uvlong)i * 65536;
		tx.count = slow.r->msize - IOHDRSZ;
		n++;
		sendreq(&slow, &sent[n], &tx, n);
	}
	/* let the reads reach the socket before the writes follow them */
	usleep(200*1000);
	for(i = 0; i < Nslow; i++){
		memset(&tx, 0, sizeof tx);
		tx.type = Twrite;
		tx.fid = 2;
		tx.offset = i*Slot;
		tx.data = data;
		tx.count = Slot;
		memset(slow.model + i*Slot, 'x', Slot);
		slow.len = (i+1)*Slot;
		n++;
		sendreq(&slow, &sent[n], &tx, n);
	}
	served = 0;
	for(i = 0; i < 50; i++){
		rx = twrite(other.r, 2, 0, data, Slot);
		if(rx == nil || rx->type != Rwrite)
			break;
		rx = tread(other.r, 1, 0, 100);
		if(rx == nil || rx->type != Rread || rx->count != 100)
			break;
		served++;
	}
	ok(served == 50, "another connection is served while one reads nothing (%d of 50 round trips)", served);
	ok(collect(&slow, sent, n, slow.r->msize - IOHDRSZ) == 0, "the slow client gets every reply, intact%s%s",
		slow.err[0] ? ": " : "", slow.err);
	ok(verify(&slow) == 0, "the slow client's writes all landed%s%s", slow.err[0] ? ": " : "", slow.err);
	rawclose(slow.r);
	rawclose(other.r);
}

int
main(int argc, char **argv)
{
	Client *c;
	pthread_t tid[Nclient];
	Raw *r;
	long nreq, nfl;
	int i;

	if(argc != 2){
		fprintf(stderr, "usage: wire address\n");
		return 2;
	}
	addr = argv[1];
	r = rawsession(addr, 1024*1024+IOHDRSZ, "glenda", "");
	if(!ok(r != nil, "session"))
		return done();
	if(!ok(mkbig(r) == 0, "a file of %d MiB", Big>>20))
		return done();
	c = emalloc(Nclient * sizeof *c);
	for(i = 0; i < Nclient; i++){
		c[i].id = i;
		if(launch(clientproc, &c[i], "client", &tid[i]) == -1)
			sysfatal("launch: %s", errstr());
	}
	nreq = nfl = 0;
	for(i = 0; i < Nclient; i++){
		pthread_join(tid[i], nil);
		ok(c[i].err[0] == 0, "client %d (msize %u): %ld requests, every reply whole and right%s%s",
			i, msizes[i % nelem(msizes)], c[i].nreq, c[i].err[0] ? ": " : "", c[i].err);
		nreq += c[i].nreq;
		nfl += c[i].nflushed;
		rawclose(c[i].r);
	}
	diag("%ld requests, %ld cancelled by a flush", nreq, nfl);
	slowclient();
	free(c);
	rawclose(r);
	return done();
}
