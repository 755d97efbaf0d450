import { parentPort, workerData } from 'node:worker_threads';
import { createTranslations } from '../../i18n/index.js';
import { voucherPdf } from './voucher-handover.js';
import type { VoucherPdfJob } from './voucher-pdf-thread.js';

// A one-shot thread: draws one batch's sheet, posts back its bytes, and ends. (No top-level await:
// under tsx the thread loads this module with require.)
const { batch, codes, locale, topUpUrl } = workerData as VoucherPdfJob;
void voucherPdf(batch, codes, { t: createTranslations()(locale), locale, topUpUrl }).then((pdf) => parentPort!.postMessage(pdf));
