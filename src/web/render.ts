import type { Response } from 'express';

/** Renders `view` into the layout (views/layout.ejs receives it as `body`). */
export async function renderPage(response: Response, view: string, locals: Record<string, unknown> = {}): Promise<void> {
  const body = await new Promise<string>((resolve, reject) =>
    response.render(view, locals, (error, html) => (error ? reject(error) : resolve(html))),
  );
  const page = await new Promise<string>((resolve, reject) =>
    response.render('layout', { ...locals, body }, (error, html) => (error ? reject(error) : resolve(html))),
  );
  response.type('html').send(page);
}
