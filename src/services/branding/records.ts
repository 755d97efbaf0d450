/** What the web layer reads or writes of branding as it is stored (no rule or transaction involved), so that web reaches the database through services only. */
export { type BrandingVersion, findUpload, findVersion, listPublications } from '../../db/branding/branding-repository.js';
export { UPLOAD_ID, type UploadStore } from '../../db/branding/upload-store.js';
