/*
 * test/vpack.c: the encoders of pack.c against the worked encodings of
 * format appendix A, §6.3 and §17.8, and the strict decoders against
 * malformed input.
 */
#include "dat.h"
#include "fns.h"
#include "test/tap.h"
#include "test/vol.h"

static int
hexeq(char *p, char *hex)
{
	char want[Blksz];
	unsigned int x;
	int n;

	for(n = 0; *hex != 0; hex++){
		if(*hex == ' ')
			continue;
		if(sscanf(hex, "%2x", &x) != 1)
			return 0;
		want[n++] = x;
		hex++;
	}
	if(memcmp(p, want, n) != 0){
		diag("bytes differ");
		return 0;
	}
	return 1;
}

static int
zero(char *p, int n)
{
	while(n-- > 0)
		if(*p++ != 0)
			return 0;
	return 1;
}

static Blk*
scratch(int type)
{
	Blk *b;

	b = pluck();
	memset(b->buf, 0, Blksz);
	b->type = type;
	b->nval = b->valsz = b->nbuf = b->bufsz = 0;
	b->logsz = 0;
	b->logp = Zb;
	b->data = b->buf + (type == Tleaf ? Leafhdsz : type == Tpivot ? Pivhdsz : Loghdsz);
	return b;
}

/* Appendix A.1: the main root leaf of a fresh volume. */
static void
testa1(void)
{
	char k[Keymax], v[Keymax], uk[Upksz];
	Blk *b;
	Xdir d;
	Kvp kv;

	b = scratch(Tleaf);
	memset(&d, 0, sizeof d);
	d.qid.path = 0;
	d.qid.type = QTDIR;
	d.mode = DMDIR|0775;
	d.uid = -1;
	d.gid = -1;
	kv.k = k;
	kv.nk = packdkey(k, sizeof k, -1, "", 0);
	kv.v = v;
	packdir(v, &d);
	kv.nv = Xdirsz;
	is(kv.nk, 12, "root Kent key is 12 bytes");
	setval(b, &kv);
	packupkey(uk, Qmain);
	kv.k = uk;
	kv.nk = Upksz;
	kv.v = k;
	kv.nv = 12;
	setval(b, &kv);
	finalize(b);
	ok(hexeq(b->buf, "0002 0002 0066 3fad 3f94"), "A.1 header and offset table");
	ok(hexeq(b->buf+16282,
		"0009 020000000000000000 000c 01ffffffffffffffff000000"
		"000c 01ffffffffffffffff000000 003d 0000000000000000 0000000000000000"
		"00000000 80 800001fd 0000000000000000 0000000000000000 0000000000000000"
		"ffffffff ffffffff 00000000"), "A.1 entry bodies");
	ok(zero(b->buf+10, 16282-10), "A.1 slack is zero");
	is(b->bp.hash, 0x6fe6f157eb324dbdULL, "A.1 hash 0x6fe6f157eb324dbd");
	dropblk(b);
}

/* Appendix A.2: the first log block of arena 0 of a 1 GiB volume. */
static void
testa2(void)
{
	Blk *b;

	b = scratch(Tlog);
	put64(b->data, 0xc000 | LogFree);
	put64(b->data+8, 0x7fec000);
	put64(b->data+16, 0xc000 | LogAlloc);
	put64(b->data+24, Blksz);
	put64(b->data+32, 0 | LogSync);
	b->logsz = 40;
	finalize(b);
	ok(hexeq(b->data, "000000000000c005 0000000007fec000 000000000000c004 0000000000004000 0000000000000003"),
		"A.2 payload");
	ok(hexeq(b->buf, "0003 0028"), "A.2 type and logsz");
	is(get64(b->buf+4), 0x51204a8086203dc7ULL, "A.2 logh 0x51204a8086203dc7");
	ok(hexeq(b->buf+12, "ffffffffffffffffffffffffffffffffffffffffffffffff"), "A.2 chain is none");
	is(b->bp.hash, 0xe66eb8f185089501ULL, "A.2 whole-block hash 0xe66eb8f185089501");
	dropblk(b);
}

static void
testkeys(void)
{
	char k[Keymax+8], v[Xdirsz+8], name[Keymax];
	uvlong up;
	char *nm;
	Xdir d;
	Kvp kv;
	int n, nn;

	n = packdkey(k, sizeof k, Qadm, "users", 5);
	is(n, 17, "Kent(1, users) is 17 bytes");
	ok(hexeq(k, "01 00 00 00 00 00 00 00 01 00 05 75 73 65 72 73 00"), "Kent(1, users) as format §6.3");
	ok(unpackdkey(k, n, &up, &nm, &nn) == 0 && up == Qadm && nn == 5 && memcmp(nm, "users", 5) == 0,
		"Kent key decodes");
	n = packdkey(k, sizeof k, Qadm, "ctl", 3);
	ok(n == 15 && hexeq(k, "01 00 00 00 00 00 00 00 01 00 03 63 74 6c 00"), "Kent(1, ctl) as format §17.8");
	n = packdkey(k, sizeof k, Qadm, "status", 6);
	ok(n == 18 && hexeq(k, "01 00 00 00 00 00 00 00 01 00 06 73 74 61 74 75 73 00"), "Kent(1, status)");

	memset(&d, 0, sizeof d);
	d.flag = 0x1234;
	d.qid.path = Qctl;
	d.mode = 0664;
	d.uid = -1;
	d.gid = -1;
	packdir(v, &d);
	ok(hexeq(v, "0000000000000000 8000000000000001 00000000 00 000001b4 0000000000000000"
		"0000000000000000 0000000000000000 ffffffff ffffffff 00000000"), "ctl Xdir as format §17.8, flag written 0");

	memset(name, 'x', sizeof name);
	is(packdkey(k, sizeof k, 7, name, Maxname), Keymax, "a 244-byte name makes a 256-byte key");
	ok(packdkey(k, sizeof k, 7, name, Maxname+1) == -1 && iserr(Elength), "a 245-byte name is refused");

	/* strict Xdir decoding (format §17.5) */
	n = packdkey(k, sizeof k, Qadm, "users", 5);
	d.qid.path = Qusers;
	d.length = 42;
	packdir(v, &d);
	kv.k = k;
	kv.nk = n;
	kv.v = v;
	kv.nv = Xdirsz;
	ok(kv2dir(&kv, &d) == 0 && d.qid.path == Qusers && d.length == 42 && d.uid == -1
		&& d.nname == 5 && memcmp(d.name, "users", 5) == 0, "Kent decodes");
	kv.nv = 60;
	ok(kv2dir(&kv, &d) == -1 && iserr(Efs), "a 60-byte Xdir is refused");
	kv.nv = 62;
	ok(kv2dir(&kv, &d) == -1, "a 62-byte Xdir is refused");
	kv.nv = Xdirsz;
	k[n] = 'z';
	kv.nk = n+1;
	ok(kv2dir(&kv, &d) == -1, "a byte after the name's NUL is refused");
	kv.nk = n;
	k[n-1] = 'q';
	ok(kv2dir(&kv, &d) == -1, "a name without its NUL is refused");
	k[n-1] = 0;
	put16(k+9, 6);
	ok(kv2dir(&kv, &d) == -1, "a name length past the key is refused");
	put16(k+9, 5);
	kv.nk = 11;
	ok(kv2dir(&kv, &d) == -1, "a key shorter than a Kent is refused");
	kv.nk = n;
	k[0] = Kup;
	ok(kv2dir(&kv, &d) == -1, "a non-Kent key is refused");

	packupkey(k, 9);
	ok(hexeq(k, "02 0000000000000009"), "Kup key");
	packdatkey(k, 2, 3*Blksz);
	ok(hexeq(k, "00 0000000000000002 000000000000c000"), "Kdat key");
	ok(packconfkey(k, sizeof k, "retain") == 7 && hexeq(k, "06 72 65 74 61 69 6e"), "Kconf retain key");
}

static void
testrecords(void)
{
	char k[Keymax], v[Treesz+8];
	Bptr hd, tl, x, y;
	vlong gen;
	u32int fl;
	Tree t, u;

	ok(packlabel(k, sizeof k, "main") == 5 && hexeq(k, "03 6d 61 69 6e"), "Klabel main");
	packlblval(v, 2, Lmut);
	ok(hexeq(v, "04 0000000000000002 00000001"), "label value (Ksnap 2, Lmut)");
	ok(unpacklblval(v, 13, &gen, &fl) == 0 && gen == 2 && fl == Lmut, "label value decodes");
	ok(unpacklblval(v, 12, &gen, &fl) == -1, "a 12-byte label value is refused");
	v[0] = Kent;
	ok(unpacklblval(v, 13, &gen, &fl) == -1, "a label value that is not a Ksnap key is refused");

	ok(packsnapkey(k, 7) == k+Snapsz && hexeq(k, "04 0000000000000007"), "Ksnap key");
	memset(&t, 0, sizeof t);
	t.nref = 2;
	t.nlbl = 1;
	t.ht = 3;
	t.gen = 7;
	t.pred = -1;
	t.succ = 9;
	t.base = 4;
	t.bp = (Bptr){0x4000, 0x1122334455667788ULL, 5};
	packtree(v, &t);
	ok(hexeq(v, "00000002 00000001 00000003 00000000 0000000000000007 ffffffffffffffff"
		"0000000000000009 0000000000000004 0000000000004000 1122334455667788 0000000000000005"),
		"tree record layout (format §6.3)");
	memset(&u, 0, sizeof u);
	ok(unpacktree(&u, v, Treesz) == 0 && u.nref == 2 && u.nlbl == 1 && u.ht == 3 && u.gen == 7
		&& u.pred == -1 && u.succ == 9 && u.base == 4 && u.bp.addr == 0x4000 && u.bp.gen == 5,
		"tree record decodes");
	ok(unpacktree(&u, v, Treesz-1) == -1, "a short tree record is refused");
	put32(v+8, 0);
	ok(unpacktree(&u, v, Treesz) == -1, "a tree of height 0 is refused");

	packdlkey(k, 5, 3);
	ok(hexeq(k, "05 0000000000000005 0000000000000003"), "Kdlist key");
	hd = (Bptr){0x8000, 1, 2};
	tl = (Bptr){0xc000, 3, 4};
	packdlval(v, &hd, &tl);
	ok(unpackdlval(v, Dlvsz, &x, &y) == 0 && x.addr == 0x8000 && x.gen == 2 && y.addr == 0xc000 && y.hash == 3,
		"Kdlist value decodes");
	ok(unpackdlval(v, Dlvsz+1, &x, &y) == -1, "a 49-byte Kdlist value is refused");
}

static void
testsuper(void)
{
	char *buf;
	Bptr ap[3], lh;
	vlong size, used;
	Super s, r;

	buf = emalloc(Blksz);
	memset(&s, 0, sizeof s);
	s.narena = 3;
	s.ht = 2;
	s.root = (Bptr){0x10000, 0xabcdef, -1};
	s.nextqid = 10;
	s.nextgen = 11;
	s.qgen = 12;
	ap[0] = (Bptr){0x4000, 1, -1};
	ap[1] = (Bptr){0x8000, 2, -1};
	ap[2] = (Bptr){0xc000, -1, -1};
	s.arenas = ap;
	packsuper(buf, &s);
	ok(hexeq(buf, "6765667339 2e3030 00004000 00001ffb 00000003 00000002"), "superblock magic and sizes");
	ok(hexeq(buf+40, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff 0000000000000000"),
		"snap deadlist fields none, flags 0");
	is(get64(buf+Sbhdsz+48), blkhash(buf, Sbhdsz+48), "trailing hash over [0, 104+16n)");
	ok(zero(buf+Sbhdsz+56, Blksz-Sbhdsz-56), "superblock slack zero");
	memset(&r, 0, sizeof r);
	ok(unpacksuper(buf, &r) == 0 && r.narena == 3 && r.ht == 2 && r.root.addr == 0x10000
		&& r.root.hash == 0xabcdef && r.nextqid == 10 && r.nextgen == 11 && r.qgen == 12
		&& r.arenas[2].addr == 0xc000 && r.arenas[2].hash == (uvlong)-1, "superblock decodes");
	free(r.arenas);
	buf[Sbhdsz+5] ^= 1;
	ok(unpacksuper(buf, &r) == -1 && iserr(Ecorrupt), "a flipped byte fails the superblock hash");
	diag("%s", errstr());
	buf[Sbhdsz+5] ^= 1;
	buf[7] = '1';
	ok(unpacksuper(buf, &r) == -1 && iserr(Efsvers) && strstr(errstr(), "gefs9.01") != nil,
		"another version is refused, naming what was found");
	buf[7] = '0';
	put32(buf+8, 8192);
	ok(unpacksuper(buf, &r) == -1 && iserr(Efsvers), "another block size is refused");
	put32(buf+8, Blksz);
	put32(buf+16, 256);
	ok(unpacksuper(buf, &r) == -1, "256 arenas are refused");
	put32(buf+16, 0);
	ok(unpacksuper(buf, &r) == -1, "0 arenas are refused");

	lh = (Bptr){0xc000, 0xe66eb8f185089501ULL, -1};
	packarena(buf, &lh, 134168576, 3*Blksz);
	ok(hexeq(buf, "0005 000000000000c000 e66eb8f185089501 0000000007ff4000 000000000000c000"),
		"arena header layout (format §4.2)");
	ok(zero(buf+34, Blksz-34), "arena header slack zero");
	ok(unpackarena(buf, &lh, &size, &used) == 0 && lh.addr == 0xc000 && size == 134168576 && used == 3*Blksz,
		"arena header decodes");
	put16(buf, Tleaf);
	ok(unpackarena(buf, &lh, &size, &used) == -1, "an arena header of another type is refused");
	free(buf);
}

int
main(void)
{
	char *img;

	img = mkimg("scratch", 1*MiB);
	if(openfs(img, 1, Testcache) == -1){
		diag("openfs: %s", errstr());
		return 1;
	}
	testa1();
	testa2();
	testkeys();
	testrecords();
	testsuper();
	closefs();
	rmtmp();
	return done();
}
