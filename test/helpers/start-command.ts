import { readFileSync } from 'node:fs';

/**
 * The Node flags `npm start` gives the gateway, read from package.json, so that the bench, the
 * soak and the child gateways of tests run the command production runs, not a copy of it.
 */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  const m = /^node ((?:--[\w-]+(?:=\S+)? )*)dist\/main\.js$/.exec(pkg.scripts.start);
  if (m?.[1] === undefined)
    throw new Error(`package.json "start" is not "node [--flag ...] dist/main.js": ${pkg.scripts.start}`);
  return m[1].split(' ').filter(Boolean);
}
