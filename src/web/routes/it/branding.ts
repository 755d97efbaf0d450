import type { Request, Response, Router } from 'express';
import { type BrandingVersion, findVersion, listPublications } from '../../../services/branding/records.js';
import { MAX_MESSAGE_LENGTH, MAX_ORGANISATION_NAME_LENGTH, MESSAGE_NAMES, brandingProblems } from '../../../domain/branding/branding.js';
import { BrandingError, createBrandingPublishing, type ImageChoice } from '../../../services/branding/branding-publishing.js';
import { COLOUR_NAMES, readableOn } from '../../../domain/branding/colour-contrast.js';
import { ImageUploadError, MAX_INPUT_SIDE, MAX_UPLOAD_BYTES, MIN_INPUT_SIDE, prepareImage } from '../../../domain/branding/image-upload.js';
import { SUPPORTED_LOCALES, type Locale, type Translate } from '../../../i18n/index.js';
import { HttpError, notFound } from '../../http-error.js';
import { renderPage } from '../../render.js';
import { present, settingsOf } from '../../../services/branding/theme-service.js';
import { formOf, messageField, problemMessages, readForm, type BrandingForm } from './branding-form.js';
import { BRANDING_DRAFT_PATH, IMAGE_FIELDS, type UploadProblem } from './branding-upload.js';
import type { ItDependencies } from './dependencies.js';

const VERSION = /^[1-9]\d{0,8}$/;
/** The publications listed, newest first. */
const HISTORY_SIZE = 20;
const NOTICES = ['draft', 'published', 'restored', 'alreadyLive', 'left'] as const;
const MEBIBYTE = 1024 * 1024;

interface OverviewState {
  form?: BrandingForm;
  /** Messages by field name. */
  errors?: Record<string, string>;
  /** A message for the whole form or page. */
  error?: string | null;
  notice?: string | null;
  status?: number;
}

function imageProblemText(t: Translate, locale: Locale, error: ImageUploadError): string {
  const numbers = new Intl.NumberFormat(locale);
  const values = Object.fromEntries(Object.entries(error.params).map(([name, value]) => [name, typeof value === 'number' ? numbers.format(value) : value]));
  return t(`branding.upload.${error.code}`, { ...values, max: error.code === 'too_large' ? numbers.format(MAX_UPLOAD_BYTES / MEBIBYTE) : values.max });
}

export function registerBrandingRoutes(router: Router, { db, clock, themes, uploads }: ItDependencies): void {
  const publishing = createBrandingPublishing({ db, clock, uploads });

  /** A version named in the form or the URL; a malformed or unknown one is refused with `whenUnknown`. */
  async function versionNamed(text: string, whenUnknown: () => Error): Promise<BrandingVersion> {
    const version = VERSION.test(text) ? await findVersion(db.knex, Number(text)) : undefined;
    if (!version) throw whenUnknown();
    return version;
  }

  async function showOverview(response: Response, state: OverviewState = {}) {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const catalogue = themes.reloadCatalogue();
    const [live, publications] = await Promise.all([themes.current(), listPublications(db.knex, { limit: HISTORY_SIZE })]);
    const liveFolder = catalogue.themes.find((folder) => folder.name === live.folder) ?? catalogue.themes[0]!;
    const previewId = (response.locals.brandingPreview as { versionId: number } | undefined)?.versionId ?? null;
    // The form starts from the draft being previewed, else from the live look.
    const start = previewId !== null ? await findVersion(db.knex, previewId) : publications[0]?.version;
    const folderName = (theme: string) => (catalogue.themes.find((folder) => folder.name === theme) ?? liveFolder).displayName;
    const form = state.form ?? (start ? formOf(start.settings, start.id, folderName(start.settings.theme)) : formOf(settingsOf(liveFolder), null, liveFolder.displayName));
    const base = VERSION.test(form.base) ? await findVersion(db.knex, Number(form.base)) : undefined;
    const kept = base ? themes.presentVersion(base) : present(catalogue.themes.find((folder) => folder.name === form.theme) ?? liveFolder, null, null);
    const liveId = publications[0]?.version.id;
    const numbers = new Intl.NumberFormat(locale);
    await renderPage(response.status(state.status ?? 200), 'it/branding', {
      title: t('branding.title'),
      notice: state.notice ?? null,
      error: state.error ?? null,
      errors: state.errors ?? {},
      live,
      livePublication: publications[0] && publications[0].version.id === live.versionId ? publications[0] : null,
      previewId,
      form,
      kept: { logoUrl: kept.logoUrl, faviconUrl: kept.faviconUrl, logoSize: kept.logoSize },
      readableOn,
      folders: catalogue.themes.map((folder) => ({ name: folder.name, displayName: folder.displayName, description: folder.description[locale], colours: folder.colours })),
      folderProblems: catalogue.problems.map((problem) => ({ folder: problem.folder, detail: problem.message })),
      history: publications.map((publication) => ({ ...publication, isLive: publication.version.id === liveId })),
      colourNames: COLOUR_NAMES,
      messageNames: MESSAGE_NAMES,
      messageLocales: SUPPORTED_LOCALES,
      messageField,
      maxMessageLength: MAX_MESSAGE_LENGTH,
      maxOrganisationNameLength: MAX_ORGANISATION_NAME_LENGTH,
      imageFields: IMAGE_FIELDS,
      uploadRules: { max: numbers.format(MAX_UPLOAD_BYTES / MEBIBYTE), maxSide: numbers.format(MAX_INPUT_SIDE), minSide: numbers.format(MIN_INPUT_SIDE) },
    });
  }

  /** IT sees the portal in this version from the next page on. */
  function startPreview(request: Request, response: Response, versionId: number) {
    request.session.brandingPreview = versionId;
    response.redirect(303, '/it/branding?notice=draft');
  }

  router.get('/it/branding', async (request, response) => {
    const t = response.locals.t as Translate;
    const notice = NOTICES.find((name) => name === request.query.notice);
    await showOverview(response, { notice: notice ? t(`branding.notices.${notice}`) : null });
  });

  router.post(BRANDING_DRAFT_PATH, async (request, response) => {
    const t = response.locals.t as Translate;
    const locale = response.locals.locale as Locale;
    const form = readForm((request.body ?? {}) as Record<string, unknown>);
    const uploadProblem = response.locals.uploadProblem as UploadProblem | undefined;
    if (uploadProblem?.code === 'too_large') {
      return showOverview(response, { form, errors: { [uploadProblem.field]: imageProblemText(t, locale, new ImageUploadError('too_large', 'over the limit')) }, status: 413 });
    }
    if (uploadProblem) return showOverview(response, { form, error: t('branding.errors.badForm'), status: 400 });
    // The base is not typed by anyone: a form without a known one did not come from this page.
    const base = form.base === '' ? null : await versionNamed(form.base, () => new HttpError(400, 'badRequest', 'branding form with an unknown base version'));

    const errors = problemMessages(brandingProblems(form), form, t, locale);
    if (!themes.reloadCatalogue().themes.some((folder) => folder.name === form.theme)) errors.theme = t('branding.errors.theme');
    const files = (request.files ?? {}) as Partial<Record<string, Express.Multer.File[]>>;
    const images: Partial<Record<(typeof IMAGE_FIELDS)[number], ImageChoice>> = {};
    for (const field of IMAGE_FIELDS) {
      const file = files[field]?.[0];
      const reset = field === 'logo' ? form.logoReset : form.faviconReset;
      if (file && reset) errors[field] = t('branding.errors.fileAndReset');
      else if (!file) images[field] = { uploadId: reset ? null : (base?.settings[`${field}UploadId`] ?? null) };
      else {
        try {
          images[field] = { image: await prepareImage(field, { bytes: file.buffer, fileName: file.originalname, declaredType: file.mimetype }) };
        } catch (error) {
          if (!(error instanceof ImageUploadError)) throw error;
          errors[field] = imageProblemText(t, locale, error);
        }
      }
    }
    if (Object.keys(errors).length > 0) return showOverview(response, { form, errors, status: 400 });
    const versionId = await publishing.saveDraft(request.user!, { theme: form.theme, organisationName: form.organisationName, colours: form.colours, messages: form.messages, logo: images.logo!, favicon: images.favicon! });
    startPreview(request, response, versionId);
  });

  router.post('/it/branding/themes/:folder/drafts', async (request, response) => {
    const folder = themes.reloadCatalogue().themes.find((theme) => theme.name === request.params.folder);
    if (!folder) throw notFound();
    const { logoUploadId, faviconUploadId, ...settings } = settingsOf(folder);
    const versionId = await publishing.saveDraft(request.user!, { ...settings, logo: { uploadId: logoUploadId }, favicon: { uploadId: faviconUploadId } });
    startPreview(request, response, versionId);
  });

  for (const action of ['publish', 'restore'] as const) {
    router.post(`/it/branding/versions/:id/${action}`, async (request, response) => {
      const t = response.locals.t as Translate;
      const version = await versionNamed(request.params.id ?? '', notFound);
      try {
        const changed = await publishing.publish(request.user!, version.id, action);
        themes.invalidate();
        delete request.session.brandingPreview;
        response.redirect(303, `/it/branding?notice=${changed ? (action === 'publish' ? 'published' : 'restored') : 'alreadyLive'}`);
      } catch (error) {
        if (!(error instanceof BrandingError) || error.code !== 'never_published') throw error;
        await showOverview(response, { error: t('branding.errors.neverPublished', { version: version.id }), status: 409 });
      }
    });
  }

  router.post('/it/branding/preview/leave', (request, response) => {
    delete request.session.brandingPreview;
    response.redirect(303, '/it/branding?notice=left');
  });
}
