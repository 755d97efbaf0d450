/** A list shows the start of an error; the item's own page shows all of it. */
const SHORT_ERROR_LENGTH = 80;

export const shortError = (text: string | null) => (text === null || text.length <= SHORT_ERROR_LENGTH ? text : `${text.slice(0, SHORT_ERROR_LENGTH - 1)}…`);
