// A small RFC 5545 reader, written for the tests so the calendar is checked by something other
// than the code that wrote it: unfolds lines (§3.1), splits name;params:value (§3.1), unescapes
// TEXT (§3.3.11) and collects components (BEGIN/END).

export interface IcsProperty {
  name: string;
  params: Record<string, string>;
  value: string;
}
export interface IcsComponent {
  type: string;
  properties: IcsProperty[];
  components: IcsComponent[];
}

export function unfold(text: string): string[] {
  if (!text.endsWith('\r\n')) throw new Error('the last line does not end with CRLF');
  if (/(^|[^\r])\n/.test(text)) throw new Error('a bare LF: every line must end with CRLF');
  // §3.1: a CRLF followed by one whitespace character is a fold; remove both.
  return text
    .slice(0, -2)
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n');
}

export function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

function parseLine(line: string): IcsProperty {
  // The value starts at the first colon outside a quoted parameter value.
  let inQuotes = false;
  let colon = -1;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') inQuotes = !inQuotes;
    else if (line[i] === ':' && !inQuotes) {
      colon = i;
      break;
    }
  }
  if (colon < 0) throw new Error(`not a content line: ${line}`);
  const [name, ...rawParams] = line.slice(0, colon).split(';');
  const params: Record<string, string> = {};
  for (const p of rawParams) {
    const [k, v] = p.split('=');
    params[k.toUpperCase()] = v;
  }
  if (!/^[A-Za-z0-9-]+$/.test(name)) throw new Error(`bad property name: ${name}`);
  return { name: name.toUpperCase(), params, value: line.slice(colon + 1) };
}

export function parseIcs(text: string): IcsComponent {
  const stack: IcsComponent[] = [{ type: 'ROOT', properties: [], components: [] }];
  for (const line of unfold(text)) {
    const prop = parseLine(line);
    if (prop.name === 'BEGIN') {
      const component = { type: prop.value, properties: [], components: [] };
      stack.at(-1)!.components.push(component);
      stack.push(component);
    } else if (prop.name === 'END') {
      const open = stack.pop()!;
      if (open.type !== prop.value) throw new Error(`END:${prop.value} closes ${open.type}`);
    } else {
      stack.at(-1)!.properties.push(prop);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed ${stack.at(-1)!.type}`);
  const [calendar] = stack[0].components;
  return calendar;
}

export function prop(component: IcsComponent, name: string): string | undefined {
  return component.properties.find((p) => p.name === name)?.value;
}

/** "20220818T153000Z" -> Date */
export function parseUtc(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) throw new Error(`not a UTC DATE-TIME: ${value}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}
