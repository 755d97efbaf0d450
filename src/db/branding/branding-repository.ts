import type { BrandingSettings, ThemeMessages } from '../../domain/branding/branding.js';
import type { ThemeColours } from '../../domain/branding/colour-contrast.js';
import type { ImageSize } from '../../domain/branding/image-size.js';
import { toDate, toSafeInteger, type Queryable } from '../database.js';

export type UploadPurpose = 'logo' | 'favicon';

export interface BrandingUpload {
  id: string;
  purpose: UploadPurpose;
  contentType: 'image/png';
  width: number;
  height: number;
  byteSize: number;
  sha256: string;
  uploadedBy: number;
  createdAt: Date;
}

export interface BrandingVersion {
  id: number;
  settings: BrandingSettings;
  /** The uploaded logo's size, from its upload row; null when the version uses the theme folder's logo. */
  logoSize: ImageSize | null;
  createdBy: string;
  createdAt: Date;
}

export interface BrandingPublication {
  id: number;
  version: BrandingVersion;
  publishedBy: string;
  publishedAt: Date;
}

export async function insertUpload(db: Queryable, upload: BrandingUpload): Promise<void> {
  await db('branding_uploads').insert({
    id: upload.id,
    purpose: upload.purpose,
    content_type: upload.contentType,
    width: upload.width,
    height: upload.height,
    byte_size: upload.byteSize,
    sha256: upload.sha256,
    uploaded_by: upload.uploadedBy,
    created_at: upload.createdAt.toISOString(),
  });
}

export async function findUpload(db: Queryable, id: string): Promise<BrandingUpload | undefined> {
  const row = await db('branding_uploads').where({ id }).first();
  if (!row) return undefined;
  return {
    id: String(row.id),
    purpose: row.purpose as UploadPurpose,
    contentType: row.content_type as 'image/png',
    width: toSafeInteger(row.width),
    height: toSafeInteger(row.height),
    byteSize: toSafeInteger(row.byte_size),
    sha256: String(row.sha256),
    uploadedBy: toSafeInteger(row.uploaded_by),
    createdAt: toDate(row.created_at),
  };
}

export async function insertVersion(db: Queryable, settings: BrandingSettings, createdBy: number, now: Date): Promise<number> {
  const [row] = await db('branding_versions')
    .insert({
      theme: settings.theme,
      organisation_name: settings.organisationName,
      colours_json: JSON.stringify(settings.colours),
      messages_json: JSON.stringify(settings.messages),
      logo_upload_id: settings.logoUploadId,
      favicon_upload_id: settings.faviconUploadId,
      created_by: createdBy,
      created_at: now.toISOString(),
    })
    .returning('id');
  return toSafeInteger(typeof row === 'object' ? row.id : row);
}

const versionColumns = [
  'v.id',
  'v.theme',
  'v.organisation_name',
  'v.colours_json',
  'v.messages_json',
  'v.logo_upload_id',
  'v.favicon_upload_id',
  'v.created_at',
  'creator.username as created_by_username',
  'logo.width as logo_width',
  'logo.height as logo_height',
] as const;

const versionsWithCreator = (db: Queryable) =>
  db({ v: 'branding_versions' }).join({ creator: 'users' }, 'creator.id', 'v.created_by').leftJoin({ logo: 'branding_uploads' }, 'logo.id', 'v.logo_upload_id');

function toVersion(row: Record<string, unknown>): BrandingVersion {
  return {
    id: toSafeInteger(row.id),
    settings: {
      theme: String(row.theme),
      organisationName: row.organisation_name == null ? null : String(row.organisation_name),
      colours: JSON.parse(String(row.colours_json)) as ThemeColours,
      messages: JSON.parse(String(row.messages_json)) as ThemeMessages,
      logoUploadId: row.logo_upload_id == null ? null : String(row.logo_upload_id),
      faviconUploadId: row.favicon_upload_id == null ? null : String(row.favicon_upload_id),
    },
    logoSize: row.logo_width == null ? null : { width: toSafeInteger(row.logo_width), height: toSafeInteger(row.logo_height) },
    createdBy: String(row.created_by_username),
    createdAt: toDate(row.created_at),
  };
}

export async function findVersion(db: Queryable, id: number): Promise<BrandingVersion | undefined> {
  const row = await versionsWithCreator(db).where('v.id', id).first(versionColumns);
  return row ? toVersion(row) : undefined;
}

export async function insertPublication(db: Queryable, versionId: number, publishedBy: number, now: Date): Promise<number> {
  const [row] = await db('branding_publications')
    .insert({ version_id: versionId, published_by: publishedBy, published_at: now.toISOString() })
    .returning('id');
  return toSafeInteger(typeof row === 'object' ? row.id : row);
}

/** Newest first; the first is the portal's current look. */
export async function listPublications(db: Queryable, { limit, offset = 0 }: { limit: number; offset?: number }): Promise<BrandingPublication[]> {
  const rows = await versionsWithCreator(db)
    .join({ p: 'branding_publications' }, 'p.version_id', 'v.id')
    .join({ publisher: 'users' }, 'publisher.id', 'p.published_by')
    .orderBy('p.id', 'desc')
    .limit(limit)
    .offset(offset)
    .select([...versionColumns, 'p.id as publication_id', 'p.published_at', 'publisher.username as published_by_username']);
  return rows.map((row: Record<string, unknown>) => ({
    id: toSafeInteger(row.publication_id),
    version: toVersion(row),
    publishedBy: String(row.published_by_username),
    publishedAt: toDate(row.published_at),
  }));
}

/** The newest publication's ids: a cheap question asked to notice another instance's change. */
export async function latestPublication(db: Queryable): Promise<{ id: number; versionId: number } | null> {
  const row = await db('branding_publications').orderBy('id', 'desc').first('id', 'version_id');
  return row ? { id: toSafeInteger(row.id), versionId: toSafeInteger(row.version_id) } : null;
}

/** Whether the version was ever live (only those can be restored). */
export async function wasPublished(db: Queryable, versionId: number): Promise<boolean> {
  return (await db('branding_publications').where({ version_id: versionId }).first('id')) !== undefined;
}
