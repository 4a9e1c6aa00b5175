// Zod schemas for the content collections (contract A). Each field carries a message that says
// what is expected, because Astro prints these next to the file and the field name when a build
// fails. Cross-file checks (the slides file exists, the file name matches the date) live in
// content-checks.ts, which needs the file system.
import { z } from 'astro/zod';
import { DEMO_IDS, NOTES_STATES, PATTERN_IDS } from './contract.ts';

const kebabCase = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A session or deck id: the meeting date, then a kebab-case slug. */
export const SESSION_ID = /^\d{4}-\d{2}-\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$/;

const patternId = z.enum(PATTERN_IDS, {
  error: (issue) =>
    `unknown pattern id ${JSON.stringify(issue.input)}; use one of: ${PATTERN_IDS.join(', ')}`,
});
const demoId = z.enum(DEMO_IDS, {
  error: (issue) => `unknown demo id ${JSON.stringify(issue.input)}; use one of: ${DEMO_IDS.join(', ')}`,
});

/** A YAML date (unquoted 2022-08-18). A quoted or impossible date is rejected, not guessed. */
const meetingDate = z.date({
  error: (issue) =>
    `expected a YAML date such as 2022-08-18 (unquoted, a real calendar day), got ${JSON.stringify(issue.input)}`,
});

export const presenterSchema = z.object({
  /** Forum handle as the thread spells it, without the @. */
  handle: z
    .string({ error: 'each presenter needs a `handle` (their forum handle)' })
    .trim()
    .min(1, 'a presenter handle cannot be empty'),
  /** What they did or do, e.g. "DFINITY engineer, author of ic-stable-structures". */
  role: z.string().optional(),
});

export const sessionSchema = z.object({
  title: z.string({ error: 'every session needs a `title`' }).min(1),
  date: meetingDate,
  /** Order of the meeting, 1..20. Never used in URLs. */
  number: z.number({ error: '`number` must be the meeting number, 1..20' }).int().min(1).max(99),
  summary: z.string({ error: 'every session needs a one-sentence `summary`' }).min(1),
  presenters: z
    .array(presenterSchema, { error: '`presenters` must list at least one presenter (handle, optional role)' })
    .min(1, '`presenters` must list at least one presenter (handle, optional role)'),
  topics: z
    .array(z.string().regex(kebabCase, 'topics are kebab-case tags such as stable-memory'))
    .default([]),
  forum: z.url({ error: '`forum` must be the URL of the forum post that announced or summarised it' }),
  patterns: z.array(patternId).default([]),
  demos: z.array(demoId).default([]),
  /** Id of content/slides/<id>.md (checked to exist by content-checks.ts). */
  slides: z
    .string({ error: '`slides` must name a deck: the id of content/slides/<id>.md' })
    .regex(SESSION_ID, '`slides` must be a deck id like 2022-08-18-stable-memory'),
  notes: z.enum(NOTES_STATES, { error: '`notes` must be `complete` or `coming`' }),
});
export type SessionData = z.infer<typeof sessionSchema>;

export const slidesSchema = z.object({
  title: z.string({ error: 'every deck needs a `title`' }).min(1),
  session: z
    .string({ error: '`session` must name the session this deck belongs to' })
    .regex(SESSION_ID, '`session` must be a session id like 2022-08-18-stable-memory'),
});
export type SlidesData = z.infer<typeof slidesSchema>;

export const patternSchema = z.object({
  title: z.string({ error: 'every pattern needs a `title`' }).min(1),
  summary: z.string({ error: 'every pattern needs a one-sentence `summary`' }).min(1),
  demo: demoId.optional(),
  related: z.array(patternId).default([]),
});
export type PatternData = z.infer<typeof patternSchema>;

export const glossarySchema = z.object({
  id: z.string().regex(kebabCase, 'glossary ids are kebab-case, e.g. stable-memory'),
  term: z.string().min(1),
  definition: z.string().min(1),
  see: z.array(z.string().regex(kebabCase)).default([]),
});
export type GlossaryData = z.infer<typeof glossarySchema>;
