import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadMappingFile } from '../src/config/mapping.js';
import { createMappingStore, type MappingStore } from '../src/config/mapping-store.js';
import { createLogger } from '../src/log.js';
import { EXAMPLE_MAPPING } from './helpers/mapping.js';
import { type TempDir, tempDir } from './helpers/storage.js';
import { waitFor } from './helpers/wait.js';

let dir: TempDir;
let store: MappingStore;
const example = readFileSync(EXAMPLE_MAPPING, 'utf8');

beforeEach(() => {
  dir = tempDir();
  writeFileSync(dir.file('m.yaml'), example);
  const initial = loadMappingFile(dir.file('m.yaml'));
  if (!initial.ok) throw new Error(initial.errors.join('\n'));
  store = createMappingStore(dir.file('m.yaml'), initial.mapping, createLogger('silent'));
});
afterEach(() => {
  store.close();
  dir.remove();
});

describe('mapping store', () => {
  it('keeps the running mapping when an edit is broken, and says why', () => {
    writeFileSync(dir.file('m.yaml'), example.replace('max_price: 16000', 'max_price: -1'));
    const result = store.reload();
    expect(result).toEqual({
      ok: false,
      errors: [expect.stringMatching(/m\.yaml:\d+: sku DIAMOND50, field max_price: must be greater than 0/)],
    });
    expect(store.sku('DIAMOND50')?.maxPrice).toBe(16000);
  });

  it('switches to a valid edit as a whole', () => {
    writeFileSync(dir.file('m.yaml'), example.replace('max_price: 16000', 'max_price: 17000'));
    expect(store.reload()).toEqual({ ok: true, skus: 3 });
    expect(store.sku('DIAMOND50')?.maxPrice).toBe(17000);
  });

  it('notices a change of the file by itself once watching', async () => {
    store.watch(20);
    writeFileSync(dir.file('m.yaml'), example.replace('enabled: true', 'enabled: false'));
    await waitFor(() => store.sku('GENSHIN60')?.enabled === false, 3000, 'the watcher to reload');
  });
});
