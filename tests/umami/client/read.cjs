// Drive the real @umami/api-client against a running medama_py and check every answer's shape.
// Usage: node read.cjs <baseUrl> <apiKey|token> <key|token> <websiteId> <startAt> <endAt>
// Prints one JSON object {method: result}; exits 1 with the error on any UmamiApiError or wrong shape.
'use strict';
const { UmamiClient, isUmamiApiError } = require('@umami/api-client');

const [baseUrl, secret, kind, websiteId, startAt, endAt] = process.argv.slice(2);
const client = new UmamiClient(kind === 'key' ? { baseUrl, apiKey: secret } : { baseUrl, token: secret });
const range = { websiteId, startAt: Number(startAt), endAt: Number(endAt) };

function expectFields(where, value, fields) {
  if (value === null || typeof value !== 'object') throw new Error(`${where}: not an object: ${JSON.stringify(value)}`);
  for (const [name, types] of Object.entries(fields)) {
    const actual = value[name] === null ? 'null' : Array.isArray(value[name]) ? 'array' : typeof value[name];
    if (!types.split('|').includes(actual)) throw new Error(`${where}.${name}: ${actual}, expected ${types}`);
  }
}
const expectEach = (where, list, fields) => {
  if (!Array.isArray(list)) throw new Error(`${where}: not an array`);
  list.forEach((item, i) => expectFields(`${where}[${i}]`, item, fields));
};
const page = { data: 'array', count: 'number', page: 'number', pageSize: 'number' };
const stats = { pageviews: 'number', visitors: 'number', visits: 'number', bounces: 'number', totaltime: 'number' };
const point = { x: 'string', y: 'number' };
const website = { id: 'string', name: 'string', domain: 'string|null', shareId: 'string|null', teamId: 'string|null',
  userId: 'string|null', createdAt: 'string|null', updatedAt: 'string|null', resetAt: 'string|null',
  deletedAt: 'string|null', recorderEnabled: 'boolean' };

const checks = {
  listWebsites: async () => {
    const r = await client.listWebsites({ pageSize: 100 });
    expectFields('listWebsites', r, page);
    expectEach('listWebsites.data', r.data, website);
    return r;
  },
  getWebsite: async () => {
    const r = await client.getWebsite({ websiteId });
    expectFields('getWebsite', r, website);
    return r;
  },
  getWebsiteStats: async () => {
    const r = await client.getWebsiteStats(range);
    expectFields('getWebsiteStats', r, { ...stats, comparison: 'object' });
    expectFields('getWebsiteStats.comparison', r.comparison, stats);
    return r;
  },
  getWebsitePageviews: async () => {
    const r = await client.getWebsitePageviews({ ...range, unit: 'day', timezone: 'Europe/London' });
    expectFields('getWebsitePageviews', r, { pageviews: 'array', sessions: 'array' });
    expectEach('getWebsitePageviews.pageviews', r.pageviews, point);
    expectEach('getWebsitePageviews.sessions', r.sessions, point);
    return r;
  },
  getWebsiteMetrics: async () => {
    const out = {};
    for (const type of ['path', 'url', 'entry', 'exit', 'referrer', 'country', 'device', 'event', 'browser', 'os', 'channel']) {
      out[type] = await client.getWebsiteMetrics({ ...range, type });
      expectEach(`getWebsiteMetrics(${type})`, out[type], point);
    }
    return out;
  },
  getWebsiteExpandedMetrics: async () => {
    const out = {};
    for (const type of ['path', 'entry', 'exit', 'browser']) {
      out[type] = await client.getWebsiteExpandedMetrics({ ...range, type });
      expectEach(`getWebsiteExpandedMetrics(${type})`, out[type], { name: 'string', pageviews: 'number',
        visitors: 'number', visits: 'number', bounces: 'number', totaltime: 'number' });
    }
    return out;
  },
  getWebsiteEvents: async () => {
    const r = await client.getWebsiteEvents({ ...range, pageSize: 50 });
    expectFields('getWebsiteEvents', r, page);
    expectEach('getWebsiteEvents.data', r.data, { id: 'string', websiteId: 'string', sessionId: 'string',
      createdAt: 'string', urlPath: 'string|null', eventType: 'number', eventName: 'string|null' });
    return r;
  },
  getWebsiteSessions: async () => {
    const r = await client.getWebsiteSessions({ ...range, pageSize: 50 });
    expectFields('getWebsiteSessions', r, page);
    expectEach('getWebsiteSessions.data', r.data, { id: 'string', websiteId: 'string', browser: 'string',
      os: 'string', device: 'string', country: 'string|null', views: 'number', visits: 'number',
      firstAt: 'string', lastAt: 'string' });
    return r;
  },
  getWebsiteSessionStats: async () => {
    const r = await client.getWebsiteSessionStats(range);
    for (const name of ['pageviews', 'visitors', 'visits', 'countries', 'events']) {
      expectFields(`getWebsiteSessionStats.${name}`, r[name], { value: 'number' });
    }
    return r;
  },
  getWebsiteEventStats: async () => {
    const r = await client.getWebsiteEventStats(range);
    expectFields('getWebsiteEventStats.data', r.data,
      { events: 'number', visitors: 'number', visits: 'number', uniqueEvents: 'number', comparison: 'object' });
    return r;
  },
  getWebsiteSession: async () => {
    const first = (await client.getWebsiteSessions({ ...range, pageSize: 1 })).data[0];
    const r = await client.getWebsiteSession({ websiteId, sessionId: first.id });
    expectFields('getWebsiteSession', r, { id: 'string', visits: 'number', views: 'number', events: 'number' });
    const activity = await client.getWebsiteSessionActivity({ ...range, sessionId: first.id });
    expectEach('getWebsiteSessionActivity', activity, { createdAt: 'string', eventType: 'number', visitId: 'string' });
    return { session: r, activity };
  },
  getWebsiteEventSeries: async () => {
    const r = await client.getWebsiteEventSeries({ ...range, unit: 'hour' });
    expectEach('getWebsiteEventSeries', r, { x: 'string', t: 'string', y: 'number' });
    return r;
  },
  getWebsiteDateRange: async () => {
    const r = await client.getWebsiteDateRange({ websiteId });
    expectFields('getWebsiteDateRange', r, { startDate: 'string|null', endDate: 'string|null' });
    return r;
  },
  getRealtime: async () => {
    const r = await client.getRealtime({ websiteId });
    expectFields('getRealtime', r, { countries: 'object', urls: 'object', referrers: 'object', events: 'array',
      series: 'object', totals: 'object' });
    expectFields('getRealtime.totals', r.totals, { views: 'number', visitors: 'number', events: 'number',
      countries: 'number' });
    return r;
  },
  getWebsiteActive: async () => {
    const r = await client.getWebsiteActive({ websiteId });
    expectFields('getWebsiteActive', r, { visitors: 'number' });
    return r;
  },
};

(async () => {
  const results = {};
  for (const [name, check] of Object.entries(checks)) {
    try {
      results[name] = await check();
    } catch (error) {
      const detail = isUmamiApiError(error) ? `UmamiApiError ${error.status} ${error.code} ${error.message}` : String(error);
      process.stderr.write(`${name}: ${detail}\n`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(results));
})();
