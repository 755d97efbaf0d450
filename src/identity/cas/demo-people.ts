/** A person the demo CAS server can sign in: their CAS user (the stable identifier) and the attributes it releases. */
export interface DemoCasPerson {
  user: string;
  attributes: Readonly<Record<string, string | readonly string[]>>;
}

/** The two people the demo CAS server offers in demo mode; tests and demo data may give others. */
export const DEMO_CAS_PEOPLE: readonly DemoCasPerson[] = Object.freeze([
  {
    user: 'camille.etudiante',
    attributes: { displayName: 'Camille Étudiante', mail: 'camille.etudiante@demo.example', eduPersonAffiliation: ['student', 'member'], preferredLanguage: 'fr' },
  },
  {
    user: 'alex.teacher',
    attributes: { displayName: 'Alex Teacher', mail: 'alex.teacher@demo.example', eduPersonAffiliation: ['staff', 'faculty', 'member'], preferredLanguage: 'en' },
  },
]);
