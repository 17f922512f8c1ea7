/*
 * test/retain.c: retention (format §17.1, runtime §12) with a clock the
 * test controls: after simulated hours and days exactly the automatic
 * snapshots the schedule keeps remain; schedules per label and global,
 * their validation, "last" restored at load, and snapshots of each
 * mount's own label.
 */
#include <time.h>
#include "dat.h"
#include "fns.h"
#include "atomic.h"
#include "test/tap.h"
#include "test/vol.h"
#include "test/files.h"

enum {
	T0	= 1735689630,	/* 2025-01-01 00:00:30 UTC */
	Maxexp	= 4096,
};

static char	*img;

static void
report(void *arg, char *line)
{
	USED(arg);
	diag("check: %s", line);
}

static int
volok(char *what)
{
	vlong leaks;
	int bad;

	if(fssync() == -1){
		diag("%s: sync: %s", what, errstr());
		return 0;
	}
	settle();
	bad = checkfs(report, nil, &leaks);
	if(bad != 0 || leaks != 0)
		diag("%s: %d problems, %lld leaked blocks", what, bad, (long long)leaks);
	return bad == 0 && leaks == 0;
}

static void
stamp(char *buf, int n, char *label, char *unit, vlong t)
{
	struct tm tm;
	time_t tt;

	tt = t;
	gmtime_r(&tt, &tm);
	snprintf(buf, n, "%s@%s.%04d.%02d.%02d_%02d:%02d:%02d", label, unit,
		tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The automatic labels of label for unit, in order, joined by spaces. */
static char*
autolist(char *label, char *unit)
{
	char pfx[128], *s;
	Label *l;
	int i, n, np, len;

	np = snprintf(pfx, sizeof pfx, "%s@%s.", label, unit);
	n = snaplist(&l);
	s = emalloc(1);
	len = 0;
	for(i = 0; i < n; i++){
		if(strncmp(l[i].name, pfx, np) != 0)
			continue;
		s = erealloc(s, len + strlen(l[i].name) + 2);
		len += sprintf(s+len, "%s%s", len ? " " : "", l[i].name);
	}
	freelabels(l, n);
	return s;
}

/* Expected names, oldest first, the newest keep of them (keep -1: all). */
static char*
explist(char *label, char *unit, vlong *t, int n, int keep)
{
	char name[128], *s;
	int i, len;

	s = emalloc(1);
	len = 0;
	for(i = keep < 0 || n <= keep ? 0 : n-keep; i < n; i++){
		stamp(name, sizeof name, label, unit, t[i]);
		s = erealloc(s, len + strlen(name) + 2);
		len += sprintf(s+len, "%s%s", len ? " " : "", name);
	}
	return s;
}

static int
same(char *got, char *want, char *what)
{
	int r;

	r = strcmp(got, want) == 0;
	if(!r){
		diag("%s:", what);
		diag("  got:  %.300s", got);
		diag("  want: %.300s", want);
	}
	free(got);
	free(want);
	return r;
}

static vlong	mins[Maxexp], hours[Maxexp], days[Maxexp];
static int	nmin, nhour, nday;

/*
 * Tick every minute from T0 for steps minutes, writing to the mount now
 * and then, and record when each unit was due by the default schedule.
 */
static vlong
run(Mount *m, vlong t, int steps, int *seed)
{
	vlong prev;
	int k;

	for(k = 0; k < steps; k++){
		prev = t;
		t += 60;
		if(k % 7 == 0)
			wfile(m, 100 + k%Nfile, ++*seed);
		retaintick(t);
		if(nmin < Maxexp)
			mins[nmin++] = t;
		if(t/3600 != prev/3600)
			hours[nhour++] = t;
		if(t/86400 != prev/86400)
			days[nday++] = t;
		if(k % 97 == 0)
			fssync();
	}
	return t;
}

/* The newest minute snapshot holds what main held when it was taken. */
static int
newestholds(char *label, int q, int seed)
{
	char name[128];
	Mount *m;
	int r;

	stamp(name, sizeof name, label, "minute", mins[nmin-1]);
	if((m = getmount(name)) == nil){
		diag("getmount %s: %s", name, errstr());
		return 0;
	}
	epochstart();
	r = hasfile(agetp((void**)&m->root), q, seed);
	epochend();
	putmount(m);
	return r;
}

int
main(void)
{
	Retain r;
	Mount *m, *k;
	vlong t, last;
	int seed, q;
	char v[Inlmax];

	/* timespecs (format §17.1, late-2025 rules) */
	ok(parseretain("60@m 24@h @d", 12, &r) == 0 && r.ok && r.count[Rmin] == 60 && r.ival[Rmin] == 1
		&& r.count[Rhour] == 24 && r.count[Rday] == -1, "the default schedule");
	ok(parseretain("12@5m 48@2h @d ", 15, &r) == 0 && r.count[Rmin] == 12 && r.ival[Rmin] == 5
		&& r.count[Rhour] == 48 && r.ival[Rhour] == 2 && r.count[Rday] == -1, "upstream's example with a trailing blank");
	ok(parseretain("", 0, &r) == 0 && r.ok && r.count[Rmin] == 0 && r.count[Rhour] == 0 && r.count[Rday] == 0,
		"an empty schedule takes nothing");
	ok(parseretain("3@m\t5@m", 7, &r) == 0 && r.count[Rmin] == 5 && r.count[Rhour] == 0, "a later item replaces an earlier one");
	ok(parseretain("0@d", 3, &r) == 0 && r.count[Rday] == 0, "count 0");
	ok(parseretain("5@0m", 4, &r) == -1 && !r.ok, "interval 0 is refused");
	ok(parseretain("5m", 2, &r) == -1, "a missing @ is refused");
	ok(parseretain("5@", 2, &r) == -1, "a missing unit is refused");
	ok(parseretain("5@3x", 4, &r) == -1, "an unknown unit is refused");
	ok(parseretain("5@mh", 4, &r) == -1, "junk after the unit is refused");
	ok(parseretain("99999999999@m", 13, &r) == -1, "an absurd count is refused");

	img = mkimg("retain.img", 1024*MiB);
	if(ream(img) == -1 || load(img) == -1)
		return 1;
	m = getmount("main");
	seed = 0;
	for(q = 100; q < 100+Nfile; q++)
		wfile(m, q, ++seed);

	/* the default schedule over two days and three hours */
	retaintick(T0);
	ok(same(autolist("main", "minute"), strdup(""), "first tick"), "the first tick only sets the clock");
	t = run(m, T0, 2*24*60 + 3*60, &seed);
	ok(same(autolist("main", "minute"), explist("main", "minute", mins, nmin, 60), "minutes"),
		"the 60 newest minutely snapshots remain (of %d taken)", nmin);
	ok(same(autolist("main", "hour"), explist("main", "hour", hours, nhour, 24), "hours"),
		"the 24 newest hourly snapshots remain (of %d taken)", nhour);
	ok(same(autolist("main", "day"), explist("main", "day", days, nday, -1), "days"),
		"every daily snapshot remains (%d)", nday);
	wfile(m, 100, ++seed);
	t = run(m, t, 1, &seed);
	ok(newestholds("main", 100, seed), "the newest snapshot holds main as it was when taken");
	ok(volok("default schedule"), "the volume checks without a leaked block");

	/* bad settings change nothing */
	ok(setconf("main", "retain", "5@0m") == -1 && iserr(Esyntax), "an invalid schedule is refused: %s", errstr());
	ok(setconf("main", "colour", "blue") == -1, "an unknown setting is refused: %s", errstr());
	ok(setconf("nosuch", "retain", "1@m") == -1 && iserr(Enosnap), "a missing label: %s", errstr());
	ok(setconf("empty", "retain", "1@m") == -1 && iserr(Eperm), "a read-only label: %s", errstr());
	ok(getconf("main", "retain", v, sizeof v) == 0 && getconf(nil, "retain", v, sizeof v) == 0,
		"and no setting was stored");

	/* a schedule of main's own: fewer minutes, no days (deleted) */
	ok(setconf("main", "retain", "3@2m 2@h") == 0, "set main's schedule");
	ok(getconf("main", "retain", v, sizeof v) == 1 && strcmp(v, "3@2m 2@h") == 0, "it reads back: %s", v);
	nmin = 0;
	t = run(m, t, 1, &seed);
	ok(same(autolist("main", "day"), strdup(""), "days after 0"), "a unit left out deletes its snapshots");
	ok(same(autolist("main", "hour"), explist("main", "hour", hours, nhour, 2), "hours"), "hours trimmed to 2");
	nmin = 0;
	t = run(m, t, 10, &seed);
	{
		/* every second minute: the ticks on even minutes since the last one */
		vlong ev[16];
		int i, ne;

		ne = 0;
		for(i = 0; i < nmin; i++)
			if((mins[i]/120) != ((mins[i]-60)/120))
				ev[ne++] = mins[i];
		ok(same(autolist("main", "minute"), explist("main", "minute", ev, ne, 3), "2m"),
			"three snapshots every two minutes");
	}

	/* the global setting applies where the label has none */
	ok(clrconf("main", "retain") == 0 && getconf("main", "retain", v, sizeof v) == 0, "clear main's schedule");
	ok(setconf(nil, "retain", "2@m") == 0 && getconf(nil, "retain", v, sizeof v) == 1, "set the global schedule");
	nmin = 0;
	t = run(m, t, 5, &seed);
	ok(same(autolist("main", "minute"), explist("main", "minute", mins, nmin, 2), "global"),
		"the global schedule keeps 2 minutely snapshots");
	ok(same(autolist("main", "hour"), strdup(""), "global hours"), "and no hourly one");
	ok(volok("global schedule"), "the volume checks without a leaked block");

	/* a fork is snapshotted as itself, not as main (runtime §4.7) */
	ok(snapcreate("main", "k", 1) == 0, "fork main as k");
	k = getmount("k");
	wfile(k, 100, 999);
	nmin = 0;
	t = run(m, t, 2, &seed);
	ok(newestholds("k", 100, 999), "k's automatic snapshot holds k's files");
	ok(!newestholds("main", 100, 999), "main's does not");
	putmount(k);

	/* last is restored at load: no second snapshot in the same minute */
	last = mins[nmin-1];
	putmount(m);
	fssync();
	closefs();
	if(load(img) == -1)
		return 1;
	m = getmount("main");
	retaintick(last + 10);
	ok(same(autolist("main", "minute"), explist("main", "minute", mins, nmin, 2), "reload"),
		"after a reload, nothing is taken again within the same minute");
	retaintick(last + 60);
	mins[nmin++] = last + 60;
	ok(same(autolist("main", "minute"), explist("main", "minute", mins, nmin, 2), "reload next"),
		"the next minute is taken");

	/* an empty schedule deletes every automatic snapshot of main */
	ok(setconf("main", "retain", "") == 0, "retain main none");
	retaintick(last + 120);
	ok(same(autolist("main", "minute"), strdup(""), "none"), "no minutely snapshot is left");
	ok(same(autolist("main", "day"), strdup(""), "none days"), "no daily one either");
	putmount(m);
	ok(volok("end"), "the volume checks without a leaked block");
	closefs();
	rmtmp();
	return done();
}
