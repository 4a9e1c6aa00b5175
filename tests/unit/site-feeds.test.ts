// The calendar (RFC 5545) and the RSS feed, built from the real sessions and read back with a
// parser of our own (site-ics-parse.ts).
import { describe, expect, test } from 'vitest';
import { getRssString } from '@astrojs/rss';
import { buildCalendar, escapeText, foldLine, zonedTimeToUtc } from '../../src/lib/ics.ts';
import { sessionFeedItems, sessionsCalendar } from '../../src/lib/feeds.ts';
import { byDate } from '../../src/lib/sessions.ts';
import { parseIcs, parseUtc, prop, unescapeText, unfold } from './site-ics-parse.ts';
import { loadContent } from './site-content-fixtures.ts';

const site = new URL('https://wg.example.org/');
const stamp = new Date('2026-11-28T06:00:00Z');
const octets = (s: string) => new TextEncoder().encode(s).length;

describe('iCalendar primitives', () => {
  test('TEXT escaping round-trips backslash, semicolon, comma and newline', () => {
    const text = 'Queues; ingress, input\\output\nand "quotes"';
    expect(escapeText(text)).toBe('Queues\\; ingress\\, input\\\\output\\nand "quotes"');
    expect(unescapeText(escapeText(text))).toBe(text);
  });

  test('long lines fold at 75 octets without splitting a UTF-8 character', () => {
    const line = 'DESCRIPTION:' + 'Zürich → Genève · '.repeat(12);
    const folded = foldLine(line);
    const physical = folded.split('\r\n');
    expect(physical.length).toBeGreaterThan(3);
    for (const l of physical) expect(octets(l)).toBeLessThanOrEqual(75);
    for (const l of physical.slice(1)) expect(l.startsWith(' ')).toBe(true);
    expect(unfold(folded + '\r\n')).toEqual([line]);
  });

  test('17:30 in Zurich is 15:30 UTC in summer and 16:30 UTC in winter', () => {
    expect(zonedTimeToUtc('2022-08-18', '17:30', 'Europe/Zurich').toISOString()).toBe('2022-08-18T15:30:00.000Z');
    expect(zonedTimeToUtc('2023-01-19', '17:30', 'Europe/Zurich').toISOString()).toBe('2023-01-19T16:30:00.000Z');
    // The first Thursday after the switch back to CET (2022-10-30).
    expect(zonedTimeToUtc('2022-11-17', '17:30', 'Europe/Zurich').toISOString()).toBe('2022-11-17T16:30:00.000Z');
  });

  test('an event with every escapable character survives a round trip', () => {
    const summary = 'A, B; C\\D\nE — ünïcödé '.repeat(4);
    const ics = buildCalendar([{ uid: 'x@wg', start: new Date('2024-01-25T16:30:00Z'), end: new Date('2024-01-25T17:30:00Z'), summary }], {
      productId: '-//t//t//EN',
      name: 'T',
      stamp,
    });
    const [event] = parseIcs(ics).components;
    expect(unescapeText(prop(event, 'SUMMARY')!)).toBe(summary);
  });
});

describe('the sessions calendar', () => {
  const { sessions } = loadContent();
  const ics = sessionsCalendar(byDate(sessions), site, stamp);
  const calendar = parseIcs(ics);
  const events = calendar.components.filter((c) => c.type === 'VEVENT');

  test('is a VCALENDAR 2.0 with PRODID, CRLF line ends and no line over 75 octets', () => {
    expect(calendar.type).toBe('VCALENDAR');
    expect(prop(calendar, 'VERSION')).toBe('2.0');
    expect(prop(calendar, 'PRODID')).toMatch(/^-\/\//);
    for (const line of ics.split('\r\n')) expect(octets(line)).toBeLessThanOrEqual(75);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  test('has one event per session with a unique UID, DTSTAMP and the meeting time', () => {
    expect(events).toHaveLength(sessions.length);
    const uids = events.map((e) => prop(e, 'UID'));
    expect(new Set(uids).size).toBe(sessions.length);
    for (const event of events) {
      expect(parseUtc(prop(event, 'DTSTAMP')!)).toEqual(stamp);
      const start = parseUtc(prop(event, 'DTSTART')!);
      const end = parseUtc(prop(event, 'DTEND')!);
      expect(end.getTime() - start.getTime()).toBe(60 * 60_000);
      const id = prop(event, 'UID')!.split('@')[0];
      expect(start.toISOString().slice(0, 10)).toBe(id.slice(0, 10));
      // 17:30 Zurich: 15:30Z (CEST) or 16:30Z (CET); 2023-09-21 started at 18:00 CEST (thread, post 76).
      const expected = id === '2023-09-21-kybra-azle' ? ['16:00'] : ['15:30', '16:30'];
      expect(expected).toContain(start.toISOString().slice(11, 16));
      expect(prop(event, 'URL')).toBe(new URL(`/sessions/${id}/`, site).href);
    }
  });

  test('descriptions unescape back to the session summary and presenters', () => {
    const first = byDate(sessions)[0];
    const event = events.find((e) => prop(e, 'UID') === `${first.id}@${site.host}`)!;
    const description = unescapeText(prop(event, 'DESCRIPTION')!);
    expect(description.split('\n')[0]).toBe(first.data.summary);
    expect(description).toContain(`@${first.data.presenters[0].handle}`);
  });
});

describe('the RSS feed', () => {
  test('lists every session newest first with absolute links', async () => {
    const { sessions } = loadContent();
    const xml = await getRssString({ title: 'WG', description: 'd', site: site.href, items: sessionFeedItems(byDate(sessions)) });
    const links = [...xml.matchAll(/<item>[\s\S]*?<link>([^<]+)<\/link>/g)].map((m) => m[1]);
    expect(links).toHaveLength(sessions.length);
    expect(links[0]).toBe(new URL(`/sessions/${byDate(sessions).at(-1)!.id}/`, site).href);
    const dates = [...xml.matchAll(/<pubDate>([^<]+)<\/pubDate>/g)].map((m) => Date.parse(m[1]));
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  });
});
