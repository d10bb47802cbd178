import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { envVarsSchema, MITRA_PRODUCTION_URL, parseEnv } from '../src/config/env.js';
import { REQUIRED_ENV } from './helpers/env.js';

// .env.example is the operator's list of every setting: it must name exactly the variables of
// envVarsSchema, each with its default, so that it cannot drift from the code.

const TEXT = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
const FILE = parseDotenv(TEXT);
const KEYS = Object.keys(envVarsSchema.shape);

/** A variable the schema requires: leaving it out of otherwise valid settings is an error naming it. */
const isRequired = (key: string) => {
  const { [key]: _left, ...rest } = REQUIRED_ENV as Record<string, string>;
  const r = parseEnv(envVarsSchema, rest);
  return !r.ok && r.errors.some((e) => e.startsWith(`${key} `));
};

/** What the schema makes of the required settings plus `over` (an empty value means unset). */
const parsed = (over: Record<string, string>) => {
  const r = parseEnv(envVarsSchema, { ...REQUIRED_ENV, ...over });
  if (!r.ok) throw new Error(`.env.example: ${r.errors.join('; ')}`);
  return r.value as Record<string, unknown>;
};

describe('.env.example', () => {
  it('names every variable of the environment schema, and nothing else, once each', () => {
    const assigned = TEXT.split('\n')
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
    expect(new Set(assigned).size, 'a variable is assigned twice').toBe(assigned.length);
    expect([...assigned].sort()).toEqual([...KEYS].sort());
    expect(Object.keys(FILE).sort()).toEqual([...KEYS].sort());
  });

  it('gives each variable its default, or leaves it empty when it is required or unset by default', () => {
    const defaults = parsed({});
    for (const key of KEYS) {
      const value = FILE[key] ?? '';
      if (key === 'MITRA_BASE_URL') {
        // Required, with no default: the file shows production's address.
        expect(isRequired(key)).toBe(true);
        expect(value).toBe(MITRA_PRODUCTION_URL);
      } else if (isRequired(key)) {
        // A secret: never an example value someone could leave in place.
        expect(value, `${key} is required: empty in the file`).toBe('');
      } else if (key === 'INSTANCE_ID') {
        // Its default is computed per process (host name and process id): it cannot be written.
        expect(value).toBe('');
      } else if (defaults[key] === undefined) {
        expect(value, `${key} has no default: empty in the file`).toBe('');
      } else {
        expect(value, `${key} has a default: written out in the file`).not.toBe('');
        expect(parsed({ [key]: value })[key], `${key}=${value} is not the default`).toEqual(defaults[key]);
      }
    }
  });

  it('is read alike by dotenv and by systemd (EnvironmentFile=): no quotes, no comment after a value', () => {
    for (const line of TEXT.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      expect(line, 'a line is blank, a comment, or NAME=value').toMatch(/^[A-Z_][A-Z0-9_]*=/);
      const value = line.slice(line.indexOf('=') + 1);
      expect(value, `${line}: plain text only`).toMatch(/^[^\s"'`\\$#]*$/);
    }
  });

  it('explains each variable in a comment on the line above it', () => {
    const lines = TEXT.split('\n');
    lines.forEach((line, i) => {
      if (!/^[A-Z_][A-Z0-9_]*=/.test(line)) return;
      expect(lines[i - 1] ?? '', `the line above ${line}`).toMatch(/^# \S/);
    });
  });
});
