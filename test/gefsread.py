#!/usr/bin/env python3
"""gefsread.py: an independent reader of gefs volumes, for the test suite.

It shares no code with the server: everything here is written from
spec/format.md (superblock, arena headers, allocation logs, leaves and
pivots, MetroHash64-1).  It verifies every hash it meets, replays the
allocation logs to the committed barrier, walks every tree named by the
snapshot tree, and checks that every referenced block is allocated and
that no allocated block is unreferenced.

usage:
  gefsread.py check IMAGE [--ream USER]   verify; with --ream, also compare
                                          with what format §6.5/§10/§17.9
                                          say a fresh ream writes
  gefsread.py freemap IMAGE               print the committed free ranges
  gefsread.py blocks IMAGE                print every block by kind
  gefsread.py selftest                    hash and encoding vectors

Exit status 0 when every check passes.  Output lines starting with '#'
are diagnostics; failures start with 'FAIL'.
"""

import struct
import sys

B = 16384
M64 = (1 << 64) - 1
SEED = 0x6765
K0, K1, K2, K3 = 0xC83A91E1, 0x8648DBDB, 0x7BDEC03B, 0x2F5870A5

T_DAT, T_PIVOT, T_LEAF, T_LOG, T_DLIST, T_ARENA = 0, 1, 2, 3, 4, 5
LOGHDSZ = 36
PIVHDSZ = 10
LEAFHDSZ = 6
BUFSPC = (B - PIVHDSZ) // 2
PIVSPC = B - PIVHDSZ - BUFSPC
LEAFSPC = B - LEAFHDSZ
LOGSPC = B - LOGHDSZ
NONE = M64


def rotr(v, k):
    return ((v >> k) | (v << (64 - k))) & M64


def metro(data, seed=SEED):
    """MetroHash64, variant 1, little-endian word loads (format §2.1)."""
    n = len(data)
    h = ((seed + K2) * K0 + n) & M64
    p = 0
    if n >= 32:
        v0 = v1 = v2 = v3 = h
        while n - p >= 32:
            a, b, c, d = struct.unpack_from('<4Q', data, p)
            p += 32
            v0 = (rotr((v0 + a * K0) & M64, 29) + v2) & M64
            v1 = (rotr((v1 + b * K1) & M64, 29) + v3) & M64
            v2 = (rotr((v2 + c * K2) & M64, 29) + v0) & M64
            v3 = (rotr((v3 + d * K3) & M64, 29) + v1) & M64
        v2 ^= (rotr(((v0 + v3) * K0 + v1) & M64, 33) * K1) & M64
        v3 ^= (rotr(((v1 + v2) * K1 + v0) & M64, 33) * K0) & M64
        v0 ^= (rotr(((v0 + v2) * K0 + v3) & M64, 33) * K1) & M64
        v1 ^= (rotr(((v1 + v3) * K1 + v2) & M64, 33) * K0) & M64
        h = (h + (v0 ^ v1)) & M64
    if n - p >= 16:
        w0, w1 = struct.unpack_from('<2Q', data, p)
        p += 16
        a = (rotr((h + w0 * K0) & M64, 33) * K1) & M64
        b = (rotr((h + w1 * K1) & M64, 33) * K2) & M64
        a ^= (rotr((a * K0) & M64, 35) + b) & M64
        b ^= (rotr((b * K3) & M64, 35) + a) & M64
        h = (h + b) & M64
    if n - p >= 8:
        h = (h + struct.unpack_from('<Q', data, p)[0] * K3) & M64
        p += 8
        h ^= (rotr(h, 33) * K1) & M64
    if n - p >= 4:
        h = (h + struct.unpack_from('<I', data, p)[0] * K3) & M64
        p += 4
        h ^= (rotr(h, 15) * K1) & M64
    if n - p >= 2:
        h = (h + struct.unpack_from('<H', data, p)[0] * K3) & M64
        p += 2
        h ^= (rotr(h, 13) * K1) & M64
    if n - p >= 1:
        h = (h + data[p] * K3) & M64
        h ^= (rotr(h, 25) * K1) & M64
    h ^= rotr(h, 33)
    h = (h * K0) & M64
    h ^= rotr(h, 33)
    return h


def u16(b, o):
    return struct.unpack_from('>H', b, o)[0]


def u32(b, o):
    return struct.unpack_from('>I', b, o)[0]


def u64(b, o):
    return struct.unpack_from('>Q', b, o)[0]


def s64(b, o):
    return struct.unpack_from('>q', b, o)[0]


def bptr(b, o):
    return (u64(b, o), u64(b, o + 8), s64(b, o + 16))


class Bad(Exception):
    pass


class Volume:
    def __init__(self, path):
        self.f = open(path, 'rb')
        self.f.seek(0, 2)
        self.devsize = self.f.tell()
        self.D = self.devsize - self.devsize % B
        self.fails = []
        self.refs = {}          # addr -> kind, for every referenced block
        self.log = []

    def read(self, addr):
        self.f.seek(addr)
        b = self.f.read(B)
        if len(b) != B:
            raise Bad('short read at %#x' % addr)
        return b

    def fail(self, msg):
        self.fails.append(msg)
        print('FAIL ' + msg)

    def ref(self, addr, kind):
        if addr in self.refs and self.refs[addr] != kind:
            if not (self.refs[addr] == 'data' and kind == 'data'):
                self.fail('block %#x referenced as %s and %s' % (addr, self.refs[addr], kind))
        self.refs[addr] = kind

    # ---- superblock, format §4.1
    def super(self, addr):
        b = self.read(addr)
        if b[:8] != b'gefs9.00':
            raise Bad('superblock %#x: magic %r' % (addr, b[:8]))
        s = {'raw': b, 'addr': addr}
        s['blksz'], s['bufspc'], s['narena'], s['ht'] = struct.unpack_from('>4I', b, 8)
        if s['blksz'] != B or s['bufspc'] != BUFSPC:
            raise Bad('superblock %#x: blksz %d bufspc %d' % (addr, s['blksz'], s['bufspc']))
        if not 1 <= s['narena'] <= 255:
            raise Bad('superblock %#x: narena %d' % (addr, s['narena']))
        s['root'] = (u64(b, 24), u64(b, 32))
        s['dl'] = (u64(b, 40), u64(b, 48), u64(b, 56), u64(b, 64))
        s['flags'] = u64(b, 72)
        s['nextqid'] = u64(b, 80)
        s['nextgen'] = u64(b, 88)
        s['qgen'] = u64(b, 96)
        n = 104 + 16 * s['narena']
        s['arenas'] = [(u64(b, 104 + 16 * i), u64(b, 112 + 16 * i)) for i in range(s['narena'])]
        h = metro(b[:n])
        if u64(b, n) != h:
            raise Bad('superblock %#x: hash %#x, computed %#x' % (addr, u64(b, n), h))
        s['end'] = n + 8
        return s

    def load(self):
        sbs = []
        for a in (0, self.D - B):
            try:
                sbs.append(self.super(a))
            except Bad as e:
                print('# ' + str(e))
        if not sbs:
            raise Bad('no valid superblock')
        sbs.sort(key=lambda s: -s['qgen'])
        self.sb = sbs[0]
        self.sbs = sbs
        self.arenas = []
        for i, (addr, h) in enumerate(self.sb['arenas']):
            self.arenas.append(self.arena(i, addr, h))
        for a in self.arenas:
            self.replay(a)

    # ---- arena headers, format §4.2
    def arena(self, i, addr, h):
        used = None
        for c in (0, 1):
            b = self.read(addr + c * B)
            hh = metro(b)
            if h != NONE and hh != h:
                print('# arena %d: %s header at %#x: hash %#x, expected %#x' %
                      (i, ('h0', 'h1')[c], addr + c * B, hh, h))
                continue
            if u16(b, 0) != T_ARENA:
                print('# arena %d: header type %d' % (i, u16(b, 0)))
                continue
            used = b
            break
        if used is None:
            raise Bad('arena %d at %#x: no valid header' % (i, addr))
        a = {'i': i, 'base': addr, 'raw': used, 'which': c,
             'loghd': (u64(used, 2), u64(used, 10)), 'size': u64(used, 18), 'used': u64(used, 26)}
        if any(used[34:]):
            self.fail('arena %d header: non-zero bytes past offset 34' % i)
        return a

    # ---- allocation log, format §4.3, §9.8
    def replay(self, a):
        lo = a['base'] + 2 * B
        hi = a['base'] + a['size'] + 2 * B
        free = []           # list of [off, len], kept sorted and coalesced lazily
        used = a['size']
        blocks = []
        addr = a['loghd'][0]
        stop = False
        seen = set()
        while True:
            if addr in seen or not lo <= addr < hi:
                raise Bad('arena %d: log block %#x loops or is outside the arena' % (a['i'], addr))
            seen.add(addr)
            b = self.read(addr)
            if u16(b, 0) != T_LOG:
                raise Bad('arena %d: log block %#x has type %d' % (a['i'], addr, u16(b, 0)))
            logsz = u16(b, 2)
            if logsz > LOGSPC:
                raise Bad('log block %#x: logsz %d' % (addr, logsz))
            h = metro(b[LOGHDSZ:LOGHDSZ + logsz])
            if h != u64(b, 4):
                raise Bad('log block %#x: logh %#x, computed %#x' % (addr, u64(b, 4), h))
            chain = u64(b, 12)
            blocks.append({'addr': addr, 'raw': b, 'logsz': logsz, 'chain': chain, 'ents': []})
            self.ref(addr, 'log')
            i = 0
            p = b[LOGHDSZ:]
            while i < logsz:
                w = u64(p, i)
                op = w & 0xff
                off = w & ~0xff & M64
                if op in (1, 2):
                    ln = B
                    n = 8
                elif op in (4, 5):
                    ln = u64(p, i + 8)
                    n = 16
                elif op == 3:
                    g = w >> 8
                    blocks[-1]['ents'].append(('sync', g))
                    if g >= self.sb['qgen']:
                        stop = True
                        blocks[-1]['cut'] = i
                        break
                    i += 8
                    continue
                else:
                    raise Bad('log block %#x: op %d at %d' % (addr, op, i))
                blocks[-1]['ents'].append((('alloc', 'free')[op in (2, 5)], off, ln, n))
                if off % B or ln % B or ln == 0 or off < lo or off + ln > hi:
                    raise Bad('log block %#x: range %#x+%#x outside arena %d' % (addr, off, ln, a['i']))
                if op in (2, 5):
                    free.append([off, ln])
                    used -= ln
                else:
                    free = grab(free, off, ln, addr)
                    used += ln
                free = coalesce(free)
                i += n
            if stop or chain == NONE:
                break
            addr = chain
        a['free'] = coalesce(free)
        a['usedcalc'] = used
        a['logblocks'] = blocks

    # ---- nodes, format §4.4, §4.5
    def node(self, bp, kind):
        addr, h = bp[0], bp[1]
        b = self.read(addr)
        hh = metro(b)
        if hh != h:
            raise Bad('%s block %#x: hash %#x, computed %#x' % (kind, addr, hh, h))
        t = u16(b, 0)
        if t == T_LEAF:
            nval, valsz = u16(b, 2), u16(b, 4)
            if 2 * nval + valsz > LEAFSPC:
                raise Bad('leaf %#x overflows' % addr)
            return {'type': 'leaf', 'raw': b, 'vals': entries(b, LEAFHDSZ, nval), 'nval': nval, 'valsz': valsz}
        if t == T_PIVOT:
            nval, valsz, nbuf, bufsz = struct.unpack_from('>4H', b, 2)
            if 2 * nval + valsz > PIVSPC or 2 * nbuf + bufsz > BUFSPC:
                raise Bad('pivot %#x overflows' % addr)
            kids = entries(b, PIVHDSZ, nval)
            msgs = []
            base = PIVHDSZ + PIVSPC
            for i in range(nbuf):
                o = base + u16(b, base + 2 * i)
                op = b[o]
                nk = u16(b, o + 1)
                k = b[o + 3:o + 3 + nk]
                nv = u16(b, o + 3 + nk)
                msgs.append((op, k, b[o + 5 + nk:o + 5 + nk + nv]))
            return {'type': 'pivot', 'raw': b, 'kids': kids, 'msgs': msgs, 'nval': nval, 'valsz': valsz}
        raise Bad('block %#x: type %d where a tree node was expected' % (addr, t))

    def tree(self, bp, ht, owner):
        """Every key/value of a tree (messages applied), verifying every node."""
        vals = {}
        self._walk(bp, ht, owner, vals, [])
        return vals

    def _walk(self, bp, ht, owner, vals, pending):
        self.ref(bp[0], 'node')
        n = self.node(bp, owner)
        if n['type'] == 'leaf':
            if ht != 1:
                self.fail('%s: leaf %#x at height %d' % (owner, bp[0], ht))
            for k, v in n['vals']:
                vals[k] = v
            return
        if ht == 1:
            self.fail('%s: pivot %#x at height 1' % (owner, bp[0]))
            return
        for k, v in n['kids']:
            if len(v) != 26:
                raise Bad('pivot %#x: child value of %d bytes' % (bp[0], len(v)))
            self._walk(bptr(v, 0), ht - 1, owner, vals, pending)
        for op, k, v in n['msgs']:
            if op == 1:
                vals[k] = v
            elif op in (2, 3, 4):
                vals.pop(k, None)
            else:
                self.fail('%s: pivot %#x holds op %d this reader does not apply' % (owner, bp[0], op))


def entries(b, off, n):
    spc = LEAFSPC if off == LEAFHDSZ else PIVSPC
    out = []
    for i in range(n):
        o = u16(b, off + 2 * i)
        if o >= spc:
            raise Bad('entry offset %d outside the node' % o)
        p = off + o
        nk = u16(b, p)
        k = b[p + 2:p + 2 + nk]
        nv = u16(b, p + 2 + nk)
        out.append((k, b[p + 4 + nk:p + 4 + nk + nv]))
    return out


def coalesce(r):
    r = sorted(r)
    out = []
    for o, l in r:
        if out and out[-1][0] + out[-1][1] > o:
            raise Bad('free ranges overlap at %#x' % o)
        if out and out[-1][0] + out[-1][1] == o:
            out[-1][1] += l
        else:
            out.append([o, l])
    return out


def grab(free, off, ln, where):
    for i, (o, l) in enumerate(free):
        if o <= off and off + ln <= o + l:
            rest = []
            if off > o:
                rest.append([o, off - o])
            if off + ln < o + l:
                rest.append([off + ln, o + l - off - ln])
            return free[:i] + rest + free[i + 1:]
    raise Bad('log block %#x: allocation of %#x+%#x that is not free' % (where, off, ln))


def isfree(free, addr):
    for o, l in free:
        if o <= addr < o + l:
            return True
    return False


# ---- keys and values, format §6.3
def kent(parent, name):
    return bytes([1]) + struct.pack('>QH', parent & M64, len(name)) + name + b'\0'


def xdir(qpath, qtype, mode, length, uid=-1, gid=-1, muid=0, vers=0):
    return struct.pack('>QQIBIqqQiii', 0, qpath, vers, qtype, mode, 0, 0, length, uid, gid, muid)


def tree_record(nref, nlbl, ht, gen, pred, succ, base, root):
    return struct.pack('>IIIIqqqq', nref, nlbl, ht, 0, gen, pred, succ, base) + \
        struct.pack('>QQq', root[0], root[1], root[2])


def leaf(kvs):
    """A leaf as gefs packs one, zero slack (format §4.4)."""
    b = bytearray(B)
    struct.pack_into('>HHH', b, 0, T_LEAF, len(kvs), sum(4 + len(k) + len(v) for k, v in kvs))
    top = LEAFSPC
    for i, (k, v) in enumerate(kvs):
        body = struct.pack('>H', len(k)) + k + struct.pack('>H', len(v)) + v
        top -= len(body)
        b[LEAFHDSZ + top:LEAFHDSZ + top + len(body)] = body
        struct.pack_into('>H', b, LEAFHDSZ + 2 * i, top)
    return bytes(b)


def geometry(D):
    sz = D - D % B - 2 * B
    n = -(-sz // (4 << 40))
    n = min(max(n, 8), 32)
    asz = sz // n
    asz = asz - asz % B - 2 * B
    return n, asz, sz + B


def initial_log(base, asz):
    """The first log block of an arena as ream step 1 writes it (format §10.2)."""
    b = bytearray(B)
    lb = base + 2 * B
    pay = struct.pack('>QQQQQ', lb | 5, asz - 2 * B, lb | 4, B, 3)
    b[LOGHDSZ:LOGHDSZ + 40] = pay
    struct.pack_into('>HHQ', b, 0, T_LOG, 40, metro(pay))
    b[12:36] = b'\xff' * 24
    return bytes(b)


class Checker:
    def __init__(self, v):
        self.v = v
        self.n = 0

    def ok(self, cond, msg):
        self.n += 1
        if not cond:
            self.v.fail(msg)
        return cond

    def eq(self, got, want, msg):
        if not self.ok(got == want, msg):
            print('#   got  %r\n#   want %r' % (got, want))


def check(path, reamuser):
    v = Volume(path)
    c = Checker(v)
    try:
        v.load()
    except Bad as e:
        v.fail(str(e))
        return v
    try:
        check_trees(v, c, reamuser)
    except Bad as e:
        v.fail(str(e))
    print('# %d checks, %d blocks referenced, %d failures' % (c.n, len(v.refs), len(v.fails)))
    return v


def check_trees(v, c, reamuser):
    sb = v.sb
    snapvals = v.tree((sb['root'][0], sb['root'][1]), sb['ht'], 'snap tree')
    labels = {}
    snaps = {}
    for k, val in snapvals.items():
        if k[0] == 3:
            c.eq(len(val), 13, 'label %r value length' % k[1:])
            labels[k[1:]] = (u64(val, 1), u32(val, 9))
        elif k[0] == 4:
            c.eq(len(val), 72, 'snapshot record length')
            snaps[u64(k, 1)] = val
        elif k[0] == 5:
            c.eq(len(val), 48, 'deadlist value length')
            walk_dlist(v, c, bptr(val, 0), bptr(val, 24))
    trees = {}
    for gen, rec in snaps.items():
        ht = u32(rec, 8)
        root = bptr(rec, 48)
        t = v.tree(root, ht, 'tree %d' % gen)
        trees[gen] = (root, t)
        for k, val in t.items():
            if k[0] == 0:
                if v.refs.get(bptr(val, 0)[0]) == 'data':
                    continue
                d = v.read(bptr(val, 0)[0])
                h = metro(d)
                c.ok(h == bptr(val, 0)[1], 'data block %#x: hash %#x, pointer says %#x' %
                     (bptr(val, 0)[0], h, bptr(val, 0)[1]))
                v.ref(bptr(val, 0)[0], 'data')
            elif k[0] == 1:
                c.eq(len(val), 61, 'directory entry %r length' % k)
    # every referenced block is allocated, every allocated block referenced
    for a in v.arenas:
        lo, hi = a['base'] + 2 * B, a['base'] + a['size']
        alloc = (hi - lo) // B - sum(l for o, l in a['free'] if o < hi) // B
        refd = 0
        for addr in v.refs:
            if lo <= addr < a['base'] + a['size'] + 2 * B:
                c.ok(not isfree(a['free'], addr), 'block %#x (%s) is referenced but free' % (addr, v.refs[addr]))
                refd += 1
        c.eq(refd, alloc, 'arena %d: referenced blocks = allocated blocks (no leak)' % a['i'])
    if reamuser is not None:
        check_ream(v, c, reamuser, labels, snaps, trees)


def walk_dlist(v, c, hd, tl):
    addr = hd[0]
    seen = set()
    while addr != NONE:
        if addr in seen:
            v.fail('deadlist loops at %#x' % addr)
            return
        seen.add(addr)
        b = v.read(addr)
        c.eq(u16(b, 0), T_DLIST, 'deadlist block %#x type' % addr)
        n = u16(b, 2)
        c.eq(metro(b[LOGHDSZ:LOGHDSZ + n]), u64(b, 4), 'deadlist block %#x logh' % addr)
        v.ref(addr, 'dlist')
        for i in range(0, n, 8):
            v.ref(u64(b, LOGHDSZ + i), 'dead')
        if addr == tl[0]:
            break
        addr = u64(b, 12)


def check_ream(v, c, user, labels, snaps, trees):
    D = v.D
    n, asz, sb1 = geometry(v.devsize)
    sb = v.sb
    c.eq(len(v.sbs), 2, 'both superblocks valid')
    c.ok(v.sbs[0]['raw'] == v.sbs[-1]['raw'], 'sb0 and sb1 identical')
    c.eq(v.sbs[-1]['addr'] if v.sbs[0]['addr'] == 0 else v.sbs[0]['addr'], sb1, 'sb1 address')
    c.ok(not any(sb['raw'][sb['end']:]), 'superblock slack zero')
    c.eq(sb['narena'], n, 'narena')
    c.eq(sb['ht'], 1, 'snap tree height')
    c.eq(sb['dl'], (NONE,) * 4, 'snap deadlist fields none')
    c.eq((sb['flags'], sb['nextqid'], sb['nextgen'], sb['qgen']), (0, 3, 3, 0), 'flags, nextqid, nextgen, qgen')
    for i, a in enumerate(v.arenas):
        base = B + i * (asz + 2 * B)
        c.eq(a['base'], base, 'arena %d base' % i)
        c.eq(a['size'], asz, 'arena %d size' % i)
        c.eq(a['which'], 0, 'arena %d: h0 verified' % i)
        c.ok(v.read(base) == v.read(base + B), 'arena %d: h0 and h1 identical' % i)
        init = initial_log(base, asz)
        c.eq(a['loghd'], (base + 2 * B, metro(init)), 'arena %d log head (hash of the step-1 block)' % i)
        c.eq(len(a['logblocks']), 1, 'arena %d: one log block' % i)
        lb = a['logblocks'][0]
        want = [('free', base + 2 * B, asz - 2 * B, 16), ('alloc', base + 2 * B, B, 16)]
        if i == 0:
            want += [('alloc', base + asz - B, B, 8), ('alloc', base + asz - 2 * B, B, 8),
                     ('alloc', base + asz - 3 * B, B, 8)]
        if i == 1:
            want += [('alloc', base + 3 * B, B, 8)]
        c.eq(lb['ents'], want, 'arena %d log entries' % i)
        c.eq(lb['chain'], NONE, 'arena %d log chain' % i)
        exp = bytearray(init)
        body = b''.join(struct.pack('>Q', o | (1 if k == 'alloc' else 2)) for k, o, l, w in want[2:])
        exp[LOGHDSZ + 32:LOGHDSZ + 32 + len(body)] = body
        logsz = 32 + len(body)
        struct.pack_into('>HQ', exp, 2, logsz, metro(bytes(exp[LOGHDSZ:LOGHDSZ + logsz])))
        c.ok(lb['raw'] == bytes(exp), 'arena %d log block byte for byte' % i)
        used = 3 * B + (3 * B if i == 0 else B if i == 1 else 0)
        hdr = bytearray(B)
        struct.pack_into('>HQQQQ', hdr, 0, T_ARENA, base + 2 * B, metro(init), asz, used)
        c.ok(a['raw'] == bytes(hdr), 'arena %d header byte for byte (used %d)' % (i, used))
        c.eq(a['usedcalc'], used, 'arena %d used after replay' % i)
        c.eq(sb['arenas'][i], (base, metro(bytes(hdr))), 'arena %d pointer in the superblock' % i)
    A0, A1 = B, B + asz + 2 * B
    mainb, admb, snapb, usersb = A0 + asz - B, A0 + asz - 2 * B, A0 + asz - 3 * B, A1 + 3 * B
    c.eq(sb['root'][0], snapb, 'snap tree leaf address')
    rootkey = kent(-1, b'')
    mainleaf = leaf([(rootkey, xdir(0, 0x80, 0x800001fd, 0)),
                     (b'\x02' + struct.pack('>Q', 0), rootkey)])
    c.eq(metro(mainleaf), 0x6fe6f157eb324dbd, 'independent main leaf hashes as appendix A.1 says')
    c.ok(v.read(mainb) == mainleaf, 'main root leaf byte for byte (appendix A.1)')
    users = ('-1:adm::%s\n0:none::\n1:%s:%s:\n' % (user, user, user)).encode()
    ublk = users + bytes(B - len(users))
    c.ok(v.read(usersb) == ublk, 'users file block')
    uptr = struct.pack('>QQq', usersb, metro(ublk), 0)
    admleaf = leaf([
        (b'\x00' + struct.pack('>QQ', 2, 0), uptr),
        (kent(1, b'ctl'), xdir(0x8000000000000001, 0, 0o664, 0)),
        (kent(1, b'users'), xdir(2, 0, 0o664, len(users))),
        (kent(1, b'status'), xdir(0x8000000000000002, 0, 0o664, 0)),
        (rootkey, xdir(1, 0x80, 0x800001fd, 0)),
        (b'\x02' + struct.pack('>Q', 1), rootkey)])
    c.eq((u16(admleaf, 2), u16(admleaf, 4)), (6, 392), 'independent adm leaf: nval 6, valsz 392')
    c.ok(v.read(admb) == admleaf, 'adm root leaf byte for byte (format §17.9)')
    mroot = (mainb, metro(mainleaf), 0)
    aroot = (admb, metro(admleaf), 0)
    snapleaf = leaf([
        (b'\x03adm', b'\x04' + struct.pack('>QI', 1, 1)),
        (b'\x03empty', b'\x04' + struct.pack('>QI', 0, 0)),
        (b'\x03main', b'\x04' + struct.pack('>QI', 2, 1)),
        (b'\x04' + struct.pack('>Q', 0), tree_record(2, 1, 1, 0, -1, -1, -1, mroot)),
        (b'\x04' + struct.pack('>Q', 1), tree_record(0, 1, 1, 1, -1, -1, 0, aroot)),
        (b'\x04' + struct.pack('>Q', 2), tree_record(0, 1, 1, 2, -1, -1, 0, mroot))])
    c.ok(v.read(snapb) == snapleaf, 'snap tree leaf byte for byte (format §6.5, §17.9)')
    c.eq(sb['root'][1], metro(snapleaf), 'snap root hash in the superblock')
    c.eq(sorted(labels), [b'adm', b'empty', b'main'], 'labels')
    c.eq(sorted(snaps), [0, 1, 2], 'snapshots')


def selftest():
    fails = 0
    s63 = b'012345678901234567890123456789012345678901234567890123456789012'
    vec = [(s63, 0, 0x400e735c4f048f65),
           (s63, 1, struct.unpack('<Q', bytes.fromhex('AE49EBB0A856537B'))[0]),
           (s63, SEED, 0x20686214644a5482),
           (bytes(B), SEED, 0x8d19d8745486446e),
           (b'', SEED, 0x35d244c2ba0d952f)]
    for i, (d, s, want) in enumerate(vec):
        got = metro(d, s)
        print('%sok %d - metrohash vector %d' % ('' if got == want else 'not ', i + 1, i))
        fails += got != want
    init = initial_log(B, 134168576)
    tests = [(u64(init, 4), 0x51204a8086203dc7, 'appendix A.2 logh'),
             (metro(init), 0xe66eb8f185089501, 'appendix A.2 whole-block hash'),
             (init[LOGHDSZ:LOGHDSZ + 40].hex(),
              '000000000000c005' '0000000007fec000' '000000000000c004' '0000000000004000' '0000000000000003',
              'appendix A.2 payload')]
    rootkey = kent(-1, b'')
    main = leaf([(rootkey, xdir(0, 0x80, 0x800001fd, 0)), (b'\x02' + bytes(8), rootkey)])
    tests.append((metro(main), 0x6fe6f157eb324dbd, 'appendix A.1 hash'))
    tests.append((main[6:10].hex(), '3fad3f94', 'appendix A.1 offset table'))
    tests.append((geometry((128 << 20) + B), (8, 1021 * B, 0x8000000), 'geometry, minimum'))
    tests.append((geometry(1 << 30), (8, 8189 * B, 0x3fffc000), 'geometry, 1 GiB'))
    tests.append((geometry(100 << 40), (25, 268435453 * B, 0x63ffffffc000), 'geometry, 100 TiB'))
    for i, (got, want, name) in enumerate(tests):
        print('%sok %d - %s' % ('' if got == want else 'not ', len(vec) + i + 1, name))
        fails += got != want
    print('1..%d' % (len(vec) + len(tests)))
    return fails == 0


def main(argv):
    if len(argv) >= 2 and argv[1] == 'selftest':
        return 0 if selftest() else 1
    if len(argv) < 3:
        print(__doc__)
        return 2
    cmd, path = argv[1], argv[2]
    if cmd == 'check':
        user = argv[4] if len(argv) > 4 and argv[3] == '--ream' else None
        v = check(path, user)
        return 1 if v.fails else 0
    v = Volume(path)
    try:
        v.load()
    except Bad as e:
        print('FAIL ' + str(e))
        return 1
    if cmd == 'freemap':
        for a in v.arenas:
            for o, l in a['free']:
                print('%d %#x %#x' % (a['i'], o, l))
        return 0
    if cmd == 'blocks':
        sb = v.sb
        snapvals = v.tree((sb['root'][0], sb['root'][1]), sb['ht'], 'snap tree')
        for k, val in snapvals.items():
            if k[0] == 4:
                v.tree(bptr(val, 48), u32(val, 8), 'tree')
        for a in sorted(v.refs):
            print('%#x %s' % (a, v.refs[a]))
        return 0
    print(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
