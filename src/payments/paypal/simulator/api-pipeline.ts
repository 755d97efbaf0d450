import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import { internalServerError, malformedJson, PayPalApiError, previousRequestInProgress, type PayPalApi } from './errors.js';
import type { FaultBook } from './faults.js';
import { newDebugId } from './ids.js';
import type { ApiResult, RequestIdMemory } from './idempotency.js';
import type { SimulatedOperation } from './types.js';

export interface Operation {
  api: PayPalApi;
  /** What transport faults match; null for calls faults never touch (webhook verification). */
  name: Exclude<SimulatedOperation, 'any'> | null;
  /** The PayPal order the call concerns, for faults scoped to an order. */
  orderId: string | null;
  /** Honours PayPal-Request-Id (create, capture, refund). */
  idempotent: boolean;
  /** The status of a replayed success: the Orders spec answers a repeated request with 200 OK. */
  replayStatus?: number;
  /** A repeated request id gets the earlier refusal (422) again, as PayPal may answer (capture). */
  replaysRefusals?: boolean;
  perform: () => ApiResult;
}

export interface PipelineDependencies {
  faults: FaultBook;
  requestIds: RequestIdMemory;
  /** Aborted when the simulator stops; a delayed answer is then never sent. */
  signal: AbortSignal;
}

/** The raw request body (every /v1 and /v2 body is read as text) as JSON; an empty body is `{}` when allowed. */
export function jsonBody(request: Request, api: PayPalApi, { optional }: { optional: boolean }): unknown {
  const text = typeof request.body === 'string' ? request.body : '';
  if (text.trim() === '') {
    if (optional) return {};
    throw malformedJson(api);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedJson(api);
  }
}

/**
 * Runs one API operation the way PayPal's edge would: a 500 before anything happens, the
 * PayPal-Request-Id replay or in-progress refusal, the operation itself (refusals become answers),
 * then what the transport does to the answer (lost behind a 500, late, or cut short).
 */
export async function answer(deps: PipelineDependencies, request: Request, response: Response, operation: Operation): Promise<void> {
  const fault = operation.name ? deps.faults.takeTransport(operation.name, operation.orderId) : null;
  if (fault?.type === 'http500' && !fault.afterEffect) return send(response, errorResult(internalServerError(operation.api)));

  const requestId = request.get('paypal-request-id') ?? null;
  const key = operation.idempotent && requestId ? `${request.method} ${request.path} ${requestId}` : null;
  let ownsKey = false;
  let result: ApiResult;
  const recall = key ? deps.requestIds.begin(key) : ({ kind: 'new' } as const);
  if (recall.kind === 'in-progress') {
    result = errorResult(previousRequestInProgress(operation.api));
  } else if (recall.kind === 'replay') {
    ownsKey = true;
    const succeeded = recall.result.status < 300;
    result = { status: succeeded ? (operation.replayStatus ?? recall.result.status) : recall.result.status, body: recall.result.body };
  } else {
    ownsKey = key !== null;
    result = perform(operation);
    if (key) deps.requestIds.remember(key, result, { keepRefusals: operation.replaysRefusals ?? false });
  }

  try {
    if (fault?.type === 'http500') return send(response, errorResult(internalServerError(operation.api)));
    if (fault?.type === 'delay') {
      const waited = await sleep(fault.ms, true, { signal: deps.signal }).catch(() => false);
      if (!waited) return;
    }
    if (fault?.type === 'garbled') {
      const text = JSON.stringify(result.body);
      // Cut in the middle, the way a dropped connection leaves it: never valid JSON.
      response.status(result.status).type('application/json').send(text.slice(0, Math.floor(text.length / 2)));
      return;
    }
    send(response, result);
  } finally {
    if (key && ownsKey) deps.requestIds.answered(key);
  }
}

export function send(response: Response, result: ApiResult): void {
  const debugId = (result.body as { debug_id?: unknown } | null)?.debug_id;
  response
    .status(result.status)
    .set('paypal-debug-id', typeof debugId === 'string' ? debugId : newDebugId())
    .type('application/json')
    .send(JSON.stringify(result.body));
}

export const errorResult = (error: PayPalApiError): ApiResult => ({ status: error.status, body: error.body });

function perform(operation: Operation): ApiResult {
  try {
    return operation.perform();
  } catch (error) {
    if (error instanceof PayPalApiError) return errorResult(error);
    throw error;
  }
}
