import type supertest from 'supertest';

/** GET a PDF, its body kept as bytes. */
export function download(agent: ReturnType<typeof supertest.agent> | supertest.Agent, path: string, headers: Record<string, string> = {}) {
  return agent
    .get(path)
    .set(headers)
    .buffer(true)
    .parse((response, done) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(null, Buffer.concat(chunks)));
    });
}

/** A response body read as text whatever its type (supertest leaves CSV and SVG downloads as buffers otherwise). */
export const asText = (request: supertest.Test) =>
  request.buffer(true).parse((response, done) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => (text += chunk));
    response.on('end', () => done(null, text));
  });
