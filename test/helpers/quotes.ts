/** A thesis printed and bound, at two VAT rates, for a customer posting to Paris: the new-quote form's fields as typed. */
export const thesisQuoteFields = (validUntil: string): Record<string, string> => ({
  name: 'Camille Martin',
  email: 'camille.martin@example.edu',
  postcode: '75 005',
  deliveryMethod: 'post',
  deliveryAddress: '12 rue des Écoles\n75005 Paris',
  validUntil,
  'description-0': 'Thèse, impression couleur',
  'quantity-0': '3',
  'unitPrice-0': '12,50',
  'vatRate-0': '20',
  'description-1': 'Reliure thermocollée',
  'quantity-1': '3',
  'unitPrice-1': '3,33',
  'vatRate-1': '5,5',
});
