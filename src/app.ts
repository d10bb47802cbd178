import { type RazerDeps, razerRoutes } from './razer/routes.js';

export interface AppDeps {
  razer: RazerDeps;
}

/**
 * The gateway's HTTP surface. The Razer routes are the root app, so their 404 and error
 * answers (signed, JSON) apply to every path.
 */
export function createApp(deps: AppDeps) {
  return razerRoutes(deps.razer);
}
