import { readdir } from 'node:fs/promises';
import supertest from 'supertest';
import type { UploadedFile } from '../../src/domain/branding/image-upload.js';
import { formFields } from '../helpers/html-form.js';
import { logIn, type TestPortal } from '../helpers/portal.js';

export type Agent = ReturnType<typeof supertest.agent>;

export const PEOPLE = {
  it: ['informatique', 'it-team-password'],
  admin: ['gestion', 'admin-password'],
  user: ['etudiant', 'student-password'],
} as const;

export async function addPeople(portal: TestPortal): Promise<void> {
  for (const role of ['it', 'admin', 'user'] as const) await portal.addUser(PEOPLE[role][0], PEOPLE[role][1], { role });
}

export async function signedIn(portal: TestPortal, role: keyof typeof PEOPLE, app = portal.app): Promise<Agent> {
  const agent = supertest.agent(app);
  const response = await logIn(agent, PEOPLE[role][0], PEOPLE[role][1]);
  if (response.status !== 303) throw new Error(`${role} could not log in`);
  return agent;
}

/** The edit form's fields as the browser would send them with no file chosen. */
export async function draftFields(agent: Agent): Promise<Record<string, string>> {
  const page = await agent.get('/it/branding').expect(200);
  const fields = formFields(page.text, '/it/branding/drafts');
  delete fields.logo;
  delete fields.favicon;
  return fields;
}

/** The edit form sent as multipart, `_csrf` first and the files last, as the page orders them. */
export function postDraft(agent: Agent, fields: Record<string, string>, files: Partial<Record<'logo' | 'favicon', UploadedFile>> = {}) {
  let request = agent.post('/it/branding/drafts');
  const { _csrf, ...rest } = fields;
  if (_csrf !== undefined) request = request.field('_csrf', _csrf);
  for (const [name, value] of Object.entries(rest)) request = request.field(name, value);
  for (const [name, file] of Object.entries(files)) request = request.attach(name, file.bytes, { filename: file.fileName, contentType: file.declaredType });
  return request;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&quot;': '"', '&#39;': "'" };

/** A page's text as a reader sees it: entities decoded, no-break spaces as plain spaces. */
export const pageText = (html: string) => html.replace(/&(?:amp|lt|gt|#34|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity).replace(/[\u00a0\u202f]/g, ' ');

/** The message shown under a field. */
export function fieldError(html: string, field: string): string | undefined {
  const match = new RegExp(`<p class="field-error" id="${field}-error">([^<]*)</p>`).exec(html);
  return match ? pageText(match[1]!) : undefined;
}

/** Everything a branding change writes: files, upload, version and publication rows, audit rows. */
export async function brandingState(portal: TestPortal) {
  const count = async (table: string) => Number((await portal.db.knex(table).count({ n: '*' }).first())?.n ?? 0);
  return {
    files: (await readdir(portal.config.branding.uploadsDir)).sort(),
    uploads: await count('branding_uploads'),
    versions: await count('branding_versions'),
    publications: await count('branding_publications'),
    audit: await count('audit_log'),
  };
}

/** The CSS custom property the layout sets for the primary colour, as a page shows it. */
export const primaryOf = (html: string) => /--primary: (#[0-9a-f]{6});/.exec(html)?.[1];
