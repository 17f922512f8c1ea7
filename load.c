/*
 * load.c: bringing a volume up (format §10.3, runtime §8.8) and down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "dat.h"
#include "fns.h"

/* Physical memory in bytes; 512 MiB when it cannot be found (runtime §9.1). */
static vlong
physmem(void)
{
	long pages, psz;

	pages = sysconf(_SC_PHYS_PAGES);
	psz = sysconf(_SC_PAGESIZE);
	if(pages <= 0 || psz <= 0)
		return 512*1024*1024;
	return (vlong)pages * psz;
}

/* -m: MiB by default or with M, GiB with G, a share of memory with %. */
vlong
parsecachesz(char *s)
{
	char *e;
	vlong n;

	errno = 0;
	n = strtoll(s, &e, 10);
	if(e == s || errno != 0 || n < 0 || n > 1LL<<40){
		werrstr("bad cache size '%s'", s);
		return -1;
	}
	if(*e == 0 || strcmp(e, "M") == 0 || strcmp(e, "m") == 0)
		n *= 1024*1024;
	else if(strcmp(e, "G") == 0 || strcmp(e, "g") == 0)
		n *= 1024*1024*1024;
	else if(strcmp(e, "%") == 0){
		if(n > 100){
			werrstr("bad cache size '%s'", s);
			return -1;
		}
		n = physmem() / 100 * n;
	}else{
		werrstr("unknown suffix %s", e);
		return -1;
	}
	return n;
}

/* The default cache: a quarter of physical memory. */
vlong
defcachesz(void)
{
	return physmem() / 4;
}

/* Open the device and set up the empty state and the cache. */
int
openfs(char *dev, int rdonly, vlong cachesz)
{
	struct stat st;
	off_t sz;

	fs = emalloc(sizeof *fs);
	fs->fd = -1;
	fs->dev = estrdup(dev);
	fs->rdonly = rdonly;
	qlockinit(&fs->mutlk);
	qlockinit(&fs->synclk);
	qlockinit(&fs->mountlk);
	fs->snap.ht = 1;
	fs->snap.bp = Zb;
	fs->snap.gen = -1;
	fs->snap.pred = -1;
	fs->snap.succ = -1;
	fs->snap.base = -1;
	if((fs->fd = open(dev, rdonly ? O_RDONLY : O_RDWR)) == -1){
		werrstr("open %s: %s", dev, strerror(errno));
		goto err;
	}
	if(fstat(fs->fd, &st) == -1 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))){
		werrstr("%s: not a file or a block device", dev);
		goto err;
	}
	/* lseek finds the size of block devices as well as files */
	if((sz = lseek(fs->fd, 0, SEEK_END)) == -1){
		werrstr("%s: size: %s", dev, strerror(errno));
		goto err;
	}
	fs->size = sz - sz % Blksz;
	fs->cachesz = cachesz;
	if(cacheinit(cachesz) == -1)
		goto err;
	fs->dlcmax = MIN(MAX(fs->cache.cmax/10, Dlcmin), Dlcmax);
	return 0;
err:
	if(fs->fd != -1)
		close(fs->fd);
	free(fs->dev);
	free(fs);
	fs = nil;
	return -1;
}

/* Give up the file system: nothing more is written, nothing is committed. */
void
closefs(void)
{
	int i;

	if(fs == nil)
		return;
	stoptimer();
	if(fs->running){
		epochflush();
		stopsyncer();
	}
	dlclear();
	mountclear();
	for(i = 0; i < fs->narena; i++)
		arenaclear(&fs->arenas[i]);
	free(fs->arenas);
	bvfree(&fs->deferred);
	cachefree();
	close(fs->fd);
	free(fs->dev);
	free(fs);
	fs = nil;
}

/* Enough buffers for the static log tails and some work. */
int
cachefits(int narena)
{
	if(fs->cache.cmax < 2*narena + Cachemin){
		werrstr("cache too small: %ld blocks for %d arenas, need %d",
			fs->cache.cmax, narena, 2*narena + Cachemin);
		return -1;
	}
	return 0;
}

/*
 * Read one arena's header: h0, else h1, each verified against the hash
 * the superblock holds for both (format §10.3 step 3).  A hash of -1
 * (written by grow in older gefs, format §10.4) cannot be checked: h0 is
 * taken if it decodes.
 */
static int
loadhdr(Arena *a, int i, Bptr *p, char *buf)
{
	char err[2][Errmax];
	uvlong h;
	int c;

	for(c = 0; c < 2; c++){
		if(devread(p->addr + c*Blksz, buf) == -1){
			snprintf(err[c], Errmax, "%s", errstr());
			continue;
		}
		h = blkhash(buf, Blksz);
		if(p->hash != (uvlong)-1 && h != p->hash){
			snprintf(err[c], Errmax, "expected hash %#llx, found %#llx",
				(unsigned long long)p->hash, (unsigned long long)h);
			warn("arena %d: %s header %#llx: %s: %s", i, c == 0 ? "primary" : "backup",
				(unsigned long long)(p->addr + c*Blksz), Ecorrupt, err[c]);
			continue;
		}
		if(unpackarena(buf, &a->loghd, &a->size, &a->used) == -1){
			snprintf(err[c], Errmax, "%s", errstr());
			continue;
		}
		a->hdloghd = a->loghd;
		a->hdused = a->used;
		a->hdhash = h;
		return 0;
	}
	werrstr("%s: arena %d at %#llx: no valid header: h0: %s; h1: %s", Ecorrupt, i,
		(unsigned long long)p->addr, err[0], err[1]);
	return -1;
}

/* Arenas as the superblock s describes them; checks the geometry. */
static int
loadarenas(Super *s)
{
	vlong end, lim;
	char *buf;
	Arena *a;
	int i;

	buf = emalloc(Blksz);
	fs->arenas = emalloc(s->narena*sizeof(Arena));
	fs->narena = 0;
	lim = fs->size - Blksz;
	end = Blksz;
	for(i = 0; i < s->narena; i++){
		a = &fs->arenas[i];
		qlockinit(&a->lk);
		a->base = s->arenas[i].addr;
		if(a->base % Blksz != 0 || a->base < end || a->base > lim - 2*Blksz){
			werrstr("bad geometry: arena %d at %#llx: outside the device or overlapping", i,
				(unsigned long long)a->base);
			goto err;
		}
		if(loadhdr(a, i, &s->arenas[i], buf) == -1)
			goto err;
		fs->narena++;
		if(a->size % Blksz != 0 || a->size < 2*Blksz || a->size > lim - a->base - 2*Blksz){
			werrstr("bad geometry: arena %d at %#llx: size %#llx", i,
				(unsigned long long)a->base, (unsigned long long)a->size);
			goto err;
		}
		a->reserve = MIN(MAX(a->size/1024, Minreserve), Maxreserve);
		end = a->base + a->size + 2*Blksz;
	}
	free(buf);
	return 0;
err:
	free(buf);
	free(fs->arenas);
	fs->arenas = nil;
	fs->narena = 0;
	return -1;
}

/*
 * The superblock copies to try, best first (format §10.3): a valid copy
 * beats an invalid one.  When both are valid but differ, a commit was
 * cut between the two writes; the newer qgen wins, because its arena
 * headers reached the disk before either superblock was written.
 */
static int
picksuper(Super *s, int *ns)
{
	char *buf[2], err[2][Errmax];
	int c, ok[2];
	vlong addr;
	Super t;

	*ns = 0;
	for(c = 0; c < 2; c++){
		buf[c] = emalloc(Blksz);
		addr = c == 0 ? 0 : fs->size - Blksz;
		ok[c] = 0;
		if(fs->size < 2*Blksz)
			snprintf(err[c], Errmax, "device of %lld bytes", (long long)fs->size);
		else if(devread(addr, buf[c]) == -1 || unpacksuper(buf[c], &s[*ns]) == -1)
			snprintf(err[c], Errmax, "%s", errstr());
		else{
			ok[c] = 1;
			(*ns)++;
		}
	}
	/* the usual case: two identical copies are one candidate */
	if(*ns == 2 && memcmp(buf[0], buf[1], Blksz) == 0){
		free(s[1].arenas);
		*ns = 1;
	}
	free(buf[0]);
	free(buf[1]);
	if(!ok[0] && ok[1])
		warn("unable to load primary superblock: %s", err[0]);
	if(*ns == 0){
		werrstr("no valid superblock: primary: %s; backup: %s", err[0], err[1]);
		return -1;
	}
	if(*ns == 2 && s[1].qgen > s[0].qgen){
		t = s[0];
		s[0] = s[1];
		s[1] = t;
	}
	return 0;
}

/*
 * Make both header copies of every arena the one the superblock names.
 * A commit cut after its superblock leaves h1 stale; the next commit
 * overwrites h0 before its own superblock, so a crash then would leave
 * no copy that matches.  Only once the volume has loaded: until then
 * the older superblock may still be needed, with the copies it matches.
 */
static int
fixheaders(void)
{
	char *b[2];
	int i, c, fixed;
	Arena *a;

	b[0] = emalloc(Blksz);
	b[1] = emalloc(Blksz);
	fixed = 0;
	for(i = 0; i < fs->narena; i++){
		a = &fs->arenas[i];
		for(c = 0; c < 2; c++)
			if(devread(a->base + c*Blksz, b[c]) == -1)
				memset(b[c], 0, Blksz);
		if(memcmp(b[0], b[1], Blksz) == 0)
			continue;
		c = blkhash(b[0], Blksz) == a->hdhash ? 0 : 1;
		if(blkhash(b[c], Blksz) != a->hdhash)
			continue;
		if(devwrite(a->base + (1-c)*Blksz, b[c], Blksz) == -1)
			goto err;
		fixed = 1;
	}
	free(b[0]);
	free(b[1]);
	return fixed ? devsync() : 0;
err:
	free(b[0]);
	free(b[1]);
	return -1;
}

/*
 * Load the volume on dev (format §10.3): superblock, arena headers,
 * allocation logs replayed to the commit, the snap tree root verified.
 */
int
loadfs(char *dev, int rdonly, vlong cachesz)
{
	Super s[2];
	Blk *b;
	int i, n;

	if(openfs(dev, rdonly, cachesz) == -1)
		return -1;
	if(picksuper(s, &n) == -1)
		goto err;
	for(i = 0; i < n; i++){
		if(cachefits(s[i].narena) == 0 && loadarenas(&s[i]) == 0)
			break;
		if(i+1 < n)
			warn("superblock with qgen %lld: %s", (long long)s[i].qgen, errstr());
	}
	if(i == n)
		goto errs;
	fs->snap.bp = s[i].root;
	fs->snap.ht = s[i].ht;
	fs->snap.memgen = 0;
	fs->nextqid = s[i].nextqid;
	fs->nextgen = s[i].nextgen;
	fs->qgen = s[i].qgen;
	for(i = 0; i < fs->narena; i++){
		fs->arenas[i].logbuf[0] = staticblk();
		fs->arenas[i].logbuf[1] = staticblk();
		if(loadlog(&fs->arenas[i], fs->qgen, 1) == -1)
			goto errs;
	}
	if(!rdonly && fixheaders() == -1)
		goto errs;
	startsyncer();
	if((b = getblk(fs->snap.bp, 0)) == nil)
		goto errs;
	dropblk(b);
	for(i = 0; i < n; i++)
		free(s[i].arenas);
	return 0;
errs:
	for(i = 0; i < n; i++)
		free(s[i].arenas);
err:
	{
		char e[Errmax];

		snprintf(e, sizeof e, "%s", errstr());
		closefs();
		werrstr("%s", e);
	}
	return -1;
}

/* The load summary of runtime §8.8 step 5, on stderr. */
void
loadsummary(void)
{
	fprintf(stderr, "load %s:\n", fs->dev);
	fprintf(stderr, "\tsnaptree:\t(%#llx, %#llx) height %d\n",
		(unsigned long long)fs->snap.bp.addr, (unsigned long long)fs->snap.bp.hash, fs->snap.ht);
	fprintf(stderr, "\tnarenas:\t%d\n", fs->narena);
	fprintf(stderr, "\tfeatures:\t%#x\n", 0);
	fprintf(stderr, "\tnextqid:\t%lld\n", (long long)fs->nextqid);
	fprintf(stderr, "\tlastqgen:\t%lld\n", (long long)fs->qgen);
	fprintf(stderr, "\tnextgen:\t%lld\n", (long long)fs->nextgen);
	fprintf(stderr, "\tblocksize:\t%d\n", Blksz);
	fprintf(stderr, "\tcachesz:\t%lld MiB\n", (long long)(fs->cachesz/(1024*1024)));
}
