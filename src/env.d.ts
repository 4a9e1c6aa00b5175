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
