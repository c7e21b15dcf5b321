import { formatPhone, isWebCall } from './format';

/** The few DOM helpers the page needs instead of a framework. */
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value);
    // Through the CSSOM, which a strict Content-Security-Policy allows (a style attribute it would not).
    else if (name === 'style') element.style.cssText = String(value ?? '');
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A definition list from label/value pairs, skipping empty values. */
export function definitions(pairs: Array<[string, Child]>): HTMLDListElement {
  return h(
    'dl',
    { class: 'defs' },
    pairs
      .filter(([, value]) => value !== null && value !== undefined && value !== '')
      .map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]),
  );
}

/** Caller → called, each number kept whole on one line; "Web call" when Millis sent no numbers. */
export function parties(from: string | null, to: string | null): Child[] {
  if (isWebCall(from, to)) return [h('span', { class: 'web-call' }, 'Web call')];
  return [
    h('span', { class: 'number' }, formatPhone(from)),
    h('span', { class: 'arrow', 'aria-label': 'to' }, ' → '),
    h('span', { class: 'number' }, formatPhone(to)),
  ];
}

export function badge(
  text: string,
  tone: 'neutral' | 'live' | 'warn' | 'bad' | 'ok' = 'neutral',
  title?: string,
): HTMLSpanElement {
  return h('span', { class: `badge badge-${tone}`, title }, text);
}
