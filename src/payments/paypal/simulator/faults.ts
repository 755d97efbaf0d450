import type { CaptureOutcome } from './store.js';
import type { SimulatedOperation, SimulatorFault } from './types.js';

/** Faults that change how an answer travels (the operation itself is unaffected or performed first). */
export type TransportFault = Extract<SimulatorFault, { type: 'http500' | 'delay' | 'garbled' }>;
export type WebhookMode = { duplicates: number; reverseOrder: boolean };

interface ActiveFault {
  fault: SimulatorFault;
  orderId: string | null;
  /** Calls left for counted faults; Infinity for the ones that last until cleared. */
  remaining: number;
}

const OPERATIONS: readonly SimulatedOperation[] = ['token', 'create', 'get', 'capture', 'refund', 'any'];

/**
 * The faults in force. A fault scoped to an order applies before a global one; setting a fault of
 * the same type and scope replaces the previous one. http500, delay and garbled are used up call by
 * call; decline, refuse, pending and webhooks last until clearFaults().
 */
export class FaultBook {
  private active: ActiveFault[] = [];

  set(fault: SimulatorFault, orderId: string | null): void {
    const remaining = fault.type === 'http500' ? fault.times : fault.type === 'delay' || fault.type === 'garbled' ? (fault.times ?? 1) : Infinity;
    this.active = this.active.filter((entry) => !(entry.fault.type === fault.type && entry.orderId === orderId));
    if (remaining > 0) this.active.push({ fault, orderId, remaining });
  }

  clear(): void {
    this.active = [];
  }

  /** Uses up one call of the first transport fault matching this call. */
  takeTransport(operation: Exclude<SimulatedOperation, 'any'>, orderId: string | null): TransportFault | null {
    const entry = this.find(orderId, (fault) => isTransport(fault) && (fault.operation === undefined || fault.operation === 'any' || fault.operation === operation));
    if (!entry) return null;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active = this.active.filter((candidate) => candidate !== entry);
    return entry.fault as TransportFault;
  }

  captureOutcome(orderId: string): CaptureOutcome {
    const fault = this.find(orderId, (candidate) => candidate.type === 'decline' || candidate.type === 'refuse' || candidate.type === 'pending')?.fault;
    if (fault?.type === 'decline') return { kind: 'declined' };
    if (fault?.type === 'refuse') return { kind: 'refused', issue: fault.issue };
    if (fault?.type === 'pending') return { kind: 'pending', reason: fault.reason ?? 'PENDING_REVIEW' };
    return { kind: 'completed' };
  }

  ignoresRefundInvoiceId(orderId: string): boolean {
    return this.find(orderId, (candidate) => candidate.type === 'refundInvoiceIgnored') !== undefined;
  }

  webhookMode(orderId: string): WebhookMode | null {
    const fault = this.find(orderId, (candidate) => candidate.type === 'webhooks')?.fault;
    return fault?.type === 'webhooks' ? { duplicates: fault.duplicates ?? 0, reverseOrder: fault.reverseOrder ?? false } : null;
  }

  private find(orderId: string | null, matches: (fault: SimulatorFault) => boolean): ActiveFault | undefined {
    const candidates = this.active.filter((entry) => matches(entry.fault));
    return candidates.find((entry) => entry.orderId !== null && entry.orderId === orderId) ?? candidates.find((entry) => entry.orderId === null);
  }
}

function isTransport(fault: SimulatorFault): fault is TransportFault {
  return fault.type === 'http500' || fault.type === 'delay' || fault.type === 'garbled';
}

/** Reads a fault sent to the control API; throws with the reason when it is not one. */
export function parseFault(input: unknown): SimulatorFault {
  const fault = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const count = (key: string, required: boolean) => {
    const value = fault[key];
    if (value === undefined && !required) return undefined;
    if (!Number.isInteger(value) || (value as number) < 0) throw new Error(`fault.${key} must be a non-negative integer`);
    return value as number;
  };
  const operation = (): SimulatedOperation | undefined => {
    const value = fault.operation;
    if (value === undefined) return undefined;
    if (!OPERATIONS.includes(value as SimulatedOperation)) throw new Error(`fault.operation must be one of ${OPERATIONS.join(', ')}`);
    return value as SimulatedOperation;
  };
  switch (fault.type) {
    case 'decline':
      return { type: 'decline' };
    case 'refuse':
      if (typeof fault.issue !== 'string' || !/^[A-Z][A-Z_]{0,63}$/.test(fault.issue)) throw new Error('fault.issue must be a PayPal issue name (capitals and underscores)');
      return { type: 'refuse', issue: fault.issue };
    case 'pending':
      if (fault.reason !== undefined && typeof fault.reason !== 'string') throw new Error('fault.reason must be a string');
      return { type: 'pending', reason: fault.reason as string | undefined };
    case 'http500':
      return { type: 'http500', times: count('times', true) as number, operation: operation(), afterEffect: fault.afterEffect === true ? true : undefined };
    case 'delay':
      return { type: 'delay', ms: count('ms', true) as number, times: count('times', false), operation: operation() };
    case 'garbled':
      return { type: 'garbled', times: count('times', false), operation: operation() };
    case 'webhooks':
      return { type: 'webhooks', duplicates: count('duplicates', false), reverseOrder: fault.reverseOrder === true ? true : undefined };
    case 'refundInvoiceIgnored':
      return { type: 'refundInvoiceIgnored' };
    default:
      throw new Error('fault.type must be decline, refuse, pending, http500, delay, garbled, webhooks or refundInvoiceIgnored');
  }
}
