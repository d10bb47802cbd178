import { mapping, templates } from './config-properties.js';
import {
  admin,
  consoleProperty,
  operations,
  razerReplay,
  razerSigned,
  razerUnauthenticated,
  webhook,
} from './request-properties.js';
import type { Property } from './runner.js';

export type { Property, PropertyOptions, PropertyReport } from './runner.js';

/** Every property, by the name `--only` takes. */
export const PROPERTIES: Record<string, Property> = {
  'razer-unauthenticated': razerUnauthenticated,
  'razer-signed': razerSigned,
  'razer-replay': razerReplay,
  webhook,
  admin,
  console: consoleProperty,
  operations,
  mapping,
  templates,
};
