import type { ProviderHealth } from '../../domain/identity/identity.js';
import type { Clock } from '../../domain/time/clock.js';
import type { ConfiguredProvider, IdentityRegistry } from './registry.js';

/** Beyond the provider's own timeout: its gateway gets the chance to say why it gave up before this guard does. */
const GUARD_GRACE_MS = 1_000;

/** A provider's last health check in this process, `checkedAt` on the portal's clock. */
export interface CheckedHealth extends ProviderHealth {
  checkedAt: string;
}

/**
 * Runs the providers' health checks when an admin asks, and keeps each one's last result in this
 * process's memory: a check reaches the provider over the network, so pages only show the last one.
 */
export function createProviderHealthChecks({ identity, clock }: { identity: IdentityRegistry; clock: Clock }) {
  const last = new Map<string, CheckedHealth>();

  async function check(provider: ConfiguredProvider): Promise<CheckedHealth> {
    const limitMs = provider.config.timeoutMs + GUARD_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    // health() promises never to throw nor hang; a gateway that broke the promise still gives an answer here.
    const guard = new Promise<Omit<ProviderHealth, 'checkedAt'>>((resolve) => {
      timer = setTimeout(() => resolve({ reachable: false, detail: `no answer within ${limitMs} ms` }), limitMs);
    });
    const answer = provider.gateway.health().catch((error: unknown) => ({ reachable: false, detail: `health check failed: ${error instanceof Error ? error.message : String(error)}` }));
    const health = await Promise.race([answer, guard]).finally(() => clearTimeout(timer));
    const checked: CheckedHealth = { ...health, checkedAt: clock.now().toISOString() };
    last.set(provider.config.id, checked);
    return checked;
  }

  return {
    /** The provider's last check, or undefined when nobody asked since the process started. */
    last: (providerId: string): CheckedHealth | undefined => last.get(providerId),
    check,
    checkAll: () => Promise.all(identity.all.map(check)),
    /** For the dashboard: how many providers, how many were checked, how many of those were unreachable. */
    summary() {
      const checks = identity.all.map((provider) => last.get(provider.config.id)).filter((health) => health !== undefined);
      return { providers: identity.all.length, checked: checks.length, unreachable: checks.filter((health) => !health.reachable).length };
    },
  };
}

export type ProviderHealthChecks = ReturnType<typeof createProviderHealthChecks>;
