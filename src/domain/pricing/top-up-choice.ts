/** The value of the top-up form's "Other amount" radio; the packs' radios carry their ids. */
export const OTHER_AMOUNT = 'free';

export type TopUpChoice =
  | { kind: 'pack'; packId: string }
  | { kind: 'free_amount'; amount: string }
  | { kind: 'none' }
  /** A pack chosen and an amount typed: which one the person means is theirs to say. */
  | { kind: 'pack_and_amount'; packId: string; amount: string };

/**
 * What a sent top-up form asks for. The amount's field shows only while "Other amount" is chosen, and
 * the page's script leaves it out of the form while hidden; so a typed amount with no offer chosen is
 * "Other amount", and one beside a chosen pack (sent by a browser without the script) is neither
 * charged nor dropped in silence: the person is asked again.
 */
export function topUpChoice(offer: string, amount: string): TopUpChoice {
  const typed = amount.trim() !== '';
  if (offer === OTHER_AMOUNT || (offer === '' && typed)) return { kind: 'free_amount', amount };
  if (offer === '') return { kind: 'none' };
  return typed ? { kind: 'pack_and_amount', packId: offer, amount } : { kind: 'pack', packId: offer };
}
