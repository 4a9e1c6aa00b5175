// The sessions as an iCalendar file (RFC 5545), for calendar apps.
import type { APIContext } from 'astro';
import { siteData } from '../lib/site-data.ts';
import { sessionsCalendar } from '../lib/feeds.ts';

export async function GET(context: APIContext) {
  const { sessions } = await siteData();
  return new Response(sessionsCalendar(sessions, context.site!, new Date()), {
    headers: { 'Content-Type': 'text/calendar; charset=utf-8' },
  });
}
