/**
 * A small client for the National Weather Service API (https://www.weather.gov/documentation/services-web-api):
 * fetch with the headers NWS asks for and a timeout, check the shape of what comes back, and turn every
 * failure into an NwsError whose message names the URL, so the tool can report it and carry on.
 */
import { z } from 'zod';

export const DEFAULT_NWS_BASE = 'https://api.weather.gov';
const DEFAULT_TIMEOUT_MS = 8_000;
// NWS refuses requests without a User-Agent and asks that it identify the application.
const DEFAULT_USER_AGENT = 'mcp-gateway-weather/0.1 (example MCP server)';

export class NwsError extends Error {
  override readonly name = 'NwsError';
}

export interface NwsOptions {
  base: string;
  userAgent: string;
  timeoutMs: number;
}

export function nwsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): NwsOptions {
  const timeout = Number(env.NWS_TIMEOUT_MS);
  return {
    base: (env.NWS_API_BASE || DEFAULT_NWS_BASE).replace(/\/+$/, ''),
    userAgent: env.NWS_USER_AGENT || DEFAULT_USER_AGENT,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
  };
}

// Only the fields we use are checked; NWS adds fields freely, so objects stay loose.
const alertsSchema = z.looseObject({
  features: z.array(
    z.looseObject({
      properties: z.looseObject({
        event: z.string().nullish(),
        areaDesc: z.string().nullish(),
        severity: z.string().nullish(),
        status: z.string().nullish(),
        headline: z.string().nullish(),
        description: z.string().nullish(),
      }),
    }),
  ),
});

const pointSchema = z.looseObject({
  properties: z.looseObject({
    forecast: z.string().nullish(),
    relativeLocation: z
      .looseObject({
        properties: z.looseObject({ city: z.string().nullish(), state: z.string().nullish() }).nullish(),
      })
      .nullish(),
  }),
});

// NWS sends temperature as a number, or as a QuantitativeValue under a feature flag.
const temperatureSchema = z.union([
  z.number(),
  z.looseObject({ value: z.number() }).transform((q) => q.value),
]);

const forecastSchema = z.looseObject({
  properties: z.looseObject({
    periods: z.array(
      z.looseObject({
        name: z.string(),
        temperature: temperatureSchema,
        temperatureUnit: z.string().nullish(),
        windSpeed: z.union([z.string(), z.looseObject({})]).nullish(),
        windDirection: z.string().nullish(),
        shortForecast: z.string().nullish(),
      }),
    ),
  }),
});

export interface Alert {
  event: string;
  areaDesc: string;
  severity: string;
  status: string;
  headline: string;
  description?: string;
}

export interface ForecastPeriod {
  name: string;
  temperature: number;
  temperatureUnit: string;
  windSpeed: string;
  windDirection: string;
  shortForecast: string;
}

export interface Forecast {
  location?: string;
  periods: ForecastPeriod[];
}

export class NwsClient {
  constructor(private readonly options: NwsOptions) {}

  async activeAlerts(state: string): Promise<Alert[]> {
    const url = `${this.options.base}/alerts/active?area=${encodeURIComponent(state)}`;
    const body = parse(alertsSchema, await this.getJson(url), url);
    return body.features.map(({ properties: p }) => ({
      event: p.event ?? 'Unknown',
      areaDesc: p.areaDesc ?? 'Unknown',
      severity: p.severity ?? 'Unknown',
      status: p.status ?? 'Unknown',
      headline: p.headline ?? '',
      ...(p.description ? { description: p.description } : {}),
    }));
  }

  async forecast(latitude: number, longitude: number): Promise<Forecast> {
    // NWS takes at most four decimals; more precision answers with a redirect.
    const pointUrl = `${this.options.base}/points/${coordinate(latitude)},${coordinate(longitude)}`;
    const point = parse(pointSchema, await this.getJson(pointUrl), pointUrl);
    if (!point.properties.forecast) {
      throw new NwsError(`NWS has no forecast for ${latitude},${longitude} (no forecast URL in ${pointUrl})`);
    }
    const forecastUrl = this.resolveForecastUrl(point.properties.forecast, pointUrl);
    const forecast = parse(forecastSchema, await this.getJson(forecastUrl), forecastUrl);
    const where = point.properties.relativeLocation?.properties;
    return {
      ...(where?.city ? { location: where.state ? `${where.city}, ${where.state}` : where.city } : {}),
      periods: forecast.properties.periods.map((p) => ({
        name: p.name,
        temperature: p.temperature,
        temperatureUnit: p.temperatureUnit ?? 'F',
        windSpeed: typeof p.windSpeed === 'string' ? p.windSpeed : 'Unknown',
        windDirection: p.windDirection ?? 'Unknown',
        shortForecast: p.shortForecast ?? 'Unknown',
      })),
    };
  }

  /**
   * NWS answers /points with an absolute forecast URL on https://api.weather.gov. When the base is
   * configured elsewhere (a proxy, a mirror, the recorded-fixture server in tests), following that URL
   * would leave the configured base, so its origin is rewritten onto the base. URLs on any other origin
   * are refused rather than fetched: a response must not be able to send us anywhere it likes.
   */
  private resolveForecastUrl(raw: string, from: string): string {
    let url: URL;
    try {
      url = new URL(raw, `${this.options.base}/`);
    } catch {
      throw new NwsError(`NWS response from ${from} has an invalid forecast URL: ${raw}`);
    }
    const base = new URL(this.options.base);
    if (url.origin === base.origin) return url.href;
    if (url.origin === DEFAULT_NWS_BASE) return `${this.options.base}${url.pathname}${url.search}`;
    throw new NwsError(`NWS response from ${from} points at an unexpected host: ${raw}`);
  }

  private async getJson(url: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { 'User-Agent': this.options.userAgent, Accept: 'application/geo+json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw new NwsError(`NWS request failed: GET ${url}: ${fetchFailure(err, this.options.timeoutMs)}`);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const detail = problemDetail(text);
      throw new NwsError(
        `NWS request failed: GET ${url} returned ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new NwsError(`NWS response from ${url} is not valid JSON (status ${response.status})`);
    }
  }
}

function coordinate(value: number): string {
  return String(Number(value.toFixed(4)));
}

function parse<T>(schema: z.ZodType<T>, body: unknown, url: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new NwsError(
    `NWS response from ${url} has an unexpected shape${where}: ${issue?.message ?? 'invalid'}`,
  );
}

/** fetch hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`; a timeout is an AbortSignal reason. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause =
    err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.message ? `${cause.code} (${cause.message})` : cause.code;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** NWS errors are application/problem+json with a title and a detail; show them when present. */
function problemDetail(text: string): string {
  try {
    const problem = JSON.parse(text) as { title?: unknown; detail?: unknown };
    return [problem.title, problem.detail].filter((s) => typeof s === 'string' && s).join(' - ');
  } catch {
    return text.slice(0, 200);
  }
}
