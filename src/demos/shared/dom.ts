// A few lines of DOM building for the demos: no framework, so a page with one demo ships the agent
// and the demo's own code and nothing else.

type Child = Node | string | number | false | null | undefined;
type Attrs = Record<string, string | number | boolean | EventListener | undefined>;

/** h('button', { type: 'button', onclick: fn }, 'Label'): attributes, `on*` listeners, then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    // Through the CSSOM: the site's Content-Security-Policy has no 'unsafe-inline', which would
    // refuse a style attribute set with setAttribute.
    else if (name === 'style') node.style.cssText = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

/** The same for SVG elements (charts). */
export function s(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'style')
      node.style.cssText = String(value); // CSSOM, as in h()
    else node.setAttribute(name, String(value));
  }
  append(node, ...children);
  return node;
}

/** A column header of dataTable; `num` right-aligns it, as its cells are. */
export type Column = string | { label: string; num: true };

/**
 * A table of measured results: its caption, the column headers, and the rows (or, while there are
 * none, one row saying `empty`).
 */
export function dataTable(options: { caption: string; columns: Column[]; rows: HTMLElement[]; empty: string; class?: string }): HTMLTableElement {
  const { caption, columns, rows, empty } = options;
  return h(
    'table',
    { class: options.class },
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...columns.map((column) => (typeof column === 'string' ? h('th', { scope: 'col' }, column) : h('th', { scope: 'col', class: 'num' }, column.label))),
      ),
    ),
    h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: columns.length }, empty))])),
  );
}
