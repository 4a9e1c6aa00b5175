// What tests/unit/repo-references.test.ts looks for in one line of text.

/** Markdown links to a web page: a citation of someone else's tracker is a link, and that is fine. */
const WEB_LINK = /\[[^\]]*\]\(https?:\/\/[^)]*\)/g;

const FORMS: { name: string; pattern: RegExp; inProse: boolean }[] = [
  { name: 'an issue number', pattern: /\bissues? #?\d+(?:(?:,| and| or) #?\d+)*\b/gi, inProse: true },
  // "#12" where a tracker would put it; CSS colours (#333;) and anchors (page#12) are not that.
  // Site text cites other projects' pull requests this way ("interface-spec PR #219"): not checked there.
  { name: 'an issue number', pattern: /(?<![\w&/#:'"-])#\d{1,4}(?![\w;])/g, inProse: false },
  { name: 'a team agreement', pattern: /\b[Cc]ontracts? [A-E]\b/g, inProse: true },
  { name: 'a folder outside the repository', pattern: /\.\.\/shared\b|\/tmp\/team\b|\/work\/(?:shared|main|wt)\b/g, inProse: true },
  // The team's planning notes, which lived beside the checkout and never in it.
  { name: 'a note outside the repository', pattern: /\b(?:DESIGN|STYLE|CONTENT|CONTRACTS|ENGINE-NEEDS|facts|protocols)\.md\b/g, inProse: true },
];

/** A path into the repository's own folders: it must exist. */
const REPO_PATH = /(?<![\w./-])(?:replica|src|scripts|tests|canisters|content)\/[\w./[\]-]*\w/g;

export interface Options {
  /** Site text (content/), where other projects' "#123" are citations. */
  prose?: boolean;
  /** Whether a path exists in the repository; paths are not checked without it. */
  exists?: (path: string) => boolean;
}

/**
 * The references in `line` that point outside the repository: tracker issues, team agreements,
 * folders beside the checkout, planning notes, and paths into our folders that do not exist.
 */
export function findOutsideReferences(line: string, { prose = false, exists }: Options = {}): string[] {
  const text = line.replace(WEB_LINK, '');
  const found: string[] = [];
  for (const { name, pattern, inProse } of FORMS) {
    if (prose && !inProse) continue;
    for (const match of text.matchAll(pattern)) found.push(`${name}: "${match[0]}"`);
  }
  if (exists) {
    for (const match of text.matchAll(REPO_PATH)) {
      if (!exists(match[0])) found.push(`a path the repository does not have: "${match[0]}"`);
    }
  }
  return found;
}
