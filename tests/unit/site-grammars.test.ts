// The Motoko and Candid TextMate grammars (src/grammars), run through shiki the way the site's
// code blocks are: real snippets in, scopes out.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createHighlighterCore, type HighlighterCore } from 'shiki/core';
import { createOnigurumaEngine } from 'shiki/engine/oniguruma';
import githubDark from 'shiki/themes/github-dark.mjs';
import motoko from '../../src/grammars/motoko.tmLanguage.json' with { type: 'json' };
import candid from '../../src/grammars/candid.tmLanguage.json' with { type: 'json' };

// The core highlighter (the same Oniguruma engine the default bundle uses) types `lang` as any
// loaded grammar's name, so our own grammars need no cast.
let highlighter: HighlighterCore;
beforeAll(async () => {
  highlighter = await createHighlighterCore({
    themes: [githubDark],
    langs: [motoko as never, candid as never],
    engine: createOnigurumaEngine(import('shiki/wasm')),
  });
});

/** Each token's text with its innermost scope, e.g. ['actor', 'storage.type.motoko']. */
function tokens(code: string, lang: 'motoko' | 'candid'): [string, string][] {
  return (
    highlighter
      // No time limit per line: shiki's default (500 ms) stops a line early on a loaded machine,
      // and the explanation of a line stopped early is missing (a TypeError inside shiki).
      .codeToTokensBase(code, { lang, theme: 'github-dark', includeExplanation: true, tokenizeTimeLimit: 0 })
      .flat()
      .flatMap((t) => (t.explanation ?? []).map((e) => [e.content, e.scopes.at(-1)!.scopeName] as [string, string]))
      .filter(([text]) => text.trim() !== '')
  );
}
function scopeOf(all: [string, string][], text: string): string | undefined {
  return all.find(([t]) => t.trim() === text)?.[1];
}

const motokoActor = `import Map "mo:core/Map";
import Nat "mo:core/Nat";

/// A counter that survives upgrades.
persistent actor Counter {
  /* a block comment /* with a nested one */ still a comment */
  var count : Nat = 0;
  let limit = 1_000_000;
  let mask = 0xFF_FF;
  let ratio = 1.5e3;
  let greeting = "hi\\n\\u{1F600}";
  let initial = 'x';
  transient let started = Nat.toText(limit);

  public func inc() : async Nat {
    count += 1;
    if (count > limit) { return 0 };
    count
  };

  public query func get() : async Nat { count };

  public shared ({ caller }) func whoami() : async Principal { caller };

  func classify(n : Nat) : { #small; #big } {
    switch (n < 10) { case true #small; case false #big }
  };
};
`;

describe('Motoko grammar', () => {
  let all: [string, string][];
  beforeAll(() => {
    all = tokens(motokoActor, 'motoko');
  });

  test('keywords, modifiers and declarations', () => {
    expect(scopeOf(all, 'persistent')).toBe('storage.modifier.motoko');
    expect(scopeOf(all, 'actor')).toBe('storage.type.motoko');
    expect(scopeOf(all, 'Counter')).toBe('entity.name.type.motoko');
    expect(scopeOf(all, 'switch')).toBe('keyword.control.motoko');
    expect(scopeOf(all, 'async')).toBe('keyword.control.async.motoko');
    expect(scopeOf(all, 'query')).toBe('storage.modifier.motoko');
    expect(scopeOf(all, 'transient')).toBe('storage.modifier.motoko');
    expect(scopeOf(all, 'inc')).toBe('entity.name.function.motoko');
    expect(scopeOf(all, 'true')).toBe('constant.language.motoko');
  });

  test('types, variant tags and literals', () => {
    expect(scopeOf(all, 'Nat')).toBe('support.type.primitive.motoko');
    expect(scopeOf(all, 'Principal')).toBe('support.type.primitive.motoko');
    expect(scopeOf(all, '#small')).toBe('variable.other.enummember.motoko');
    expect(scopeOf(all, '1_000_000')).toBe('constant.numeric.decimal.motoko');
    expect(scopeOf(all, '0xFF_FF')).toBe('constant.numeric.hex.motoko');
    expect(scopeOf(all, '1.5e3')).toBe('constant.numeric.float.motoko');
    expect(scopeOf(all, '\\u{1F600}')).toBe('constant.character.escape.motoko');
    expect(scopeOf(all, "'x'")).toBe('string.quoted.single.motoko');
    expect(scopeOf(all, '"mo:core/Map"')).toBeUndefined(); // split into quote + text tokens
    expect(all.find(([t]) => t === 'mo:core/Map')?.[1]).toBe('string.quoted.double.motoko');
  });

  test('comments: doc, line and nested block comments', () => {
    expect(scopeOf(all, '/// A counter that survives upgrades.')).toBe('comment.line.documentation.motoko');
    // The text after the nested comment closes is still inside the outer comment.
    expect(all.find(([t]) => t.includes('still a comment'))?.[1]).toBe('comment.block.motoko');
    expect(scopeOf(all, 'var')).toBe('storage.type.motoko');
  });
});

const candidService = `// The sharding index.
type Bucket = record { id : principal; size : nat64; keys : vec text };
service : (nat) -> {
  put : (text, blob) -> (variant { ok; err : text });
  get : (text) -> (opt blob) query;
  search : (text) -> (vec record { text; nat }) composite_query;
  /* fire and forget */
  ping : () -> () oneway;
}
`;

describe('Candid grammar', () => {
  test('keywords, types, annotations, method names and comments', () => {
    const all = tokens(candidService, 'candid');
    expect(scopeOf(all, 'type')).toBe('storage.type.candid');
    expect(scopeOf(all, 'Bucket')).toBe('entity.name.type.candid');
    expect(scopeOf(all, 'record')).toBe('keyword.other.constructor.candid');
    expect(scopeOf(all, 'principal')).toBe('support.type.primitive.candid');
    expect(scopeOf(all, 'nat64')).toBe('support.type.primitive.candid');
    expect(scopeOf(all, 'service')).toBe('storage.type.candid');
    expect(scopeOf(all, 'put')).toBe('entity.name.function.candid');
    // Fields are members, not methods: their type is not a function signature.
    expect(scopeOf(all, 'size')).toBe('variable.other.member.candid');
    expect(scopeOf(all, 'err')).toBe('variable.other.member.candid');
    expect(scopeOf(all, 'query')).toBe('storage.modifier.candid');
    expect(scopeOf(all, 'composite_query')).toBe('storage.modifier.candid');
    expect(scopeOf(all, 'oneway')).toBe('storage.modifier.candid');
    expect(scopeOf(all, '->')).toBe('keyword.operator.arrow.candid');
    expect(scopeOf(all, '// The sharding index.')).toBe('comment.line.double-slash.candid');
    expect(all.find(([t]) => t.includes('fire and forget'))?.[1]).toBe('comment.block.candid');
  });
});

// Every Motoko file in the repository and every ```motoko block in the content: no keyword may
// come out unscoped (a sign the grammar lost track, e.g. an unterminated string or comment).
function repositorySnippets(): { name: string; code: string; lang: 'motoko' | 'candid' }[] {
  const root = join(import.meta.dirname, '../..');
  const found: { name: string; code: string; lang: 'motoko' | 'candid' }[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.mo')) found.push({ name: path, code: readFileSync(path, 'utf8'), lang: 'motoko' });
      else if (entry.name.endsWith('.did')) found.push({ name: path, code: readFileSync(path, 'utf8'), lang: 'candid' });
      else if (/\.mdx?$/.test(entry.name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/```(motoko|candid)[^\n]*\n([\s\S]*?)```/g)) {
          found.push({ name: path, code: m[2], lang: m[1] as 'motoko' | 'candid' });
        }
      }
    }
  };
  walk(join(root, 'canisters'));
  walk(join(root, 'content'));
  return found;
}

test('real Motoko and Candid in the repository tokenize with every keyword scoped', () => {
  const snippets = repositorySnippets();
  const keywords = {
    motoko: /^(actor|func|let|var|switch|case|public|shared|query|async|await|return|import|module|type|persistent|stable)$/,
    candid: /^(service|type|record|variant|vec|opt|query|func)$/,
  };
  let checked = 0;
  for (const { name, code, lang } of snippets) {
    for (const [text, scope] of tokens(code, lang)) {
      const word = text.trim();
      if (!keywords[lang].test(word)) continue;
      checked++;
      expect(scope, `${name}: "${word}"`).toMatch(/^(storage|keyword|comment|string|entity\.name\.function)/);
    }
  }
  expect(snippets.length).toBeGreaterThan(0);
  expect(checked).toBeGreaterThan(0);
});
