/** Properties {@link h} understands. Anything else is a programming error, not silently dropped. */
export interface Props {
  /** Set as textContent: the only way text reaches the page. */
  text?: string | number;
  class?: string;
  testid?: string;
  data?: Record<string, string | number | boolean>;
  title?: string | undefined;
  type?: string;
  datetime?: string;
  onclick?: (event: MouseEvent) => void;
  [aria: `aria-${string}`]: string | undefined;
}

/**
 * Creates an element with properties, data-* attributes and children. Text goes in through
 * textContent only: never innerHTML, never an attribute the browser would read as markup, URL
 * or script.
 */
export function h(tag: string, props: Props = {}, children: (Node | null)[] = []): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props) as [string, unknown][]) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = String(v);
    else if (k === 'testid') el.dataset.testid = String(v);
    else if (k === 'data') for (const [dk, dv] of Object.entries(v as object)) el.dataset[dk] = String(dv);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'title' || k === 'type' || k === 'datetime') el.setAttribute(k, String(v));
    else if (k.startsWith('aria-')) el.setAttribute(k, String(v));
    else throw new Error(`h: unknown prop ${k}`);
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

/** The element with `data-testid` = `testid` in index.html; the page is broken without it. */
export function byTestId<T extends HTMLElement = HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`index.html has no [data-testid="${testid}"]`);
  return el;
}
