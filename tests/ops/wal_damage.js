// wal_damage.js: damages one WAL file in the middle and says which acknowledged spans
// the server must still serve after recovery (tests/ops/bitflip.sh).
//
//   node wal_damage.js WAL_FILE ACK_LOG OUT_PREFIX
//
// Reads WAL_FILE (docs/wal_format.md: 32 KiB blocks of fragments; a record is one
// SpanBatch, i.e. (0x0A, varint length, Span) per span) and maps every acknowledged
// span (ACK_LOG: "trace_id span_id" hex lines) to the record holding it. It then picks
// the record in the middle of the file, flips 4 bytes inside its first fragment's
// payload (so its checksum fails) and writes:
//   OUT_PREFIX.keep  acknowledged spans in records with no fragment in the damaged
//                    32 KiB block: recovery must keep every one of them
//   OUT_PREFIX.lost  acknowledged spans of the damaged record: they must be gone
// and prints a JSON summary. Spans in other records of the damaged block are in
// neither list (the reader skips the rest of the block, keeping what came before).
// Exit status 1 when the file does not parse or an acknowledged span is not in it.
'use strict';
const fs = require('fs');

const BLOCK = 32768;
const HEADER = 7;
const [walPath, ackPath, outPrefix] = process.argv.slice(2);
if (!walPath || !ackPath || !outPrefix) {
  console.error('usage: node wal_damage.js WAL_FILE ACK_LOG OUT_PREFIX');
  process.exit(2);
}

function die(msg) {
  console.error(`wal_damage: ${walPath}: ${msg}`);
  process.exit(1);
}

const buf = fs.readFileSync(walPath);

// Fragments, in file order: {off, type, len}. Stops at the first zeroed or
// impossible fragment (an undamaged file ends there).
function fragments() {
  const out = [];
  let off = 0;
  while (off + HEADER <= buf.length) {
    const left = BLOCK - (off % BLOCK);
    if (left < HEADER) {
      off += left;
      continue;
    }
    const len = buf.readUInt16LE(off + 4);
    const type = buf[off + 6];
    if (type === 0 || type > 5 || len > left - HEADER || off + HEADER + len > buf.length) break;
    out.push({ off, type, len });
    off += HEADER + len;
  }
  return out;
}

// Records: {frags: [...], payload: Buffer}.
function records(frags) {
  const out = [];
  let cur = null;
  for (const f of frags) {
    const body = buf.subarray(f.off + HEADER, f.off + HEADER + f.len);
    if (f.type === 5) continue;  // file header
    if (f.type === 1) {
      out.push({ frags: [f], payload: body });
    } else if (f.type === 2) {
      cur = { frags: [f], parts: [body] };
    } else if (cur) {
      cur.frags.push(f);
      cur.parts.push(body);
      if (f.type === 4) {
        out.push({ frags: cur.frags, payload: Buffer.concat(cur.parts) });
        cur = null;
      }
    } else {
      die(`fragment of type ${f.type} at offset ${f.off} without a FIRST`);
    }
  }
  return out;
}

function varint(b, pos) {
  let v = 0, mul = 1;
  for (;;) {
    if (pos >= b.length) throw new Error('truncated varint');
    const c = b[pos++];
    v += (c & 0x7f) * mul;
    if (c < 0x80) return [v, pos];
    mul *= 128;
  }
}

// The "trace span" hex keys of one SpanBatch payload.
function spanKeys(payload) {
  const keys = [];
  let pos = 0;
  while (pos < payload.length) {
    if (payload[pos] !== 0x0a) throw new Error(`SpanBatch byte ${pos} is not field 1`);
    let len;
    [len, pos] = varint(payload, pos + 1);
    const span = payload.subarray(pos, pos + len);
    pos += len;
    let trace = null, id = null, p = 0;
    while (p < span.length && (trace === null || id === null)) {
      let tag;
      [tag, p] = varint(span, p);
      const field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) {
        [, p] = varint(span, p);
      } else if (wire === 1) {
        p += 8;
      } else if (wire === 5) {
        p += 4;
      } else if (wire === 2) {
        let n;
        [n, p] = varint(span, p);
        if (field === 1) trace = span.subarray(p, p + n).toString('hex');
        if (field === 2) id = span.subarray(p, p + n).toString('hex');
        p += n;
      } else {
        throw new Error(`wire type ${wire}`);
      }
    }
    if (trace === null || id === null) throw new Error('a span without trace_id or span_id');
    keys.push(`${trace} ${id}`);
  }
  return keys;
}

const recs = records(fragments());
if (recs.length < 8) die(`only ${recs.length} records: too few to damage one in the middle`);
const where = new Map();  // "trace span" -> record index
recs.forEach((r, i) => {
  let keys;
  try {
    keys = spanKeys(r.payload);
  } catch (e) {
    die(`record at offset ${r.frags[0].off}: ${e.message}`);
  }
  for (const k of keys) where.set(k, i);
});

// The victim: the middle record, 4 bytes in the middle of its first fragment.
const victim = Math.floor(recs.length / 2);
const vf = recs[victim].frags[0];
if (vf.len < 8) die('the middle record is too short to damage');
const offset = vf.off + HEADER + Math.floor(vf.len / 2) - 2;
const block = Math.floor(offset / BLOCK);
const lastBlock = Math.floor((buf.length - 1) / BLOCK);
if (block >= lastBlock) die('the middle record lies in the last block: the file is too small');
const gray = new Set();
recs.forEach((r, i) => {
  if (r.frags.some((f) => Math.floor(f.off / BLOCK) === block)) gray.add(i);
});

const acked = [...new Set(fs.readFileSync(ackPath, 'utf8').split('\n').filter((l) => l.length > 0))];
const keep = [], lost = [];
let unknown = 0;
for (const k of acked) {
  const i = where.get(k);
  if (i === undefined) {
    ++unknown;
  } else if (i === victim) {
    lost.push(k);
  } else if (!gray.has(i)) {
    keep.push(k);
  }
}
if (unknown > 0) die(`${unknown} acknowledged spans are not in this WAL file`);
if (lost.length === 0 || keep.length === 0) die('no acknowledged span in the damaged record, or none outside its block');

const fd = fs.openSync(walPath, 'r+');
const four = Buffer.from(buf.subarray(offset, offset + 4));
for (let i = 0; i < 4; ++i) four[i] ^= 0xff;
fs.writeSync(fd, four, 0, 4, offset);
fs.fsyncSync(fd);
fs.closeSync(fd);

fs.writeFileSync(`${outPrefix}.keep`, keep.map((k) => k + '\n').join(''));
fs.writeFileSync(`${outPrefix}.lost`, lost.map((k) => k + '\n').join(''));
console.log(JSON.stringify({
  file: walPath, bytes: buf.length, records: recs.length, damaged_offset: offset, damaged_block: block,
  acked: acked.length, keep: keep.length, lost: lost.length, in_damaged_block: acked.length - keep.length - lost.length,
}));
