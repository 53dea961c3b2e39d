// A minimal protobuf wire-format reader (https://protobuf.dev/programming-guides/encoding/):
// enough to decode OTLP export requests in tests without a .proto file or a protobuf
// library. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32; groups (3, 4)
// are rejected. Varints are read as BigInt so 64-bit values (and negative int64, which
// are 10-byte two's complement) survive.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

export interface WireField {
  readonly field: number;
  readonly wireType: number;
  /** Wire type 0. */
  readonly varint: bigint;
  /** Wire types 1 and 5 (little-endian bytes) and 2 (the payload). */
  readonly bytes: Buffer;
}

const EMPTY = Buffer.alloc(0);

function readVarint(buf: Buffer, pos: number): [value: bigint, next: number] {
  let value = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Error('protobuf: truncated varint');
    const byte = buf[pos++];
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asUintN(64, value), pos];
    shift += 7n;
  }
  throw new Error('protobuf: varint longer than 10 bytes');
}

/** Every field of one message, in wire order (repeated fields appear once per element). */
export function decodeMessage(data: Uint8Array): WireField[] {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new Error('protobuf: field number 0');
    switch (wireType) {
      case WIRE_VARINT: {
        const [value, next] = readVarint(buf, pos);
        pos = next;
        fields.push({ field, wireType, varint: value, bytes: EMPTY });
        break;
      }
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const size = wireType === WIRE_FIXED64 ? 8 : 4;
        if (pos + size > buf.length) throw new Error('protobuf: truncated fixed field');
        fields.push({ field, wireType, varint: 0n, bytes: buf.subarray(pos, pos + size) });
        pos += size;
        break;
      }
      case WIRE_LEN: {
        const [length, next] = readVarint(buf, pos);
        const end = next + Number(length);
        if (end > buf.length) throw new Error('protobuf: truncated length-delimited field');
        fields.push({ field, wireType, varint: 0n, bytes: buf.subarray(next, end) });
        pos = end;
        break;
      }
      default:
        throw new Error(`protobuf: unsupported wire type ${wireType} (field ${field})`);
    }
  }
  return fields;
}

/** fixed64 as an unsigned 64-bit integer. */
export function fixed64(f: WireField): bigint {
  return f.bytes.readBigUInt64LE(0);
}

/** fixed64 as a double. */
export function double(f: WireField): number {
  return f.bytes.readDoubleLE(0);
}

/** varint as int64 (two's complement), as a number (exact up to 2^53). */
export function int64(f: WireField): number {
  return Number(BigInt.asIntN(64, f.varint));
}

export function utf8(f: WireField): string {
  return f.bytes.toString('utf8');
}

export function hex(f: WireField): string {
  return f.bytes.toString('hex');
}
