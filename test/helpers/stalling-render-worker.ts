import { parentPort } from 'node:worker_threads';
import type { RenderRequest } from '../../src/services/documents/document-renderer.js';
import '../../src/services/documents/render-worker.js';
import { STALLING_BUYER } from './stalling-renderer.js';

// The real render thread (imported above, so its listener comes first), made to hang: on a document for
// STALLING_BUYER this listener runs right after the real one has started drawing, and never returns, so
// the thread never posts the document back and takes no other.
parentPort!.on('message', ({ job }: RenderRequest) => {
  if (job.view.document.buyer.name !== STALLING_BUYER) return;
  for (;;) {
    // a layout that never ends
  }
});
