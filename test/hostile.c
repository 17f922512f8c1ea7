/*
 * test/hostile: malformed bytes on 9P connections to a running gefs.
 * Each closes only the connection it came on; another connection,
 * attached all along, keeps being served.
 *
 *	hostile ADDRESS
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

static char *addr;
static Raw *witness;

static void
l32(uchar *p, u32int v)
{
	p[0] = v;
	p[1] = v>>8;
	p[2] = v>>16;
	p[3] = v>>24;
}

static void
l16(uchar *p, u16int v)
{
	p[0] = v;
	p[1] = v>>8;
}

/* A versioned connection. */
static Raw*
versioned(void)
{
	Raw *r;
	Fcall *rx;

	if((r = rawdial(addr)) == nil)
		return nil;
	rx = tversion(r, 8192, "9P2000");
	if(rx == nil || rx->type != Rversion){
		rawclose(r);
		return nil;
	}
	return r;
}

/* The witness still gets answers. */
static void
served(char *after)
{
	Fcall *rx;

	rx = tstat(witness, 0);
	ok(rx != nil && rx->type == Rstat, "after %s, another connection is served", after);
}

/* Send n bytes on a new connection (versioned first if v); it must be hung up. */
static void
hostile(char *what, int v, uchar *buf, long n)
{
	Raw *r;

	r = v ? versioned() : rawdial(addr);
	if(!ok(r != nil, "connect for %s", what))
		return;
	if(write(r->fd, buf, n) != n)
		diag("%s: write: %s", what, strerror(errno));
	ok(rawhungup(r), "%s: hung up", what);
	rawclose(r);
	served(what);
}

/* A frame: size, type, tag, then body. */
static long
frame(uchar *buf, u32int size, int type, u16int tag, uchar *body, long nbody)
{
	l32(buf, size);
	buf[4] = type;
	l16(buf+5, tag);
	memcpy(buf+7, body, nbody);
	return 7 + nbody;
}

int
main(int argc, char **argv)
{
	uchar buf[1024], body[512];
	Fcall tx;
	Raw *r, *rs[20];
	long n, i, j;
	uvlong seed;

	if(argc != 2){
		fprintf(stderr, "usage: hostile address\n");
		return 2;
	}
	addr = argv[1];
	witness = rawsession(addr, 8192, "glenda", "");
	if(!ok(witness != nil, "witness session"))
		return done();

	/* size fields */
	memset(buf, 0, sizeof buf);
	hostile("a size of 0", 0, buf, 4);
	l32(buf, 6);
	hostile("a size of 6", 0, buf, 6);
	l32(buf, 6);
	hostile("a size of 6 after version", 1, buf, 6);
	l32(buf, 0xFFFFFFFF);
	hostile("a size of 2^32-1", 0, buf, 64);
	l32(buf, 0xFFFFFFFF);
	hostile("a size of 2^32-1 after version", 1, buf, 64);
	l32(buf, 8193);
	hostile("a size just above msize", 1, buf, 64);

	/* frames that end early */
	r = versioned();
	l32(buf, 100);
	buf[4] = Twrite;
	if(r != nil){
		write(r->fd, buf, 20);
		shutdown(r->fd, SHUT_WR);
		ok(rawhungup(r), "a frame cut short by the end of the stream: hung up");
		rawclose(r);
	}
	served("a cut frame");
	r = versioned();
	if(r != nil){
		write(r->fd, buf, 20);
		served("half a frame that is never finished");
		rawclose(r);
	}

	/* counts and lengths past the end of the frame */
	l32(body, 0);			/* fid */
	memset(body+4, 0, 8);		/* offset */
	l32(body+12, 1000);		/* count */
	memcpy(body+16, "0123456789", 10);
	n = frame(buf, 7+16+10, Twrite, 1, body, 26);
	hostile("a Twrite count past the frame", 1, buf, n);
	l32(body+12, 0xFFFFFFFF);
	n = frame(buf, 7+16+10, Twrite, 1, body, 26);
	hostile("a Twrite count of 2^32-1", 1, buf, n);
	l32(body, 0);			/* fid */
	l32(body+4, NOFID);		/* afid */
	l16(body+8, 500);		/* uname: 500 bytes, not there */
	memcpy(body+10, "glenda", 6);
	n = frame(buf, 7+16, Tattach, 1, body, 16);
	hostile("a string length past the frame", 1, buf, n);
	l32(body, 8192);
	l16(body+4, 60000);
	memcpy(body+6, "9P2000", 6);
	n = frame(buf, 7+12, Tversion, NOTAG, body, 12);
	hostile("a Tversion string past the frame", 0, buf, n);
	l32(body, 0);
	l32(body+4, 1);
	l16(body+8, 17);		/* nwname */
	for(i = 0; i < 17; i++){
		l16(body+10+3*i, 1);
		body[10+3*i+2] = 'a';
	}
	n = frame(buf, 7+10+3*17, Twalk, 1, body, 10+3*17);
	hostile("a Twalk of 17 names", 1, buf, n);
	l32(body, 0);
	n = frame(buf, 7+4+5, Tclunk, 1, body, 9);
	hostile("bytes after a Tclunk", 1, buf, n);
	n = frame(buf, 7+4, Terror, 1, body, 4);
	hostile("the type Terror", 1, buf, n);
	n = frame(buf, 7+4, 99, 1, body, 4);
	hostile("an unknown type 99", 1, buf, n);
	n = frame(buf, 7+4, 250, 1, body, 4);
	hostile("an unknown type 250", 1, buf, n);

	/* random bodies under valid sizes */
	seed = 0x6765;
	j = 0;
	for(i = 0; i < 200; i++){
		long m;

		seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
		m = 7 + (seed >> 33) % 200;
		for(n = 4; n < m; n++){
			seed = seed*6364136223846793005ULL + 1442695040888963407ULL;
			buf[n] = seed >> 40;
		}
		buf[4] = Tversion + (seed >> 20) % (Tmax - Tversion);
		if(buf[4] == Tversion || buf[4] == Tflush)
			buf[4] = Tstat;
		l32(buf, m);
		r = versioned();
		if(r == nil)
			continue;
		write(r->fd, buf, m);
		/* a reply or a hang-up, never silence */
		n = rawrecv(r);
		j += n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
		rawclose(r);
	}
	is(j, 200, "200 random frames: each answered or hung up");
	served("random frames");

	/* connections that go away with requests in flight */
	for(i = 0; i < 20; i++){
		rs[i] = rawsession(addr, 8192, "glenda", "");
		if(rs[i] == nil)
			continue;
		for(j = 0; j < 30; j++){
			memset(&tx, 0, sizeof tx);
			tx.type = j % 2 ? Tstat : Twalk;
			tx.fid = 0;
			tx.newfid = 100 + j;
			rawsend(rs[i], &tx);
		}
	}
	for(i = 0; i < 20; i++)
		rawclose(rs[i]);
	served("20 hang-ups with requests in flight");

	/* a client that sends and never reads */
	r = rawsession(addr, 1024*1024+24, "glenda", "");
	if(r != nil){
		Fcall *rx;
		static uchar big[1024*1024];

		rx = twalk(r, 0, 1, "");
		rx = tcreate(r, 1, "unread", 0664, ORDWR);
		rx = twrite(r, 1, 0, big, sizeof big);
		ok(rx != nil && rx->type == Rwrite, "write a file to read back");
		for(j = 0; j < 200; j++){
			memset(&tx, 0, sizeof tx);
			tx.type = Tread;
			tx.fid = 1;
			tx.count = sizeof big;
			tx.tag = 1000 + j;
			if(rawsend(r, &tx) < 0)
				break;
		}
		served("a client that does not read its replies");
		rawclose(r);
	}
	served("closing it");

	r = rawsession(addr, 8192, "glenda", "");
	ok(r != nil, "a new session after all that");
	rawclose(r);
	rawclose(witness);
	return done();
}
