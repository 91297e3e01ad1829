import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeTraceRequest } from './otlp-protobuf.js';

/** One span as an OTLP/HTTP JSON export carries it, decoded. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  status: { code?: number; message?: string };
  /** The exporting process's resource attributes (service.name…). */
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** The base endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Metrics exports (OTLP JSON), as received. */
  metrics: OtlpMetricsExport[];
  /** Paths and content types of the exports received. */
  requests: { path: string; contentType: string | undefined }[];
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

function attributesOf(list: { key: string; value: OtlpValue }[] | undefined) {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ??
      (value.intValue !== undefined ? Number(value.intValue) : undefined) ??
      value.doubleValue ??
      value.boolValue ??
      '';
  }
  return out;
}

export interface OtlpMetricsExport {
  resourceMetrics?: {
    scopeMetrics?: {
      metrics?: {
        name: string;
        sum?: { dataPoints: OtlpPoint[]; isMonotonic?: boolean };
        gauge?: { dataPoints: OtlpPoint[] };
        histogram?: {
          dataPoints: (OtlpPoint & { count?: string | number; bucketCounts?: (string | number)[] })[];
        };
      }[];
    }[];
  }[];
}

interface OtlpPoint {
  attributes?: { key: string; value: OtlpValue }[];
  asDouble?: number;
  asInt?: string | number;
}

/** The data points of metric `name` in an export, with their attributes decoded. */
export function metricPoints(
  exported: OtlpMetricsExport,
  name: string,
): { kind: string; attributes: Record<string, string | number | boolean>; point: Record<string, unknown> }[] {
  const out: ReturnType<typeof metricPoints> = [];
  for (const rm of exported.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) {
        if (m.name !== name) continue;
        for (const kind of ['sum', 'gauge', 'histogram'] as const)
          for (const p of m[kind]?.dataPoints ?? [])
            out.push({ kind, attributes: attributesOf(p.attributes), point: p as Record<string, unknown> });
      }
  return out;
}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  events?: { name: string; attributes?: { key: string; value: OtlpValue }[] }[];
  status?: { code?: number; message?: string };
}

/** The spans of one export (OTLP/JSON, or protobuf decoded to its shape), added to `spans`. */
function collectSpans(
  body: {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: OtlpValue }[] };
      scopeSpans?: { spans?: ExportedSpan[] }[];
    }[];
  },
  spans: ReceivedSpan[],
): void {
  for (const rs of body.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          attributes: attributesOf(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attributesOf(e.attributes) })),
          // Unset is 0 in protobuf and absent in JSON: read both as absent.
          status: {
            ...(s.status?.code ? { code: s.status.code } : {}),
            ...(s.status?.message ? { message: s.status.message } : {}),
          },
          resource,
        });
      }
    }
  }
}

/** An OTLP/HTTP receiver (JSON or protobuf) in the test process: collects every span exported to it. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: OtlpMetricsExport[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
      if (req.url === '/v1/metrics' && req.headers['content-type']?.startsWith('application/json'))
        metrics.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpMetricsExport);
      if (req.url === '/v1/traces') {
        const body = Buffer.concat(chunks);
        const type = req.headers['content-type'] ?? '';
        if (type.startsWith('application/json')) collectSpans(JSON.parse(body.toString('utf8')), spans);
        if (type.startsWith('application/x-protobuf')) collectSpans(decodeTraceRequest(body), spans);
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
