import { expect } from 'chai';
import fc from 'fast-check';
import type { TermsVersion } from '../../src/db/pricing/terms-repository.js';
import { MAX_TERMS_LENGTH, normalizeTermsBody, TERMS_PROBLEM_CODES, termsProblems } from '../../src/services/pricing/terms.js';
import { loadCatalog, SUPPORTED_LOCALES } from '../../src/i18n/index.js';
import { renderMarkdown } from '../../src/web/markdown.js';

const version = (fr: string, en: string): TermsVersion => ({ id: 1, version: 1, body: { fr, en }, publishedAt: new Date('2026-11-01T00:00:00Z') });

describe('terms of sale rules', () => {
  it('stores texts with \\n line ends and no trailing blanks, whatever the browser sends', () => {
    expect(normalizeTermsBody({ fr: '  Titre  \r\n\r\nTexte\t\r\nfin \r', en: ['not', 'text'] })).to.deep.equal({ fr: 'Titre\n\nTexte\nfin', en: '' });
  });

  it('wants both texts, not too long, and something new', () => {
    const long = 'x'.repeat(MAX_TERMS_LENGTH + 1);
    expect(termsProblems({ fr: '', en: long }, undefined)).to.deep.equal([
      { locale: 'fr', code: 'required' },
      { locale: 'en', code: 'too_long', params: { max: MAX_TERMS_LENGTH } },
    ]);
    expect(termsProblems({ fr: 'a', en: 'b' }, version('a', 'b'))).to.deep.equal([{ locale: null, code: 'unchanged' }]);
    expect(termsProblems({ fr: 'a', en: 'c' }, version('a', 'b'))).to.deep.equal([]);
    expect(termsProblems({ fr: 'x'.repeat(MAX_TERMS_LENGTH), en: 'b' }, undefined)).to.deep.equal([]);
  });

  it('has a message for every problem, in every language', () => {
    for (const locale of SUPPORTED_LOCALES) {
      const messages = (loadCatalog(locale).admin as { terms: { errors: Record<string, string> } }).terms.errors;
      expect(TERMS_PROBLEM_CODES.filter((code) => typeof messages[code] !== 'string'), locale).to.deep.equal([]);
    }
  });
});

describe('Markdown rendering', () => {
  it('renders the usual Markdown, headings below the page title', () => {
    expect(renderMarkdown('# Titre\n\n## Section\n\nDu **gras**, de l\'*italique* et [un lien](https://exemple.fr "titre").\n\n- un\n- deux')).to.equal(
      '<h2>Titre</h2>\n<h2>Section</h2>\n<p>Du <strong>gras</strong>, de l\'<em>italique</em> et <a href="https://exemple.fr" title="titre">un lien</a>.</p>\n<ul>\n<li>un</li>\n<li>deux</li>\n</ul>\n',
    );
  });

  it('escapes raw HTML and refuses dangerous links, images and inline styles', () => {
    const cases: Array<[string, string]> = [
      ['<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n'],
      ['<img src=x onerror=alert(1)>', '<p>&lt;img src=x onerror=alert(1)&gt;</p>\n'],
      ['[a](javascript:alert(1))', '<p>[a](javascript:alert(1))</p>\n'],
      ['[a](JaVaScRiPt:alert(1))', '<p>[a](JaVaScRiPt:alert(1))</p>\n'],
      ['[a](&#106;avascript:alert(1))', '<p>[a](javascript:alert(1))</p>\n'],
      ['<javascript:alert(1)>', '<p>&lt;javascript:alert(1)&gt;</p>\n'],
      ['[a](data:text/html,<script>alert(1)</script>)', '<p>[a](data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;)</p>\n'],
      ['[a](vbscript:msgbox)', '<p>[a](vbscript:msgbox)</p>\n'],
      ['[a](file:///etc/passwd)', '<p>[a](file:///etc/passwd)</p>\n'],
      ['![x](https://tracker.example/p.png)', '<p>!<a href="https://tracker.example/p.png">x</a></p>\n'],
      ['<b onclick="x()">b</b>', '<p>&lt;b onclick=&quot;x()&quot;&gt;b&lt;/b&gt;</p>\n'],
      ['[a](https://x.example "\\" onmouseover=\\"alert(1)")', '<p><a href="https://x.example" title="&quot; onmouseover=&quot;alert(1)">a</a></p>\n'],
    ];
    for (const [markdown, html] of cases) expect(renderMarkdown(markdown), markdown).to.equal(html);
    expect(renderMarkdown('| a | b |\n|--:|:-:|\n| 1 | 2 |')).not.to.include('style');
  });

  it('never lets a tag, an event handler or a script link through, whatever the text', () => {
    const pieces = fc.constantFrom('<', '>', '"', "'", '&', '`', '[', ']', '(', ')', '!', 'javascript:', 'data:', '<script>', 'onerror=', 'href=', '<img ', ' ', '\n', 'a', '#');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
        const html = renderMarkdown(parts.join(''));
        for (const tag of html.match(/<[a-z][^>]*>/gi) ?? []) {
          // A fenced block's info string becomes an escaped class (```< gives class="language-&lt;").
          expect(tag).to.match(/^<(p|h[2-6]|a href="[^"]*"( title="[^"]*")?|code( class="language-[^"<>]*")?|pre|em|strong|ul|ol|li|blockquote|hr|br|table|thead|tbody|tr|th|td)>$/);
          expect(tag).not.to.match(/href="\s*(javascript|data|vbscript)/i);
        }
      }),
      { numRuns: 500 },
    );
  });
});
