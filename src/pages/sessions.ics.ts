// The sessions as an iCalendar file (RFC 5545), for calendar apps.
import type { APIContext } from 'astro';
import { siteData } from '../lib/site-data.ts';
import { sessionsCalendar } from '../lib/feeds.ts';

export async function GET(context: APIContext) {
  const { sessions } = await siteData();
  // DTSTAMP is when this calendar was generated; SOURCE_DATE_EPOCH (the reproducible-builds
  // convention, in seconds) pins it so two builds of the same content are byte-identical.
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const stamp = epoch ? new Date(Number(epoch) * 1000) : new Date();
  return new Response(sessionsCalendar(sessions, context.site!, stamp), {
    headers: { 'Content-Type': 'text/calendar; charset=utf-8' },
  });
}
