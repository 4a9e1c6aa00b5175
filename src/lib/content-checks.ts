// Checks that span files, which a per-file zod schema cannot see: the file name carries the
// meeting date, a session's deck exists, a deck belongs to an existing session, glossary
// cross-references resolve. Every problem names the file and the field, so a writer can fix it
// without reading site code. Pure: the caller passes the loaded entries.
import { PATTERN_IDS } from './contract.ts';
import type { GlossaryData, PatternData, SessionData, SlidesData } from './schemas.ts';
import { SESSION_ID } from './schemas.ts';

export interface Entry<T> {
  id: string;
  /** Path relative to the project root, e.g. content/sessions/2022-08-18-stable-memory.mdx. */
  filePath?: string;
  data: T;
}

export interface ContentInput {
  sessions: Entry<SessionData>[];
  slides: Entry<SlidesData>[];
  patterns: Entry<PatternData>[];
  glossary: Entry<GlossaryData>[];
}

export interface ContentProblem {
  file: string;
  field: string;
  message: string;
}

export class ContentError extends Error {
  readonly problems: ContentProblem[];
  constructor(problems: ContentProblem[]) {
    super(
      `The content has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}: field \`${p.field}\`: ${p.message}`).join('\n'),
    );
    this.name = 'ContentError';
    this.problems = problems;
  }
}

/** YYYY-MM-DD of a YAML date, read in UTC (YAML dates without a time are UTC midnight). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function checkContent(input: ContentInput): ContentProblem[] {
  const problems: ContentProblem[] = [];
  const where = (dir: string, entry: Entry<unknown>, ext: string) => entry.filePath ?? `content/${dir}/${entry.id}.${ext}`;
  const slideIds = new Set(input.slides.map((s) => s.id));
  const sessionIds = new Set(input.sessions.map((s) => s.id));
  const numbers = new Map<number, string>();

  for (const session of input.sessions) {
    const file = where('sessions', session, 'mdx');
    if (!SESSION_ID.test(session.id)) {
      problems.push({ file, field: '(file name)', message: 'name the file <YYYY-MM-DD>-<kebab-slug>.mdx; the name is the URL' });
    } else if (session.id.slice(0, 10) !== isoDay(session.data.date)) {
      problems.push({
        file,
        field: 'date',
        message: `is ${isoDay(session.data.date)} but the file name says ${session.id.slice(0, 10)}; the meeting date must match (YAML rolls an impossible date such as 2022-13-45 over into a later one)`,
      });
    }
    if (!slideIds.has(session.data.slides)) {
      problems.push({
        file,
        field: 'slides',
        message: `no deck content/slides/${session.data.slides}.md exists (a deck's id is its file name)`,
      });
    }
    const previous = numbers.get(session.data.number);
    if (previous) {
      problems.push({ file, field: 'number', message: `${session.data.number} is also used by ${previous}` });
    }
    numbers.set(session.data.number, file);
  }

  for (const deck of input.slides) {
    const file = where('slides', deck, 'md');
    if (!sessionIds.has(deck.data.session)) {
      problems.push({ file, field: 'session', message: `no session content/sessions/${deck.data.session}.mdx exists` });
    } else if (deck.data.session !== deck.id) {
      problems.push({ file, field: 'session', message: `is ${deck.data.session}, but a deck has the same id as its session (${deck.id})` });
    }
  }

  const knownPatterns: readonly string[] = PATTERN_IDS;
  for (const pattern of input.patterns) {
    const file = where('patterns', pattern, 'mdx');
    if (!knownPatterns.includes(pattern.id)) {
      problems.push({ file, field: '(file name)', message: `${pattern.id} is not a known pattern id (${PATTERN_IDS.join(', ')}; src/lib/contract.ts)` });
    }
    if (pattern.data.related.includes(pattern.id as (typeof PATTERN_IDS)[number])) {
      problems.push({ file, field: 'related', message: 'a pattern cannot list itself as related' });
    }
  }

  const termIds = new Set(input.glossary.map((g) => g.id));
  for (const term of input.glossary) {
    for (const see of term.data.see) {
      if (!termIds.has(see)) {
        problems.push({ file: 'content/glossary.yaml', field: `${term.id}.see`, message: `no glossary entry with id ${see}` });
      }
    }
  }
  return problems;
}

/** Throws one ContentError listing every problem, so a build reports them all at once. */
export function assertContent(input: ContentInput): void {
  const problems = checkContent(input);
  if (problems.length > 0) throw new ContentError(problems);
}

/**
 * The h2 sections of a rendered page must be exactly `expected`, in order (session notes and
 * pattern pages keep one section order everywhere). Returns the problem or undefined.
 */
export function checkSectionOrder(file: string, headings: readonly { depth: number; text: string }[], expected: readonly string[]): ContentProblem | undefined {
  const actual = headings.filter((h) => h.depth === 2).map((h) => h.text.trim());
  if (actual.length === expected.length && actual.every((text, i) => text === expected[i])) return undefined;
  const firstWrong = actual.findIndex((text, i) => text !== expected[i]);
  const detail =
    firstWrong >= 0
      ? `section ${firstWrong + 1} is "${actual[firstWrong]}" but should be "${expected[firstWrong] ?? '(none: too many sections)'}"`
      : `missing "${expected[actual.length]}" after "${actual.at(-1) ?? '(start)'}"`;
  return {
    file,
    field: '(body h2 sections)',
    message: `${detail}; the order is: ${expected.join(' / ')}`,
  };
}
