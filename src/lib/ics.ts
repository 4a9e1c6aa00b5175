// iCalendar (RFC 5545) output for the sessions calendar. Only what a calendar needs: VEVENTs with
// UID, DTSTAMP, DTSTART/DTEND in UTC, SUMMARY, DESCRIPTION, URL. Section numbers cite RFC 5545.

export interface CalendarEvent {
  /** Globally unique and stable across rebuilds (§3.8.4.7), e.g. <session-id>@<host>. */
  uid: string;
  start: Date;
  end: Date;
  summary: string;
  description?: string;
  url?: string;
}

export interface CalendarOptions {
  /** PRODID (§3.7.3). */
  productId: string;
  name: string;
  /** DTSTAMP of every event (§3.8.7.2): when this calendar was generated. */
  stamp: Date;
}

/** §3.3.11 TEXT: backslash, semicolon and comma are escaped; a newline becomes \n. */
export function escapeText(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** §3.3.5 DATE-TIME in UTC (the RFC's second form): 20220818T153000Z. */
export function formatUtc(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const encoder = new TextEncoder();

/**
 * §3.1: lines SHOULD NOT be longer than 75 octets excluding the line break; longer ones are
 * folded with CRLF followed by one space. Cuts at character boundaries so a multi-byte UTF-8
 * character is never split.
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  // The first line holds 75 octets; continuation lines hold 74 after their leading space.
  let limit = 75;
  for (const char of line) {
    const size = encoder.encode(char).length;
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = 74;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

export function buildCalendar(events: readonly CalendarEvent[], options: CalendarOptions): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    `PRODID:${options.productId}`,
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(options.name)}`,
  ];
  for (const event of events) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${event.uid}`,
      `DTSTAMP:${formatUtc(options.stamp)}`,
      `DTSTART:${formatUtc(event.start)}`,
      `DTEND:${formatUtc(event.end)}`,
      `SUMMARY:${escapeText(event.summary)}`,
    );
    if (event.description) lines.push(`DESCRIPTION:${escapeText(event.description)}`);
    if (event.url) lines.push(`URL:${event.url}`);
    lines.push('END:VEVENT');
  }
  lines.push('END:VCALENDAR');
  // §3.1: every content line, the last one included, ends with CRLF.
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

/**
 * The instant a wall-clock time in an IANA zone corresponds to. The group met at 17:30
 * Zurich time (CET in winter, CEST in summer), so the UTC time moves with daylight saving.
 */
export function zonedTimeToUtc(day: string, time: string, timeZone: string): Date {
  const naive = new Date(`${day}T${time}:00Z`);
  // Offset of the zone at that instant, read back through Intl; one correction pass is exact
  // except inside the DST switch hour, which no meeting falls into.
  const offsetAt = (instant: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(instant);
    const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return asUtc - instant.getTime();
  };
  const guess = new Date(naive.getTime() - offsetAt(naive));
  return new Date(naive.getTime() - offsetAt(guess));
}
