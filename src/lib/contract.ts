// Identifiers the content writers, the demos and the site share: the schemas reject anything
// else, so a typo in a frontmatter fails the build instead of making a dead link.

/** The twelve pattern ids; each is a file content/patterns/<id>.mdx and a page /patterns/<id>/. */
export const PATTERN_IDS = [
  'stable-structures',
  'upgrade-safe-state',
  'composite-query-fan-out',
  'index-bucket-sharding',
  'query-caching',
  'queues-and-backpressure',
  'chunked-wasm-upload',
  'canister-snapshots',
  'bounded-wait-calls',
  'horizontal-scaling',
  'stable-serialization-formats',
  'optimistic-ui',
] as const;
export type PatternId = (typeof PATTERN_IDS)[number];

/** Live demos (src/demos/); each mounts where a pattern page renders <DemoSlot />. */
export const DEMO_IDS = [
  'stable-memory',
  'composite-queries',
  'sharding',
  'serialization-formats',
  'canister-snapshots',
  'chunked-upload',
  'optimistic-ui',
  'queues',
  'bounded-wait',
  'query-caching',
  'horizontal-scaling',
] as const;
export type DemoId = (typeof DEMO_IDS)[number];

/** Session notes state: `coming` pages say plainly that the notes are not written yet. */
export const NOTES_STATES = ['complete', 'coming'] as const;

/** Section order of a session's notes (h2 headings). */
export const SESSION_SECTIONS = [
  'Context',
  'What was presented',
  'What we learned',
  'Numbers that matter',
  'What happened next',
  'Open questions',
  'Sources',
] as const;

/** Section order of every pattern page (after microservices.io's pattern pages). */
export const PATTERN_SECTIONS = [
  'Context',
  'Problem',
  'Forces',
  'Solution',
  'Demo',
  'Consequences',
  'Known uses',
  'Related patterns',
  'Sessions',
  'Sources',
] as const;
