// What every page module uses to reach the DOM.

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A short message at the bottom of the main window, gone after five seconds. */
export function toast(text: string) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  window.setTimeout(() => (t.hidden = true), 5000);
}
