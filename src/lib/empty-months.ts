// Why the group did not meet in a month, for the timeline (from the coordinators' posts in the
// working group's forum thread, forum.dfinity.org/t/14265).
export const EMPTY_MONTH_REASONS: Record<string, { reason: string; source: string }> = {
  '2022-12': {
    reason: "No session: the coordinator called off that week's meeting, with Christmas wishes, until January.",
    source: 'https://forum.dfinity.org/t/14265/29',
  },
  '2023-11': {
    reason: 'No session because of scheduling problems; the December meeting moved a week earlier, to the 14th.',
    source: 'https://forum.dfinity.org/t/14265/79',
  },
};
