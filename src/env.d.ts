/// <reference path="../.astro/types.d.ts" />

declare namespace App {
  interface Locals {
    /** Set by src/pages/patterns/[id].astro so the MDX components know their pattern. */
    wgPattern?: {
      id: string;
      demo?: import('./lib/contract.ts').DemoId;
      related: string[];
    };
  }
}

// @pagefind/default-ui ships no type declarations; these are the options src/components/Search.astro
// passes (see the package's README for the full list).
declare module '@pagefind/default-ui' {
  export interface PagefindUIOptions {
    element: string | HTMLElement;
    bundlePath?: string;
    showImages?: boolean;
    showSubResults?: boolean;
  }
  export class PagefindUI {
    constructor(options: PagefindUIOptions);
  }
}
