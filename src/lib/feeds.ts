// What the RSS feed and the calendar say about each session. Pure, so unit tests run them on
// fixtures without building the site.
import type { Session } from './sessions.ts';
import { buildCalendar, zonedTimeToUtc, type CalendarEvent } from './ics.ts';
import { isoDay } from './content-checks.ts';
import { presenterLabel } from './schemas.ts';

/** Meetings were at 17:30 Zurich time and lasted an hour (forum thread, first post). */
export const MEETING_TIME = { time: '17:30', timeZone: 'Europe/Zurich', minutes: 60 } as const;

function presenters(session: Session): string {
  return session.data.presenters.map(presenterLabel).join(', ');
}

export function sessionFeedItems(sessions: readonly Session[]) {
  return [...sessions].reverse().map((s) => ({
    title: s.data.title,
    link: `/sessions/${s.id}/`,
    pubDate: s.data.date,
    description: `${s.data.summary} Presented by ${presenters(s)}.${s.data.notes === 'coming' ? ' Notes are coming.' : ''}`,
    categories: s.data.topics,
  }));
}

export function sessionEvents(sessions: readonly Session[], site: URL): CalendarEvent[] {
  return sessions.map((s) => {
    const start = zonedTimeToUtc(isoDay(s.data.date), s.data.time ?? MEETING_TIME.time, MEETING_TIME.timeZone);
    const url = new URL(`/sessions/${s.id}/`, site).href;
    return {
      uid: `${s.id}@${site.host}`,
      start,
      end: new Date(start.getTime() + MEETING_TIME.minutes * 60_000),
      summary: `Scalability & Performance WG: ${s.data.title}`,
      description: `${s.data.summary}\nPresented by ${presenters(s)}.\nNotes and slides: ${url}\nForum: ${s.data.forum}`,
      url,
    };
  });
}

export function sessionsCalendar(sessions: readonly Session[], site: URL, stamp: Date): string {
  return buildCalendar(sessionEvents(sessions, site), {
    productId: '-//Scalability & Performance WG//Sessions//EN',
    name: 'IC Scalability & Performance WG',
    stamp,
  });
}
