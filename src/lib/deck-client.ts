// Deck navigation in the browser. The server renders every slide page (links work without
// script); this swaps slides in place and keeps the URL in step, so each slide keeps its own URL.

export function startDeck(doc: Document): void {
  const body = doc.body;
  const stage = doc.querySelector<HTMLElement>('.deck-stage');
  if (!stage) return;
  // The speaker script, open in a second window, follows the presenting window's slide.
  const channel = 'BroadcastChannel' in window ? new BroadcastChannel(`deck:${body.dataset.deck}`) : undefined;
  if (body.classList.contains('deck--notes-view')) {
    channel?.addEventListener('message', (event: MessageEvent<{ slide: number }>) => followSlide(doc, event.data.slide));
    return;
  }
  const urls: string[] = JSON.parse(stage.dataset.urls!);
  const slides = [...doc.querySelectorAll<HTMLElement>('.slide')];
  const prev = doc.querySelector<HTMLAnchorElement>('[data-step="-1"]');
  const next = doc.querySelector<HTMLAnchorElement>('[data-step="1"]');
  const count = doc.querySelector('[data-count]')!;
  const bar = doc.querySelector<HTMLElement>('.deck-progress > div');
  const toggle = doc.querySelector<HTMLButtonElement>('[data-toggle-notes]')!;
  const deckTitle = body.dataset.deckTitle!;
  let current = Number(body.dataset.current);
  let notes = sessionStorage.getItem('deck-notes') === 'on';

  function show(n: number, push: boolean): void {
    if (n < 1 || n > slides.length) return;
    current = n;
    slides.forEach((slide, i) => (slide.hidden = i + 1 !== n));
    slides.forEach((slide) => (slide.querySelector<HTMLElement>('.slide__notes')!.hidden = !notes));
    count.textContent = String(n);
    if (bar) bar.style.width = `${(n / slides.length) * 100}%`;
    // Re-point the arrow buttons; at the ends they stay but do nothing.
    if (prev) prev.href = urls[Math.max(0, n - 2)];
    if (next) next.href = urls[Math.min(urls.length - 1, n)];
    // Same titles as the server-rendered slide pages.
    const title = n === 1 ? `${deckTitle} (slides)` : `${slides[n - 1].dataset.title} · ${deckTitle} (slide ${n})`;
    doc.title = `${title} | Scalability & Performance WG`;
    if (push) history.pushState({ n }, '', urls[n - 1]);
    channel?.postMessage({ slide: n });
  }

  function setNotes(on: boolean): void {
    notes = on;
    sessionStorage.setItem('deck-notes', on ? 'on' : 'off');
    toggle.setAttribute('aria-pressed', String(on));
    show(current, false);
  }

  doc.addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target as HTMLElement;
    if (target.closest('input, textarea, select')) return;
    switch (event.key) {
      case 'ArrowRight':
      case 'PageDown':
      case ' ':
        show(current + 1, true);
        break;
      case 'ArrowLeft':
      case 'PageUp':
        show(current - 1, true);
        break;
      case 'Home':
        show(1, true);
        break;
      case 'End':
        show(slides.length, true);
        break;
      case 'n':
      case 'N':
        setNotes(!notes);
        break;
      case 'f':
      case 'F':
        if (doc.fullscreenElement) void doc.exitFullscreen();
        else void doc.documentElement.requestFullscreen?.().catch(() => {});
        break;
      case 'Escape':
        if (doc.fullscreenElement) return;
        location.href = body.dataset.sessionUrl!;
        break;
      default:
        return;
    }
    event.preventDefault();
  });
  for (const link of [prev, next]) {
    link?.addEventListener('click', (event) => {
      event.preventDefault();
      show(current + Number(link.dataset.step), true);
    });
  }
  toggle.addEventListener('click', () => setNotes(!notes));
  addEventListener('popstate', () => {
    const index = urls.indexOf(location.pathname);
    show(index >= 0 ? index + 1 : 1, false);
  });
  setNotes(notes);
}

/** In the speaker script: mark the slide being presented and bring it into view. */
function followSlide(doc: Document, n: number): void {
  for (const slide of doc.querySelectorAll<HTMLElement>('.slide')) {
    if (Number(slide.dataset.slide) === n) {
      slide.setAttribute('aria-current', 'step');
      slide.scrollIntoView({ block: 'start', behavior: 'smooth' });
    } else {
      slide.removeAttribute('aria-current');
    }
  }
}
