/** Reading the console's HTML in tests without a browser: entities, text, a form's hidden fields. */

export type Fields = Record<string, string>;

export const decode = (s: string) =>
  s
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** The page's text as a reader sees it, tags gone and spaces collapsed. */
export const textOf = (html: string) => decode(html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' '));

/** The hidden fields of the form with this id: what the browser posts when it is submitted. */
export function formOf(html: string, id: string): { action: string; fields: Fields } {
  const m = new RegExp(`<form[^>]*action="([^"]*)"[^>]*id="${id}"[^>]*>([\\s\\S]*?)</form>`).exec(html);
  if (!m) throw new Error(`no form #${id} in the page`);
  const fields: Fields = {};
  for (const input of (m[2] ?? '').matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    fields[decode(input[1] ?? '')] = decode(input[2] ?? '');
  return { action: decode(m[1] ?? ''), fields };
}
