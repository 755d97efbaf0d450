const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&quot;': '"', '&#39;': "'" };
const decode = (text: string) => text.replace(/&(?:amp|lt|gt|#34|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
const attribute = (attributes: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attributes)?.[1];

/**
 * What a browser would send for the form posting to `action` in `html`: text and hidden inputs,
 * checked boxes, selected options and textareas (no submit button).
 */
export function formFields(html: string, action: string): Record<string, string> {
  const at = html.indexOf(`action="${action}"`);
  if (at < 0) throw new Error(`no form posting to ${action}`);
  const form = html.slice(html.lastIndexOf('<form', at), html.indexOf('</form>', at));
  const fields: Record<string, string> = {};
  for (const [, attributes = ''] of form.matchAll(/<input\b([^>]*)>/g)) {
    const name = attribute(attributes, 'name');
    const type = attribute(attributes, 'type') ?? 'text';
    if (!name || type === 'submit' || ((type === 'checkbox' || type === 'radio') && !/\schecked\b/.test(attributes))) continue;
    fields[name] = decode(attribute(attributes, 'value') ?? 'on');
  }
  for (const [, attributes = '', options = ''] of form.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
    const selected = /<option value="([^"]*)" selected>/.exec(options)?.[1];
    const name = attribute(attributes, 'name');
    if (name && selected !== undefined) fields[name] = decode(selected);
  }
  for (const [, attributes = '', text = ''] of form.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/g)) {
    const name = attribute(attributes, 'name');
    if (name) fields[name] = decode(text);
  }
  return fields;
}

/** Typed over a form's fields; undefined removes the field, as if the browser had not sent it. */
export function withChanges(fields: Record<string, string>, changes: Record<string, string | undefined>): Record<string, string> {
  const changed = { ...fields };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete changed[name];
    else changed[name] = value;
  }
  return changed;
}
