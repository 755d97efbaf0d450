import { createDocumentRenderer } from '../../src/services/documents/document-renderer.js';

/** The buyer whose documents never finish drawing on the thread of `stallingRenderer`. */
export const STALLING_BUYER = 'Boucle Sans Fin';

/** Longer than the thread's start and any document drawn, however busy the machine running the tests. */
export const STALL_TIMEOUT_MS = 5_000;

/**
 * The portal's renderer with the real render thread, except that the thread hangs on documents for
 * STALLING_BUYER, as a layout that never ends would; each document is given up after STALL_TIMEOUT_MS.
 */
export const stallingRenderer = () => createDocumentRenderer({ timeoutMs: STALL_TIMEOUT_MS, workerModule: new URL('./stalling-render-worker.ts', import.meta.url) });
