import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Locale } from '../../i18n/index.js';
import type { DocumentBranding } from './document-pdf.js';
import type { RenderableView } from './document-view.js';

/** What the render thread needs to draw a document: plain data, copied to the thread (structured clone). */
export interface DocumentRenderJob {
  view: RenderableView;
  locale: Locale;
  timeZone: string;
  publicUrl: string;
  branding: DocumentBranding;
}

export interface RenderRequest {
  id: number;
  job: DocumentRenderJob;
}

export type RenderReply = { id: number; pdf: Uint8Array; threadId: number } | { id: number; error: string };

interface RenderedPdf {
  pdf: Buffer;
  /** The thread that drew it (never the event loop's, 0). */
  threadId: number;
}

/** The render thread's module, beside this one: .ts under tsx (development, tests), .js once compiled. */
const WORKER_MODULE = new URL(`./render-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * How long the thread may take over one document, its own start included (about 0.6 s under tsx, then
 * about 0.1 s a document), before it is taken for hung — a layout that never ends, on data nobody
 * foresaw — and replaced. Without a limit, one such document would hold every later download and mail
 * forever; 30 s is far beyond any document drawn, and still well inside the mail's 2-minute lease.
 */
const RENDER_TIMEOUT_MS = 30_000;

function startWorker(module: URL): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module);
  // Node 20 does not carry tsx's loader into worker threads: the thread registers it, then loads its module.
  const tsx = JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'));
  return new Worker(`require(${tsx}).register(); require(${JSON.stringify(fileURLToPath(module))});`, { eval: true });
}

interface Queued {
  request: RenderRequest;
  resolve(rendered: RenderedPdf): void;
  reject(error: unknown): void;
}

interface RenderThread {
  worker: Worker;
  /** The one document on the thread, and when it is given up. */
  drawing?: { queued: Queued; timer: NodeJS.Timeout };
}

/**
 * Draws documents on a thread of their own, so that the event loop keeps serving pages while pdfkit
 * lays out a page and subsets its fonts (about 100 ms of CPU each). One thread, given one document at a
 * time in the order asked, the others waiting here: each document is drawn at most once per language,
 * so one thread is plenty, and it leaves a core to the event loop. The thread starts with the first
 * document and does not keep the process alive while it has nothing to draw. When it dies, or takes
 * longer than `timeoutMs` over a document (then it is stopped), that document fails and the documents
 * waiting go to a new thread: the one on the thread is the likely cause, the others had no part in it.
 * `workerModule` is the thread's code: tests give one that can be made to hang.
 */
export function createDocumentRenderer({ timeoutMs = RENDER_TIMEOUT_MS, workerModule = WORKER_MODULE }: { timeoutMs?: number; workerModule?: URL } = {}) {
  const waiting: Queued[] = [];
  let thread: RenderThread | undefined;
  let lastId = 0;

  function start(): RenderThread {
    const started: RenderThread = { worker: startWorker(workerModule) };
    started.worker.on('message', (reply: RenderReply) => {
      const queued = finish(started);
      if (!queued) return;
      if ('error' in reply) queued.reject(new Error(`render thread: ${reply.error}`));
      else queued.resolve({ pdf: Buffer.from(reply.pdf.buffer, reply.pdf.byteOffset, reply.pdf.byteLength), threadId: reply.threadId });
      drawNext();
    });
    started.worker.on('error', (error) => stop(started, error));
    started.worker.on('exit', (code) => stop(started, new Error(`the render thread stopped (exit code ${code})`)));
    return started;
  }

  /** The document the thread was drawing, no longer timed; none if the thread was already given up. */
  function finish(given: RenderThread): Queued | undefined {
    const { drawing } = given;
    if (thread !== given || !drawing) return undefined;
    clearTimeout(drawing.timer);
    given.drawing = undefined;
    return drawing.queued;
  }

  /** Gives a thread up: its document fails with `error`, the documents waiting go to the next thread. */
  function stop(given: RenderThread, error: unknown): void {
    const queued = finish(given);
    if (thread === given) thread = undefined;
    void given.worker.terminate();
    queued?.reject(error);
    drawNext();
  }

  function drawNext(): void {
    if (thread?.drawing) return;
    const queued = waiting.shift();
    if (!queued) {
      thread?.worker.unref();
      return;
    }
    const current = (thread ??= start());
    const timer = setTimeout(() => stop(current, new Error(`the render thread took more than ${timeoutMs} ms over a document and was stopped`)), timeoutMs);
    current.drawing = { queued, timer };
    current.worker.ref();
    try {
      current.worker.postMessage(queued.request);
    } catch (error) {
      // Something that cannot be copied to a thread (a function): a bug, refused here.
      finish(current);
      queued.reject(error);
      drawNext();
    }
  }

  return {
    render(job: DocumentRenderJob): Promise<RenderedPdf> {
      return new Promise<RenderedPdf>((resolve, reject) => {
        waiting.push({ request: { id: (lastId += 1), job }, resolve, reject });
        drawNext();
      });
    },

    /** Stops the thread (at shutdown); the documents asked for fail. A later document starts a new thread. */
    async close(): Promise<void> {
      const current = thread;
      const closed = new Error('the document renderer was closed');
      for (const queued of waiting.splice(0)) queued.reject(closed);
      if (!current) return;
      finish(current)?.reject(closed);
      thread = undefined;
      await current.worker.terminate();
    },
  };
}

export type DocumentRenderer = ReturnType<typeof createDocumentRenderer>;
