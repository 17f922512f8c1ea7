/*
 * test/user.c: the user table, lookups, groups and the permission check.
 */
#include <string.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"

/* Collects diagnostics, one per line. */
typedef struct Cap Cap;
struct Cap {
	char	buf[8192];
	int	n;
	int	nline;
};

static void
capline(void *arg, char *line)
{
	Cap *c;

	c = arg;
	c->nline++;
	c->n += snprintf(c->buf + c->n, sizeof c->buf - c->n, "%s\n", line);
}

static Users*
parse(char *text, Cap *c)
{
	memset(c, 0, sizeof *c);
	return parseusers(text, strlen(text), capline, c);
}

static int
streq(char *got, char *want, char *what)
{
	if(ok(strcmp(got, want) == 0, "%s", what))
		return 1;
	diag("  got  '%s'", got);
	diag("  want '%s'", want);
	return 0;
}

static void
testfallback(void)
{
	Users *u;
	char *t;

	u = getusers();
	is(u->nuser, 2, "before any load the fallback table is current");
	t = userstext(u);
	streq(t, "-1:adm::\n0:none::\n", "fallback table text");
	free(t);
	is(u->none, 0, "fallback: none is 0");
	is(u->adm, -1, "fallback: adm is -1");
	is(u->nogroup, 9999, "fallback: nogroup defaults to 9999");
	putusers(u);

	u = fallbackusers();
	is(u->nuser, 2, "fallbackusers builds the two-user table");
	ok(name2user(u, "adm") != nil && name2user(u, "adm")->id == -1, "fallbackusers: adm is -1");
	putusers(u);
}

static void
testream(void)
{
	Users *u;
	Cap c;
	char *t, *t2, name[Unamesz];
	s32int id;

	t = reamusers("glenda");
	streq(t, "-1:adm::glenda\n0:none::\n1:glenda:glenda:\n", "ream default text");
	u = parse(t, &c);
	ok(u != nil, "ream default parses");
	is(c.nline, 0, "ream default: no diagnostics");
	ok(name2uid(u, "glenda", &id) == 0 && id == 1, "ream: glenda is 1");
	ok(name2uid(u, "adm", &id) == 0 && id == -1, "ream: adm is -1");
	ok(name2uid(u, "none", &id) == 0 && id == 0, "ream: none is 0");
	ok(ingroup(u, 1, -1), "ream: glenda is in adm (forward reference)");
	ok(!ingroup(u, 0, -1), "ream: none is not in adm");
	ok(groupleader(u, 1, -1), "ream: adm has no leader, so member glenda leads it");
	ok(groupleader(u, 1, 1), "ream: glenda leads glenda");
	ok(!groupleader(u, -1, 1), "ream: adm does not lead glenda");
	streq(uid2name(u, 1, name), "glenda", "ream: uid 1 is glenda");
	is(u->none, 0, "ream: none id");
	is(u->adm, -1, "ream: adm id");
	is(u->nogroup, 9999, "ream: nogroup id (default)");
	t2 = userstext(u);
	streq(t2, t, "ream: userstext gives the file back");
	free(t2);
	putusers(u);
	free(t);

	t = reamusers("adm");
	ok(t != nil && strcmp(t, "-1:adm::\n0:none::\n") == 0, "ream as adm: no duplicate adm");
	free(t);
	ok(reamusers("none") == nil, "ream as none is refused");
	ok(reamusers("") == nil, "ream with an empty user is refused");
	ok(reamusers("a b") == nil, "ream with a blank in the user is refused");
	ok(reamusers("a,b") == nil, "ream with a comma in the user is refused");
	ok(reamusers("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == nil
		&& iserr(Elength), "ream with a 65-byte user is refused: name too long");
	t = reamusers("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	ok(t != nil, "ream with a 64-byte user works");
	u = parse(t, &c);
	ok(u != nil && u->nuser == 3, "the 64-byte ream user parses");
	putusers(u);
	free(t);
}

typedef struct Bad Bad;
struct Bad {
	char	*what;
	char	*text;
	int	len;		/* 0: strlen(text) */
	char	*diags;
	char	*err;
};

static char long65[] = "65:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa::\n";

static Bad bad[] = {
	{"no colon", "-1:adm::\nbob\n", 0,
	 "/adm/users:2: missing ':' after id\n",
	 "syntax error: /adm/users:2: missing ':' after id"},
	{"one colon", "1:bob\n", 0,
	 "/adm/users:1: missing ':' after name\n", nil},
	{"two colons", "1:bob:\n", 0,
	 "/adm/users:1: missing ':' after leader\n", nil},
	{"extra colon", "1:bob:::\n", 0,
	 "/adm/users:1: extra ':' after members\n", nil},
	{"extra colon, members before it still checked", "1:bob::x:\n", 0,
	 "/adm/users:1: extra ':' after members\n"
	 "/adm/users:1: user x does not exist\n", nil},
	{"letter id", "x:bob::\n", 0,
	 "/adm/users:1: bad id 'x'\n", nil},
	{"empty id", ":bob::\n", 0,
	 "/adm/users:1: bad id ''\n", nil},
	{"lone minus", "-:bob::\n", 0,
	 "/adm/users:1: bad id '-'\n", nil},
	{"plus sign", "+1:bob::\n", 0,
	 "/adm/users:1: bad id '+1'\n", nil},
	{"blank in id", "1 :bob::\n", 0,
	 "/adm/users:1: bad id '1 '\n", nil},
	{"id too big", "2147483648:bob::\n", 0,
	 "/adm/users:1: bad id '2147483648'\n", nil},
	{"id too small", "-2147483649:bob::\n", 0,
	 "/adm/users:1: bad id '-2147483649'\n", nil},
	{"empty name", "1:::\n", 0,
	 "/adm/users:1: empty name\n", nil},
	{"name too long", long65, 0,
	 "/adm/users:1: name too long: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (65 bytes, at most 64)\n",
	 nil},
	{"blank in name", "1:b b::\n", 0,
	 "/adm/users:1: bad character in name 'b b'\n", nil},
	{"comma in name", "1:a,b::\n", 0,
	 "/adm/users:1: bad character in name 'a,b'\n", nil},
	{"tab in name", "1:a\tb::\n", 0,
	 "/adm/users:1: bad character in name 'a\\x09b'\n", nil},
	{"NUL in name", "1:a\0b::\n", 8,
	 "/adm/users:1: bad character in name 'a\\x00b'\n", nil},
	{"unknown leader", "1:bob:carol:\n", 0,
	 "/adm/users:1: leader carol does not exist\n",
	 "syntax error: /adm/users:1: leader carol does not exist"},
	{"unknown members", "1:bob::carol,,bob,dave\n", 0,
	 "/adm/users:1: user carol does not exist\n"
	 "/adm/users:1: user dave does not exist\n",
	 "syntax error: /adm/users:1: user carol does not exist (2 errors)"},
	{"CRLF line ends", "1:bob::\r\n", 0,
	 "/adm/users:1: user \\x0d does not exist\n", nil},
	{"duplicate id", "1:bob::\n# c\n1:carol::\n", 0,
	 "/adm/users:3: duplicate id 1 (also line 1)\n", nil},
	{"duplicate name", "1:bob::\n\n2:bob::\n", 0,
	 "/adm/users:3: duplicate name bob (also line 1)\n", nil},
	{"many problems, in line order within each pass",
	 "# users\n"
	 "\n"
	 "-1:adm::glenda\n"
	 "0:none::\n"
	 "x:bad::\n"
	 "1:glenda:glenda:\n"
	 "2:carol:dave:\n"
	 "bob\n"
	 "3:glenda::\n"
	 "4:eve::glenda,,zed,\n"
	 "5:f:", 0,
	 "/adm/users:5: bad id 'x'\n"
	 "/adm/users:8: missing ':' after id\n"
	 "/adm/users:9: duplicate name glenda (also line 6)\n"
	 "/adm/users:11: missing ':' after leader\n"
	 "/adm/users:7: leader dave does not exist\n"
	 "/adm/users:10: user zed does not exist\n",
	 "syntax error: /adm/users:5: bad id 'x' (6 errors)"},
};

static char goodtext[] =
	"-1:adm::alice\n"
	"0:none::\n"
	"1:alice::\n";

static void
testbad(void)
{
	Users *cur, *u;
	Bad *b;
	Cap c;
	char *before, *after;
	int i, n;

	ok(loadusers(goodtext, strlen(goodtext), capline, &c) == 0, "load a good table");
	cur = getusers();
	before = userstext(cur);
	streq(before, goodtext, "the good table is current");
	for(i = 0; i < (int)nelem(bad); i++){
		b = &bad[i];
		n = b->len ? b->len : (int)strlen(b->text);
		memset(&c, 0, sizeof c);
		ok(loadusers(b->text, n, capline, &c) == -1, "%s: load fails", b->what);
		streq(c.buf, b->diags, b->what);
		ok(iserr(Esyntax), "%s: errstr is a syntax error: %s", b->what, errstr());
		if(b->err != nil)
			streq(errstr(), b->err, "errstr");
		u = getusers();
		after = userstext(u);
		ok(u == cur && strcmp(after, before) == 0, "%s: the previous table stays", b->what);
		free(after);
		putusers(u);
	}
	free(before);
	putusers(cur);

	ok(parseusers(goodtext, Usersmax, capline, &c) == nil && iserr(Efsize),
		"a users file of 1 MiB is too big");
}

static void
testgood(void)
{
	static char edge[] =
		"# comment: ids at the ends of the range\n"
		"2147483647:max::\n"
		"-2147483648:min::\n"
		"007:bond::\n"
		"-0:zero::,,\n"
		"\n"
		"#1:not:a:user\n"
		"3:x::\n"
		"4:y::,x,,x,\n";
	Users *u;
	Cap c;
	User *us;
	char name[Unamesz];

	u = parse(edge, &c);
	ok(u != nil, "edge cases parse: %s", u ? "" : errstr());
	if(u == nil)
		return;
	is(c.nline, 0, "edge cases: no diagnostics");
	is(u->nuser, 6, "edge cases: comments and empty lines are not users");
	ok(uid2user(u, 2147483647) != nil, "largest id");
	ok(uid2user(u, -2147483647-1) != nil, "smallest id");
	streq(uid2name(u, 7, name), "bond", "leading zeros are decimal");
	streq(uid2name(u, 0, name), "zero", "-0 is 0");
	us = name2user(u, "x");
	ok(us != nil && us->nmemb == 0 && !us->haslead, "x:: has no leader and no members");
	us = name2user(u, "y");
	ok(us != nil && us->nmemb == 1 && us->memb[0] == 3, "empty member elements skipped, duplicates merged");
	is(u->none, 0, "no user none: none defaults to 0");
	is(u->adm, -1, "no user adm: adm defaults to -1");
	is(u->nogroup, 9999, "no user nogroup: nogroup defaults to 9999");
	putusers(u);

	u = parse("7:none::\n8:adm::\n9:nogroup::\n", &c);
	ok(u != nil && u->none == 7 && u->adm == 8 && u->nogroup == 9,
		"special ids are taken from the names");
	putusers(u);

	u = parse("", &c);
	ok(u != nil && u->nuser == 0, "an empty file is an empty table");
	ok(u != nil && !ingroup(u, 0, 0), "nobody is in a group of the empty table");
	putusers(u);
}

static char grouptext[] =
	"1:alice:bob:carol,bob\n"		/* forward references */
	"2:bob::\n"
	"3:carol::alice\n"
	"-1:adm::alice\n"
	"0:none::\n"
	"10:dev:alice:alice,bob\n"
	"11:ops::bob,carol\n"
	"12:empty::\n"
	"13:qa:carol:bob\n";

static void
testgroups(void)
{
	Users *u, *u2;
	Cap c;
	User *us;
	char name[Unamesz], *t, *t2;
	s32int id;

	/* 9front drops an unterminated last line; we read it, and load such files */
	u = parse("1:bob::\n2:carol::", &c);
	ok(u != nil && name2user(u, "carol") != nil, "a last line without its newline is read");
	if(u != nil)
		putusers(u);
	u = parse("1:bob::\n#end", &c);
	ok(u != nil && u->nuser == 1, "a last comment without its newline is a comment");
	if(u != nil)
		putusers(u);

	u = parse(grouptext, &c);
	ok(u != nil, "group table parses");
	if(u == nil)
		return;
	us = name2user(u, "alice");
	ok(us != nil && us->haslead && us->lead == 2, "forward reference to the leader bob");
	ok(us != nil && us->nmemb == 2 && us->memb[0] == 2 && us->memb[1] == 3,
		"forward references to members, sorted by id");
	ok(ingroup(u, 3, 1) && ingroup(u, 2, 1), "carol and bob are in alice");

	ok(ingroup(u, 1, 10), "alice in dev");
	ok(ingroup(u, 2, 10), "bob in dev");
	ok(!ingroup(u, 3, 10), "carol not in dev");
	ok(ingroup(u, 10, 10), "dev in dev (a user is its own group)");
	ok(ingroup(u, 1, 1), "alice in alice");
	ok(!ingroup(u, 2, 3), "bob not in carol");
	ok(!ingroup(u, 42, 10), "unknown uid is in no group");
	ok(!ingroup(u, 42, 42), "unknown uid is not even its own group");
	ok(!ingroup(u, 1, 42), "nobody is in an unknown group");

	ok(groupleader(u, 1, 10), "alice leads dev (its leader)");
	ok(!groupleader(u, 2, 10), "bob, a member, does not lead dev: it has a leader");
	ok(!groupleader(u, 10, 10), "dev does not lead dev: it has a leader");
	ok(!groupleader(u, 3, 10), "carol does not lead dev");
	ok(groupleader(u, 2, 11), "bob leads ops (no leader: members lead)");
	ok(groupleader(u, 3, 11), "carol leads ops");
	ok(groupleader(u, 11, 11), "ops leads ops");
	ok(!groupleader(u, 1, 11), "alice, not a member, does not lead ops");
	ok(groupleader(u, 12, 12), "empty leads itself");
	ok(!groupleader(u, 1, 12), "alice does not lead empty");
	ok(groupleader(u, 3, 13), "carol leads qa without being a member");
	ok(!ingroup(u, 3, 13), "carol is not in qa");
	ok(!groupleader(u, 2, 13), "bob is in qa but does not lead it");
	ok(!groupleader(u, 42, 11) && !groupleader(u, 2, 42), "unknown ids lead nothing");

	ok(name2uid(u, "ops", &id) == 0 && id == 11, "name2uid ops");
	id = 12345;
	ok(name2uid(u, "nobody", &id) == -1 && iserr(Enouser) && id == 12345,
		"name2uid of an unknown name: user does not exist");
	ok(name2user(u, "") == nil, "the empty name is nobody");
	ok(name2user(u, "alic") == nil && name2user(u, "alicee") == nil, "no prefix matches");
	streq(uid2name(u, 13, name), "qa", "uid2name 13");
	streq(uid2name(u, 42, name), "42", "an unknown uid is shown in decimal");
	streq(uid2name(u, -7, name), "-7", "an unknown negative uid is shown in decimal");
	streq(uid2name(u, -2147483647-1, name), "-2147483648", "the smallest id fits the buffer");
	ok(uid2user(u, 42) == nil, "uid2user of an unknown id is nil");

	t = userstext(u);
	streq(t,
		"1:alice:bob:bob,carol\n"
		"2:bob::\n"
		"3:carol::alice\n"
		"-1:adm::alice\n"
		"0:none::\n"
		"10:dev:alice:alice,bob\n"
		"11:ops::bob,carol\n"
		"12:empty::\n"
		"13:qa:carol:bob\n",
		"userstext: file order, members by id");
	u2 = parse(t, &c);
	ok(u2 != nil, "userstext parses");
	t2 = u2 ? userstext(u2) : nil;
	ok(t2 != nil && strcmp(t, t2) == 0, "userstext round-trips");
	free(t2);
	free(t);
	putusers(u2);
	putusers(u);
}

static void
testomode(void)
{
	is(omodebits(OREAD), DMREAD, "OREAD needs read");
	is(omodebits(OWRITE), DMWRITE, "OWRITE needs write");
	is(omodebits(ORDWR), DMREAD|DMWRITE, "ORDWR needs read and write");
	is(omodebits(OEXEC), DMREAD|DMEXEC, "OEXEC needs read and exec");
	is(omodebits(OREAD|OTRUNC), DMREAD|DMWRITE, "OTRUNC adds write");
	is(omodebits(OEXEC|OTRUNC), DMREAD|DMWRITE|DMEXEC, "OEXEC|OTRUNC needs everything");
	is(omodebits(OREAD|ORCLOSE), DMREAD, "ORCLOSE adds nothing");
	is(omodebits(OWRITE|OCEXEC), DMWRITE, "OCEXEC adds nothing");
	ok(omodebits(4) == -1 && iserr(Emode), "low nibble 4 is refused");
	ok(omodebits(0xf) == -1 && iserr(Emode), "low nibble 15 is refused");
	ok(omodebits(8|OTRUNC) == -1, "low nibble 8 is refused, even with OTRUNC");
}

static char permtext[] =
	"-1:adm::\n"
	"0:none::\n"
	"1:alice::\n"
	"2:bob::\n"
	"3:carol::\n"
	"4:dave::\n"
	"10:dev::bob\n"
	"11:guests::none\n"
	"12:pair::alice\n"
	"9999:nogroup::dave\n";

/* The askers, in the order of the columns of Perm.want. */
typedef struct Asker Asker;
struct Asker {
	char	*name;
	s32int	uid;
	int	permit;
};

static Asker askers[] = {
	{"alice (owner)", 1, 0},
	{"bob (in dev)", 2, 0},
	{"carol (other)", 3, 0},
	{"dave (nogroup)", 4, 0},
	{"none", 0, 0},
	{"42 (not in the table)", 42, 0},
	{"carol with permit", 3, 1},
};

/*
 * The expected answers, worked out by hand from runtime §3.2: for each
 * asker, which of read, write, exec alone is allowed ("rwx", '-' where
 * denied).
 */
typedef struct Perm Perm;
struct Perm {
	char	*what;
	u32int	mode;
	s32int	uid;
	s32int	gid;
	char	*want[nelem(askers)];
};

static Perm perms[] = {
	{"file 0754 alice:dev", 0754, 1, 10,
	 {"rwx", "r-x", "r--", "---", "r--", "r--", "rwx"}},
	{"dir 0751 alice:dev", DMDIR|0751, 1, 10,
	 {"rwx", "r-x", "--x", "--x", "--x", "--x", "rwx"}},
	/* owner and group bits that deny fall through to other bits */
	{"file 0467 alice:dev", 0467, 1, 10,
	 {"rwx", "rwx", "rwx", "---", "rwx", "rwx", "rwx"}},
	{"dir 0705 alice:dev", DMDIR|0705, 1, 10,
	 {"rwx", "r-x", "r-x", "--x", "r-x", "r-x", "rwx"}},
	/* nogroup may search only where other has x */
	{"dir 0774 alice:dev", DMDIR|0774, 1, 10,
	 {"rwx", "rwx", "r--", "---", "r--", "r--", "rwx"}},
	/* none never gets owner bits, not even on its own file */
	{"file 0700 none:dev", 0700, 0, 10,
	 {"---", "---", "---", "---", "---", "---", "rwx"}},
	/* nor group bits of a group it is in */
	{"file 0070 alice:guests", 0070, 1, 11,
	 {"---", "---", "---", "---", "---", "---", "rwx"}},
	/* a nogroup member who owns the file has the owner bits */
	{"file 0604 dave:dev", 0604, 4, 10,
	 {"r--", "r--", "r--", "rw-", "r--", "r--", "rwx"}},
	/* files of unknown owner and group: other bits */
	{"file 0751 77:78", 0751, 77, 78,
	 {"--x", "--x", "--x", "---", "--x", "--x", "rwx"}},
	{"file 0000 alice:dev", 0000, 1, 10,
	 {"---", "---", "---", "---", "---", "---", "rwx"}},
	{"dir 0777 nogroup:nogroup", DMDIR|0777, 9999, 9999,
	 {"rwx", "rwx", "rwx", "rwx", "rwx", "rwx", "rwx"}},
};

static void
testperm(void)
{
	static int bit[3] = {DMREAD, DMWRITE, DMEXEC};
	Users *u;
	Cap c;
	Perm *p;
	Asker *a;
	char got[4];
	int i, j, k, r, bad;

	u = parse(permtext, &c);
	ok(u != nil, "permission table parses");
	if(u == nil)
		return;
	for(i = 0; i < (int)nelem(perms); i++){
		p = &perms[i];
		for(j = 0; j < (int)nelem(askers); j++){
			a = &askers[j];
			bad = 0;
			for(k = 0; k < 3; k++){
				werrstr("clean");
				r = fsaccess(u, a->uid, a->permit, p->mode, p->uid, p->gid, bit[k]);
				got[k] = r == 0 ? "rwx"[k] : '-';
				if(r == -1 && !iserr(Eperm))
					bad = 1;
			}
			got[3] = 0;
			ok(strcmp(got, p->want[j]) == 0 && !bad, "%s, %s: %s", p->what, a->name, p->want[j]);
			if(strcmp(got, p->want[j]) != 0)
				diag("  got %s", got);
		}
	}

	/* combined bits must all come from one class */
	ok(fsaccess(u, 2, 0, 0754, 1, 10, DMREAD|DMWRITE) == -1,
		"bob: 0754 grants rw to nobody but the owner");
	ok(fsaccess(u, 2, 0, 0754, 1, 10, DMREAD|DMEXEC) == 0, "bob: r-x from the group");
	ok(fsaccess(u, 1, 0, 0460, 1, 12, DMREAD|DMWRITE) == 0,
		"alice: owner r-- fails rw, the group rw- grants it");
	ok(fsaccess(u, 1, 0, 0406, 1, 12, DMREAD|DMWRITE) == 0, "alice: rw from other");
	ok(fsaccess(u, 1, 0, 0442, 1, 12, DMREAD|DMWRITE) == -1,
		"alice: r from owner and w from other do not add up");
	ok(fsaccess(u, 4, 0, DMDIR|0001, 1, 10, DMEXEC) == 0, "dave may search a --x directory");
	ok(fsaccess(u, 4, 0, DMDIR|0005, 1, 10, DMREAD|DMEXEC) == -1,
		"dave may not read a r-x directory through other");
	ok(fsaccess(u, 4, 0, 0001, 1, 10, DMEXEC) == -1, "dave may not execute a --x file");
	ok(fsaccess(u, 9999, 0, 0004, 1, 10, DMREAD) == -1, "nogroup itself is in nogroup");
	is(omodebits(OREAD|OTRUNC), DMREAD|DMWRITE, "OREAD|OTRUNC");
	ok(fsaccess(u, 3, 0, 0644, 1, 10, omodebits(OREAD|OTRUNC)) == -1,
		"carol may not truncate a 0644 file");
	ok(fsaccess(u, 3, 0, 0646, 1, 10, omodebits(OREAD|OTRUNC)) == 0,
		"carol may truncate a 0646 file");
	ok(fsaccess(u, 3, 0, 0604, 1, 10, omodebits(OEXEC)) == -1,
		"carol may not OEXEC a 0604 file: exec is needed too");
	ok(fsaccess(u, 3, 0, 0601, 1, 10, omodebits(OEXEC)) == -1,
		"carol may not OEXEC a 0601 file: read is needed too");
	ok(fsaccess(u, 3, 0, 0605, 1, 10, omodebits(OEXEC)) == 0, "carol may OEXEC a 0605 file");
	putusers(u);

	/* none is whoever the table calls none */
	u = parse("7:none::\n8:x::none\n", &c);
	ok(u != nil && fsaccess(u, 7, 0, 0700, 7, 8, DMREAD) == -1,
		"none at id 7 gets no owner bits");
	ok(u != nil && fsaccess(u, 0, 0, 0700, 0, 8, DMREAD) == 0,
		"id 0 is an ordinary owner when none is 7");
	putusers(u);
}

static void
testsetusers(void)
{
	Users *a, *b, *held;
	Cap c;

	a = parse("1:a::\n", &c);
	b = parse("2:b::\n", &c);
	setusers(a);
	held = getusers();
	ok(held == a, "setusers installs the table");
	setusers(b);
	ok(name2user(held, "a") != nil, "a held table stays usable after it is replaced");
	is(held->ref, 1, "only the holder references the replaced table");
	putusers(held);
	held = getusers();
	ok(held == b, "the new table is current");
	putusers(held);
}

/*
 * Concurrent readers and a reloading writer.  Each table is consistent
 * in itself; a reader that mixed two tables, or used one after it was
 * freed, would see a contradiction (or ASan would).
 */
static char gena[] =
	"-1:adm::\n0:none::\n1:alice::\n10:dev::alice\n100:gena::\n";
static char genb[] =
	"-1:adm::\n0:none::\n1:alice::\n10:dev::\n200:genb::\n";
static char genbroken[] =
	"-1:adm::\n0:none::\n1:alice::\n10:dev::mallory\n";

enum {
	Nreader	= 3,
	Nload	= 1500,		/* reloads at least */
	Maxload	= 200000,	/* and at most, waiting for every reader to see both */
};

typedef struct Rd Rd;
struct Rd {
	int	wrong;
	int	nread;
	s32int	seen[2];	/* atomic: the writer watches them */
};

static s32int writing = 1;	/* atomic: readers run until the writer is done */

static int
consistent(Users *u, Rd *r)
{
	char n100[Unamesz], n200[Unamesz];
	int a;

	a = name2user(u, "gena") != nil;
	if(a == (name2user(u, "genb") != nil))
		return 0;
	if(agetl(&r->seen[a]) == 0)
		asetl(&r->seen[a], 1);
	uid2name(u, 100, n100);
	uid2name(u, 200, n200);
	if(a)
		return ingroup(u, 1, 10) && groupleader(u, 1, 10)
			&& fsaccess(u, 1, 0, 0040, 5, 10, DMREAD) == 0
			&& strcmp(n100, "gena") == 0 && strcmp(n200, "200") == 0;
	return !ingroup(u, 1, 10) && !groupleader(u, 1, 10)
		&& fsaccess(u, 1, 0, 0040, 5, 10, DMREAD) == -1
		&& strcmp(n100, "100") == 0 && strcmp(n200, "genb") == 0;
}

static void
reader(void *arg)
{
	Rd *r;
	Users *u;
	int j;

	r = arg;
	while(agetl(&writing)){
		u = getusers();
		/* hold the table a while: reloads go on meanwhile */
		for(j = 0; j < 4; j++)
			if(!consistent(u, r))
				r->wrong++;
		putusers(u);
		r->nread++;
	}
}

static int
allseen(Rd *rd)
{
	int i;

	for(i = 0; i < Nreader; i++)
		if(!agetl(&rd[i].seen[0]) || !agetl(&rd[i].seen[1]))
			return 0;
	return 1;
}

typedef struct Wr Wr;
struct Wr {
	Rd	*rd;
	int	fails;
	int	nload;
};

static void
writer(void *arg)
{
	Wr *w;
	Cap c;
	int i;

	w = arg;
	for(i = 0; i < Maxload && (i < Nload || !allseen(w->rd)); i++){
		memset(&c, 0, sizeof c);
		if(i % 10 == 9){
			if(loadusers(genbroken, strlen(genbroken), capline, &c) != -1)
				w->fails++;
		}else if(i % 2){
			if(loadusers(genb, strlen(genb), capline, &c) != 0)
				w->fails++;
		}else if(loadusers(gena, strlen(gena), capline, &c) != 0)
			w->fails++;
	}
	w->nload = i;
	asetl(&writing, 0);
}

static void
testconcurrent(void)
{
	pthread_t rt[Nreader], wt;
	Rd rd[Nreader];
	Wr w;
	Cap c;
	int i, wrong, nread;

	ok(loadusers(gena, strlen(gena), capline, &c) == 0, "load the first generation");
	memset(rd, 0, sizeof rd);
	memset(&w, 0, sizeof w);
	w.rd = rd;
	for(i = 0; i < Nreader; i++)
		if(launch(reader, &rd[i], "reader", &rt[i]) == -1)
			sysfatal("launch: %s", errstr());
	if(launch(writer, &w, "writer", &wt) == -1)
		sysfatal("launch: %s", errstr());
	pthread_join(wt, nil);
	wrong = 0;
	nread = 0;
	for(i = 0; i < Nreader; i++){
		pthread_join(rt[i], nil);
		wrong += rd[i].wrong;
		nread += rd[i].nread;
	}
	diag("%d reloads, %d table uses by %d readers", w.nload, nread, Nreader);
	is(w.fails, 0, "every good reload succeeded, every broken one failed");
	ok(allseen(rd), "every reader saw both generations");
	is(wrong, 0, "readers never saw a mixed or freed table");
}

/* Tiny deterministic generator: the same inputs on every run. */
static uvlong rng = 0x9e3779b97f4a7c15ULL;

static u32int
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

static void
nodiag(void *arg, char *line)
{
	USED(arg);
	USED(line);
}

/*
 * Random edits of a good file: whatever parses must be a sound table
 * whose text parses to itself; nothing may crash (ASan watches).
 */
static void
testfuzz(void)
{
	static char alpha[] = "::,,\n\n#-0123456789abn \t\r";
	char buf[256], *t, *t2;
	Users *u, *u2;
	int i, j, k, n, good, unsound;
	User *us;

	good = 0;
	unsound = 0;
	for(i = 0; i < 20000; i++){
		n = strlen(grouptext);
		memcpy(buf, grouptext, n);
		for(j = rnd() % 4; j >= 0; j--){
			k = rnd() % n;
			switch(rnd() % 3){
			case 0:
				buf[k] = alpha[rnd() % (sizeof alpha - 1)];
				break;
			case 1:
				if(n < (int)sizeof buf){
					memmove(buf+k+1, buf+k, n-k);
					buf[k] = alpha[rnd() % (sizeof alpha - 1)];
					n++;
				}
				break;
			case 2:
				memmove(buf+k, buf+k+1, n-k-1);
				n--;
				break;
			}
		}
		u = parseusers(buf, n, nodiag, nil);
		if(u == nil){
			if(!iserr(Esyntax))
				unsound++;
			continue;
		}
		good++;
		for(j = 0; j < u->nuser; j++){
			us = &u->user[j];
			if(uid2user(u, us->id) != us || name2user(u, us->name) != us)
				unsound++;
			if(us->haslead && uid2user(u, us->lead) == nil)
				unsound++;
			for(k = 0; k < us->nmemb; k++)
				if(uid2user(u, us->memb[k]) == nil || (k > 0 && us->memb[k-1] >= us->memb[k]))
					unsound++;
		}
		t = userstext(u);
		u2 = parseusers(t, strlen(t), nodiag, nil);
		t2 = u2 != nil ? userstext(u2) : nil;
		if(t2 == nil || strcmp(t, t2) != 0)
			unsound++;
		free(t);
		free(t2);
		putusers(u2);
		putusers(u);
	}
	diag("%d of 20000 mutated files parsed", good);
	ok(good > 0, "some mutated files still parse");
	is(unsound, 0, "every parsed table is sound and round-trips; every failure is a syntax error");
}

static void
testbig(void)
{
	enum { N = 20000 };
	char *buf, *p;
	Users *u;
	Cap c;
	int i, bad;

	buf = emalloc(N*40);
	p = buf;
	p += sprintf(p, "-5:all::");
	for(i = 0; i < N; i++)
		p += sprintf(p, "%su%d", i ? "," : "", i);
	p += sprintf(p, "\n");
	for(i = 0; i < N; i++)
		p += sprintf(p, "%d:u%d:%s:\n", i*3, i, i ? "u0" : "");
	memset(&c, 0, sizeof c);
	u = parseusers(buf, p - buf, capline, &c);
	ok(u != nil && u->nuser == N+1, "a table of %d users parses", N);
	bad = 0;
	for(i = 0; u != nil && i < N; i++){
		if(!ingroup(u, i*3, -5) || ingroup(u, i*3+1, -5))
			bad++;
		if(!groupleader(u, 0, i*3) || (i > 0 && groupleader(u, i*3, i*3)))
			bad++;
	}
	is(bad, 0, "membership and leadership in the big table");
	putusers(u);
	free(buf);
}

int
main(void)
{
	testfallback();
	testream();
	testgood();
	testbad();
	testgroups();
	testomode();
	testperm();
	testsetusers();
	testconcurrent();
	testfuzz();
	testbig();
	return done();
}
