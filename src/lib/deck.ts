// Decks: a Markdown file where every `## ` heading starts a slide and a line that is
// exactly `???` starts that slide's speaker notes (the remark.js convention). parseDeck reads the
// source (fence-aware, so a `## ` inside a code block is code); splitRenderedDeck cuts the HTML the
// Markdown pipeline rendered (with its highlighting) along the same boundaries.

export interface DeckSlide {
  title: string;
  /** Markdown of the slide body (without the heading). */
  body: string;
  /** Markdown of the speaker notes; empty when the slide has none. */
  notes: string;
}

export class DeckFormatError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'DeckFormatError';
  }
}

const fenceOpen = /^ {0,3}(`{3,}|~{3,})/;

export function parseDeck(markdown: string, file = 'deck'): DeckSlide[] {
  const slides: DeckSlide[] = [];
  let fence: string | null = null;
  let inNotes = false;
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((line, index) => {
    const fenceMatch = fenceOpen.exec(line);
    if (fence) {
      // A fence closes with the same character, at least as long, and nothing else on the line.
      if (fenceMatch && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length && line.trim() === fenceMatch[1]) fence = null;
    } else if (fenceMatch) {
      fence = fenceMatch[1];
    } else if (/^## /.test(line)) {
      slides.push({
        title: line
          .slice(3)
          .trim()
          .replace(/\s+#+$/, ''),
        body: '',
        notes: '',
      });
      inNotes = false;
      return;
    } else if (line === '???') {
      if (slides.length === 0) throw new DeckFormatError(file, index + 1, '`???` (speaker notes) before the first `## ` slide heading');
      if (inNotes) throw new DeckFormatError(file, index + 1, 'a second `???` in one slide; notes already started');
      inNotes = true;
      return;
    }
    const current = slides.at(-1);
    if (!current) {
      if (line.trim() !== '') throw new DeckFormatError(file, index + 1, 'text before the first `## ` heading; every slide starts with `## Title`');
      return;
    }
    if (inNotes) current.notes += line + '\n';
    else current.body += line + '\n';
  });
  if (fence) throw new DeckFormatError(file, lines.length, `code fence ${fence} is never closed`);
  for (const slide of slides) {
    slide.body = slide.body.trim();
    slide.notes = slide.notes.trim();
  }
  return slides;
}

export interface RenderedSlide {
  /** HTML of the heading's text. */
  titleHtml: string;
  bodyHtml: string;
  notesHtml: string;
}

/**
 * Cuts a deck's rendered HTML at its top-level <h2> elements; a paragraph that is exactly `???`
 * separates a slide's body from its notes. Markdown renders a `## ` line as an <h2> only outside
 * code, so the cut points are the ones parseDeck found.
 */
export function splitRenderedDeck(html: string): RenderedSlide[] {
  const parts = html.split(/(?=<h2[\s>])/);
  const slides: RenderedSlide[] = [];
  for (const part of parts) {
    const heading = /^<h2[^>]*>([\s\S]*?)<\/h2>/.exec(part);
    if (!heading) continue; // whitespace before the first heading
    const rest = part.slice(heading[0].length);
    const [bodyHtml, notesHtml = ''] = rest.split(/<p>\?\?\?<\/p>/);
    slides.push({ titleHtml: heading[1], bodyHtml: bodyHtml.trim(), notesHtml: notesHtml.trim() });
  }
  return slides;
}

/** URL of slide `n` (1-based): the deck's own URL is its first slide. */
export function slideUrl(deckId: string, n: number): string {
  return n <= 1 ? `/slides/${deckId}/` : `/slides/${deckId}/${n}/`;
}
