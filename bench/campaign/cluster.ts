import type { CrashPoint } from '../../src/fulfilment/crash-points.js';
import { type Balancer, startBalancer } from '../../test/helpers/balancer.js';
import { type ChildGateway, spawnGateway } from '../../test/helpers/child-gateway.js';
import type { Recorder } from './history.js';

/** A deterministic crash: the process kills itself when `on` passes `point`. */
export interface CrashPlan {
  point: CrashPoint;
  on: string;
}

export interface Instance {
  name: string;
  url: string;
}

/** How long a request waits for an instance to be up (a restart takes well under a second). */
const PICK_TIMEOUT_MS = 30_000;

interface Slot {
  name: string;
  child: ChildGateway | null;
  starting: Promise<void> | null;
  crash: CrashPlan | null;
  /** Set just before the campaign itself ends this process. */
  ending: 'sigkill' | 'stop' | null;
}

export interface ClusterOptions {
  names: readonly string[];
  /** The environment of one instance. */
  env: (name: string) => Record<string, string>;
  cwd: string;
  recorder: Recorder;
  /** The crash plan an instance started for `round` carries (null: none). */
  crashPlan: (name: string, round: number) => CrashPlan | null;
  /** Told where webhooks go: the balancer in front of every instance. */
  webhookBase: (url: string) => void;
}

/** A process that died unasked (no kill, no crash point), or could not be restarted. */
export interface ExitNote {
  name: string;
  output: string;
}

/**
 * The gateway processes of a run (`npm start`'s command): started, SIGKILLed, restarted at once,
 * with a load balancer in front for the simulator's webhooks.
 */
export class Cluster {
  readonly #o: ClusterOptions;
  readonly #slots: Slot[];
  #balancer: Balancer | null = null;
  #restart = true;
  round = 0;
  readonly unexpectedExits: ExitNote[] = [];
  readonly kills = new Map<string, { sigkill: number; crashPoint: number; exited: number }>();

  constructor(options: ClusterOptions) {
    this.#o = options;
    this.#slots = options.names.map((name) => ({
      name,
      child: null,
      starting: null,
      crash: null,
      ending: null,
    }));
    for (const name of options.names) this.kills.set(name, { sigkill: 0, crashPoint: 0, exited: 0 });
  }

  async start(): Promise<void> {
    this.#balancer = await startBalancer([]);
    this.#o.webhookBase(this.#balancer.url);
    // One at a time the first time: each migrates and fetches the catalogue.
    for (const slot of this.#slots) await this.#start(slot, null);
  }

  /** Starts every instance that is down (restarts under way are waited for). */
  async ensureUp(): Promise<void> {
    await Promise.all(
      this.#slots.map(
        (slot) =>
          slot.starting ??
          (slot.child ? undefined : this.#start(slot, this.#o.crashPlan(slot.name, this.round))),
      ),
    );
  }

  /** The instances up now, and their crash plans. */
  live(): (Instance & { crash: CrashPlan | null })[] {
    return this.#slots.flatMap((s) =>
      s.child && s.ending === null ? [{ name: s.name, url: s.child.url, crash: s.crash }] : [],
    );
  }

  /** An instance to send to: `preferred` if it is up, else any that is up (waiting for one if none is). */
  async pick(random: () => number, preferred?: string): Promise<Instance> {
    const deadline = Date.now() + PICK_TIMEOUT_MS;
    for (;;) {
      const up = this.live();
      const chosen = up.find((i) => i.name === preferred) ?? up[Math.floor(random() * up.length)];
      if (chosen) return chosen;
      if (Date.now() > deadline) throw new Error(`no gateway instance up for ${PICK_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** SIGKILL, recorded; the instance is restarted at once. */
  async kill(name: string): Promise<void> {
    const slot = this.#slot(name);
    const child = slot.child;
    if (!child || slot.ending !== null) return;
    slot.ending = 'sigkill';
    const r = this.#o.recorder;
    r.kills.push({ round: this.round, instance: name, at: Date.now(), tick: r.tick(), how: 'sigkill' });
    this.#count(name, 'sigkill');
    await child.kill();
    await slot.starting;
  }

  /** Stops every instance (SIGTERM) and stops restarting them. */
  async stop(): Promise<void> {
    this.#restart = false;
    await Promise.all(this.#slots.map((s) => s.starting));
    await Promise.all(
      this.#slots.map(async (s) => {
        if (!s.child) return;
        s.ending = 'stop';
        await s.child.stop();
      }),
    );
    const balancer = this.#balancer;
    this.#balancer = null;
    await balancer?.close();
  }

  #slot(name: string): Slot {
    const slot = this.#slots.find((s) => s.name === name);
    if (!slot) throw new Error(`no instance ${name}`);
    return slot;
  }

  #count(name: string, how: 'sigkill' | 'crashPoint' | 'exited'): void {
    const counts = this.kills.get(name);
    if (counts) counts[how]++;
  }

  #start(slot: Slot, crash: CrashPlan | null): Promise<void> {
    const run = (async () => {
      const env = {
        ...this.#o.env(slot.name),
        ...(crash ? { GATEWAY_CRASH_AT: crash.point, GATEWAY_CRASH_ON: crash.on } : {}),
      };
      const child = await spawnGateway(env, this.#o.cwd);
      slot.child = child;
      slot.crash = crash;
      slot.ending = null;
      this.#balancer?.backends.push(child.url);
      void child.exited.then(() => this.#exited(slot, child));
    })();
    slot.starting = run;
    return run.finally(() => {
      if (slot.starting === run) slot.starting = null;
    });
  }

  #exited(slot: Slot, child: ChildGateway): void {
    if (slot.child !== child) return;
    const balancer = this.#balancer;
    if (balancer) balancer.backends = balancer.backends.filter((u) => u !== child.url);
    slot.child = null;
    const ending = slot.ending;
    if (ending === 'stop') return;
    if (ending !== 'sigkill') {
      // Not the campaign's kill: its crash point, or a death nobody planned (reported).
      const how = slot.crash ? 'crash-point' : 'exited';
      const r = this.#o.recorder;
      r.kills.push({
        round: this.round,
        instance: slot.name,
        at: Date.now(),
        tick: r.tick(),
        how,
        point: slot.crash?.point,
      });
      this.#count(slot.name, how === 'crash-point' ? 'crashPoint' : 'exited');
      if (how === 'exited')
        this.unexpectedExits.push({ name: slot.name, output: child.output.join('').slice(-4000) });
    }
    if (this.#restart)
      // Restarted for the next round: a crash plan waits for that round's first purchase.
      void this.#start(slot, this.#o.crashPlan(slot.name, this.round + 1)).catch((err: unknown) => {
        // Left down: the next round's ensureUp tries again, and fails the run if it cannot.
        this.unexpectedExits.push({ name: slot.name, output: `restart failed: ${String(err)}` });
      });
  }
}
