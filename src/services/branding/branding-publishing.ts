import { recordAudit } from '../../db/audit/audit-repository.js';
import { findVersion, insertPublication, insertUpload, insertVersion, listPublications, wasPublished, type BrandingVersion } from '../../db/branding/branding-repository.js';
import type { Database } from '../../db/database.js';
import type { UploadStore } from '../../db/branding/upload-store.js';
import type { AuditRecord } from '../../domain/audit/audit.js';
import { brandingProblems, normaliseColours, normaliseMessage, normaliseOrganisationName, type BrandingProblem, type BrandingSettings } from '../../domain/branding/branding.js';
import type { Clock } from '../../domain/time/clock.js';
import { DomainError } from '../../domain/shared/errors.js';
import type { PreparedImage } from '../../domain/branding/image-upload.js';

export type BrandingErrorCode = 'invalid_branding' | 'version_not_found' | 'never_published';

export class BrandingError extends DomainError<BrandingErrorCode> {
  constructor(
    code: BrandingErrorCode,
    message: string,
    readonly problems: BrandingProblem[] = [],
  ) {
    super(code, message);
  }
}

/** A draft's logo or favicon: a new image, or an upload id kept from the version it started from (null: the theme folder's file). */
export type ImageChoice = { image: PreparedImage } | { uploadId: string | null };

export interface DraftRequest extends Omit<BrandingSettings, 'logoUploadId' | 'faviconUploadId'> {
  logo: ImageChoice;
  favicon: ImageChoice;
}

type Actor = AuditRecord['actor'];

/** What the audit log keeps of a version: the version row holds the rest, and never changes. */
const summaryOf = (version: BrandingVersion) => ({
  versionId: version.id,
  theme: version.settings.theme,
  organisationName: version.settings.organisationName,
  colours: version.settings.colours,
  logoUploadId: version.settings.logoUploadId,
  faviconUploadId: version.settings.faviconUploadId,
});

/**
 * The portal's look in versions: IT saves a draft (an immutable version, its images stored first),
 * previews it, then publishes it; restoring an earlier look publishes its version again. Each step
 * writes its audit row in the same transaction as its change.
 */
export function createBrandingPublishing({ db, clock, uploads }: { db: Database; clock: Clock; uploads: UploadStore }) {
  async function saveDraft(author: Actor, request: DraftRequest): Promise<number> {
    const colours = normaliseColours(request.colours);
    const messages = Object.fromEntries(
      Object.entries(request.messages).map(([locale, texts]) => [locale, Object.fromEntries(Object.entries(texts).map(([name, text]) => [name, normaliseMessage(text)]))]),
    ) as BrandingSettings['messages'];
    const organisationName = request.organisationName === null ? null : normaliseOrganisationName(request.organisationName);
    const problems = brandingProblems({ organisationName, colours, messages });
    if (problems.length > 0) throw new BrandingError('invalid_branding', JSON.stringify(problems), problems);

    const images = [request.logo, request.favicon].flatMap((choice) => ('image' in choice ? [choice.image] : []));
    const stored: Array<{ id: string; image: PreparedImage }> = [];
    try {
      for (const image of images) stored.push({ id: await uploads.write(image.png), image });
      const uploadIdOf = (choice: ImageChoice) => ('image' in choice ? stored.find((upload) => upload.image === choice.image)!.id : choice.uploadId);
      const settings: BrandingSettings = { theme: request.theme, organisationName, colours, messages, logoUploadId: uploadIdOf(request.logo), faviconUploadId: uploadIdOf(request.favicon) };
      const now = clock.now();
      return await db.transaction(async (trx) => {
        for (const { id, image } of stored) {
          await insertUpload(trx, { id, purpose: image.purpose, contentType: 'image/png', width: image.width, height: image.height, byteSize: image.png.length, sha256: image.sha256, uploadedBy: author.id, createdAt: now });
        }
        const versionId = await insertVersion(trx, settings, author.id, now);
        const newUploads = stored.map(({ id, image }) => ({ id, purpose: image.purpose, width: image.width, height: image.height, byteSize: image.png.length, sha256: image.sha256 }));
        await recordAudit(trx, { actor: author, action: 'branding.draft', target: `version ${versionId}`, before: null, after: { versionId, ...settings, uploads: newUploads } }, now);
        return versionId;
      });
    } catch (error) {
      await Promise.all(stored.map(({ id }) => uploads.remove(id)));
      throw error;
    }
  }

  /**
   * Makes the version the portal's look (`restore`: a version that was live before). Publishing the
   * version that is already live changes nothing and answers false.
   */
  async function publish(author: Actor, versionId: number, action: 'publish' | 'restore'): Promise<boolean> {
    const now = clock.now();
    return db.transaction(async (trx) => {
      const version = await findVersion(trx, versionId);
      if (!version) throw new BrandingError('version_not_found', `no branding version ${versionId}`);
      const [live] = await listPublications(trx, { limit: 1 });
      if (live?.version.id === versionId) return false;
      if (action === 'restore' && !(await wasPublished(trx, versionId))) throw new BrandingError('never_published', `version ${versionId} was never published`);
      await insertPublication(trx, versionId, author.id, now);
      await recordAudit(trx, { actor: author, action: `branding.${action}`, target: `version ${versionId}`, before: live ? summaryOf(live.version) : null, after: summaryOf(version) }, now);
      return true;
    });
  }

  return { saveDraft, publish };
}

export type BrandingPublishing = ReturnType<typeof createBrandingPublishing>;
