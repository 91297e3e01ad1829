/**
 * A decoder for OTLP trace exports in protobuf (ExportTraceServiceRequest), written from the .proto
 * field numbers and independent of the gateway's encoder: it turns a request into the shape of the
 * OTLP/JSON encoding (hex ids, string nanoseconds, `{ key, value: { stringValue… } }` attributes),
 * so the receiver reads both encodings one way and tests can compare two encoders' output.
 */

type Fields = Map<number, (bigint | Buffer)[]>;

/** Splits one message into its fields: varint and fixed values as bigint, length-delimited as Buffer. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      value = buf.readBigUInt64LE(pos);
      pos += 8;
    } else if (wire === 5) {
      value = BigInt(buf.readUInt32LE(pos));
      pos += 4;
    } else if (wire === 2) {
      const length = Number(varint());
      value = buf.subarray(pos, pos + length);
      if (value.length !== length) throw new Error('truncated field');
      pos += length;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytesOf = (f: Fields, n: number) => f.get(n) as Buffer[] | undefined;
const one = (f: Fields, n: number) => bytesOf(f, n)?.at(-1);
const num = (f: Fields, n: number) => f.get(n)?.at(-1) as bigint | undefined;
const str = (f: Fields, n: number) => one(f, n)?.toString('utf8');

export interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values: JsonAnyValue[] };
}

function anyValue(buf: Buffer): JsonAnyValue {
  const f = fields(buf);
  if (f.has(1)) return { stringValue: str(f, 1) ?? '' };
  if (f.has(2)) return { boolValue: num(f, 2) === 1n };
  if (f.has(3)) return { intValue: BigInt.asIntN(64, num(f, 3) ?? 0n).toString() };
  if (f.has(4)) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(num(f, 4) ?? 0n);
    return { doubleValue: b.readDoubleLE() };
  }
  if (f.has(5))
    return { arrayValue: { values: (bytesOf(fields(one(f, 5) as Buffer), 1) ?? []).map(anyValue) } };
  return {};
}

function keyValues(list: Buffer[] | undefined): { key: string; value: JsonAnyValue }[] {
  return (list ?? []).map((kv) => {
    const f = fields(kv);
    const value = one(f, 2);
    return { key: str(f, 1) ?? '', value: value ? anyValue(value) : {} };
  });
}

const hex = (b: Buffer | undefined) => b?.toString('hex') ?? '';

/** An ExportTraceServiceRequest as OTLP/JSON would carry it (fields at their proto3 defaults left out). */
export function decodeTraceRequest(body: Buffer) {
  return {
    resourceSpans: (bytesOf(fields(body), 1) ?? []).map((rsBuf) => {
      const rs = fields(rsBuf);
      const resource = one(rs, 1);
      return {
        resource: { attributes: keyValues(resource ? bytesOf(fields(resource), 1) : undefined) },
        scopeSpans: (bytesOf(rs, 2) ?? []).map((ssBuf) => {
          const ss = fields(ssBuf);
          const scopeBuf = one(ss, 1);
          const scope = scopeBuf ? fields(scopeBuf) : new Map();
          return {
            scope: { name: str(scope, 1), version: str(scope, 2) },
            spans: (bytesOf(ss, 2) ?? []).map(decodeSpan),
          };
        }),
      };
    }),
  };
}

function decodeSpan(buf: Buffer) {
  const s = fields(buf);
  const status = one(s, 15);
  const st = status ? fields(status) : new Map();
  return {
    traceId: hex(one(s, 1)),
    spanId: hex(one(s, 2)),
    traceState: str(s, 3) ?? '',
    parentSpanId: hex(one(s, 4)),
    name: str(s, 5) ?? '',
    kind: Number(num(s, 6) ?? 0n),
    startTimeUnixNano: (num(s, 7) ?? 0n).toString(),
    endTimeUnixNano: (num(s, 8) ?? 0n).toString(),
    attributes: keyValues(bytesOf(s, 9)),
    droppedAttributesCount: Number(num(s, 10) ?? 0n),
    events: (bytesOf(s, 11) ?? []).map((eBuf) => {
      const e = fields(eBuf);
      return {
        timeUnixNano: (num(e, 1) ?? 0n).toString(),
        name: str(e, 2) ?? '',
        attributes: keyValues(bytesOf(e, 3)),
        droppedAttributesCount: Number(num(e, 4) ?? 0n),
      };
    }),
    droppedEventsCount: Number(num(s, 12) ?? 0n),
    links: (bytesOf(s, 13) ?? []).length,
    droppedLinksCount: Number(num(s, 14) ?? 0n),
    status: { code: Number(num(st, 3) ?? 0n), message: str(st, 2) ?? '' },
    flags: Number(num(s, 16) ?? 0n),
  };
}
