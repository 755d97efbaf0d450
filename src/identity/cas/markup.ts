/** Text put into HTML or XML, attribute values included: `&`, `<`, `>`, `"` and `'` become character references. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
