/**
 * The protobuf wire format, written into one growing Buffer: what span-protobuf.ts needs to encode
 * a span the moment it ends. Strings and hex ids go in with Buffer.write (native UTF-8 and hex),
 * and a message's length is patched in after its body, shifting the body in the rare case the
 * length needs more than the one byte reserved for it.
 */

export type AttributeValue = string | number | boolean | readonly (string | number | boolean)[];

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for `bytes` more. */
  ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** The bytes written so far, copied out (the writer's buffer is reused), and a fresh start. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  varint(value: number): void {
    this.ensure(10);
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        this.buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
      return;
    }
    // 64-bit two's complement (int64 attribute values and big counts).
    const bits = BigInt.asUintN(64, BigInt(value));
    let low = Number(bits & 0xffffffffn);
    let high = Number(bits >> 32n);
    while (high > 0 || low > 0x7f) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buf[this.pos++] = low;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  fixed32(field: number, value: number): void {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(value >>> 0, this.pos);
  }

  /** A fixed64 field holding nanoseconds since the epoch, from `performance.now()` milliseconds. */
  time(field: number, at: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    const [low, high] = epochNanos(at);
    this.buf.writeUInt32LE(low, this.pos);
    this.pos = this.buf.writeUInt32LE(high, this.pos + 4);
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_BYTES);
    this.ensure(value.length * 3 + 5);
    const at = this.pos;
    const written = this.buf.write(value, at + 1, 'utf8');
    this.pos = at + 1 + written;
    this.patchLength(at, written);
  }

  /** A bytes field from lowercase hex (trace and span ids). */
  hex(field: number, value: string): void {
    this.tag(field, WIRE_BYTES);
    const bytes = value.length >>> 1;
    this.ensure(bytes + 1);
    this.buf[this.pos] = bytes;
    this.pos += 1 + this.buf.write(value, this.pos + 1, 'hex');
  }

  /** Opens a length-delimited field; returns where its length goes, for `close`. */
  open(field: number): number {
    this.tag(field, WIRE_BYTES);
    this.ensure(1);
    return this.pos++;
  }

  close(at: number): void {
    this.patchLength(at, this.pos - at - 1);
  }

  /** A KeyValue (`key` already encoded as its field, see `keyField`) in field `field`. */
  keyValue(field: number, key: Uint8Array, value: AttributeValue): void {
    const kv = this.open(field);
    this.raw(key);
    const any = this.open(2);
    this.anyValue(value);
    this.close(any);
    this.close(kv);
  }

  /** An AnyValue's body; numbers are int_value when integral (as the SDK writes them), else double. */
  anyValue(value: AttributeValue): void {
    if (typeof value === 'string') this.string(1, value);
    else if (typeof value === 'boolean') {
      this.tag(2, WIRE_VARINT);
      this.varint(value ? 1 : 0);
    } else if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= -(2 ** 63) && value < 2 ** 63) {
        this.tag(3, WIRE_VARINT);
        this.varint(value);
      } else {
        this.tag(4, WIRE_FIXED64);
        this.ensure(8);
        this.pos = this.buf.writeDoubleLE(value, this.pos);
      }
    } else if (Array.isArray(value)) {
      const array = this.open(5);
      for (const item of value) {
        const entry = this.open(1);
        this.anyValue(item);
        this.close(entry);
      }
      this.close(array);
    }
  }

  /** Writes `length` as a varint at `at`, where one byte was reserved; moves the body if it needs more. */
  private patchLength(at: number, length: number): void {
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let i = at;
    while (v > 0x7f) {
      this.buf[i++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[i] = v;
  }
}

/** A KeyValue's `key` field (field 1), encoded once per attribute name. */
export function keyField(key: string): Uint8Array {
  const w = new ProtobufWriter(key.length * 3 + 8);
  w.string(1, key);
  return w.take();
}

export function varintSize(value: number): number {
  let size = 1;
  let v = value >>> 0;
  while (v > 0x7f) {
    v >>>= 7;
    size++;
  }
  return size;
}

const ORIGIN_MS = performance.timeOrigin;
const ORIGIN_SECONDS = Math.floor(ORIGIN_MS / 1000);
const ORIGIN_NANOS = Math.round((ORIGIN_MS - ORIGIN_SECONDS * 1000) * 1e6);

/** A `performance.now()` reading as whole seconds and nanoseconds since the epoch (the SDK's HrTime). */
export function epochTime(at: number): [number, number] {
  const wholeSeconds = Math.floor(at / 1000);
  let seconds = ORIGIN_SECONDS + wholeSeconds;
  let nanos = ORIGIN_NANOS + Math.round((at - wholeSeconds * 1000) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/**
 * Nanoseconds since the epoch of a `performance.now()` reading, as [low 32 bits, high 32 bits]: the
 * number itself (about 1.8e18) is past what a double holds exactly.
 */
export function epochNanos(at: number): [number, number] {
  const [seconds, nanos] = epochTime(at);
  return splitNanos(seconds, nanos);
}

/** seconds × 1e9 + nanos as [low, high] 32-bit halves, exactly: seconds are multiplied in 16-bit halves. */
export function splitNanos(seconds: number, nanos: number): [number, number] {
  const lowSeconds = seconds % 0x10000;
  const highSeconds = Math.floor(seconds / 0x10000);
  const fromLow = lowSeconds * 1e9; // < 2^46
  const fromHigh = highSeconds * 1e9; // × 2^16 below; < 2^46 itself
  const lowSum = (fromLow % 0x100000000) + (fromHigh % 0x10000) * 0x10000 + nanos;
  const low = lowSum % 0x100000000;
  const high =
    Math.floor(fromLow / 0x100000000) + Math.floor(fromHigh / 0x10000) + Math.floor(lowSum / 0x100000000);
  return [low, high >>> 0];
}
