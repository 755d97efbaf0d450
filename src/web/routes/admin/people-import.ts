import type { RequestHandler, Response, Router } from 'express';
import multer from 'multer';
import { findPeopleImport } from '../../../services/people/records.js';
import { MAX_IMPORT_PEOPLE, type ImportProblem } from '../../../domain/people/people-file.js';
import { createPeopleImports, PeopleImportError } from '../../../services/people/people-import.js';
import type { Locale, Translate } from '../../../i18n/index.js';
import { notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';
import type { AdminDependencies } from './dependencies.js';

/** Not under /admin/people/: any username, "import" included, keeps its own page. */
export const PEOPLE_IMPORT_PATH = '/admin/people-import';
const MAX_FILE_BYTES = 1024 * 1024;
/** Within PostgreSQL integer ids: a longer number is no import, not a database error. */
const IMPORT_ID = /^[1-9]\d{0,8}$/;
/** The summary lists this many people; the count says how many more. */
const PEOPLE_SHOWN = 200;

type UploadProblem = 'tooLarge' | 'badUpload';

const parseUpload = multer({
  storage: multer.memoryStorage(),
  // Browsers send file names in UTF-8.
  defParamCharset: 'utf8',
  limits: { fileSize: MAX_FILE_BYTES, files: 1, fields: 2, parts: 3, fieldSize: 1024, headerPairs: 20 },
}).single('file');

/**
 * Parses the CSV upload (multipart) before the CSRF check, which reads `_csrf` from the parsed body;
 * mounted on PEOPLE_IMPORT_PATH in app.ts. Only admins' uploads are read (anyone else's body stays
 * unparsed, so the CSRF check refuses it). A refused upload is not an error here: the route answers
 * it with the import page, as long as the form's `_csrf`, sent before the file, arrived.
 */
export const peopleImportUpload: RequestHandler = (request, response, next) => {
  if (request.method !== 'POST' || request.path !== '/' || request.user?.role !== 'admin') return next();
  parseUpload(request, response, (error: unknown) => {
    if (error) response.locals.uploadProblem = (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE' ? 'tooLarge' : 'badUpload') satisfies UploadProblem;
    next();
  });
};

/** The problem's message: numbers as the reader writes them, a missing column named in their language. */
function problemText(t: Translate, locale: Locale, problem: ImportProblem): string {
  const numbers = new Intl.NumberFormat(locale);
  const values = Object.fromEntries(Object.entries(problem.values ?? {}).map(([name, value]) => [name, typeof value === 'number' ? numbers.format(value) : value]));
  if (problem.code === 'missing_column') values.name = t(`admin.people.import.columns.${values.column}`);
  return t(`admin.people.import.problems.${problem.code}`, values);
}

export function registerPeopleImportRoutes(router: Router, { db, clock }: AdminDependencies): void {
  const imports = createPeopleImports({ db, clock });

  async function showUploadForm(response: Response, form: { error?: string; problems?: ImportProblem[] } = {}, status = 200) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    await renderPage(response.status(status), 'admin/people/import', {
      title: t('admin.people.import.title'),
      adminSection: 'people',
      maxPeople: new Intl.NumberFormat(locale).format(MAX_IMPORT_PEOPLE),
      error: form.error ?? null,
      problems: (form.problems ?? []).map((problem) => ({ line: problem.line, text: problemText(t, locale, problem) })),
    });
  }

  /** A checked import: its summary and the button to confirm it, or when and by whom it was imported. */
  async function showImport(response: Response, id: string | undefined, form: { error?: string; justImported?: boolean } = {}, status = 200) {
    const t = response.locals.t as Translate;
    const checked = IMPORT_ID.test(id ?? '') ? await findPeopleImport(db.knex, Number(id)) : undefined;
    if (!checked) throw notFound();
    await renderPage(response.status(status), 'admin/people/import-summary', {
      title: t('admin.people.import.summaryTitle', { id: checked.id }),
      adminSection: 'people',
      checked,
      shown: checked.people.slice(0, PEOPLE_SHOWN),
      error: form.error ?? null,
      notice: form.justImported && checked.status === 'imported' ? t('admin.people.import.done', { count: checked.people.length }) : null,
    });
  }

  router.get(PEOPLE_IMPORT_PATH, (_request, response) => showUploadForm(response));

  router.post(PEOPLE_IMPORT_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const uploadProblem = response.locals.uploadProblem as UploadProblem | undefined;
    if (uploadProblem) return showUploadForm(response, { error: t(`admin.people.import.errors.${uploadProblem}`) }, uploadProblem === 'tooLarge' ? 413 : 400);
    if (!request.file) return showUploadForm(response, { error: t('admin.people.import.errors.noFile') }, 400);
    const dryRun = await imports.dryRun(request.user!, { bytes: request.file.buffer, name: request.file.originalname || null });
    if (dryRun.importId === null) return showUploadForm(response, { problems: dryRun.problems }, 400);
    response.redirect(303, `${PEOPLE_IMPORT_PATH}/${dryRun.importId}`);
  });

  router.get(`${PEOPLE_IMPORT_PATH}/:id`, (request, response) => showImport(response, request.params.id, { justImported: request.query.notice === 'imported' }));

  router.post(`${PEOPLE_IMPORT_PATH}/:id`, async (request, response) => {
    const t = response.locals.t as Translate;
    const id = request.params.id ?? '';
    if (!IMPORT_ID.test(id)) throw notFound();
    try {
      await imports.confirm(request.user!, Number(id), t('admin.people.import.openingBalance', { id }));
      response.redirect(303, `${PEOPLE_IMPORT_PATH}/${id}?notice=imported`);
    } catch (error) {
      if (!(error instanceof PeopleImportError)) throw error;
      if (error.code === 'import_not_found') throw notFound();
      await showImport(response, id, { error: t(`admin.people.import.errors.${error.code}`, { username: error.username }) }, 409);
    }
  });
}
