import { parentPort, threadId } from 'node:worker_threads';
import { createTranslations } from '../../i18n/index.js';
import { renderDocumentPdf } from './document-pdf.js';
import { renderQuotePdf } from './quote-pdf.js';
import type { RenderReply, RenderRequest } from './document-renderer.js';

// The render thread: draws each document it is sent, in turn, and posts back its bytes or why it could not.
const translations = createTranslations();
const port = parentPort!;

port.on('message', async ({ id, job }: RenderRequest) => {
  let reply: RenderReply;
  try {
    const rendering = { t: translations(job.locale), locale: job.locale, timeZone: job.timeZone, publicUrl: job.publicUrl, branding: job.branding };
    const pdf = await ('quote' in job.view ? renderQuotePdf(job.view, rendering) : renderDocumentPdf(job.view, rendering));
    reply = { id, pdf, threadId };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
