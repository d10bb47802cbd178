import { fileURLToPath } from 'node:url';
import { loadMappingFile, type Mapping, type SkuMapping } from '../../src/config/mapping.js';

export const EXAMPLE_MAPPING = fileURLToPath(new URL('../../config/mapping.example.yaml', import.meta.url));

export function exampleMapping(): Mapping {
  const result = loadMappingFile(EXAMPLE_MAPPING);
  if (!result.ok) throw new Error(`example mapping does not load:\n${result.errors.join('\n')}`);
  return result.mapping;
}

export function exampleSku(sku: string): SkuMapping {
  const entry = exampleMapping().skus.get(sku);
  if (!entry) throw new Error(`example mapping has no ${sku}`);
  return entry;
}
