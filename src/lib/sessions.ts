// Derived views of the sessions: the timeline by year (with the months nobody met), previous and
// next, the topic list, and which sessions discussed a pattern. Pure functions over entries.
import type { Entry } from './content-checks.ts';
import { isoDay } from './content-checks.ts';
import type { SessionData } from './schemas.ts';

export type Session = Entry<SessionData>;

export function byDate<S extends Session>(sessions: readonly S[]): S[] {
  return [...sessions].sort((a, b) => a.data.date.getTime() - b.data.date.getTime() || a.id.localeCompare(b.id));
}

// Generic in the entry type, so that the collection's own entries (which `render` needs) come
// back out as they went in.
export interface TimelineMonth<S extends Session = Session> {
  /** YYYY-MM */
  month: string;
  sessions: S[];
}
export interface TimelineYear<S extends Session = Session> {
  year: number;
  months: TimelineMonth<S>[];
}

/**
 * Every month from the first session to the last, grouped by year, oldest first. A month
 * without a session is kept with an empty list: the group's rhythm (and its gaps) is part of
 * the story the timeline tells.
 */
export function timelineByYear<S extends Session>(sessions: readonly S[]): TimelineYear<S>[] {
  const sorted = byDate(sessions);
  if (sorted.length === 0) return [];
  const monthOf = (s: Session) => isoDay(s.data.date).slice(0, 7);
  const first = monthOf(sorted[0]);
  const last = monthOf(sorted[sorted.length - 1]);
  const years: TimelineYear<S>[] = [];
  let [y, m] = first.split('-').map(Number);
  for (;;) {
    const month = `${y}-${String(m).padStart(2, '0')}`;
    if (years.at(-1)?.year !== y) years.push({ year: y, months: [] });
    years.at(-1)!.months.push({ month, sessions: sorted.filter((s) => monthOf(s) === month) });
    if (month === last) break;
    m += 1;
    if (m === 13) {
      m = 1;
      y += 1;
    }
  }
  return years;
}

export function emptyMonths(sessions: readonly Session[]): string[] {
  return timelineByYear(sessions).flatMap((y) => y.months.filter((m) => m.sessions.length === 0).map((m) => m.month));
}

export function prevNext<S extends Session>(sessions: readonly S[], id: string): { prev?: S; next?: S } {
  const sorted = byDate(sessions);
  const i = sorted.findIndex((s) => s.id === id);
  if (i < 0) throw new Error(`no session with id ${id}`);
  return { prev: sorted[i - 1], next: sorted[i + 1] };
}

/** Topics with how many sessions carry each, most used first, then alphabetical. */
export function topicCounts(sessions: readonly Session[]): { topic: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of sessions) for (const t of s.data.topics) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([topic, count]) => ({ topic, count })).sort((a, b) => b.count - a.count || a.topic.localeCompare(b.topic));
}

export function sessionsForPattern<S extends Session>(sessions: readonly S[], patternId: string): S[] {
  return byDate(sessions.filter((s) => (s.data.patterns as readonly string[]).includes(patternId)));
}

/** "stable-memory" -> "stable memory": topics are tags in data, words on the page. */
export function topicLabel(topic: string): string {
  return topic.replace(/-/g, ' ');
}

const monthNames = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "18 August 2022": unambiguous for a worldwide audience; YAML dates are UTC days. */
export function formatDay(date: Date): string {
  return `${date.getUTCDate()} ${monthNames[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** "2022-12" -> "December 2022" */
export function formatMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return `${monthNames[m - 1]} ${y}`;
}
