#!/usr/bin/env node
/**
 * Example backend: weather alerts and forecasts from the US National Weather Service.
 *
 *   node dist/servers/weather.js
 *
 * Settings (environment): NWS_API_BASE (default https://api.weather.gov), NWS_USER_AGENT,
 * NWS_TIMEOUT_MS (default 8000).
 */
import { type CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { type Alert, type Forecast, NwsClient, NwsError, nwsOptionsFromEnv } from './nws.js';
import { errorText, log, serveStdio, structuredResult, toolError } from './shared.js';

const NAME = 'weather';

// The `area` codes NWS accepts for states, DC and territories.
const US_AREAS = new Set(
  (
    'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND ' +
    'OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI'
  ).split(' '),
);

const stateSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2}$/, 'expected a two-letter US state code, like CA or NY')
  .transform((s) => s.toUpperCase())
  .refine((s) => US_AREAS.has(s), 'not a US state or territory code');

const alertSchema = z.object({
  event: z.string(),
  areaDesc: z.string(),
  severity: z.string(),
  status: z.string(),
  headline: z.string(),
  description: z.string().optional(),
});

const periodSchema = z.object({
  name: z.string(),
  temperature: z.number(),
  temperatureUnit: z.string(),
  windSpeed: z.string(),
  windDirection: z.string(),
  shortForecast: z.string(),
});

function formatAlerts(state: string, alerts: Alert[]): string {
  if (alerts.length === 0) return `No active alerts for ${state}.`;
  const blocks = alerts.map((a) =>
    [
      `Event: ${a.event}`,
      `Area: ${a.areaDesc}`,
      `Severity: ${a.severity}`,
      `Status: ${a.status}`,
      `Headline: ${a.headline || '(none)'}`,
    ].join('\n'),
  );
  return `Active alerts for ${state} (${alerts.length}):\n\n${blocks.join('\n---\n')}`;
}

function formatForecast(latitude: number, longitude: number, forecast: Forecast): string {
  const where = forecast.location
    ? `${forecast.location} (${latitude}, ${longitude})`
    : `${latitude}, ${longitude}`;
  if (forecast.periods.length === 0) return `No forecast periods for ${where}.`;
  const blocks = forecast.periods.map((p) =>
    [
      `${p.name}:`,
      `Temperature: ${p.temperature}°${p.temperatureUnit}`,
      `Wind: ${p.windSpeed} ${p.windDirection}`,
      p.shortForecast,
    ].join('\n'),
  );
  return `Forecast for ${where}:\n\n${blocks.join('\n---\n')}`;
}

/** NwsErrors already name the URL and status; anything else is a bug worth logging in full. */
function failure(err: unknown): CallToolResult {
  if (!(err instanceof NwsError)) log(NAME, `unexpected error: ${err instanceof Error ? err.stack : err}`);
  return toolError(errorText(err));
}

function createWeatherServer(client: NwsClient): McpServer {
  const server = new McpServer({ name: 'weather', version: '0.1.0' });

  server.registerTool(
    'get_alerts',
    {
      title: 'Weather alerts',
      description: 'Active weather alerts for a US state, from the National Weather Service.',
      inputSchema: z.object({ state: stateSchema.describe('Two-letter US state code, e.g. CA or NY') }),
      outputSchema: z.object({ state: z.string(), count: z.number().int(), alerts: z.array(alertSchema) }),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ state }) => {
      try {
        const alerts = await client.activeAlerts(state);
        return structuredResult(formatAlerts(state, alerts), { state, count: alerts.length, alerts });
      } catch (err) {
        return failure(err);
      }
    },
  );

  server.registerTool(
    'get_forecast',
    {
      title: 'Weather forecast',
      description: 'Forecast periods for a location in the US, from the National Weather Service.',
      inputSchema: z.object({
        latitude: z.number().min(-90).max(90).describe('Latitude of the location'),
        longitude: z.number().min(-180).max(180).describe('Longitude of the location'),
      }),
      outputSchema: z.object({
        latitude: z.number(),
        longitude: z.number(),
        location: z.string().optional(),
        periods: z.array(periodSchema),
      }),
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ latitude, longitude }) => {
      try {
        const forecast = await client.forecast(latitude, longitude);
        return structuredResult(formatForecast(latitude, longitude, forecast), {
          latitude,
          longitude,
          ...forecast,
        });
      } catch (err) {
        return failure(err);
      }
    },
  );

  return server;
}

const options = nwsOptionsFromEnv();
log(NAME, `using NWS API at ${options.base}`);
const nws = new NwsClient(options);
await serveStdio(() => createWeatherServer(nws), NAME);
