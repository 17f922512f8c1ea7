/*
 * test/files.h: files as the server stores them (format §6.3), written
 * straight into a mount's tree: qid q is the file "fQ" in the root
 * directory with Nblk data blocks whose bytes follow pat(q, block,
 * seed).  Include after test/vol.h.
 */
enum {
	Nfile	= 8,		/* qids 100..107 */
	Nblk	= 3,		/* blocks per file */
};

Helper uchar
pat(int q, int blk, int seed, int i)
{
	return (q*131 + blk*17 + seed*61 + i + (i>>8)*7) & 0xff;
}

/* Write file q of label m with contents seed, replacing what it had. */
Helper int
wfile(Mount *m, int q, int seed)
{
	char k[Nblk+1][Keymax], v[Nblk+1][Inlmax], name[16];
	Msg msg[Nblk+1];
	Xdir d;
	Tree *t;
	Blk *b;
	int i, j, r;

	qlock(&fs->mutlk);
	t = m->root;
	for(j = 0; j < Nblk; j++){
		if((b = allocblk(t, Tdat, q, 0)) == nil){
			qunlock(&fs->mutlk);
			return -1;
		}
		for(i = 0; i < Blksz; i++)
			b->buf[i] = pat(q, j, seed, i);
		enqueue(b);
		msg[j].op = Oinsert;
		msg[j].kv.k = k[j];
		msg[j].kv.nk = Offksz;
		packdatkey(k[j], q, (uvlong)j*Blksz);
		msg[j].kv.v = v[j];
		msg[j].kv.nv = Ptrsz;
		packbp(v[j], &b->bp);
		dropblk(b);
	}
	snprintf(name, sizeof name, "f%d", q);
	memset(&d, 0, sizeof d);
	d.qid.path = q;
	d.mode = 0664;
	d.length = Nblk*Blksz;
	msg[j].op = Oinsert;
	msg[j].kv.k = k[j];
	msg[j].kv.nk = packdkey(k[j], Keymax, Qmain, name, strlen(name));
	msg[j].kv.v = v[j];
	msg[j].kv.nv = packdir(v[j], &d) - v[j];
	r = upsert(t, msg, Nblk+1);
	qunlock(&fs->mutlk);
	epochclean();
	return r;
}

Helper int
rmfile(Mount *m, int q)
{
	char k[Nblk+1][Keymax], name[16];
	Msg msg[Nblk+1];
	int j, r;

	memset(msg, 0, sizeof msg);
	for(j = 0; j < Nblk; j++){
		msg[j].op = Odelete;
		msg[j].kv.k = k[j];
		msg[j].kv.nk = Offksz;
		packdatkey(k[j], q, (uvlong)j*Blksz);
	}
	snprintf(name, sizeof name, "f%d", q);
	msg[j].op = Odelete;
	msg[j].kv.k = k[j];
	msg[j].kv.nk = packdkey(k[j], Keymax, Qmain, name, strlen(name));
	qlock(&fs->mutlk);
	r = upsert(m->root, msg, Nblk+1);
	qunlock(&fs->mutlk);
	epochclean();
	return r;
}

/* Does tree t hold file q with contents seed (seed 0: no such file)? */
Helper int
hasfile(Tree *t, int q, int seed)
{
	char k[Keymax], buf[Kvmax], name[16];
	Key key;
	Kvp kv;
	Blk *b;
	int i, j, r, good;

	snprintf(name, sizeof name, "f%d", q);
	key.k = k;
	key.nk = packdkey(k, Keymax, Qmain, name, strlen(name));
	r = btlookup(t, &key, &kv, buf, sizeof buf);
	if(r != (seed != 0))
		return 0;
	for(j = 0; j < Nblk; j++){
		packdatkey(k, q, (uvlong)j*Blksz);
		key.nk = Offksz;
		r = btlookup(t, &key, &kv, buf, sizeof buf);
		if(r != (seed != 0))
			return 0;
		if(seed == 0)
			continue;
		if((b = getblk(unpackbp(kv.v), GBraw)) == nil)
			return 0;
		good = 1;
		for(i = 0; i < Blksz; i++)
			if((uchar)b->buf[i] != pat(q, j, seed, i)){
				good = 0;
				break;
			}
		dropblk(b);
		if(!good)
			return 0;
	}
	return 1;
}

