import { randomBytes } from 'node:crypto';
import type { DemoCasPerson } from './demo-people.js';
import { TICKET_LIFETIME_MS } from './protocol.js';

export interface IssuedTicket {
  person: DemoCasPerson;
  /** The service the ticket was issued for: validation must name exactly this one. */
  service: string;
  issuedAt: number;
}

/** The demo CAS server's service tickets, in memory: each validated at most once, within five minutes. */
export class DemoTicketBook {
  readonly #tickets = new Map<string, IssuedTicket>();

  constructor(private readonly now: () => Date) {}

  issue(person: DemoCasPerson, service: string): string {
    this.#forgetExpired();
    const ticket = `ST-${randomBytes(20).toString('hex')}`;
    this.#tickets.set(ticket, { person, service, issuedAt: this.now().getTime() });
    return ticket;
  }

  /** The ticket leaves the book on any validation attempt, pass or fail (CAS protocol 3.0, "Service ticket properties"). */
  take(ticket: string): IssuedTicket | undefined {
    const issued = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    return issued && !this.#expired(issued) ? issued : undefined;
  }

  #expired(issued: IssuedTicket): boolean {
    return this.now().getTime() - issued.issuedAt > TICKET_LIFETIME_MS;
  }

  #forgetExpired(): void {
    for (const [ticket, issued] of this.#tickets) if (this.#expired(issued)) this.#tickets.delete(ticket);
  }
}
