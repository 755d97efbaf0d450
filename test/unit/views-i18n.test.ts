import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../src/config.js';

function ejsFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return ejsFilesUnder(file);
    return name.endsWith('.ejs') ? [file] : [];
  });
}

const themesDir = path.join(projectRoot, 'themes');
const viewFiles = [
  ...ejsFilesUnder(path.join(projectRoot, 'views')),
  ...readdirSync(themesDir).flatMap((theme) => ejsFilesUnder(path.join(themesDir, theme, 'views'))),
];

/** What a reader sees of a template once every EJS tag is replaced by `slot` (the translated output). */
const withoutEjs = (source: string, slot: string) => source.replace(/<%[\s\S]*?%>/g, slot);

const LETTER = /\p{L}/u;
/** Attributes a person reads or hears: they must come from t() (or theme values) too. */
const READ_ATTRIBUTES = ['alt', 'title', 'placeholder', 'aria-label', 'aria-description'];

/** Literal words left in the text of a template: the markup, scripts, comments and entities removed. */
function literalText(source: string): string[] {
  return withoutEjs(source, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[\da-f]+|[a-z]+);/gi, ' ')
    .split(/\s+/)
    .filter((word) => LETTER.test(word));
}

/** Literal words in read attributes, and in the value of an input shown as a button. */
function literalAttributes(source: string): string[] {
  const found: string[] = [];
  for (const [tag] of withoutEjs(source, '\u0000').matchAll(/<[a-z][^>]*>/gi)) {
    const attributes = new Map([...tag.matchAll(/([\w-]+)\s*=\s*("[^"]*"|'[^']*')/g)].map(([, name, value]) => [name!.toLowerCase(), value!.slice(1, -1)]));
    const shownAsButton = /^<input\b/i.test(tag) && /^(submit|button|reset)$/i.test(attributes.get('type') ?? '');
    for (const name of [...READ_ATTRIBUTES, ...(shownAsButton ? ['value'] : [])]) {
      const value = attributes.get(name);
      if (value !== undefined && LETTER.test(value)) found.push(`${name}="${value}"`);
    }
  }
  return found;
}

describe('views speak only through translations', () => {
  it('finds the views of the portal and of every theme', () => {
    expect(viewFiles.length).to.be.greaterThan(20);
    expect(viewFiles.some((file) => file.startsWith(themesDir))).to.equal(true);
  });

  it('catches literal text and literal read attributes (the check itself)', () => {
    expect(literalText('<p>Bonjour <%= name %></p>')).to.deep.equal(['Bonjour']);
    expect(literalText('<p><%= t("a") %> · <%- include("x") %></p><!-- note --><script nonce="<%= nonce %>">go()</script>&nbsp;')).to.deep.equal([]);
    expect(literalAttributes('<img alt="Logo" src="<%= url %>"><input type="submit" value="Send">')).to.deep.equal(['alt="Logo"', 'value="Send"']);
    expect(literalAttributes('<img alt="" title="<%= t(\'x\') %>"><button value="publish"><input value="preview">')).to.deep.equal([]);
  });

  for (const file of viewFiles) {
    const name = path.relative(projectRoot, file);
    it(`${name} has no literal words`, () => {
      const source = readFileSync(file, 'utf8');
      expect(literalText(source), 'text').to.deep.equal([]);
      expect(literalAttributes(source), 'attributes').to.deep.equal([]);
    });
  }
});

/** Form controls a person fills in (hidden fields and buttons need no label), with the label they lack. */
function unlabelledControls(source: string): string[] {
  const unlabelled: string[] = [];
  for (const match of source.matchAll(/<(input|select|textarea)\b(?:<%[\s\S]*?%>|[^>])*>/gi)) {
    const tag = match[0];
    if (/\btype="(hidden|submit|button|reset|image)"/i.test(tag)) continue;
    const before = source.slice(0, match.index);
    const wrapped = before.lastIndexOf('<label') > before.lastIndexOf('</label>');
    const id = /\bid="((?:<%[\s\S]*?%>|[^"])*)"/.exec(tag)?.[1];
    // aria-labelledby: a table's field named by its row and column headers (axe checks they exist in the browser tests).
    const namedByHeaders = /\baria-labelledby="[^"]+"/.test(tag);
    if (!wrapped && !namedByHeaders && !(id !== undefined && source.includes(`for="${id}"`))) unlabelled.push(tag);
  }
  return unlabelled;
}

describe('views label every field', () => {
  it('sees a control without a label (the check itself)', () => {
    expect(unlabelledControls('<input name="q"><label for="a">A</label><input id="a"><label>B <select name="b"></select></label>')).to.deep.equal(['<input name="q">']);
    expect(unlabelledControls('<input type="hidden" name="_csrf"><label for="<%= name %>">x</label><input id="<%= name %>" value="<%= a > b %>">')).to.deep.equal([]);
    expect(unlabelledControls('<th id="row">A</th><input name="a" aria-labelledby="row column"><input name="b" aria-labelledby="">')).to.deep.equal(['<input name="b" aria-labelledby="">']);
  });

  for (const file of viewFiles) {
    it(`${path.relative(projectRoot, file)} labels its fields`, () => {
      expect(unlabelledControls(readFileSync(file, 'utf8'))).to.deep.equal([]);
    });
  }
});
