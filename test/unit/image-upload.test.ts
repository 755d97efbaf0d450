import { expect } from 'chai';
import sharp from 'sharp';
import { containsMarkup, imageEnd, sniffFormat } from '../../src/domain/branding/image-bytes.js';
import { ImageUploadError, prepareImage, type ImagePurpose, type UploadedFile } from '../../src/domain/branding/image-upload.js';
import { jpeg, jpegWithExif, png, pngWithText, webp } from '../fixtures/images/builders.js';
import { REFUSALS } from '../fixtures/images/refusals.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function refusal(purpose: ImagePurpose, file: UploadedFile): Promise<ImageUploadError> {
  try {
    await prepareImage(purpose, file);
  } catch (error) {
    if (error instanceof ImageUploadError) return error;
    throw error;
  }
  throw new Error('the image was accepted');
}

describe('image uploads', () => {
  describe('refused', () => {
    for (const { what, file, code } of REFUSALS) {
      it(`refuses ${what} (${code})`, async () => {
        for (const purpose of ['logo', 'favicon'] as const) expect((await refusal(purpose, await file())).code, purpose).to.equal(code);
      });
    }
  });

  describe('accepted', () => {
    for (const [name, make, fileName, declaredType] of [
      ['PNG', png, 'logo.png', 'image/png'],
      ['JPEG', jpeg, 'logo.JPG', 'image/jpeg'],
      ['WebP', webp, 'logo.webp', 'image/webp'],
      ['PNG of unknown declared type', png, 'logo.png', 'application/octet-stream'],
    ] as const) {
      it(`re-encodes a ${name} as PNG`, async () => {
        const prepared = await prepareImage('logo', { bytes: await make(100, 40), fileName, declaredType });
        expect(prepared.png.subarray(0, 8).equals(PNG_SIGNATURE)).to.equal(true);
        expect(await sharp(prepared.png).metadata()).to.include({ format: 'png', width: 100, height: 40 });
        expect(prepared).to.include({ purpose: 'logo', width: 100, height: 40 });
        expect(prepared.sha256).to.match(/^[0-9a-f]{64}$/);
      });
    }

    it('fits a large logo within 512×512 and never enlarges a small one', async () => {
      expect(await prepareImage('logo', { bytes: await png(2048, 512), fileName: 'wide.png', declaredType: 'image/png' })).to.include({ width: 512, height: 128 });
      expect(await prepareImage('logo', { bytes: await png(20, 30), fileName: 'small.png', declaredType: 'image/png' })).to.include({ width: 20, height: 30 });
    });

    it('makes every favicon 64×64, the rest transparent', async () => {
      const prepared = await prepareImage('favicon', { bytes: await jpeg(128, 32), fileName: 'icon.jpeg', declaredType: 'image/jpeg' });
      expect(prepared).to.include({ width: 64, height: 64 });
      const { data, info } = await sharp(prepared.png).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).to.equal(4);
      expect(data[3], 'top-left alpha').to.equal(0);
      expect(data[(32 * 64 + 32) * 4 + 3], 'centre alpha').to.equal(255);
    });

    it('turns a JPEG upright from its EXIF orientation and drops the EXIF', async () => {
      const original = await jpegWithExif(64, 32);
      expect(original.includes('exif-secret-marker')).to.equal(true);
      const prepared = await prepareImage('logo', { bytes: original, fileName: 'photo.jpg', declaredType: 'image/jpeg' });
      expect(prepared).to.include({ width: 32, height: 64 });
      const metadata = await sharp(prepared.png).metadata();
      expect(metadata.exif).to.equal(undefined);
      expect(metadata.orientation).to.equal(undefined);
      expect(prepared.png.includes('exif-secret-marker')).to.equal(false);
    });

    it('drops text chunks', async () => {
      const original = await pngWithText('Comment', 'made-with-some-editor');
      const prepared = await prepareImage('logo', { bytes: original, fileName: 'logo.png', declaredType: 'image/png' });
      expect(prepared.png.includes('made-with-some-editor')).to.equal(false);
      expect(prepared.png.includes('tEXt')).to.equal(false);
    });
  });

  describe('reading the bytes', () => {
    it('finds where each format ends, and null when the file stops early', async () => {
      for (const [format, make] of [['png', png], ['jpeg', jpeg], ['webp', webp]] as const) {
        const bytes = await make();
        expect(sniffFormat(bytes), format).to.equal(format);
        expect(imageEnd(bytes, format), format).to.equal(bytes.length);
        expect(imageEnd(bytes.subarray(0, bytes.length - 3), format), `${format} truncated`).to.equal(null);
      }
    });

    it('skips a JPEG thumbnail inside EXIF: its end is not the end of the file', async () => {
      const thumbnail = await jpeg(8, 8);
      const image = await jpeg(64, 64);
      // APP1 segment right after SOI, holding a whole JPEG (SOI…EOI).
      const segment = Buffer.concat([Buffer.from([0xff, 0xe1, 0, 0]), thumbnail]);
      segment.writeUInt16BE(segment.length - 2, 2);
      const withThumbnail = Buffer.concat([image.subarray(0, 2), segment, image.subarray(2)]);
      expect(imageEnd(withThumbnail, 'jpeg')).to.equal(withThumbnail.length);
    });

    it('finds markup in any case, and not in XMP metadata', () => {
      for (const marker of ['<SCRIPT src=x>', '<html>', '<svg onload=x>', '<?php', '<!DOCTYPE html>', '<iframe', 'JavaScript:alert(1)', '<body onload=x>']) {
        expect(containsMarkup(Buffer.from(`\x89PNG...${marker}...`, 'latin1')), marker).to.equal(true);
      }
      expect(containsMarkup(Buffer.from('<?xpacket begin=""?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF></rdf:RDF></x:xmpmeta>'))).to.equal(false);
    });
  });
});
