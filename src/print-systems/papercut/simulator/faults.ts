import { SIMULATED_METHODS, type SimulatedMethod, type SimulatorFault } from './types.js';

interface ActiveFault {
  fault: SimulatorFault;
  /** Calls left; Infinity until cleared. */
  remaining: number;
}

const TYPES: readonly SimulatorFault['type'][] = ['unknown_user', 'bad_token', 'not_allowed', 'http500', 'timeout', 'reset', 'garbled'];

/** The faults in force: the first set that matches a call is used up by it. Setting a fault of the same type and method replaces it. */
export class FaultBook {
  private active: ActiveFault[] = [];

  set(fault: SimulatorFault): void {
    this.active = this.active.filter((entry) => !(entry.fault.type === fault.type && entry.fault.method === fault.method));
    const remaining = fault.times ?? Infinity;
    if (remaining > 0) this.active.push({ fault, remaining });
  }

  clear(): void {
    this.active = [];
  }

  take(method: string | null): SimulatorFault | null {
    const entry = this.active.find(({ fault }) => fault.method === undefined || fault.method === method);
    if (!entry) return null;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active = this.active.filter((candidate) => candidate !== entry);
    return entry.fault;
  }
}

/** Reads a fault sent to the control API; throws with the reason when it is not one. */
export function parseFault(input: unknown): SimulatorFault {
  const fault = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const type = fault.type as SimulatorFault['type'];
  if (!TYPES.includes(type)) throw new Error(`fault.type must be one of ${TYPES.join(', ')}`);
  if (fault.times !== undefined && (!Number.isInteger(fault.times) || (fault.times as number) < 1)) throw new Error('fault.times must be a positive integer');
  if (fault.method !== undefined && !SIMULATED_METHODS.includes(fault.method as SimulatedMethod)) throw new Error(`fault.method must be one of ${SIMULATED_METHODS.join(', ')}`);
  if (fault.afterApplying !== undefined && typeof fault.afterApplying !== 'boolean') throw new Error('fault.afterApplying must be true or false');
  const common = { method: fault.method as SimulatedMethod | undefined, times: fault.times as number | undefined };
  if (type === 'unknown_user' || type === 'bad_token' || type === 'not_allowed') {
    if (fault.afterApplying !== undefined) throw new Error(`a ${type} fault answers before anything is applied: afterApplying does not apply`);
    return { type, ...common };
  }
  return { type, afterApplying: fault.afterApplying as boolean | undefined, ...common };
}
