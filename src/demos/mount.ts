// Finds the demo slots on the page (<DemoSlot /> renders [data-demo-slot="<demo id>"]) and loads
// each demo's module on demand: a page pays only for the demos it shows, and pages without a
// slot never load this file at all (DemoMount.astro is rendered only inside a demo slot).
const demos: Record<string, () => Promise<{ mount(slot: HTMLElement): void }>> = {
  'stable-memory': () => import('./stable-memory.ts'),
  'composite-queries': () => import('./composite-queries.ts'),
  sharding: () => import('./sharding.ts'),
  'serialization-formats': () => import('./serialization-formats.ts'),
  'canister-snapshots': () => import('./canister-snapshots.ts'),
  'chunked-upload': () => import('./chunked-upload.ts'),
  'optimistic-ui': () => import('./optimistic-ui.ts'),
  queues: () => import('./queues-and-backpressure.ts'),
  'bounded-wait': () => import('./bounded-wait.ts'),
  'query-caching': () => import('./query-caching.ts'),
  'horizontal-scaling': () => import('./horizontal-scaling.ts'),
};

for (const slot of document.querySelectorAll<HTMLElement>('[data-demo-slot]')) {
  const id = slot.dataset.demoSlot ?? '';
  const load = demos[id];
  if (!load || slot.dataset.demoMounted) continue;
  slot.dataset.demoMounted = 'true';
  load()
    .then((demo) => demo.mount(slot))
    .catch((error: Error) => {
      // The module itself failed to load (e.g. the dev server went away): still say so in the slot.
      const message = document.createElement('p');
      message.setAttribute('role', 'alert');
      message.textContent = `The live demo could not be loaded (${error.message}). Reload the page to try again.`;
      slot.append(message);
    });
}
