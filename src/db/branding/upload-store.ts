import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** 128 random bits in hex: the only name an upload has, on disk and in its URL. */
export const UPLOAD_ID = /^[0-9a-f]{32}$/;

/**
 * Uploaded branding images as files in one folder outside the web root, named by their id only
 * (never by anything the uploader sent). The `branding_uploads` row is what makes a file reachable.
 */
export function createUploadStore(dir: string) {
  const fileOf = (id: string) => {
    if (!UPLOAD_ID.test(id)) throw new RangeError(`not an upload id: ${id}`);
    return path.join(dir, `${id}.png`);
  };

  return {
    /** Writes the bytes under a new id; a reader never sees half a file (written aside, then renamed). */
    async write(bytes: Buffer): Promise<string> {
      await mkdir(dir, { recursive: true });
      const id = randomBytes(16).toString('hex');
      const temporary = path.join(dir, `.${id}.tmp`);
      try {
        await writeFile(temporary, bytes, { flag: 'wx', mode: 0o640 });
        await rename(temporary, fileOf(id));
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      return id;
    },

    /** The file's bytes, or undefined when it is not there. */
    async read(id: string): Promise<Buffer | undefined> {
      try {
        return await readFile(fileOf(id));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },

    /** For a write whose database row was not committed. */
    async remove(id: string): Promise<void> {
      await rm(fileOf(id), { force: true });
    },
  };
}

export type UploadStore = ReturnType<typeof createUploadStore>;
