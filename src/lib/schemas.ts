// Zod schemas for the content collections. Each field carries a message that says
// what is expected, because Astro prints these next to the file and the field name when a build
// fails. Cross-file checks (the slides file exists, the file name matches the date) live in
// content-checks.ts, which needs the file system.
import { z } from 'astro/zod';
import { DEMO_IDS, NOTES_STATES, PATTERN_IDS } from './contract.ts';

const kebabCase = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** A session or deck id: the meeting date, then a kebab-case slug. */
export const SESSION_ID = /^\d{4}-\d{2}-\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$/;

const patternId = z.enum(PATTERN_IDS, {
  error: (issue) => `unknown pattern id ${JSON.stringify(issue.input)}; use one of: ${PATTERN_IDS.join(', ')}`,
});
const demoId = z.enum(DEMO_IDS, {
  error: (issue) => `unknown demo id ${JSON.stringify(issue.input)}; use one of: ${DEMO_IDS.join(', ')}`,
});

/** A YAML date (unquoted 2022-08-18). A quoted or impossible date is rejected, not guessed. */
const meetingDate = z.date({
  error: (issue) => `expected a YAML date such as 2022-08-18 (unquoted, a real calendar day), got ${JSON.stringify(issue.input)}`,
});

export const presenterSchema = z
  .object({
    /** Forum handle as the thread spells it, without the @. */
    handle: z.string().trim().min(1, 'a presenter handle cannot be empty').optional(),
    /** A team or project that presented as a whole (OpenChat, DSCVR): shown by name, not as @handle. */
    team: z.string().trim().min(1, 'a team name cannot be empty').optional(),
    /** What they did or do, e.g. "DFINITY engineer, author of ic-stable-structures". */
    role: z.string().optional(),
  })
  .refine((p) => (p.handle === undefined) !== (p.team === undefined), {
    error: 'each presenter needs either a `handle` (their forum handle) or a `team` (a project that presented), not both',
  });
export type Presenter = z.infer<typeof presenterSchema>;

/** How a presenter is shown: @handle for a person, the plain name for a team. */
export function presenterLabel(p: Presenter): string {
  return p.handle !== undefined ? `@${p.handle}` : (p.team ?? '');
}

/** Where the working group's own thread lives; `post` numbers in materials refer to it. */
export const WG_THREAD_URL = 'https://forum.dfinity.org/t/14265';

export const MATERIAL_KINDS = ['notes', 'recording', 'slides', 'transcript', 'dashboard', 'survey', 'form'] as const;

/**
 * Where the group's meeting materials live, by the id of the document or recording. A material
 * names its document this way instead of spelling out a link: one document is one id however a
 * post spelled its link (`/edit`, `?usp=sharing`, a start time), and the page shows the canonical
 * link built here.
 */
export const MATERIAL_LINKS = {
  googleDoc: (id: string) => `https://docs.google.com/document/d/${id}`,
  googleSlides: (id: string) => `https://docs.google.com/presentation/d/${id}`,
  googleDriveFolder: (id: string) => `https://drive.google.com/drive/folders/${id}`,
  zoomRecording: (id: string) => `https://dfinity.zoom.us/rec/share/${id}`,
} as const;
type MaterialLinkKey = keyof typeof MATERIAL_LINKS;
const MATERIAL_LINK_KEYS = Object.keys(MATERIAL_LINKS) as MaterialLinkKey[];
const documentId = z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'a document or recording id: letters, digits, "_", "-" and "." only' });

/** A meeting material: a link the thread (or another source) gives for a session. */
export const materialSchema = z
  .object({
    kind: z.enum(MATERIAL_KINDS, {
      error: (issue) => `unknown material kind ${JSON.stringify(issue.input)}; use one of: ${MATERIAL_KINDS.join(', ')}`,
    }),
    /** The link, for a material that is not named by one of the ids below. */
    url: z.url().optional(),
    googleDoc: documentId.optional(),
    googleSlides: documentId.optional(),
    googleDriveFolder: documentId.optional(),
    zoomRecording: documentId.optional(),
    /** A name when the kind alone would mislead, e.g. "Living Feedback Document". */
    title: z.string().min(1).optional(),
    /** Number of the post in the working group's thread that gives the link. */
    post: z.number().int().positive().optional(),
    /** Where the link comes from when no post of the thread gives it. */
    source: z.url().optional(),
    /** What a reader should know, e.g. that Zoom recordings may have expired. */
    note: z.string().optional(),
  })
  .refine((m) => [m.url, ...MATERIAL_LINK_KEYS.map((key) => m[key])].filter((v) => v !== undefined).length === 1, {
    error: `each material names where it lives: exactly one of \`url\`, ${MATERIAL_LINK_KEYS.map((k) => `\`${k}\``).join(', ')}`,
  })
  .refine((m) => m.post !== undefined || m.source !== undefined, {
    error: "each material names where it comes from: `post` (the thread's post number) or `source` (a URL)",
  })
  .transform(({ googleDoc, googleSlides, googleDriveFolder, zoomRecording, url, ...rest }) => {
    const ids: Record<MaterialLinkKey, string | undefined> = { googleDoc, googleSlides, googleDriveFolder, zoomRecording };
    const key = MATERIAL_LINK_KEYS.find((k) => ids[k] !== undefined);
    return { ...rest, url: key ? MATERIAL_LINKS[key](ids[key] as string) : (url as string) };
  });
export type Material = z.infer<typeof materialSchema>;

export const FOLLOW_UP_STATUSES = ['shipped', 'changed', 'never', 'unknown'] as const;

/** How each follow-up status reads on the pages. */
export const FOLLOW_UP_LABELS: Record<(typeof FOLLOW_UP_STATUSES)[number], string> = {
  shipped: 'shipped',
  changed: 'changed',
  never: 'never happened',
  unknown: 'unknown',
};

/** What became of something proposed or asked in a session. */
export const followUpSchema = z.object({
  /** What was proposed or asked, in a few words. */
  item: z.string().min(1),
  status: z.enum(FOLLOW_UP_STATUSES, {
    error: (issue) => `unknown follow-up status ${JSON.stringify(issue.input)}; use one of: ${FOLLOW_UP_STATUSES.join(', ')}`,
  }),
  /** When it shipped or changed, as the source gives it (a day, a month or a year). */
  when: z.string().optional(),
  /** The release that carried it, e.g. "dfx 0.16.0". */
  version: z.string().optional(),
  /** One or two sentences on what happened. */
  outcome: z.string().min(1),
  sources: z.array(z.object({ label: z.string().min(1), url: z.url() })).min(1, 'each follow-up needs at least one source'),
});
export type FollowUp = z.infer<typeof followUpSchema>;

export const sessionSchema = z.object({
  title: z.string({ error: 'every session needs a `title`' }).min(1),
  date: meetingDate,
  /** Order of the meeting, 1..20. Never used in URLs. */
  number: z.number({ error: '`number` must be the meeting number, 1..20' }).int().min(1).max(99),
  summary: z.string({ error: 'every session needs a one-sentence `summary`' }).min(1),
  presenters: z
    .array(presenterSchema, { error: '`presenters` must list at least one presenter (handle, optional role)' })
    .min(1, '`presenters` must list at least one presenter (handle, optional role)'),
  topics: z.array(z.string().regex(kebabCase, 'topics are kebab-case tags such as stable-memory')).default([]),
  forum: z.url({ error: '`forum` must be the URL of the forum post that announced or summarised it' }),
  patterns: z.array(patternId).default([]),
  demos: z.array(demoId).default([]),
  /** Id of content/slides/<id>.md (checked to exist by content-checks.ts). */
  slides: z
    .string({ error: '`slides` must name a deck: the id of content/slides/<id>.md' })
    .regex(SESSION_ID, '`slides` must be a deck id like 2022-08-18-stable-memory'),
  notes: z.enum(NOTES_STATES, { error: '`notes` must be `complete` or `coming`' }),
  /** Start time (Zurich time, HH:MM) when a meeting did not start at the usual 17:30. */
  time: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, '`time` is a Zurich start time such as 18:00')
    .optional(),
  /** Notes, recordings, slides and other links the thread gives for this meeting. */
  materials: z.array(materialSchema).default([]),
  /** What became of what was proposed or asked (rendered on the page and on /follow-ups/). */
  followUps: z.array(followUpSchema).default([]),
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
