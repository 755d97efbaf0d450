import MarkdownIt from 'markdown-it';

/**
 * Markdown written by admins (the terms of sale), rendered for every reader. Raw HTML is escaped
 * (`html: false`), markdown-it's validateLink refuses javascript:, vbscript:, file: and data: links,
 * images are off (nothing to show from the portal's origin, and the CSP would block any other), and
 * table alignment's inline styles are dropped (the CSP forbids style attributes).
 */
const markdown = new MarkdownIt({ html: false, linkify: false, typographer: false }).disable('image');

markdown.core.ruler.push('fit_the_page', (state) => {
  for (const token of state.tokens) {
    if (token.attrs) token.attrs = token.attrs.filter(([name]) => name !== 'style');
    // The page's title is its only h1: a text's "# Heading" becomes an h2, like "## Heading".
    if ((token.type === 'heading_open' || token.type === 'heading_close') && token.tag === 'h1') token.tag = 'h2';
  }
});

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}
